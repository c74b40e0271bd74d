import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { MbCard, MbDashboard, MbDashcard } from '../../src/metabase/client.js';
import {
  buildDatabaseSpec,
  findCollection,
  isRef,
  matchesDesired,
  planContent,
  planDatabase,
  type ContentState,
  type Plan,
  type PlannedCall,
} from '../../src/metabase/plan.js';
import { assertSupportedVersion } from '../../src/metabase/provision.js';
import {
  dateTagName,
  describeColumn,
  describeWithKey,
  listFilterColumns,
  metabaseSpec,
  readKey,
  type MetabaseSpec,
} from '../../src/metabase/spec.js';

const fieldIds = new Map(
  listFilterColumns(metabaseSpec).map((c, i) => [describeColumn(c), 500 + i]),
);
const emptyState: ContentState = { databaseId: 7, fieldIds, cards: [], dashboards: [] };

/**
 * What Metabase holds after carrying out a plan, as it would answer GETs: ids handed out, refs
 * filled in, and keys of its own added (entity ids, hydrated cards, tag defaults), which must not
 * count as differences.
 */
function applyPlan(plan: Plan, state: ContentState): ContentState {
  let nextId = 1_000;
  const ids = new Map<string, number>();
  const resolve = (value: unknown): unknown => {
    if (isRef(value)) return ids.get(value.$ref);
    if (Array.isArray(value)) return value.map(resolve);
    if (value && typeof value === 'object')
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v)]));
    return value;
  };
  const next: ContentState = {
    ...state,
    cards: state.cards.map((card) => ({ ...card })),
    dashboards: state.dashboards.map((dashboard) => ({ ...dashboard })),
  };
  for (const call of plan.calls) {
    const path = call.path.replace(/\{([^}]+)\}/, (_, name: string) => String(ids.get(name)));
    const body = resolve(call.body) as Record<string, unknown>;
    const id = Number(/\/(\d+)$/.exec(path)?.[1] ?? (nextId += 1));
    if (call.produces) ids.set(call.produces, id);
    if (call.kind === 'collection')
      next.collection = { id, name: body.name as string, description: body.description as string };
    if (call.kind === 'card') {
      const query = body.dataset_query as { native: { 'template-tags': Record<string, object> } };
      for (const tag of Object.values(query.native['template-tags']))
        Object.assign(tag, { default: null, required: false });
      const card = { ...(body as unknown as MbCard), id, entity_id: `e${id}` };
      next.cards = [...next.cards.filter((c) => c.id !== id), card];
    }
    if (call.kind === 'dashboard') {
      const current = next.dashboards.find((d) => d.id === id);
      const dashcards = (body.dashcards as MbDashcard[] | undefined)?.map((dashcard) => ({
        ...dashcard,
        id: dashcard.id > 0 ? dashcard.id : (nextId += 1),
        series: [],
        dashboard_tab_id: null,
      }));
      const updated = { ...current, ...body, id, dashcards: dashcards ?? current?.dashcards ?? [] };
      next.dashboards = [...next.dashboards.filter((d) => d.id !== id), updated as MbDashboard];
    }
  }
  return next;
}

const settled = () => applyPlan(planContent(metabaseSpec, emptyState), emptyState);
const describeCall = (call: PlannedCall) => `${call.action} ${call.kind} ${call.key}`;

