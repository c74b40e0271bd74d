import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isUserError } from '../../src/errors.js';
import { MetabaseClient } from '../../src/metabase/client.js';
import { buildDatabaseSpec } from '../../src/metabase/plan.js';
import { provisionMetabase, type ProvisionReport } from '../../src/metabase/provision.js';
import { dateTagName, metabaseSpec, readKey, type MetabaseSpec } from '../../src/metabase/spec.js';
import { runCli } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startFakeMetabase, type FakeMetabase } from '../support/fake-metabase/server.js';

const admin = { email: 'admin@example.org', password: 'Provision-test-2024', siteName: 'CPD test' };

function provision(
  fake: { url: string },
  databaseUrl: string,
  options: { spec?: MetabaseSpec; password?: string; waitMs?: number } = {},
): Promise<ProvisionReport> {
  return provisionMetabase({
    client: new MetabaseClient({ baseUrl: fake.url, waitMs: options.waitMs ?? 5_000 }),
    spec: options.spec ?? metabaseSpec,
    database: buildDatabaseSpec(databaseUrl, metabaseSpec.databaseName),
    admin: { ...admin, password: options.password ?? admin.password },
    syncWaitMs: 5_000,
    pollMs: 20,
  });
}

async function failureOf(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    if (isUserError(error)) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('expected a failure');
}

