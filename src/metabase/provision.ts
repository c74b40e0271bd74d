import { UserError } from '../errors.js';
import {
  MetabaseRequestError,
  describeMetabaseError,
  type MbCard,
  type MbDashboard,
  type MbDatabaseMetadata,
  type MetabaseClient,
} from './client.js';
import {
  findCollection,
  isRef,
  planContent,
  planDatabase,
  type DatabaseSpec,
  type ObjectKind,
  type PlannedCall,
} from './plan.js';
import {
  describeColumn,
  listFilterColumns,
  listViews,
  readKey,
  type MetabaseSpec,
  type ViewColumn,
} from './spec.js';

/**
 * Makes Metabase hold what the spec says: first-run setup or login, our database (and a schema
 * sync until Metabase sees the analytics views), then the collection, cards and dashboard,
 * planned from current state so that a second run writes nothing.
 */

export interface ProvisionInput {
  client: MetabaseClient;
  spec: MetabaseSpec;
  database: DatabaseSpec;
  admin: { email: string; password: string; siteName: string };
  /** How long to wait for Metabase's schema sync to show the views. */
  syncWaitMs: number;
  pollMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

export interface ProvisionedObject {
  kind: ObjectKind;
  key: string;
  name: string;
  id: number;
  outcome: 'created' | 'updated' | 'unchanged';
}

export interface ProvisionReport {
  /** `setup` when this run did Metabase's first-run setup, `login` otherwise. */
  session: 'setup' | 'login';
  objects: ProvisionedObject[];
  /** The first dashboard's (the Police Log's). */
  dashboardId: number;
  /** Every dashboard of the spec, in its order. */
  dashboards: { key: string; name: string; id: number }[];
}

export async function provisionMetabase(input: ProvisionInput): Promise<ProvisionReport> {
  const { client, spec } = input;
  const session = await openSession(input);
  const objects: ProvisionedObject[] = [];
  const ids = new Map<string, number>();

  const database = planDatabase(input.database, await client.listDatabases());
  if (database.call) await executeDatabaseCall(client, database.call, input.database, ids);
  const databaseId = ids.get('database') ?? database.existing?.id;
  if (databaseId === undefined) throw new Error('database neither found nor created');
  objects.push({
    kind: 'database',
    key: 'database',
    name: input.database.name,
    id: databaseId,
    outcome: database.call
      ? database.call.action === 'create'
        ? 'created'
        : 'updated'
      : 'unchanged',
  });

  const fieldIds = await waitForViews(input, databaseId);

  const collection = findCollection(spec, await client.listCollections());
  const cards: MbCard[] = [];
  const dashboards: MbDashboard[] = [];
  if (collection) {
    for (const item of await client.listCollectionItems(collection.id)) {
      // Items usually carry their description; only those that may be ours are fetched whole.
      if ('description' in item && !readKey(item.description)) continue;
      if (item.model === 'card') cards.push(await client.getCard(item.id));
      if (item.model === 'dashboard') dashboards.push(await client.getDashboard(item.id));
    }
  }

  const plan = planContent(spec, { databaseId, fieldIds, collection, cards, dashboards });
  for (const call of plan.calls) {
    const id = await executeCall(client, call, ids);
    if (!objects.some((object) => object.kind === call.kind && object.key === call.key))
      objects.push({
        kind: call.kind,
        key: call.key,
        name: call.name,
        id,
        outcome: call.action === 'create' ? 'created' : 'updated',
      });
  }
  for (const object of plan.unchanged) objects.push({ ...object, outcome: 'unchanged' });

  const placed = spec.dashboards.map(({ key, name }) => {
    const dashboard = objects.find((object) => object.kind === 'dashboard' && object.key === key);
    if (!dashboard) throw new Error(`dashboard ${key} neither found nor created`);
    return { key, name, id: dashboard.id };
  });
  return {
    session,
    objects: sortObjects(spec, objects),
    dashboardId: placed[0]!.id,
    dashboards: placed,
  };
}

async function openSession(input: ProvisionInput): Promise<'setup' | 'login'> {
  const { client, admin } = input;
  const properties = await client.getSessionProperties();
  assertSupportedVersion(properties.version?.tag);
  const token = properties['setup-token'];
  if (!properties['has-user-setup'] && token) {
    await client.setup({ token, ...admin });
    return 'setup';
  }
  await client.login(admin.email, admin.password);
  return 'login';
}

/** Refuses a Metabase older than 0.50 (dashcards on PUT /api/dashboard/:id); tags are vX.Y.Z. */
export function assertSupportedVersion(tag: string | undefined): void {
  const minor = /^v[01]\.(\d+)/.exec(tag ?? '')?.[1];
  if (minor !== undefined && Number(minor) < 50)
    throw new UserError(
      'metabase.version',
      `Metabase ${tag} is too old: provisioning needs Metabase 0.50 or newer; upgrade it (compose.yaml pins a supported image)`,
    );
}

async function executeDatabaseCall(
  client: MetabaseClient,
  call: PlannedCall,
  spec: DatabaseSpec,
  ids: Map<string, number>,
): Promise<void> {
  try {
    await executeCall(client, call, ids);
  } catch (error) {
    if (error instanceof MetabaseRequestError && error.status === 400) {
      const { host, port, dbname, user } = spec.details;
      throw new UserError(
        'metabase.database',
        `Metabase cannot connect to PostgreSQL at ${host}:${port}/${dbname} as ${user} (${describeMetabaseError(error.body)}); set METABASE_DATABASE_URL to the address Metabase itself reaches our database at`,
        { cause: error },
      );
    }
    throw error;
  }
}

/** Runs one planned call, filling in refs from earlier answers; returns the object's id. */
async function executeCall(
  client: MetabaseClient,
  call: PlannedCall,
  ids: Map<string, number>,
): Promise<number> {
  const path = call.path.replace(/\{([^}]+)\}/g, (_, name: string) => String(lookup(ids, name)));
  const answer = await client.request<{ id?: unknown }>(
    call.method,
    path,
    resolveRefs(call.body, ids),
  );
  const id = typeof answer?.id === 'number' ? answer.id : Number(/\/(\d+)$/.exec(path)?.[1]);
  if (call.produces) ids.set(call.produces, id);
  return id;
}