describe('planContent', () => {
  it('on an empty Metabase, creates the collection, every card, then the dashboards', () => {
    const plan = planContent(metabaseSpec, emptyState);
    expect(plan.unchanged).toEqual([]);
    expect(plan.calls.map(describeCall)).toEqual([
      'create collection collection',
      ...metabaseSpec.cards.map((card) => `create card ${card.key}`),
      'create dashboard cpd-incident-trends',
      'create dashboard cpd-incident-trends',
      'create dashboard cambridge-crime-reports',
      'create dashboard cambridge-crime-reports',
    ]);
    const [post, put] = plan.calls.filter((call) => call.key === 'cpd-incident-trends');
    expect(post).toMatchObject({
      method: 'POST',
      path: '/api/dashboard',
      produces: 'dashboard:cpd-incident-trends',
    });
    expect(put).toMatchObject({
      method: 'PUT',
      path: '/api/dashboard/{dashboard:cpd-incident-trends}',
    });
    const dashcards = (put!.body as { dashcards: Array<{ id: number }> }).dashcards;
    expect(dashcards).toHaveLength(metabaseSpec.dashboards[0]!.dashcards.length);
    expect(new Set(dashcards.map((d) => d.id)).size).toBe(dashcards.length);
    expect(dashcards.every((d) => d.id < 0)).toBe(true);
  });

  it('produces every ref before a call uses it', () => {
    const produced = new Set<string>();
    for (const call of planContent(metabaseSpec, emptyState).calls) {
      const inBody = [...JSON.stringify(call.body).matchAll(/"\$ref":"([^"]+)"/g)];
      const inPath = [...call.path.matchAll(/\{([^}]+)\}/g)];
      for (const [, ref] of [...inBody, ...inPath]) expect(produced).toContain(ref);
      if (call.produces) produced.add(call.produces);
    }
  });

  it('wires the date filter to exactly the cards with a date column, by field id', () => {
    const plan = planContent(metabaseSpec, emptyState);
    for (const spec of metabaseSpec.cards) {
      const call = plan.calls.find((c) => c.kind === 'card' && c.key === spec.key)!;
      const query = (call.body as { dataset_query: { native: { 'template-tags': object } } })
        .dataset_query;
      const tags = query.native['template-tags'] as Record<string, { dimension: unknown[] }>;
      if (spec.dateFilter)
        expect(tags[dateTagName]!.dimension).toEqual([
          'field',
          fieldIds.get(describeColumn(spec.dateFilter)),
          null,
        ]);
      else expect(tags).toEqual({});
    }
    const puts = plan.calls.filter((c) => c.kind === 'dashboard' && c.method === 'PUT');
    const wired = puts
      .flatMap(
        (put) =>
          (put.body as { dashcards: Array<{ card_id: unknown; parameter_mappings: unknown[] }> })
            .dashcards,
      )
      .filter((d) => d.parameter_mappings.length > 0);
    expect(wired.map((d) => (d.card_id as { $ref: string }).$ref).sort()).toEqual(
      metabaseSpec.cards
        .filter((card) => card.dateFilter)
        .map((card) => `card:${card.key}`)
        .sort(),
    );
  });

  it('plans nothing when Metabase already holds the spec, whatever keys it added', () => {
    const state = settled();
    const plan = planContent(metabaseSpec, state);
    expect(plan.calls).toEqual([]);
    expect(plan.unchanged).toHaveLength(
      metabaseSpec.cards.length + 1 + metabaseSpec.dashboards.length,
    );
  });

  it('updates a card whose SQL changed with one PUT on its id', () => {
    const state = settled();
    const edited: MetabaseSpec = {
      ...metabaseSpec,
      cards: metabaseSpec.cards.map((card) =>
        card.key === 'top-locations' ? { ...card, sql: `${card.sql} -- edited` } : card,
      ),
    };
    const plan = planContent(edited, state);
    const id = state.cards.find((card) => readKey(card.description) === 'top-locations')!.id;
    expect(plan.calls).toHaveLength(1);
    expect(plan.calls[0]).toMatchObject({
      action: 'update',
      method: 'PUT',
      path: `/api/card/${id}`,
      key: 'top-locations',
    });
  });

  it('updates a card someone changed in Metabase, and only on the fields we own', () => {
    const state = settled();
    const card = state.cards.find((c) => readKey(c.description) === 'history-by-month')!;
    (card.visualization_settings as Record<string, unknown>)['graph.show_values'] = true;
    expect(planContent(metabaseSpec, state).calls).toEqual([]);
    (card.visualization_settings as Record<string, unknown>)['graph.x_axis.title_text'] = 'When';
    expect(planContent(metabaseSpec, state).calls.map(describeCall)).toEqual([
      'update card history-by-month',
    ]);
  });

  it('manages the oldest of duplicated cards and leaves the copies alone', () => {
    const state = settled();
    const original = state.cards.find((c) => readKey(c.description) === 'freshness')!;
    state.cards.push({ ...original, id: original.id + 10_000, name: 'Copy of freshness' });
    expect(planContent(metabaseSpec, state).calls).toEqual([]);
  });

  it('recreates a card archived in Metabase and puts it on the dashboard', () => {
    const state = settled();
    const card = state.cards.find((c) => readKey(c.description) === 'recent-runs')!;
    card.archived = true;
    const plan = planContent(metabaseSpec, state);
    expect(plan.calls.map(describeCall)).toEqual([
      'create card recent-runs',
      'update dashboard cpd-incident-trends',
    ]);
    const dashcards = (
      plan.calls[1]!.body as { dashcards: Array<{ id: number; card_id: unknown }> }
    ).dashcards;
    expect(dashcards.filter((d) => d.id < 0)).toEqual([
      expect.objectContaining({ card_id: { $ref: 'card:recent-runs' } }),
    ]);
    expect(dashcards.some((d) => d.card_id === card.id)).toBe(false);
  });

  it('moves dashcards back in place, keeping their ids, and drops ones we did not put there', () => {
    const state = settled();
    const dashboard = state.dashboards[0]!;
    const before = dashboard.dashcards!.map((d) => d.id).sort();
    dashboard.dashcards = dashboard.dashcards!.map((d, i) => (i === 2 ? { ...d, col: 0 } : d));
    dashboard.dashcards.push({ id: 99_999, card_id: null, row: 90, col: 0, size_x: 4, size_y: 2 });
    const plan = planContent(metabaseSpec, state);
    expect(plan.calls.map(describeCall)).toEqual(['update dashboard cpd-incident-trends']);
    const sent = (plan.calls[0]!.body as { dashcards: Array<{ id: number }> }).dashcards;
    expect(sent.map((d) => d.id).sort()).toEqual(before);
    expect(sent.some((d) => d.id === 99_999)).toBe(false);
  });

  it('changes a heading in place', () => {
    const [first, ...others] = metabaseSpec.dashboards;
    const edited: MetabaseSpec = {
      ...metabaseSpec,
      dashboards: [
        {
          ...first!,
          dashcards: first!.dashcards.map((d) =>
            'heading' in d && d.heading === 'Historical' ? { ...d, heading: 'All history' } : d,
          ),
        },
        ...others,
      ],
    };
    const plan = planContent(edited, settled());
    expect(plan.calls.map(describeCall)).toEqual(['update dashboard cpd-incident-trends']);
    const sent = (plan.calls[0]!.body as { dashcards: Array<{ id: number }> }).dashcards;
    expect(sent.filter((d) => d.id < 0)).toHaveLength(1);
  });

  it('updates the collection description in place', () => {
    const state = settled();
    state.collection = { ...state.collection!, description: 'old words' };
    expect(planContent(metabaseSpec, state).calls).toEqual([
      expect.objectContaining({
        action: 'update',
        method: 'PUT',
        path: `/api/collection/${state.collection.id}`,
      }),
    ]);
  });

  it('refuses to plan without the field ids the date filter needs', () => {
    expect(() => planContent(metabaseSpec, { ...emptyState, fieldIds: new Map() })).toThrow(
      /no field id for analytics\./,
    );
  });
});

