import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { introspectPostgres, queryPostgres, type ConnectionDetails } from './introspect.js';

/**
 * A stateful stand-in for Metabase's REST API (0.50 by default, or 0.57 and later), for the
 * endpoints provisioning uses, with the real request and response shapes: a setup token that
 * disappears after first-run setup, Metabase's password rule at setup, sessions in
 * `X-Metabase-Session` (401 without one), body validation with Metabase's 400 answers, a schema
 * sync that really reads the PostgreSQL it is given (asynchronously, as Metabase does), `ssl`
 * chosen by Metabase itself when a database is saved (TLS first), and dashcards replaced
 * wholesale by `PUT /api/dashboard/:id`. From 0.57, a card is read back as MBQL 5 (`lib/type`,
 * `stages`) unless `?legacy-mbql=true`, and then without an empty `template-tags`. Every request
 * is logged, so tests can say "no writes". In-process, on port 0.
 */

export interface FakeMetabaseOptions {
  /** An admin that already exists: the instance is past first-run setup. */
  admin?: { email: string; password: string };
  /** Answer this many requests with 503 first, as Metabase does while it initialises. */
  bootingRequests?: number;
  /** How long a schema sync takes before its tables show in metadata. */
  syncDelayMs?: number;
  /** The version tag Metabase reports, `v0.50.20` by default; `v0.57.x` and later answer as 0.57. */
  version?: string;
  /**
   * Whether the PostgreSQL it is given takes TLS. Metabase tries `ssl: true` first when a
   * database is saved and keeps it when it works; the test PostgreSQL has no TLS, so this says
   * what such an attempt would find (the fake then connects without it).
   */
  databaseAcceptsTls?: boolean;
}

export interface LoggedRequest {
  method: string;
  path: string;
  status: number;
  body: unknown;
}

interface Field {
  id: number;
  table_id: number;
  name: string;
  display_name: string;
  database_type: string;
}

interface Table {
  id: number;
  db_id: number;
  schema: string;
  name: string;
  display_name: string;
  fields: Field[];
}

interface Database {
  id: number;
  name: string;
  engine: string;
  details: ConnectionDetails;
  is_sample: boolean;
  is_full_sync: boolean;
  is_on_demand: boolean;
  auto_run_queries: boolean;
  initial_sync_status: 'incomplete' | 'complete';
  tables: Table[];
}

export interface FakeCard {
  id: number;
  entity_id: string;
  name: string;
  description: string | null;
  display: string;
  collection_id: number | null;
  database_id: number;
  query_type: string;
  type: 'question';
  dataset_query: Record<string, unknown>;
  visualization_settings: Record<string, unknown>;
  archived: boolean;
  created_at: string;
  updated_at: string;
}

export interface FakeDashcard {
  id: number;
  dashboard_id: number;
  card_id: number | null;
  dashboard_tab_id: number | null;
  row: number;
  col: number;
  size_x: number;
  size_y: number;
  parameter_mappings: unknown[];
  visualization_settings: Record<string, unknown>;
  series: unknown[];
}

export interface FakeDashboard {
  id: number;
  entity_id: string;
  name: string;
  description: string | null;
  collection_id: number | null;
  parameters: Record<string, unknown>[];
  archived: boolean;
  dashcards: FakeDashcard[];
}

export interface FakeCollection {
  id: number;
  name: string;
  description: string | null;
  location: string;
  archived: boolean;
  personal_owner_id: number | null;
}

export interface FakeMetabase {
  url: string;
  requests: LoggedRequest[];
  /** Requests other than reads and logins: what changes Metabase. */
  writes(): LoggedRequest[];
  cards(): FakeCard[];
  dashboards(): FakeDashboard[];
  collections(): FakeCollection[];
  databases(): Array<{ id: number; name: string; details: ConnectionDetails }>;
  /** Field id Metabase gave `schema.table.column`, after a sync. */
  fieldId(schema: string, table: string, column: string): number | undefined;
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(typeof body === 'string' ? body : JSON.stringify(body));
  }
}

const badRequest = (field: string, message: string) =>
  new HttpError(400, { errors: { [field]: message }, 'specific-errors': { [field]: [message] } });