function resolveRefs(value: unknown, ids: Map<string, number>): unknown {
  if (isRef(value)) return lookup(ids, value.$ref);
  if (Array.isArray(value)) return value.map((item) => resolveRefs(item, ids));
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, resolveRefs(item, ids)]),
    );
  return value;
}

function lookup(ids: Map<string, number>, name: string): number {
  const id = ids.get(name);
  if (id === undefined) throw new Error(`plan uses ${name} before creating it`);
  return id;
}

/**
 * Field ids for the date filter's columns, once Metabase sees every view the cards read. A
 * schema sync is asked for only when something is missing, so a settled Metabase gets no write.
 */
async function waitForViews(
  input: ProvisionInput,
  databaseId: number,
): Promise<Map<string, number>> {
  const { client, spec } = input;
  const sleep = input.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  const views = listViews(spec);
  const columns = listFilterColumns(spec);
  let seen = readMetadata(await client.getDatabaseMetadata(databaseId), views, columns);
  if (seen.missing.length === 0) return seen.fieldIds;
  await client.syncDatabaseSchema(databaseId);
  const deadline = Date.now() + input.syncWaitMs;
  while (seen.missing.length > 0) {
    if (Date.now() >= deadline)
      throw new UserError(
        'metabase.views',
        `Metabase does not see ${seen.missing.join(', ')} in database "${input.database.name}" after a schema sync; run cpd migrate on that database (the analytics views come with the migrations), check that METABASE_DATABASE_URL names it, then provision again`,
      );
    await sleep(input.pollMs ?? 1_000);
    seen = readMetadata(await client.getDatabaseMetadata(databaseId), views, columns);
  }
  return seen.fieldIds;
}

function readMetadata(
  metadata: MbDatabaseMetadata,
  views: string[],
  columns: ViewColumn[],
): { fieldIds: Map<string, number>; missing: string[] } {
  const tables = new Map(
    (metadata.tables ?? []).map((table) => [`${table.schema}.${table.name}`, table]),
  );
  const fieldIds = new Map<string, number>();
  const missing = views.filter((view) => !tables.has(view));
  for (const column of columns) {
    const field = tables
      .get(`${column.schema}.${column.table}`)
      ?.fields?.find((candidate) => candidate.name === column.column);
    if (field) fieldIds.set(describeColumn(column), field.id);
    else if (!missing.includes(`${column.schema}.${column.table}`))
      missing.push(describeColumn(column));
  }
  return { fieldIds, missing };
}

const kindOrder: ObjectKind[] = ['database', 'collection', 'card', 'dashboard'];

/** Reporting order: as the spec lists things. */
function sortObjects(spec: MetabaseSpec, objects: ProvisionedObject[]): ProvisionedObject[] {
  const cardOrder = spec.cards.map((card) => card.key);
  return [...objects].sort(
    (a, b) =>
      kindOrder.indexOf(a.kind) - kindOrder.indexOf(b.kind) ||
      cardOrder.indexOf(a.key) - cardOrder.indexOf(b.key),
  );
}