/** A TCP port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('cpd metabase provision against the fake Metabase', () => {
  let database: TestDatabase;
  const fakes: FakeMetabase[] = [];
  const startFake = async (options?: Parameters<typeof startFakeMetabase>[0]) => {
    const fake = await startFakeMetabase(options);
    fakes.push(fake);
    return fake;
  };

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await Promise.all(fakes.map((fake) => fake.close()));
    await database?.drop();
  });

  it('sets up a fresh Metabase and creates exactly the spec; a second run writes nothing', async () => {
    const fake = await startFake();
    const first = await provision(fake, database.url);
    expect(first.session).toBe('setup');
    expect(first.objects.every((object) => object.outcome === 'created')).toBe(true);

    // The setup token is spent: Metabase now wants a login.
    const properties = (await (await fetch(`${fake.url}/api/session/properties`)).json()) as {
      'setup-token': unknown;
      'has-user-setup': boolean;
    };
    expect(properties).toMatchObject({ 'setup-token': null, 'has-user-setup': true });

    const ours = fake.databases().filter((d) => d.name === metabaseSpec.databaseName);
    expect(ours).toHaveLength(1);
    expect(ours[0]!.details).toMatchObject({
      host: '127.0.0.1',
      port: 5432,
      dbname: database.name,
    });

    const collections = fake.collections().filter((c) => c.personal_owner_id === null);
    expect(collections.map((c) => c.name)).toEqual([metabaseSpec.collection.name]);
    const collectionId = collections[0]!.id;

    const cards = fake.cards();
    expect(cards.map((card) => readKey(card.description)).sort()).toEqual(
      metabaseSpec.cards.map((card) => card.key).sort(),
    );
    for (const spec of metabaseSpec.cards) {
      const card = cards.find((candidate) => readKey(candidate.description) === spec.key)!;
      expect(card).toMatchObject({
        name: spec.name,
        display: spec.display,
        collection_id: collectionId,
      });
      expect(card.dataset_query).toMatchObject({
        type: 'native',
        database: ours[0]!.id,
        native: { query: spec.sql },
      });
      const tags = (card.dataset_query.native as { 'template-tags': Record<string, unknown> })[
        'template-tags'
      ];
      if (spec.dateFilter) {
        const { schema, table, column } = spec.dateFilter;
        const fieldId = fake.fieldId(schema, table, column);
        expect(fieldId).toBeTypeOf('number');
        expect(tags[dateTagName]).toMatchObject({
          type: 'dimension',
          dimension: ['field', fieldId, null],
          'widget-type': 'date/all-options',
        });
      } else {
        expect(tags).toEqual({});
      }
    }

    // Both dashboards, Police Log and Crime Reports, in the one collection.
    const dashboards = fake.dashboards();
    expect(dashboards.map((one) => one.name)).toEqual([
      'CPD Incident Trends',
      'Cambridge Crime Reports',
    ]);
    for (const [index, dashboardSpec] of metabaseSpec.dashboards.entries()) {
      const dashboard = dashboards[index]!;
      expect(dashboard).toMatchObject({ name: dashboardSpec.name, collection_id: collectionId });
      expect(dashboard.parameters).toEqual([dashboardSpec.dateParameter]);
      expect(dashboard.dashcards).toHaveLength(dashboardSpec.dashcards.length);
      for (const spec of dashboardSpec.dashcards) {
        const dashcard = dashboard.dashcards.find((d) => d.row === spec.row && d.col === spec.col)!;
        expect(dashcard).toMatchObject({ size_x: spec.sizeX, size_y: spec.sizeY });
        if ('heading' in spec) {
          expect(dashcard.card_id).toBeNull();
          expect(dashcard.visualization_settings).toMatchObject({
            text: spec.heading,
            virtual_card: { display: 'heading' },
          });
          continue;
        }
        const card = cards.find((candidate) => candidate.id === dashcard.card_id)!;
        expect(readKey(card.description)).toBe(spec.card);
        const wired = metabaseSpec.cards.find((c) => c.key === spec.card)!.dateFilter !== undefined;
        expect(dashcard.parameter_mappings).toEqual(
          wired
            ? [
                {
                  parameter_id: dashboardSpec.dateParameter.id,
                  card_id: card.id,
                  target: ['dimension', ['template-tag', dateTagName]],
                },
              ]
            : [],
        );
      }
    }
    const dashboard = dashboards[0]!;
    expect(first.dashboards).toEqual(
      dashboards.map((one, index) => ({
        key: metabaseSpec.dashboards[index]!.key,
        name: one.name,
        id: one.id,
      })),
    );
    expect(first.dashboardId).toBe(dashboard.id);

    // Second run: logs in, reads, and changes nothing.
    const before = fake.requests.length;
    const second = await provision(fake, database.url);
    expect(second.session).toBe('login');
    expect(second.objects.every((object) => object.outcome === 'unchanged')).toBe(true);
    expect(second.objects).toHaveLength(first.objects.length);
    const secondRequests = fake.requests.slice(before);
    expect(secondRequests.filter((r) => r.method !== 'GET')).toEqual([
      expect.objectContaining({ method: 'POST', path: '/api/session', status: 200 }),
    ]);
  });

  it.each([
    ['0.50', 'v0.50.20'],
    ['0.57', 'v0.57.3'],
  ])(
    'on Metabase %s, with a database that takes TLS, a second run changes nothing',
    async (_, version) => {
      const fake = await startFake({ version, databaseAcceptsTls: true });
      const first = await provision(fake, database.url);
      expect(first.objects.every((object) => object.outcome === 'created')).toBe(true);
      // Metabase chose TLS itself, as the real one does when the database takes it.
      const ours = fake.databases().find((d) => d.name === metabaseSpec.databaseName)!;
      expect(ours.details.ssl).toBe(true);

      const before = fake.requests.length;
      const second = await provision(fake, database.url);
      expect(second.objects.filter((object) => object.outcome !== 'unchanged')).toEqual([]);
      expect(
        fake.requests
          .slice(before)
          .filter((r) => r.method !== 'GET')
          .map((r) => `${r.method} ${r.path}`),
      ).toEqual(['POST /api/session']);
      // Cards were read as the legacy query we write, whatever the version answers by default.
      const cardReads = fake.requests.slice(before).filter((r) => r.path.startsWith('/api/card/'));
      expect(cardReads.length).toBe(metabaseSpec.cards.length);
      for (const read of cardReads) expect(read.path).toMatch(/\?legacy-mbql=true$/);
    },
  );

  it('on Metabase 0.57, answers card reads as MBQL 5 unless asked for the legacy form', async () => {
    const fake = await startFake({ version: 'v0.57.3' });
    await provision(fake, database.url);
    const client = new MetabaseClient({ baseUrl: fake.url, waitMs: 1_000 });
    await client.login(admin.email, admin.password);
    const card = fake.cards()[0]!;
    const mbql5 = await client.request<{ dataset_query: Record<string, unknown> }>(
      'GET',
      `/api/card/${card.id}`,
    );
    expect(mbql5.dataset_query).toMatchObject({ 'lib/type': 'mbql/query', stages: [{}] });
    const legacy = await client.getCard(card.id);
    expect(legacy.dataset_query).toMatchObject({
      type: 'native',
      native: { query: expect.any(String) as string },
    });
  });

  it("stops at the configuration when the admin password breaks Metabase's rule, before any request", async () => {
    const fake = await startFake();
    const result = await runCli(['metabase', 'provision'], {
      METABASE_URL: fake.url,
      METABASE_ADMIN_EMAIL: admin.email,
      METABASE_ADMIN_PASSWORD: 'no-digits-in-here',
      DATABASE_URL: database.url,
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /METABASE_ADMIN_PASSWORD: expected at least 8 characters with a letter and a digit/,
    );
    expect(result.stderr).not.toContain('no-digits-in-here');
    expect(fake.requests).toEqual([]);
    // The fake holds Metabase to the same rule.
    const refused = await failureOf(
      provision(fake, database.url, { password: 'no-digits-in-here' }),
    );
    expect(refused.code).toBe('metabase.setup');
  });

  it('updates a card whose SQL or title changed in place, and nothing else', async () => {
    const fake = await startFake();
    await provision(fake, database.url);
    const idsBefore = new Map(fake.cards().map((card) => [readKey(card.description), card.id]));
    const dashcardsBefore = structuredClone(fake.dashboards()[0]!.dashcards);

    const edited: MetabaseSpec = {
      ...metabaseSpec,
      cards: metabaseSpec.cards.map((card) => {
        if (card.key === 'history-by-hour')
          return { ...card, sql: card.sql.replace('order by h.hour', 'order by h.hour asc') };
        if (card.key === 'top-locations') return { ...card, name: 'Busiest locations' };
        return card;
      }),
    };
    const before = fake.requests.length;
    const report = await provision(fake, database.url, { spec: edited });

    const writes = fake.requests.slice(before).filter((r) => r.method !== 'GET');
    expect(writes.map((r) => `${r.method} ${r.path} ${r.status}`).sort()).toEqual(
      [
        'POST /api/session 200',
        `PUT /api/card/${idsBefore.get('history-by-hour')} 200`,
        `PUT /api/card/${idsBefore.get('top-locations')} 200`,
      ].sort(),
    );
    expect(
      report.objects
        .filter((o) => o.outcome === 'updated')
        .map((o) => o.key)
        .sort(),
    ).toEqual(['history-by-hour', 'top-locations']);
    const after = new Map(fake.cards().map((card) => [readKey(card.description), card]));
    expect(after.size).toBe(idsBefore.size);
    expect(after.get('top-locations')).toMatchObject({
      id: idsBefore.get('top-locations'),
      name: 'Busiest locations',
    });
    expect(
      (after.get('history-by-hour')!.dataset_query.native as { query: string }).query,
    ).toContain('order by h.hour asc');
    expect(fake.dashboards()[0]!.dashcards).toEqual(dashcardsBefore);
  });

  it('puts back a dashboard someone rearranged, keeping its dashcards', async () => {
    const fake = await startFake();
    await provision(fake, database.url);
    const dashboard = fake.dashboards()[0]!;
    const idsBefore = dashboard.dashcards.map((d) => d.id).sort();
    dashboard.dashcards[1]!.row = 60;
    dashboard.dashcards.pop();

    const report = await provision(fake, database.url);
    expect(report.objects.find((o) => o.kind === 'dashboard')?.outcome).toBe('updated');
    const repaired = fake.dashboards()[0]!;
    expect(repaired.dashcards).toHaveLength(metabaseSpec.dashboards[0]!.dashcards.length);
    expect(repaired.dashcards[1]!.row).toBe(metabaseSpec.dashboards[0]!.dashcards[1]!.row);
    // All but the removed one kept their ids; the removed one came back under a new id.
    const kept = repaired.dashcards.filter((d) => idsBefore.includes(d.id));
    expect(kept).toHaveLength(idsBefore.length - 1);

    const again = await provision(fake, database.url);
    expect(again.objects.every((o) => o.outcome === 'unchanged')).toBe(true);
  });

  it('waits while Metabase is still starting', async () => {
    const fake = await startFake({ bootingRequests: 3 });
    const report = await provision(fake, database.url);
    expect(report.session).toBe('setup');
    expect(fake.requests.slice(0, 3).map((r) => r.status)).toEqual([503, 503, 503]);
  });

  it('says so when the admin credentials are wrong', async () => {
    const fake = await startFake({ admin: { email: admin.email, password: 'Another-password-1' } });
    const failure = await failureOf(provision(fake, database.url));
    expect(failure.code).toBe('metabase.login');
    expect(failure.message).toMatch(/METABASE_ADMIN_PASSWORD/);
    expect(fake.writes()).toEqual([]);
  });

  it('says so when Metabase cannot connect to the database', async () => {
    const fake = await startFake();
    const port = await closedPort();
    const failure = await failureOf(provision(fake, `postgres://root@127.0.0.1:${port}/nowhere`));
    expect(failure.code).toBe('metabase.database');
    expect(failure.message).toContain(`127.0.0.1:${port}/nowhere`);
    expect(failure.message).toMatch(/METABASE_DATABASE_URL/);
  });

  it('says so when the database lacks the analytics views', async () => {
    const bare = await createTestDatabase({ migrate: false });
    try {
      const fake = await startFake();
      const failure = await failureOf(
        provisionMetabase({
          client: new MetabaseClient({ baseUrl: fake.url, waitMs: 5_000 }),
          spec: metabaseSpec,
          database: buildDatabaseSpec(bare.url, metabaseSpec.databaseName),
          admin,
          syncWaitMs: 300,
          pollMs: 20,
        }),
      );
      expect(failure.code).toBe('metabase.views');
      expect(failure.message).toMatch(/analytics\.daily_counts/);
      expect(failure.message).toMatch(/cpd migrate/);
    } finally {
      await bare.drop();
    }
  });

  it('says so when Metabase cannot be reached at all', async () => {
    const port = await closedPort();
    const failure = await failureOf(
      provision({ url: `http://127.0.0.1:${port}` }, database.url, { waitMs: 300 }),
    );
    expect(failure.code).toBe('metabase.unreachable');
    expect(failure.message).toMatch(/METABASE_URL/);
  });

  it('runs as the cpd command: prints what it did and a link, then nothing to do', async () => {
    const fake = await startFake();
    const env = {
      METABASE_URL: fake.url,
      METABASE_PUBLIC_URL: 'http://metabase.example.org:3001/',
      METABASE_ADMIN_EMAIL: admin.email,
      METABASE_ADMIN_PASSWORD: admin.password,
      DATABASE_URL: database.url,
      LOG_LEVEL: 'warn',
    };
    const first = await runCli(['metabase', 'provision'], env);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^Metabase was fresh: set it up with admin admin@example\.org\./);
    expect(first.stdout).toMatch(/^created\s+card\s+"CPD Incident Count by Day" \(id \d+\)$/m);
    const cardCount = metabaseSpec.cards.length;
    expect(first.stdout).toContain(`${cardCount + 4} created, 0 updated, 0 unchanged.`);
    const [police, crime] = fake.dashboards();
    expect(first.stdout).toContain(
      `Dashboard: http://metabase.example.org:3001/dashboard/${police!.id} (CPD Incident Trends)`,
    );
    expect(first.stdout).toContain(
      `Dashboard: http://metabase.example.org:3001/dashboard/${crime!.id} (Cambridge Crime Reports)`,
    );

    const second = await runCli(['metabase', 'provision'], env);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/^Logged in to Metabase as admin@example\.org\./);
    expect(second.stdout).toContain(`0 created, 0 updated, ${cardCount + 4} unchanged.`);
  });

  it('as the cpd command, says what to set when METABASE_URL is unset', async () => {
    const result = await runCli(['metabase', 'provision'], { DATABASE_URL: database.url });
    expect(result.code).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/METABASE_URL.*METABASE_ADMIN_EMAIL.*METABASE_ADMIN_PASSWORD/);
  });
});