const notFound = () => new HttpError(404, 'Not found.');

// What Metabase returns instead of a stored database password.
const protectedPassword = '**MetabasePass**';

export async function startFakeMetabase(options: FakeMetabaseOptions = {}): Promise<FakeMetabase> {
  const now = () => new Date().toISOString();
  let nextId = 100;
  const newId = () => (nextId += 1);
  let setupToken: string | null = options.admin ? null : randomUUID();
  const users: Array<{ id: number; email: string; password: string }> = options.admin
    ? [{ id: 1, ...options.admin }]
    : [];
  const sessions = new Set<string>();
  // Metabase ships a sample database and gives each user a personal collection.
  const databases: Database[] = [
    {
      id: 1,
      name: 'Sample Database',
      engine: 'h2',
      details: {},
      is_sample: true,
      is_full_sync: true,
      is_on_demand: false,
      auto_run_queries: true,
      initial_sync_status: 'complete',
      tables: [],
    },
  ];
  const collections: FakeCollection[] = [];
  const cards: FakeCard[] = [];
  const dashboards: FakeDashboard[] = [];
  const requests: LoggedRequest[] = [];
  const syncs = new Set<Promise<void>>();
  let booting = options.bootingRequests ?? 0;
  const answersAsMbql5 = versionAtLeast(options.version ?? 'v0.50.20', 57);

  const addPersonalCollection = (user: { id: number; email: string }) =>
    collections.push({
      id: newId(),
      name: `${user.email}'s Personal Collection`,
      description: null,
      location: '/',
      archived: false,
      personal_owner_id: user.id,
    });
  for (const user of users) addPersonalCollection(user);

  function startSync(database: Database): void {
    const sync = (async () => {
      await new Promise((resolve) => setTimeout(resolve, options.syncDelayMs ?? 20));
      try {
        const columns = await introspectPostgres(reachable(database.details));
        const tables = new Map<string, Table>();
        for (const column of columns) {
          const key = `${column.schema}.${column.table}`;
          const table = tables.get(key) ??
            database.tables.find((t) => `${t.schema}.${t.name}` === key) ?? {
              id: newId(),
              db_id: database.id,
              schema: column.schema,
              name: column.table,
              display_name: column.table,
              fields: [],
            };
          tables.set(key, table);
          if (!table.fields.some((field) => field.name === column.column))
            table.fields.push({
              id: newId(),
              table_id: table.id,
              name: column.column,
              display_name: column.column,
              database_type: column.databaseType,
            });
        }
        database.tables = [...tables.values()];
        database.initial_sync_status = 'complete';
      } catch {
        // Metabase logs a failed sync and keeps what it knew.
      }
    })();
    syncs.add(sync);
    void sync.finally(() => syncs.delete(sync));
  }

  /** The details as this fake connects with them: TLS it only pretends to use is left out. */
  const reachable = (details: ConnectionDetails): ConnectionDetails =>
    options.databaseAcceptsTls ? { ...details, ssl: false } : details;

  /**
   * Metabase's connection test when a database is saved: unless `ssl` is required, it tries TLS
   * first and keeps `ssl: true` when that works, else `ssl: false`. Returns the details stored.
   */
  async function testConnection(details: ConnectionDetails): Promise<ConnectionDetails> {
    const tls = options.databaseAcceptsTls === true;
    if (details.ssl === true && !tls)
      throw new HttpError(400, {
        message: 'The server does not support SSL connections.',
        errors: { ssl: 'check your ssl settings' },
      });
    try {
      await introspectPostgres({ ...details, ssl: false });
      return { ...details, ssl: tls };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new HttpError(400, {
        message: `Connection to ${String(details.host)}:${String(details.port)} refused or failed: ${message}`,
        errors: { host: 'check your host settings', port: 'check your port settings' },
      });
    }
  }

  const showDatabase = (database: Database) => ({
    id: database.id,
    name: database.name,
    engine: database.engine,
    is_sample: database.is_sample,
    is_full_sync: database.is_full_sync,
    is_on_demand: database.is_on_demand,
    auto_run_queries: database.auto_run_queries,
    initial_sync_status: database.initial_sync_status,
    details:
      database.details.password === undefined
        ? database.details
        : { ...database.details, password: protectedPassword },
  });

  const showDashboard = (dashboard: FakeDashboard) => ({
    ...dashboard,
    dashcards: dashboard.dashcards.map((dashcard) => ({
      ...dashcard,
      card: cards.find((card) => card.id === dashcard.card_id) ?? null,
    })),
    tabs: [],
  });

  /** A card as GET /api/card/:id answers: from 0.57, its query in MBQL 5 unless asked otherwise. */
  function showCard(card: FakeCard, url: URL): FakeCard {
    if (!answersAsMbql5) return card;
    const query = card.dataset_query;
    const native = isMap(query.native) ? query.native : {};
    const tags = isMap(native['template-tags']) ? native['template-tags'] : {};
    if (url.searchParams.get('legacy-mbql') === 'true') {
      const { 'template-tags': _tags, ...rest } = native;
      return {
        ...card,
        dataset_query: {
          ...query,
          native: Object.keys(tags).length > 0 ? native : rest,
        },
      };
    }
    return {
      ...card,
      dataset_query: {
        'lib/type': 'mbql/query',
        database: query.database,
        stages: [
          {
            'lib/type': 'mbql.stage/native',
            native: native.query,
            'template-tags': Object.fromEntries(
              Object.entries(tags).map(([name, tag]) => [name, toMbql5Tag(tag)]),
            ),
          },
        ],
      },
    };
  }

  function findOr404<T extends { id: number }>(list: T[], id: string | undefined): T {
    const found = list.find((item) => item.id === Number(id));
    if (!found) throw notFound();
    return found;
  }

  function checkCollectionId(value: unknown): number | null {
    if (value === undefined || value === null) return null;
    if (!isPositiveInt(value))
      throw badRequest('collection_id', 'nullable value must be an integer greater than zero.');
    if (!collections.some((collection) => collection.id === value)) throw notFound();
    return value;
  }

  function checkDatasetQuery(value: unknown): Record<string, unknown> {
    if (!isMap(value)) throw badRequest('dataset_query', 'Value must be a map.');
    if (value.type !== 'native' && value.type !== 'query')
      throw badRequest('dataset_query', 'type must be native or query.');
    if (!databases.some((database) => database.id === value.database))
      throw badRequest('dataset_query', 'database must be the id of an existing database.');
    if (value.type === 'native') {
      const native = value.native;
      if (!isMap(native) || typeof native.query !== 'string')
        throw badRequest('dataset_query', 'native.query must be a string.');
      if (native['template-tags'] !== undefined && !isMap(native['template-tags']))
        throw badRequest('dataset_query', 'native.template-tags must be a map.');
    }
    return value;
  }

  function checkParameters(value: unknown): Record<string, unknown>[] {
    if (value === undefined || value === null) return [];
    if (
      !Array.isArray(value) ||
      !value.every((p) => isMap(p) && typeof p.id === 'string' && typeof p.type === 'string')
    )
      throw badRequest('parameters', 'Each parameter must be a map with :id and :type keys');
    return value as Record<string, unknown>[];
  }

  function checkDashcards(value: unknown): Array<Record<string, unknown>> {
    if (!Array.isArray(value)) throw badRequest('dashcards', 'value must be an array.');
    const ids = new Set<unknown>();
    for (const dashcard of value) {
      const valid =
        isMap(dashcard) &&
        Number.isInteger(dashcard.id) &&
        isPositiveInt(dashcard.size_x) &&
        isPositiveInt(dashcard.size_y) &&
        Number.isInteger(dashcard.row) &&
        (dashcard.row as number) >= 0 &&
        Number.isInteger(dashcard.col) &&
        (dashcard.col as number) >= 0 &&
        (dashcard.parameter_mappings === undefined ||
          dashcard.parameter_mappings === null ||
          (Array.isArray(dashcard.parameter_mappings) &&
            dashcard.parameter_mappings.every(
              (m) => isMap(m) && typeof m.parameter_id === 'string' && m.parameter_id !== '',
            )));
      if (!valid) throw badRequest('dashcards', 'value must be a sequence of valid dashcards.');
      if (ids.has(dashcard.id)) throw badRequest('dashcards', 'value must have unique ids.');
      ids.add(dashcard.id);
      if (
        dashcard.card_id !== null &&
        dashcard.card_id !== undefined &&
        !cards.some((card) => card.id === dashcard.card_id)
      )
        throw notFound();
    }
    return value as Array<Record<string, unknown>>;
  }

  function replaceDashcards(dashboard: FakeDashboard, wanted: Array<Record<string, unknown>>) {
    dashboard.dashcards = wanted.map((want) => {
      const existing = dashboard.dashcards.find((dashcard) => dashcard.id === want.id);
      return {
        id: existing ? existing.id : newId(),
        dashboard_id: dashboard.id,
        card_id: (want.card_id as number | null | undefined) ?? null,
        dashboard_tab_id: null,
        row: want.row as number,
        col: want.col as number,
        size_x: want.size_x as number,
        size_y: want.size_y as number,
        parameter_mappings: (want.parameter_mappings as unknown[] | null) ?? [],
        visualization_settings: isMap(want.visualization_settings)
          ? want.visualization_settings
          : {},
        series: [],
      };
    });
  }

  type Handler = (params: string[], body: Record<string, unknown>, url: URL) => unknown;
  const routes: Array<{ method: string; pattern: RegExp; open?: boolean; handle: Handler }> = [
    {
      method: 'GET',
      pattern: /^\/api\/session\/properties$/,
      open: true,
      handle: () => ({
        'setup-token': setupToken,
        'has-user-setup': users.length > 0,
        'site-name': 'Metabase',
        version: { tag: options.version ?? 'v0.50.20', hash: 'fake' },
      }),
    },
    {
      method: 'POST',
      pattern: /^\/api\/setup$/,
      open: true,
      handle: (_, body) => {
        const user = isMap(body.user) ? body.user : {};
        const prefs = isMap(body.prefs) ? body.prefs : {};
        if (typeof body.token !== 'string' || body.token !== setupToken)
          throw badRequest('token', 'Token does not match the setup token.');
        if (users.length > 0)
          throw new HttpError(
            403,
            'The /api/setup route can only be used to create the first user, however a user currently exists.',
          );
        if (typeof user.email !== 'string' || !/^[^@\s]+@[^@\s]+$/.test(user.email))
          throw badRequest('email', 'value must be a valid email address.');
        if (typeof user.password !== 'string' || !meetsPasswordRule(user.password))
          throw badRequest('password', 'password is too common.');
        if (typeof prefs.site_name !== 'string' || prefs.site_name.trim() === '')
          throw badRequest('site_name', 'value must be a non-blank string.');
        const created = { id: users.length + 1, email: user.email, password: user.password };
        users.push(created);
        addPersonalCollection(created);
        setupToken = null;
        const session = randomUUID();
        sessions.add(session);
        return { id: session };
      },
    },
    {
      method: 'POST',
      pattern: /^\/api\/session$/,
      open: true,
      handle: (_, body) => {
        if (typeof body.username !== 'string' || body.username.trim() === '')
          throw badRequest('username', 'value must be a non-blank string.');
        if (typeof body.password !== 'string' || body.password === '')
          throw badRequest('password', 'value must be a non-blank string.');
        const username = body.username.toLowerCase();
        const user = users.find((u) => u.email.toLowerCase() === username);
        if (!user || user.password !== body.password)
          throw new HttpError(401, { errors: { password: 'did not match stored password' } });
        const session = randomUUID();
        sessions.add(session);
        return { id: session };
      },
    },
    {
      method: 'GET',
      pattern: /^\/api\/database$/,
      handle: () => ({ data: databases.map(showDatabase), total: databases.length }),
    },
    {
      method: 'POST',
      pattern: /^\/api\/database$/,
      handle: async (_, body) => {
        if (typeof body.name !== 'string' || body.name.trim() === '')
          throw badRequest('name', 'value must be a non-blank string.');
        if (body.engine !== 'postgres')
          throw badRequest('engine', 'value must be a valid database engine.');
        if (!isMap(body.details)) throw badRequest('details', 'value must be a map.');
        const details = await testConnection(body.details);
        const database: Database = {
          id: newId(),
          name: body.name,
          engine: body.engine,
          details,
          is_sample: false,
          is_full_sync: body.is_full_sync !== false,
          is_on_demand: body.is_on_demand === true,
          auto_run_queries: body.auto_run_queries !== false,
          initial_sync_status: 'incomplete',
          tables: [],
        };
        databases.push(database);
        startSync(database);
        return showDatabase(database);
      },
    },
    {
      method: 'PUT',
      pattern: /^\/api\/database\/(\d+)$/,
      handle: async ([id], body) => {
        const database = findOr404(databases, id);
        if (body.details !== undefined) {
          if (!isMap(body.details)) throw badRequest('details', 'value must be a map.');
          const details = { ...body.details };
          if (details.password === protectedPassword) details.password = database.details.password;
          database.details = await testConnection(details);
        }
        if (typeof body.name === 'string' && body.name.trim() !== '') database.name = body.name;
        return showDatabase(database);
      },
    },
    {
      method: 'POST',
      pattern: /^\/api\/database\/(\d+)\/sync_schema$/,
      handle: ([id]) => {
        startSync(findOr404(databases, id));
        return { status: 'ok' };
      },
    },
    {
      method: 'GET',
      pattern: /^\/api\/database\/(\d+)\/metadata$/,
      handle: ([id]) => {
        const database = findOr404(databases, id);
        return { ...showDatabase(database), tables: database.tables };
      },
    },
    {
      method: 'GET',
      pattern: /^\/api\/collection$/,
      handle: () => [
        { id: 'root', name: 'Our analytics', can_write: true, effective_ancestors: [] },
        ...collections.filter((collection) => !collection.archived),
      ],
    },
    {
      method: 'POST',
      pattern: /^\/api\/collection$/,
      handle: (_, body) => {
        if (typeof body.name !== 'string' || body.name.trim() === '')
          throw badRequest('name', 'value must be a non-blank string.');
        const parent = checkCollectionId(body.parent_id);
        const collection: FakeCollection = {
          id: newId(),
          name: body.name,
          description: typeof body.description === 'string' ? body.description : null,
          location: parent === null ? '/' : `/${parent}/`,
          archived: false,
          personal_owner_id: null,
        };
        collections.push(collection);
        return collection;
      },
    },
    {
      method: 'PUT',
      pattern: /^\/api\/collection\/(\d+)$/,
      handle: ([id], body) => {
        const collection = findOr404(collections, id);
        if (typeof body.name === 'string' && body.name.trim() !== '') collection.name = body.name;
        if ('description' in body)
          collection.description = typeof body.description === 'string' ? body.description : null;
        if (typeof body.archived === 'boolean') collection.archived = body.archived;
        return collection;
      },
    },
    {
      method: 'GET',
      pattern: /^\/api\/collection\/(\d+)\/items$/,
      handle: ([id], _, url) => {
        const collection = findOr404(collections, id);
        const models = url.searchParams.getAll('models');
        const items = [
          ...cards
            .filter((card) => card.collection_id === collection.id && !card.archived)
            .map((card) => ({
              id: card.id,
              model: 'card',
              name: card.name,
              description: card.description,
              display: card.display,
            })),
          ...dashboards
            .filter((dashboard) => dashboard.collection_id === collection.id && !dashboard.archived)
            .map((dashboard) => ({
              id: dashboard.id,
              model: 'dashboard',
              name: dashboard.name,
              description: dashboard.description,
            })),
        ].filter((item) => models.length === 0 || models.includes(item.model));
        return { total: items.length, data: items, models: ['card', 'dashboard'] };
      },
    },
    {
      method: 'GET',
      pattern: /^\/api\/card\/(\d+)$/,
      handle: ([id], _, url) => showCard(findOr404(cards, id), url),
    },
    {
      method: 'POST',
      pattern: /^\/api\/card$/,
      handle: (_, body) => {
        if (typeof body.name !== 'string' || body.name.trim() === '')
          throw badRequest('name', 'value must be a non-blank string.');
        const datasetQuery = checkDatasetQuery(body.dataset_query);
        if (typeof body.display !== 'string' || body.display === '')
          throw badRequest('display', 'value must be a non-blank string.');
        if (!isMap(body.visualization_settings))
          throw badRequest('visualization_settings', 'Value must be a map.');
        const card: FakeCard = {
          id: newId(),
          entity_id: randomUUID().slice(0, 21),
          name: body.name,
          description: typeof body.description === 'string' ? body.description : null,
          display: body.display,
          collection_id: checkCollectionId(body.collection_id),
          database_id: datasetQuery.database as number,
          query_type: datasetQuery.type as string,
          type: 'question',
          dataset_query: datasetQuery,
          visualization_settings: body.visualization_settings,
          archived: false,
          created_at: now(),
          updated_at: now(),
        };
        cards.push(card);
        return card;
      },
    },
    {
      method: 'PUT',
      pattern: /^\/api\/card\/(\d+)$/,
      handle: ([id], body) => {
        const card = findOr404(cards, id);
        if (body.name !== undefined) {
          if (typeof body.name !== 'string' || body.name.trim() === '')
            throw badRequest('name', 'nullable value must be a non-blank string.');
          card.name = body.name;
        }
        if (body.dataset_query !== undefined) {
          card.dataset_query = checkDatasetQuery(body.dataset_query);
          card.database_id = card.dataset_query.database as number;
        }
        if (body.display !== undefined) {
          if (typeof body.display !== 'string' || body.display === '')
            throw badRequest('display', 'nullable value must be a non-blank string.');
          card.display = body.display;
        }
        if (body.visualization_settings !== undefined) {
          if (!isMap(body.visualization_settings))
            throw badRequest('visualization_settings', 'nullable Value must be a map.');
          card.visualization_settings = body.visualization_settings;
        }
        if ('description' in body)
          card.description = typeof body.description === 'string' ? body.description : null;
        if ('collection_id' in body) card.collection_id = checkCollectionId(body.collection_id);
        if (typeof body.archived === 'boolean') card.archived = body.archived;
        card.updated_at = now();
        return card;
      },
    },
    {
      // Runs the card's native query on its database, field filters unset (Metabase's `1 = 1`).
      method: 'POST',
      pattern: /^\/api\/card\/(\d+)\/query$/,
      handle: async ([id]) => {
        const card = findOr404(cards, id);
        const database = findOr404(databases, String(card.database_id));
        const native = card.dataset_query.native as { query: string };
        const sql = native.query.replace(/\{\{\s*[\w-]+\s*\}\}/g, '1 = 1');
        try {
          const rows = await queryPostgres(reachable(database.details), sql);
          return { status: 'completed', row_count: rows.length, data: { rows } };
        } catch (error) {
          return {
            status: 'failed',
            error: error instanceof Error ? error.message : String(error),
          };
        }
      },
    },
    {
      method: 'GET',
      pattern: /^\/api\/dashboard\/(\d+)$/,
      handle: ([id]) => showDashboard(findOr404(dashboards, id)),
    },
    {
      method: 'POST',
      pattern: /^\/api\/dashboard$/,
      handle: (_, body) => {
        if (typeof body.name !== 'string' || body.name.trim() === '')
          throw badRequest('name', 'value must be a non-blank string.');
        const dashboard: FakeDashboard = {
          id: newId(),
          entity_id: randomUUID().slice(0, 21),
          name: body.name,
          description: typeof body.description === 'string' ? body.description : null,
          collection_id: checkCollectionId(body.collection_id),
          parameters: checkParameters(body.parameters),
          archived: false,
          dashcards: [],
        };
        dashboards.push(dashboard);
        return showDashboard(dashboard);
      },
    },
    {
      method: 'PUT',
      pattern: /^\/api\/dashboard\/(\d+)$/,
      handle: ([id], body) => {
        const dashboard = findOr404(dashboards, id);
        // Validate everything before changing anything: Metabase updates in one transaction.
        const parameters =
          body.parameters === undefined ? undefined : checkParameters(body.parameters);
        const collectionId =
          'collection_id' in body ? checkCollectionId(body.collection_id) : undefined;
        const dashcards = body.dashcards === undefined ? undefined : checkDashcards(body.dashcards);
        if (body.name !== undefined && (typeof body.name !== 'string' || body.name.trim() === ''))
          throw badRequest('name', 'nullable value must be a non-blank string.');
        if (typeof body.name === 'string') dashboard.name = body.name;
        if ('description' in body)
          dashboard.description = typeof body.description === 'string' ? body.description : null;
        if (parameters) dashboard.parameters = parameters;
        if (collectionId !== undefined) dashboard.collection_id = collectionId;
        if (typeof body.archived === 'boolean') dashboard.archived = body.archived;
        if (dashcards) replaceDashcards(dashboard, dashcards);
        return showDashboard(dashboard);
      },
    },
  ];

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://fake-metabase');
    const method = request.method ?? 'GET';
    const raw = await readRequestBody(request);
    let body: unknown = null;
    let status = 200;
    let answer: unknown;
    try {
      if (raw !== '') {
        try {
          body = JSON.parse(raw);
        } catch {
          throw new HttpError(400, 'Malformed JSON in request body.');
        }
      }
      if (booting > 0) {
        booting -= 1;
        throw new HttpError(503, { status: 'initializing', progress: 0.5 });
      }
      const path = url.pathname.replace(/\/+$/, '');
      const route = routes.find((r) => r.method === method && r.pattern.test(path));
      if (!route) throw new HttpError(404, 'API endpoint does not exist.');
      const session = request.headers['x-metabase-session'];
      if (!route.open && (typeof session !== 'string' || !sessions.has(session)))
        throw new HttpError(401, 'Unauthenticated');
      const params = route.pattern.exec(path)?.slice(1) ?? [];
      answer = await route.handle(params, isMap(body) ? body : {}, url);
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      status = error.status;
      answer = error.body;
    }
    requests.push({ method, path: url.pathname + url.search, status, body });
    const text = typeof answer === 'string' ? answer : JSON.stringify(answer);
    response.writeHead(status, {
      'content-type': typeof answer === 'string' ? 'text/plain' : 'application/json',
    });
    response.end(text);
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      response.writeHead(500, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ message: String(error) }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    writes: () =>
      requests.filter(
        (r) => r.method !== 'GET' && !(r.method === 'POST' && r.path === '/api/session'),
      ),
    cards: () => cards,
    dashboards: () => dashboards,
    collections: () => collections,
    databases: () =>
      databases.map((database) => ({
        id: database.id,
        name: database.name,
        details: database.details,
      })),
    fieldId: (schema, table, column) =>
      databases
        .flatMap((database) => database.tables)
        .find((t) => t.schema === schema && t.name === table)
        ?.fields.find((field) => field.name === column)?.id,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      );
      await Promise.allSettled([...syncs]);
    },
  };
}