describe('planDatabase', () => {
  const spec = buildDatabaseSpec(
    'postgres://cpd:s3cret@db.internal:6543/police?sslmode=require',
    'CPD',
  );
  const sample = { id: 1, name: 'Sample Database', engine: 'h2', details: {} };

  it('reads a PostgreSQL URL', () => {
    expect(spec).toEqual({
      name: 'CPD',
      engine: 'postgres',
      details: {
        host: 'db.internal',
        port: 6543,
        dbname: 'police',
        user: 'cpd',
        password: 's3cret',
        ssl: true,
      },
    });
    // Without sslmode, Metabase chooses (TLS when the database takes it); disable says no.
    const plain = buildDatabaseSpec('postgresql://root@127.0.0.1/x', 'CPD').details;
    expect(plain).toMatchObject({ port: 5432, password: null });
    expect(plain).not.toHaveProperty('ssl');
    expect(
      buildDatabaseSpec('postgresql://root@127.0.0.1/x?sslmode=disable', 'CPD').details.ssl,
    ).toBe(false);
    expect(
      buildDatabaseSpec('postgresql://root@127.0.0.1/x?sslmode=prefer', 'CPD').details,
    ).not.toHaveProperty('ssl');
  });

  it('leaves alone the TLS Metabase chose itself, and puts back TLS the configuration requires', () => {
    const plain = buildDatabaseSpec('postgres://cpd@db:5432/police', 'CPD');
    const found = { id: 4, name: 'CPD', engine: 'postgres', details: { ...plain.details } };
    for (const ssl of [true, false, undefined])
      expect(planDatabase(plain, [{ ...found, details: { ...found.details, ssl } }]).call).toBe(
        undefined,
      );
    const disabled = buildDatabaseSpec('postgres://cpd@db:5432/police?sslmode=disable', 'CPD');
    expect(
      planDatabase(disabled, [{ ...found, details: { ...found.details, ssl: true } }]).call,
    ).toBeUndefined();
    const required = buildDatabaseSpec('postgres://cpd@db:5432/police?sslmode=require', 'CPD');
    expect(
      planDatabase(required, [{ ...found, details: { ...found.details, ssl: false } }]).call,
    ).toMatchObject({ action: 'update', body: { details: { ssl: true } } });
  });

  it('creates the database when Metabase has only its sample', () => {
    const { call, existing } = planDatabase(spec, [sample]);
    expect(existing).toBeUndefined();
    expect(call).toMatchObject({ action: 'create', method: 'POST', path: '/api/database' });
    expect(call!.body).toMatchObject({ engine: 'postgres', name: 'CPD', details: spec.details });
  });

  it('leaves a matching database alone, whatever Metabase shows for the password', () => {
    const found = {
      id: 4,
      name: 'CPD',
      engine: 'postgres',
      details: {
        ...spec.details,
        port: '6543',
        password: '**MetabasePass**',
        'tunnel-enabled': false,
      },
    };
    expect(planDatabase(spec, [sample, found])).toEqual({ existing: found });
  });

  it('reads a missing ssl flag as off', () => {
    const plain = buildDatabaseSpec('postgres://cpd@db:5432/police', 'CPD');
    const { ssl: _ssl, ...details } = plain.details;
    const found = { id: 4, name: 'CPD', engine: 'postgres', details };
    expect(planDatabase(plain, [found]).call).toBeUndefined();
    expect(
      planDatabase(spec, [{ ...found, details: { ...spec.details, ssl: undefined } }]).call,
    ).toBeDefined();
  });

  it('updates connection details that moved', () => {
    const found = {
      id: 4,
      name: 'CPD',
      engine: 'postgres',
      details: { ...spec.details, host: 'old' },
    };
    expect(planDatabase(spec, [found]).call).toMatchObject({
      action: 'update',
      method: 'PUT',
      path: '/api/database/4',
    });
  });
});

