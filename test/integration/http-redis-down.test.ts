import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOrchestrator, type Orchestrator } from '../../src/queue/orchestrator.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { adminJson, startTestApp, type TestApp } from '../support/http-app.js';
import { waitFor } from '../support/queue.js';
import { startPrivateRedis, type PrivateRedis } from '../support/redis-server.js';

/** Redis taken away under a running app, and brought back: a redis-server of this test's own. */
describe('the app while Redis is down', () => {
  let redis: PrivateRedis;
  let database: TestDatabase;
  let orchestrator: Orchestrator;
  let app: TestApp;

  const backfill = (from: string, to: string) =>
    fetch(`${app.url}/api/backfills`, {
      method: 'POST',
      headers: adminJson(),
      body: JSON.stringify({ from, to }),
    });
  const readiness = async () => {
    const response = await fetch(`${app.url}/readyz`);
    return {
      status: response.status,
      body: (await response.json()) as { ready: boolean; postgres: string; redis: string },
    };
  };
  const runCount = async () =>
    (
      await database.pool.query<{ count: number }>(
        'select count(*)::int as count from pipeline_runs',
      )
    ).rows[0]!.count;

  beforeAll(async () => {
    redis = await startPrivateRedis();
    database = await createTestDatabase();
    orchestrator = createOrchestrator({
      pool: database.pool,
      redisUrl: redis.url,
      prefix: '{cpdtest}',
      datasetId: '3gki-wyrb',
    });
    app = await startTestApp(database, orchestrator, { redisUrl: redis.url });
  });
  afterAll(async () => {
    await app?.close();
    await orchestrator?.close();
    await redis?.close();
    await database?.drop();
  });

  it('works while Redis is up', async () => {
    expect((await backfill('2025-01-01', '2025-02-01')).status).toBe(202);
    expect(await readiness()).toEqual({
      status: 200,
      body: { ready: true, postgres: 'ok', redis: 'ok' },
    });
  });

  it('answers writes with 503 within a second, and /readyz names Redis, once it stops', async () => {
    await redis.stop();
    const before = await runCount();

    const started = performance.now();
    const response = await backfill('2025-02-01', '2025-03-01');
    const elapsedMs = performance.now() - started;
    expect(response.status).toBe(503);
    expect(elapsedMs).toBeLessThan(1_000);
    const { error } = (await response.json()) as { error: { code: string; message: string } };
    expect(error.code).toBe('redis.unavailable');
    expect(error.message).toMatch(/Redis.*cannot be reached.*nothing was enqueued/);
    expect(error.message).not.toMatch(/redis:\/\/|127\.0\.0\.1/);
    expect(response.headers.get('retry-after')).toBe('5');

    const syncStarted = performance.now();
    expect(
      (await fetch(`${app.url}/api/syncs`, { method: 'POST', headers: adminJson() })).status,
    ).toBe(503);
    expect(performance.now() - syncStarted).toBeLessThan(1_000);

    const ready = await readiness();
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({
      ready: false,
      postgres: 'ok',
      redis: expect.stringMatching(/^down: /) as string,
    });

    // The process is up, reads from PostgreSQL work, and nothing was recorded for the refused writes.
    expect((await fetch(`${app.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${app.url}/api/runs`)).status).toBe(200);
    expect(await runCount()).toBe(before);
    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    expect(metrics).toMatch(/^cpd_dependency_up\{dependency="redis"\} 0$/m);
  });

  it('recovers, without a restart, when Redis comes back on the same port', async () => {
    await redis.start();
    await waitFor(
      async () => (await readiness()).status === 200,
      30_000,
      '/readyz to report ready',
    );
    expect((await readiness()).body).toEqual({ ready: true, postgres: 'ok', redis: 'ok' });
    let status = 0;
    await waitFor(
      async () => (status = (await backfill('2025-02-01', '2025-03-01')).status) !== 503,
      30_000,
      'writes to be taken again',
    );
    // The first write after the outage creates the run: nothing was recorded while Redis was away.
    expect(status).toBe(202);
  });
});