/** Metabase's password rule (complexity "normal" plus length 8) and a few of its common ones. */
const commonPasswords = new Set(['password1', 'passw0rd', 'abc12345', 'qwerty123', '12345678a']);
function meetsPasswordRule(password: string): boolean {
  return (
    password.length >= 8 &&
    /\p{L}/u.test(password) &&
    /\d/.test(password) &&
    !commonPasswords.has(password.toLowerCase())
  );
}

/** `v0.57.3` (or `v1.57.3`, the enterprise tag) is at least 0.57. */
function versionAtLeast(tag: string, minor: number): boolean {
  const found = /^v[01]\.(\d+)/.exec(tag)?.[1];
  return found !== undefined && Number(found) >= minor;
}

/** A template tag in MBQL 5: field references carry an options map before the id. */
function toMbql5Tag(tag: unknown): unknown {
  if (!isMap(tag) || !Array.isArray(tag.dimension)) return tag;
  const [kind, id] = tag.dimension as unknown[];
  return {
    ...tag,
    dimension: [kind, { 'lib/uuid': randomUUID(), 'base-type': 'type/DateTime' }, id],
  };
}

function isMap(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function isPositiveInt(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) > 0;
}

function readRequestBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (text += chunk));
    request.on('end', () => resolve(text));
    request.on('error', reject);
  });
}