describe('findCollection', () => {
  const name = metabaseSpec.collection.name;
  it('takes our top-level collection, not a personal, archived, nested one or the root', () => {
    const collections = [
      { id: 'root', name },
      { id: 3, name, personal_owner_id: 1, location: '/' },
      { id: 4, name, archived: true, location: '/' },
      { id: 5, name, location: '/9/' },
      { id: 8, name, location: '/', personal_owner_id: null },
      { id: 6, name: 'Other', location: '/' },
    ];
    expect(findCollection(metabaseSpec, collections)?.id).toBe(8);
    expect(findCollection(metabaseSpec, collections.slice(0, 4))).toBeUndefined();
  });
});

describe('matchesDesired', () => {
  const json = fc.jsonValue();
  it('holds for equal values and for supersets of objects', () => {
    fc.assert(
      fc.property(json, fc.dictionary(fc.string(), json), (value, extra) => {
        expect(matchesDesired(value, structuredClone(value))).toBe(true);
        if (value && typeof value === 'object' && !Array.isArray(value))
          expect(matchesDesired(value, { ...extra, ...structuredClone(value) })).toBe(true);
      }),
    );
  });

  it('sees a changed value, a missing key, a longer array, and never matches a ref', () => {
    expect(matchesDesired({ a: { b: 1 } }, { a: { b: 2 } })).toBe(false);
    expect(matchesDesired({ a: 1, b: 2 }, { a: 1 })).toBe(false);
    expect(matchesDesired([1], [1, 2])).toBe(false);
    expect(matchesDesired({ a: null }, {})).toBe(true);
    expect(matchesDesired({ $ref: 'x' }, { $ref: 'x' })).toBe(false);
  });
});

