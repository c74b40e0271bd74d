import type {
  MbCard,
  MbCollection,
  MbDashboard,
  MbDashcard,
  MbDatabase,
  HttpMethod,
} from './client.js';
import {
  dateTagName,
  describeColumn,
  describeWithKey,
  readKey,
  type CardSpec,
  type DashboardSpec,
  type DashcardSpec,
  type MetabaseSpec,
} from './spec.js';

/**
 * Pure planning: from the spec and what Metabase holds now, the API calls that make Metabase
 * match the spec. Missing objects are created, differing ones updated in place, matching ones
 * left alone, so a second run plans nothing. Only the fields we set are compared: Metabase adds
 * its own keys to what it stores, and those are not differences.
 */

/** A value the executor fills in from an earlier call's answer (`collection`, `card:KEY`, ...). */
export interface Ref {
  $ref: string;
}

export type ObjectKind = 'database' | 'collection' | 'card' | 'dashboard';

export interface PlannedCall {
  kind: ObjectKind;
  key: string;
  name: string;
  action: 'create' | 'update';
  method: HttpMethod;
  /** May hold `{ref}` placeholders, filled in from earlier answers. */
  path: string;
  body: unknown;
  /** The answer's `id` is recorded under this ref. */
  produces?: string;
}

export interface UnchangedObject {
  kind: ObjectKind;
  key: string;
  name: string;
  id: number;
}

export interface Plan {
  calls: PlannedCall[];
  unchanged: UnchangedObject[];
}

// ---------------------------------------------------------------- database

export interface DatabaseSpec {
  name: string;
  engine: 'postgres';
  details: {
    host: string;
    port: number;
    dbname: string;
    user: string;
    password: string | null;
    /**
     * Only when the URL's sslmode says (require, verify-*: true; disable: false). Left out,
     * Metabase chooses itself: TLS when the database takes it.
     */
    ssl?: boolean;
  };
}

