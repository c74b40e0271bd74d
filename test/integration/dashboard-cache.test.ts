import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDashboardAnswers } from '../../src/dashboard/answers.js';
import { crimeReportsPage } from '../../src/dashboard/pages/crime-reports.js';
import { refreshAnalytics } from '../../src/db/refresh-analytics.js';
import { buildAnalyticsFixture } from '../support/analytics-fixture.js';
import { generateCrimeReports, insertCrimeReports } from '../support/crime-report-fixtures.js';
import { startDashboardServer, type DashboardServer } from '../support/dashboard-server.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { buildIncident, insertIncidents } from '../support/incident-fixtures.js';

/**
 * The public dashboard cannot starve the pipeline (issue 17): a flood of distinct filters costs
 * one query set per filter and data version at most, repeats cost nothing, the store stays
 * bounded, and one client's flood is cut off by the rate limit. Queries are counted by a wrapper
 * around the real pool's query function; every query still runs on PostgreSQL.
 */

interface CountingPool {
  query: pg.Pool['query'];
  count: number;
}

function countQueries(pool: pg.Pool): CountingPool {
  const counting = {
    count: 0,
    query: ((...args: Parameters<pg.Pool['query']>) => {
      counting.count += 1;
      return (pool.query as (...a: unknown[]) => unknown)(...args);
    }) as pg.Pool['query'],
  };
  return counting;
}

/** GETs every address, a few at a time, expecting 200 from each. */
async function getAll(urls: string[], parallel = 16): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < urls.length) {
      const url = urls[next++]!;
      const response = await fetch(url);
      expect(response.status, url).toBe(200);
      await response.arrayBuffer();
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}

describe('dashboard answers under a flood', () => {
  let database: TestDatabase;
  let server: DashboardServer;
  let counting: CountingPool;
  let now = 0;
  const answers = () => createDashboardAnswers(counting, { maxEntries: 2_000, clock: () => now });
  let store: ReturnType<typeof answers>;

  beforeAll(async () => {
    database = await createTestDatabase();
    await insertIncidents(database.pool, buildAnalyticsFixture());
    await refreshAnalytics(database.pool);
    await insertCrimeReports(database.pool, generateCrimeReports({ seed: 9, rows: 2_000 }));
    counting = countQueries(database.pool);
    store = answers();
    server = await startDashboardServer(database.pool, undefined, {
      answers: store,
      requestsPerMinute: 100_000,
    });
  });
  afterAll(async () => {
    await server?.close();
    await database?.drop();
  });

  it('runs one query set per distinct type and data version, and none for a repeat', async () => {
    // One filter's query set, and the reads every answer shares (data version, runs, last sync).
    const before = counting.count;
    await getAll([`${server.url}/dashboard/data?type=FIRST`]);
    const shared = 1 + 2;
    const querySet = counting.count - before - shared;
    expect(querySet).toBeGreaterThanOrEqual(10);

    const types = Array.from({ length: 500 }, (_, i) => `FLOOD-${i}`);
    const flood = counting.count;
    await getAll(types.map((type) => `${server.url}/dashboard/data?type=${type}`));
    expect(counting.count - flood).toBe(500 * querySet);

    // The same 500 again, and the pages of some: all from the store.
    const repeat = counting.count;
    await getAll(types.map((type) => `${server.url}/dashboard/data?type=${type}`));
    await getAll(
      types.slice(0, 20).map((type) => `${server.url}/?type=${type}`),
      4,
    );
    expect(counting.count - repeat).toBe(0);
  });

  it('answers concurrent requests for one new filter with one query set', async () => {
    const before = counting.count;
    await getAll(
      Array.from({ length: 40 }, () => `${server.url}/dashboard/data?type=TOGETHER`),
      40,
    );
    const { rows } = await database.pool.query('select 1'); // not counted: the real pool
    expect(rows).toHaveLength(1);
    expect(counting.count - before).toBeLessThanOrEqual(16);
    expect(counting.count - before).toBeGreaterThan(0);
  });

  it('computes again once a load changes the data, and only then', async () => {
    const read = async () => {
      const response = await fetch(`${server.url}/dashboard/data?type=TRAFFIC`);
      return ((await response.json()) as { totals: { allHistory: number } }).totals.allHistory;
    };
    const first = await read();
    now += 2_000; // the data version is read again, and has not moved
    const unchanged = counting.count;
    expect(await read()).toBe(first);
    expect(counting.count - unchanged).toBe(1);

    await insertIncidents(database.pool, [
      buildIncident({ id: 99_000_001, local: '2025-11-01T10:00', type: 'TRAFFIC' }),
    ]);
    await refreshAnalytics(database.pool);
    now += 2_000;
    expect(await read()).toBe(first + 1);
  });

  it('follows the Crime Reports table too, deletions included', async () => {
    const total = async () => (await store.data(crimeReportsPage, {})).totals.allHistory;
    const first = await total();
    await database.pool.query(
      `update crime_reports set deleted_at = now()
        where file_number = (select min(file_number) from crime_reports where deleted_at is null)`,
    );
    expect(await total()).toBe(first); // the version is believed for a second
    now += 2_000;
    expect(await total()).toBe(first - 1);
  });

  it('keeps at most the entries and bytes it is allowed', async () => {
    const small = createDashboardAnswers(database.pool, { maxEntries: 25, maxBytes: 200_000 });
    for (let i = 0; i < 60; i += 1) await small.data(crimeReportsPage, { type: `X-${i}` });
    const { entries, bytes } = small.size();
    expect(entries).toBeLessThanOrEqual(25);
    expect(entries).toBeGreaterThan(0);
    expect(bytes).toBeLessThanOrEqual(200_000);
  });
});

describe('the dashboard rate limit', () => {
  let database: TestDatabase;
  let server: DashboardServer;

  beforeAll(async () => {
    database = await createTestDatabase();
    server = await startDashboardServer(database.pool, undefined, {
      requestsPerMinute: 5,
      adminToken: 'an-admin-token-1',
    });
  });
  afterAll(async () => {
    await server?.close();
    await database?.drop();
  });

  it('answers an anonymous client past its budget with 429 and Retry-After, not the admin', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      const response = await fetch(`${server.url}/dashboard/data?type=T${i}`);
      statuses.push(response.status);
      await response.arrayBuffer();
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200]);
    const limited = await fetch(`${server.url}/datasets/crime-reports/data`);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('60');
    expect(((await limited.json()) as { message: string }).message).toMatch(/wait a minute/);
    const page = await fetch(`${server.url}/`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(429);
    expect(await page.text()).toMatch(/at most 5 a minute/);

    const admin = await fetch(`${server.url}/`, {
      headers: { authorization: 'Bearer an-admin-token-1' },
    });
    expect(admin.status).toBe(200);
    // Assets are not counted.
    const asset = await fetch(`${server.url}/dashboard/assets/dashboard.css`);
    expect(asset.status).toBe(200);
  });
});
