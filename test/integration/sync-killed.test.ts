import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpdBin, runCli } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startFakeSoda, type FakeSoda } from '../support/fake-soda/index.js';
import { generatePoliceLog } from '../support/police-log-generator.js';

/**
 * A `cpd sync` process killed with SIGKILL in the middle of its load transaction, then run again:
 * the first load must leave nothing, the second must end with exact counts and no duplicates.
 */
describe('a sync killed mid-load', () => {
  let database: TestDatabase;
  let fake: FakeSoda;
  const rows = [
    ...generatePoliceLog({ seed: 21, rows: 60_000, from: '2024-01-01', to: '2026-01-01' }),
  ];
  const distinct = new Set(rows.map((row) => row.id)).size;
  beforeAll(async () => {
    database = await createTestDatabase();
    fake = await startFakeSoda({ rows });
  });
  afterAll(async () => {
    await fake.close();
    await database.drop();
  });

  const env = () => ({
    DATABASE_URL: database.url,
    SOCRATA_BASE_URL: fake.url,
    LOG_LEVEL: 'error',
  });
  const args = ['sync', '--from', '2024-01-01', '--to', '2026-01-01', '--json'];

  it(
    'loses the load, then a re-run loads every row exactly once',
    { timeout: 300_000 },
    async () => {
      const child = spawn(process.execPath, [cpdBin, ...args], {
        env: { PATH: process.env.PATH, ...env() },
        stdio: 'ignore',
      });
      const exited = new Promise<NodeJS.Signals | null>((resolve) =>
        child.on('exit', (_code, signal) => resolve(signal)),
      );

      // Wait until its upsert into incidents is running, then kill it there.
      let seenUpsert = false;
      for (let waited = 0; waited < 120_000 && !seenUpsert; waited += 20) {
        const { rows: active } = await database.pool.query(
          `select 1 from pg_stat_activity
          where datname = $1 and pid <> pg_backend_pid() and state = 'active' and query ilike '%insert into "incidents"%'`,
          [database.name],
        );
        seenUpsert = active.length > 0;
        if (!seenUpsert) await sleep(20);
      }
      expect(seenUpsert).toBe(true);
      child.kill('SIGKILL');
      expect(await exited).toBe('SIGKILL');

      // Its transaction never commits: no incident, and the ledger still shows the load running.
      for (let waited = 0; waited < 30_000; waited += 100) {
        const { rows: left } = await database.pool.query(
          `select 1 from pg_stat_activity where datname = $1 and application_name = 'cpd'`,
          [database.name],
        );
        if (left.length === 0) break;
        await sleep(100);
      }
      const none = await database.pool.query<{ count: number }>(
        'select count(*)::int as count from incidents',
      );
      expect(none.rows[0]!.count).toBe(0);
      const killed = await database.pool.query(`select id::int, state from pipeline_runs`);
      expect(killed.rows).toEqual([{ id: 1, state: 'running' }]);

      const rerun = await runCli(args, env(), { timeoutMs: 180_000 });
      expect(rerun.code, rerun.stderr).toBe(0);
      const outcome = JSON.parse(rerun.stdout) as {
        run: { id: number; state: string; rowsInserted: number; rowsExtracted: number };
      };
      expect(outcome.run).toMatchObject({
        state: 'completed',
        rowsExtracted: rows.length,
        rowsInserted: distinct,
      });

      const counts = await database.pool.query(
        'select count(*)::int as count, count(distinct id)::int as ids from incidents',
      );
      expect(counts.rows[0]).toEqual({ count: distinct, ids: distinct });
      const runs = await database.pool.query(
        `select id::int, state, error from pipeline_runs order by id`,
      );
      expect(runs.rows).toEqual([
        { id: 1, state: 'crashed', error: 'the process running it stopped before it finished' },
        { id: outcome.run.id, state: 'completed', error: null },
      ]);
      // The crashed run's staging went with it.
      const staging = await database.pool.query(
        `select tablename from pg_tables where schemaname = 'staging' and tablename ~ '_r[0-9]+_w'`,
      );
      expect(staging.rows).toEqual([]);
    },
  );
});