describe('the spec', () => {
  const { cards, dashboards } = metabaseSpec;
  const dashboard = dashboards[0]!;

  it('has unique keys, found again from the descriptions we write', () => {
    const keys = cards.map((card) => card.key);
    expect(new Set([...keys, ...dashboards.map((one) => one.key)]).size).toBe(
      keys.length + dashboards.length,
    );
    for (const key of [...keys, ...dashboards.map((one) => one.key)])
      expect(readKey(describeWithKey('Some text (with brackets).', key))).toBe(key);
    expect(readKey('A card someone made')).toBeUndefined();
  });

  it('places every card once, inside the 24-column grid, with no overlaps', () => {
    const placed = dashboards.flatMap((one) =>
      one.dashcards.flatMap((d) => ('card' in d ? [d.card] : [])),
    );
    expect(placed.sort()).toEqual(cards.map((card) => card.key).sort());
    for (const one of dashboards) {
      const cells = new Set<string>();
      for (const d of one.dashcards) {
        expect(d.col + d.sizeX).toBeLessThanOrEqual(24);
        for (let row = d.row; row < d.row + d.sizeY; row += 1)
          for (let col = d.col; col < d.col + d.sizeX; col += 1) {
            expect(cells.has(`${row},${col}`), `${one.key} ${row},${col}`).toBe(false);
            cells.add(`${row},${col}`);
          }
      }
    }
  });

  it("has the original dashboard's six cards under its two headings", () => {
    const headings = dashboard.dashcards.flatMap((d) => ('heading' in d ? [d] : []));
    expect(headings.slice(0, 2).map((h) => h.heading)).toEqual(['Past 30 days', 'Historical']);
    const under = (row: number) =>
      dashboard.dashcards.flatMap((d) => ('card' in d && d.row === row + 1 ? [d.card] : []));
    expect(under(headings[0]!.row)).toEqual([
      'past-30-days-by-day',
      'past-30-days-by-type',
      'past-30-days-by-hour',
    ]);
    expect(under(headings[1]!.row)).toEqual([
      'history-by-month',
      'history-by-type',
      'history-by-hour',
    ]);
  });

  it('uses the date tag exactly where a date column is named, on that view unaliased', () => {
    for (const card of cards) {
      expect(card.sql.includes(`{{${dateTagName}}}`), card.key).toBe(card.dateFilter !== undefined);
      if (card.dateFilter) {
        const { schema, table } = card.dateFilter;
        expect(card.sql, card.key).toMatch(
          new RegExp(`from ${schema}\\.${table}\\s+where \\{\\{${dateTagName}\\}\\}`),
        );
      }
    }
  });
});

describe('assertSupportedVersion', () => {
  it('accepts 0.50 and later, open source or enterprise, and refuses older', () => {
    for (const tag of ['v0.50.0', 'v0.52.3', 'v1.50.1', undefined])
      expect(() => assertSupportedVersion(tag)).not.toThrow();
    expect(() => assertSupportedVersion('v0.49.9')).toThrow(/0\.50 or newer/);
  });
});