/** How Metabase should reach our PostgreSQL, from a postgres:// URL. */
export function buildDatabaseSpec(url: string, name: string): DatabaseSpec {
  const parsed = new URL(url);
  const sslmode = parsed.searchParams.get('sslmode');
  const ssl =
    sslmode === 'disable'
      ? false
      : sslmode !== null && !['allow', 'prefer'].includes(sslmode)
        ? true
        : undefined;
  return {
    name,
    engine: 'postgres',
    details: {
      host: decodeURIComponent(parsed.hostname).replace(/^\[|\]$/g, ''),
      port: parsed.port ? Number(parsed.port) : 5432,
      dbname: decodeURIComponent(parsed.pathname.replace(/^\//, '')) || 'postgres',
      user: decodeURIComponent(parsed.username) || 'postgres',
      password: parsed.password ? decodeURIComponent(parsed.password) : null,
      ...(ssl !== undefined && { ssl }),
    },
  };
}

// Metabase hides the stored password in what it returns, so it cannot be compared. `ssl` is
// compared apart: Metabase tries TLS first and keeps it when it works, whatever it was sent.
const comparedDetails = ['host', 'port', 'dbname', 'user'] as const;

/** The call that makes Metabase's database entry match the spec, if any. */
export function planDatabase(
  spec: DatabaseSpec,
  databases: MbDatabase[],
): { call?: PlannedCall; existing?: MbDatabase } {
  const existing = databases
    .filter((database) => database.name === spec.name)
    .sort((a, b) => a.id - b.id)[0];
  const base = { kind: 'database' as const, key: 'database', name: spec.name };
  if (!existing)
    return {
      call: {
        ...base,
        action: 'create',
        method: 'POST',
        path: '/api/database',
        body: {
          engine: spec.engine,
          name: spec.name,
          details: spec.details,
          is_full_sync: true,
          is_on_demand: false,
          auto_run_queries: true,
        },
        produces: 'database',
      },
    };
  const details: Record<string, unknown> = existing.details ?? {};
  // Only TLS that the configuration requires is a difference; what Metabase chose over a plain
  // connection (or may leave out when off) is its own business.
  const same =
    existing.engine === spec.engine &&
    comparedDetails.every((field) => sameValue(details[field], spec.details[field])) &&
    (spec.details.ssl !== true || details.ssl === true);
  if (same) return { existing };
  return {
    existing,
    call: {
      ...base,
      action: 'update',
      method: 'PUT',
      path: `/api/database/${existing.id}`,
      body: { engine: spec.engine, name: spec.name, details: spec.details },
    },
  };
}

// ---------------------------------------------------------------- content

export interface ContentState {
  databaseId: number;
  /** Field ids by `schema.table.column`, for the date filter's field filters. */
  fieldIds: ReadonlyMap<string, number>;
  /** Our collection, when it exists. */
  collection?: MbCollection & { id: number };
  /** Cards in our collection (any; those without our key are ignored). */
  cards: MbCard[];
  /** Dashboards in our collection (any; matched by key). */
  dashboards: MbDashboard[];
}

/** Finds our collection: top level, not archived, not someone's personal one, by name. */
export function findCollection(
  spec: MetabaseSpec,
  collections: MbCollection[],
): (MbCollection & { id: number }) | undefined {
  return collections
    .filter(
      (collection): collection is MbCollection & { id: number } =>
        typeof collection.id === 'number' &&
        collection.name === spec.collection.name &&
        !collection.archived &&
        collection.personal_owner_id == null &&
        (collection.location == null || collection.location === '/'),
    )
    .sort((a, b) => a.id - b.id)[0];
}

/** Collection, cards and dashboard: the calls, in an order where every ref is produced first. */
export function planContent(spec: MetabaseSpec, state: ContentState): Plan {
  const missingField = spec.cards.find(
    (card) => card.dateFilter && !state.fieldIds.has(describeColumn(card.dateFilter)),
  );
  if (missingField?.dateFilter)
    throw new Error(`no field id for ${describeColumn(missingField.dateFilter)}`);

  const plan: Plan = { calls: [], unchanged: [] };
  const collectionId = planCollection(spec, state, plan);
  const cardIds = new Map<string, number | Ref>();
  for (const card of spec.cards) cardIds.set(card.key, planCard(card, collectionId, state, plan));
  for (const dashboard of spec.dashboards)
    planDashboard(spec, dashboard, state, collectionId, cardIds, plan);
  return plan;
}

function planCollection(spec: MetabaseSpec, state: ContentState, plan: Plan): number | Ref {
  const base = { kind: 'collection' as const, key: 'collection', name: spec.collection.name };
  const current = state.collection;
  if (!current) {
    plan.calls.push({
      ...base,
      action: 'create',
      method: 'POST',
      path: '/api/collection',
      body: { ...spec.collection, parent_id: null },
      produces: 'collection',
    });
    return { $ref: 'collection' };
  }
  if ((current.description ?? '') === spec.collection.description)
    plan.unchanged.push({ ...base, id: current.id });
  else
    plan.calls.push({
      ...base,
      action: 'update',
      method: 'PUT',
      path: `/api/collection/${current.id}`,
      body: spec.collection,
    });
  return current.id;
}

/** The card as we want Metabase to hold it. */
export function buildCardBody(
  card: CardSpec,
  collectionId: number | Ref,
  databaseId: number,
  fieldIds: ReadonlyMap<string, number>,
): Record<string, unknown> {
  const templateTags: Record<string, unknown> = {};
  if (card.dateFilter)
    templateTags[dateTagName] = {
      id: `${card.key}-${dateTagName}`,
      name: dateTagName,
      'display-name': 'Date',
      type: 'dimension',
      dimension: ['field', fieldIds.get(describeColumn(card.dateFilter)), null],
      'widget-type': 'date/all-options',
    };
  return {
    name: card.name,
    description: describeWithKey(card.description, card.key),
    display: card.display,
    collection_id: collectionId,
    dataset_query: {
      type: 'native',
      database: databaseId,
      native: { query: card.sql, 'template-tags': templateTags },
    },
    visualization_settings: card.visualizationSettings,
  };
}

function planCard(
  card: CardSpec,
  collectionId: number | Ref,
  state: ContentState,
  plan: Plan,
): number | Ref {
  const base = { kind: 'card' as const, key: card.key, name: card.name };
  const desired = buildCardBody(card, collectionId, state.databaseId, state.fieldIds);
  const found = findByKey(state.cards, card.key);
  const current = found && withTemplateTags(found);
  if (!current) {
    plan.calls.push({
      ...base,
      action: 'create',
      method: 'POST',
      path: '/api/card',
      body: desired,
      produces: `card:${card.key}`,
    });
    return { $ref: `card:${card.key}` };
  }
  if (matchesDesired(desired, current)) plan.unchanged.push({ ...base, id: current.id });
  else
    plan.calls.push({
      ...base,
      action: 'update',
      method: 'PUT',
      path: `/api/card/${current.id}`,
      body: desired,
    });
  return current.id;
}

/**
 * A card as read, with an absent `template-tags` as the empty map we write: some versions leave
 * an empty one out of what they return.
 */
function withTemplateTags(card: MbCard): MbCard {
  const query = card.dataset_query as { native?: Record<string, unknown> } | null;
  const native = query?.native;
  if (!native || typeof native !== 'object' || native['template-tags'] != null) return card;
  return { ...card, dataset_query: { ...query, native: { ...native, 'template-tags': {} } } };
}

interface DesiredDashcard {
  card_id: number | Ref | null;
  row: number;
  col: number;
  size_x: number;
  size_y: number;
  parameter_mappings: unknown[];
  visualization_settings: Record<string, unknown>;
}

function buildDashcard(
  spec: MetabaseSpec,
  dashboard: DashboardSpec,
  dashcard: DashcardSpec,
  cardIds: ReadonlyMap<string, number | Ref>,
): DesiredDashcard {
  const place = {
    row: dashcard.row,
    col: dashcard.col,
    size_x: dashcard.sizeX,
    size_y: dashcard.sizeY,
  };
  if ('heading' in dashcard)
    return {
      card_id: null,
      ...place,
      parameter_mappings: [],
      visualization_settings: {
        virtual_card: {
          name: null,
          display: 'heading',
          visualization_settings: {},
          archived: false,
        },
        text: dashcard.heading,
        'dashcard.background': false,
      },
    };
  const card = spec.cards.find((candidate) => candidate.key === dashcard.card);
  const cardId = cardIds.get(dashcard.card);
  if (!card || cardId === undefined)
    throw new Error(`dashboard places card "${dashcard.card}", which the spec does not define`);
  return {
    card_id: cardId,
    ...place,
    parameter_mappings: card.dateFilter
      ? [
          {
            parameter_id: dashboard.dateParameter.id,
            card_id: cardId,
            target: ['dimension', ['template-tag', dateTagName]],
          },
        ]
      : [],
    visualization_settings: {},
  };
}

/** The same dashcard, layout aside: the same card, or a heading with the same text. */
function sameIdentity(desired: DesiredDashcard, current: MbDashcard): boolean {
  if (desired.card_id === null)
    return (
      current.card_id == null &&
      (current.visualization_settings as { text?: unknown } | null)?.text ===
        desired.visualization_settings.text
    );
  return typeof desired.card_id === 'number' && current.card_id === desired.card_id;
}

function sameDashcard(desired: DesiredDashcard, current: MbDashcard): boolean {
  return (
    sameIdentity(desired, current) &&
    desired.row === current.row &&
    desired.col === current.col &&
    desired.size_x === current.size_x &&
    desired.size_y === current.size_y &&
    matchesDesired(desired.parameter_mappings, current.parameter_mappings ?? []) &&
    matchesDesired(desired.visualization_settings, current.visualization_settings ?? {})
  );
}

function planDashboard(
  spec: MetabaseSpec,
  dashboard: DashboardSpec,
  state: ContentState,
  collectionId: number | Ref,
  cardIds: ReadonlyMap<string, number | Ref>,
  plan: Plan,
): void {
  const base = { kind: 'dashboard' as const, key: dashboard.key, name: dashboard.name };
  const fields = {
    name: dashboard.name,
    description: describeWithKey(dashboard.description, dashboard.key),
    collection_id: collectionId,
    parameters: [dashboard.dateParameter],
  };
  const desired = dashboard.dashcards.map((dashcard) =>
    buildDashcard(spec, dashboard, dashcard, cardIds),
  );
  const current = findByKey(state.dashboards, dashboard.key);

  if (!current) {
    plan.calls.push(
      {
        ...base,
        action: 'create',
        method: 'POST',
        path: '/api/dashboard',
        body: fields,
        produces: `dashboard:${dashboard.key}`,
      },
      {
        ...base,
        action: 'create',
        method: 'PUT',
        path: `/api/dashboard/{dashboard:${dashboard.key}}`,
        body: { dashcards: assignDashcardIds(desired, []) },
      },
    );
    return;
  }

  const currentDashcards = current.dashcards ?? [];
  const dashcardsMatch =
    desired.length === currentDashcards.length &&
    desired.every((want) => currentDashcards.some((have) => sameDashcard(want, have)));
  if (dashcardsMatch && matchesDesired(fields, current)) {
    plan.unchanged.push({ ...base, id: current.id });
    return;
  }
  plan.calls.push({
    ...base,
    action: 'update',
    method: 'PUT',
    path: `/api/dashboard/${current.id}`,
    body: { ...fields, dashcards: assignDashcardIds(desired, currentDashcards) },
  });
}

/**
 * Keeps the id of each current dashcard that shows the same thing (so it is updated, not
 * replaced) and gives new ones negative ids, which Metabase reads as "create".
 */
function assignDashcardIds(desired: DesiredDashcard[], current: MbDashcard[]): unknown[] {
  const taken = new Set<number>();
  let nextNew = -1;
  return desired.map((dashcard) => {
    const match = current.find((have) => !taken.has(have.id) && sameIdentity(dashcard, have));
    if (match) taken.add(match.id);
    return { id: match ? match.id : nextNew--, ...dashcard };
  });
}

function findByKey<T extends { id: number; description: string | null; archived?: boolean }>(
  objects: T[],
  key: string,
): T | undefined {
  // A card duplicated in Metabase carries our key too; the oldest is the one we manage.
  return objects
    .filter((object) => !object.archived && readKey(object.description) === key)
    .sort((a, b) => a.id - b.id)[0];
}

/**
 * True when `actual` holds everything `desired` says: objects compared on desired's keys only,
 * arrays element by element, and null the same as absent.
 */
export function matchesDesired(desired: unknown, actual: unknown): boolean {
  if (isRef(desired)) return false;
  if (desired === null || desired === undefined) return actual === null || actual === undefined;
  if (Array.isArray(desired))
    return (
      Array.isArray(actual) &&
      actual.length === desired.length &&
      desired.every((item, index) => matchesDesired(item, actual[index]))
    );
  if (typeof desired === 'object') {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return false;
    return Object.entries(desired).every(([key, value]) =>
      matchesDesired(value, (actual as Record<string, unknown>)[key]),
    );
  }
  return sameValue(desired, actual);
}

function sameValue(a: unknown, b: unknown): boolean {
  // Metabase may hand a port back as a string.
  if (typeof a === 'number' || typeof b === 'number') return String(a) === String(b);
  return a === b;
}

export function isRef(value: unknown): value is Ref {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as { $ref?: unknown }).$ref === 'string'
  );
}
