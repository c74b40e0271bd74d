import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MetabaseClient, type MbDashboard } from '../../src/metabase/client.js';
import { buildDatabaseSpec } from '../../src/metabase/plan.js';
import { provisionMetabase, type ProvisionInput } from '../../src/metabase/provision.js';
import { metabaseSpec } from '../../src/metabase/spec.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { buildIncident, insertIncidents } from '../support/incident-fixtures.js';
import { refreshAnalytics } from '../../src/db/refresh-analytics.js';

/**
 * Provisioning against a real Metabase (0.50+), when METABASE_URL names one, with
 * METABASE_ADMIN_EMAIL and METABASE_ADMIN_PASSWORD (the admin it was set up with, or the one to
 * create on a fresh instance). Metabase must reach the test database: set METABASE_DATABASE_URL
 * to how it does (with `{database}` where the test database's name goes) when that differs from
 * postgres://root@127.0.0.1:5432/{database}. E.g. `docker compose up -d metabase`, then
 * METABASE_URL=http://localhost:3001 ... npx vitest run test/integration/metabase-real.test.ts
 */

const url = process.env.METABASE_URL;
if (!url)
  process.stdout.write(
    'metabase-real: skipped: set METABASE_URL (and METABASE_ADMIN_EMAIL, METABASE_ADMIN_PASSWORD) to provision a real Metabase\n',
  );

describe.runIf(url)('cpd metabase provision against a real Metabase', () => {
  let database: TestDatabase;
  let input: ProvisionInput;
  let client: MetabaseClient;

  beforeAll(async () => {
    database = await createTestDatabase();
    await insertIncidents(database.pool, [
      buildIncident({ id: 1, local: '2024-03-09T10:00', type: 'INCIDENT' }),
      buildIncident({ id: 2, local: '2024-03-10T02:30', type: 'ARREST' }),
    ]);
    await refreshAnalytics(database.pool);
    const template =
      process.env.METABASE_DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/{database}';
    client = new MetabaseClient({ baseUrl: url!, waitMs: 300_000 });
    input = {
      client,
      // A collection and card names of its own: on a shared Metabase, the live collection, its
      // cards and dashboard are found by name and key, and must not be repointed at this test's
      // database. Dashboards are looked for inside the collection, so they follow it.
      spec: {
        ...metabaseSpec,
        collection: {
          ...metabaseSpec.collection,
          name: `${metabaseSpec.collection.name} (test ${database.name})`,
        },
        cards: metabaseSpec.cards.map((card) => ({ ...card, name: `${card.name} (test)` })),
      },
      // A database entry of its own, so a shared Metabase's real one is left alone.
      database: buildDatabaseSpec(
        template.replace('{database}', database.name),
        `${metabaseSpec.databaseName} (${database.name})`,
      ),
      admin: {
        email: process.env.METABASE_ADMIN_EMAIL ?? 'admin@example.org',
        password: process.env.METABASE_ADMIN_PASSWORD ?? 'Provision-test-2024',
        siteName: 'CPD test',
      },
      syncWaitMs: 300_000,
    };
  }, 600_000);
  afterAll(async () => {
    await database?.drop();
  });

  it('provisions, then finds nothing to change; every card runs', async () => {
    const first = await provisionMetabase(input);
    expect(first.objects.find((o) => o.kind === 'dashboard')).toBeDefined();

    const second = await provisionMetabase(input);
    expect(second.objects.filter((o) => o.outcome !== 'unchanged')).toEqual([]);
    expect(second.dashboardId).toBe(first.dashboardId);

    const dashboard = await client.request<MbDashboard>(
      'GET',
      `/api/dashboard/${second.dashboardId}`,
    );
    expect(dashboard.dashcards).toHaveLength(metabaseSpec.dashboards[0]!.dashcards.length);
    for (const object of second.objects.filter((o) => o.kind === 'card')) {
      const result = await client.request<{ status: string; error?: string }>(
        'POST',
        `/api/card/${object.id}/query`,
        {},
      );
      expect(result.error ?? result.status, object.key).toBe('completed');
    }
  }, 900_000);
});
