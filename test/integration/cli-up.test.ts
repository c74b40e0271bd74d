import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli, type CliProcess } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startFakeSoda, type FakeSoda } from '../support/fake-soda/index.js';
import { adminJson, findFreePort, testAdminToken } from '../support/http-app.js';
import { generatePoliceLog } from '../support/police-log-generator.js';
import { createTestPrefix, deletePrefix, testRedisUrl, waitFor } from '../support/queue.js';

describe('cpd up', () => {
  let fake: FakeSoda;
  let database: TestDatabase;
  let prefix: string;
  let up: CliProcess | undefined;
  const rows = [...generatePoliceLog({ seed: 81, rows: 2_000 })];

  beforeAll(async () => {
    fake = await startFakeSoda({ rows });
    database = await createTestDatabase({ migrate: false });
    prefix = createTestPrefix();
  });
  afterAll(async () => {
    up?.child.kill('SIGKILL');
    await fake?.close();
    await deletePrefix(prefix);
    await database?.drop();
  });

  it(
    'migrates, serves /healthz, runs a backfill enqueued through its API, and exits 0 on SIGTERM',
    { timeout: 120_000 },
    async () => {
      const port = await findFreePort();
      up = startCli(['up'], {
        DATABASE_URL: database.url,
        REDIS_URL: testRedisUrl,
        QUEUE_PREFIX: prefix,
        SOCRATA_BASE_URL: fake.url,
        SOCRATA_RETRY_BASE_MS: '10',
        STEP_BACKOFF_SCALE: '0.001',
        ADMIN_TOKEN: testAdminToken,
        PORT: String(port),
        LOG_LEVEL: 'info',
      });
      await up.waitForOutput(/listening on http:\/\/127\.0\.0\.1:\d+/, 60_000);
      const url = `http://127.0.0.1:${port}`;
      expect(up.stderr()).not.toContain(testAdminToken);

      const health = await fetch(`${url}/healthz`);
      expect(health.status).toBe(200);
      expect(await fetch(`${url}/readyz`).then((response) => response.json())).toEqual({
        ready: true,
        postgres: 'ok',
        redis: 'ok',
      });

      const response = await fetch(`${url}/api/backfills`, {
        method: 'POST',
        headers: adminJson(),
        body: JSON.stringify({ from: '2025-01-01', to: '2025-04-01' }),
      });
      expect(response.status).toBe(202);
      const { runId } = (await response.json()) as { runId: number };
      let state = '';
      await waitFor(
        async () => {
          ({ state } = (await fetch(`${url}/api/runs/${runId}`).then((answer) =>
            answer.json(),
          )) as { state: string });
          return ['completed', 'failed', 'crashed'].includes(state);
        },
        60_000,
        'the run to end',
      );
      expect(state, up.stderr()).toBe('completed');
      const { rows: loaded } = await database.pool.query<{ count: number }>(
        'select count(*)::int as count from incidents',
      );
      expect(loaded[0]!.count).toBe(
        new Set(
          rows
            .filter((row) => row.date_time! >= '2025-01-01' && row.date_time! < '2025-04-01')
            .map((row) => row.id),
        ).size,
      );

      up.child.kill('SIGTERM');
      const exit = await up.exited;
      expect(exit.code, up.stderr()).toBe(0);
      expect(up.stderr()).toMatch(/"msg":"stopped"/);
      await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    },
  );

  it(
    "serves the HTTP side from a small pool of its own, so a dashboard flood takes none of the workers' connections",
    { timeout: 120_000 },
    async () => {
      const port = await findFreePort();
      const server = startCli(['up'], {
        DATABASE_URL: database.url,
        REDIS_URL: testRedisUrl,
        QUEUE_PREFIX: `${prefix}-pool`,
        SOCRATA_BASE_URL: fake.url,
        ADMIN_TOKEN: testAdminToken,
        HTTP_DB_POOL_SIZE: '2',
        SYNC_CRON: '0 0 1 1 *',
        PORT: String(port),
        LOG_LEVEL: 'info',
      });
      try {
        await server.waitForOutput(/listening on http:/, 60_000);
        const url = `http://127.0.0.1:${port}`;
        const connections = async () => {
          const { rows } = await database.pool.query<{ name: string; count: number }>(
            `select application_name as name, count(*)::int as count from pg_stat_activity
              where datname = current_database() and application_name like 'cpd%'
              group by application_name`,
          );
          return Object.fromEntries(rows.map((row) => [row.name, row.count]));
        };
        const before = await connections();
        // Each answer runs a set of queries at once; a hundred of them at the same moment.
        const answers = await Promise.all(
          Array.from({ length: 100 }, (_, index) =>
            fetch(`${url}/dashboard/data?type=T${index}`).then((answer) => answer.status),
          ),
        );
        expect(answers.filter((status) => status === 200).length).toBeGreaterThan(0);
        const after = await connections();
        expect(after['cpd http'], JSON.stringify(after)).toBeGreaterThanOrEqual(1);
        expect(after['cpd http']).toBeLessThanOrEqual(2);
        // The workers' pool (migrations, the queue side) did not grow for the dashboard's sake.
        expect(after.cpd ?? 0, JSON.stringify({ before, after })).toBeLessThanOrEqual(
          before.cpd ?? 0,
        );
        server.child.kill('SIGTERM');
        expect((await server.exited).code, server.stderr()).toBe(0);
      } finally {
        server.child.kill('SIGKILL');
        await deletePrefix(`${prefix}-pool`);
      }
    },
  );

  it('refuses to listen beyond loopback without ADMIN_TOKEN, saying to set it', async () => {
    for (const command of ['server', 'up']) {
      const result = await runCli([command], {
        DATABASE_URL: database.url,
        REDIS_URL: testRedisUrl,
        QUEUE_PREFIX: prefix,
        HOST: '0.0.0.0',
        PORT: String(await findFreePort()),
      });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(
        new RegExp(`^cpd ${command}: HOST=0\\.0\\.0\\.0 would let anyone .* set ADMIN_TOKEN`, 'm'),
      );
    }
  });

  it('says at start when it listens on loopback without a token', async () => {
    const server = startCli(['server'], {
      DATABASE_URL: database.url,
      REDIS_URL: testRedisUrl,
      QUEUE_PREFIX: prefix,
      PORT: String(await findFreePort()),
    });
    try {
      await server.waitForOutput(/listening on http:/, 60_000);
      await server.waitForOutput(/no ADMIN_TOKEN: listening on 127\.0\.0\.1 only/, 5_000);
      server.child.kill('SIGINT');
      expect((await server.exited).code).toBe(0);
    } finally {
      server.child.kill('SIGKILL');
    }
  });
});
