import { Queue } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startCli, type CliProcess } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startFakeSoda, type FakeSoda } from '../support/fake-soda/index.js';
import { generatePoliceLog } from '../support/police-log-generator.js';
import {
  createTestPrefix,
  deletePrefix,
  startTestQueue,
  testRedisUrl,
  waitFor,
  waitForRun,
} from '../support/queue.js';

/** Workers as real processes: killed, stopped, started together. */
describe('worker processes', () => {
  let fake: FakeSoda;
  let database: TestDatabase;
  let prefix: string;
  const processes: CliProcess[] = [];
  const rows = [...generatePoliceLog({ seed: 41, rows: 5_000 })];
  const distinct = new Set(rows.filter((row) => row.date_time! < '2026').map((row) => row.id)).size;
  const year = {
    mode: 'window',
    from: '2025-01-01',
    to: '2026-01-01',
    windowSize: 'month',
  } as const;

  const workerEnv = (extra: Record<string, string> = {}) => ({
    DATABASE_URL: database.url,
    REDIS_URL: testRedisUrl,
    QUEUE_PREFIX: prefix,
    SOCRATA_BASE_URL: fake.url,
    SOCRATA_RETRY_BASE_MS: '10',
    SOCRATA_TIMEOUT_MS: '10000',
    STEP_BACKOFF_SCALE: '0.001',
    WORKER_LOCK_MS: '2000',
    WORKER_STALLED_INTERVAL_MS: '1000',
    LOG_LEVEL: 'info',
    ...extra,
  });
  const startWorker = (extra?: Record<string, string>) => {
    const worker = startCli(['worker'], workerEnv(extra));
    processes.push(worker);
    return worker;
  };

  beforeAll(async () => {
    fake = await startFakeSoda({ rows });
  });
  afterEach(async () => {
    for (const process of processes.splice(0)) {
      process.child.kill('SIGKILL');
      await process.exited;
    }
    fake.clearFaults();
    await deletePrefix(prefix);
    await database.drop();
  });
  afterAll(async () => {
    await fake.close();
  });

  async function stepsRunning(runId: number): Promise<number> {
    const { rows: running } = await database.pool.query<{ count: number }>(
      `select count(*)::int as count from pipeline_steps where run_id = $1 and state = 'running'`,
      [runId],
    );
    return running[0]!.count;
  }

  /** The run ends completed, having inserted every distinct id once: no row lost or doubled. */
  async function expectEveryRowOnce(
    runId: number,
    timeoutMs: number,
    workerLog: () => string,
  ): Promise<void> {
    const done = await waitForRun(
      database.pool,
      runId,
      ['completed', 'failed', 'crashed'],
      timeoutMs,
    );
    expect(done.state, workerLog()).toBe('completed');
    expect(done.rowsInserted).toBe(distinct);
    const { rows: counts } = await database.pool.query(
      'select count(*)::int as count, count(distinct id)::int as ids from incidents',
    );
    expect(counts[0]).toEqual({ count: distinct, ids: distinct });
  }

  it(
    'finishes the run of a worker killed mid-step on another worker, with exact counts',
    { timeout: 120_000 },
    async () => {
      database = await createTestDatabase();
      prefix = createTestPrefix();
      const queue = startTestQueue(database, fake, { prefix, workers: false });
      try {
        // A slow source keeps the first worker inside its extract steps when it is killed.
        fake.addFault({ kind: 'slow', delayMs: 2_000 });
        const first = startWorker();
        await first.waitForOutput(/workers started/);
        const { run } = await queue.orchestrator.requestRun(year, 'api');
        await waitFor(async () => (await stepsRunning(run.id)) > 0, 30_000, 'a step running');
        first.child.kill('SIGKILL');
        expect((await first.exited).signal).toBe('SIGKILL');
        fake.clearFaults();

        const second = startWorker();
        await expectEveryRowOnce(run.id, 90_000, () => second.stderr());
        // The ledger shows the steps the dead worker held ran again.
        const { rows: retried } = await database.pool.query<{ attempts: number }>(
          `select attempts from pipeline_steps where run_id = $1 and attempts > 1`,
          [run.id],
        );
        expect(retried.length).toBeGreaterThan(0);
        expect(second.stderr()).toMatch(/stalled/);
      } finally {
        await queue.close();
      }
    },
  );

  it(
    'registers the sync and reconciliation schedules once, however many processes start, and after a restart',
    { timeout: 90_000 },
    async () => {
      database = await createTestDatabase();
      prefix = createTestPrefix();
      const workers = [startWorker(), startWorker(), startWorker()];
      await Promise.all(
        workers.map((worker) =>
          worker.waitForOutput(/incremental syncs and reconciliations scheduled/),
        ),
      );
      const flows = new Queue('flows', { connection: { url: testRedisUrl }, prefix });
      try {
        const schedulers = await flows.getJobSchedulers();
        expect(
          schedulers.map((scheduler) => ({
            key: scheduler.key,
            pattern: scheduler.pattern,
            tz: scheduler.tz,
          })),
        ).toEqual(
          // Two schedules per dataset (issues 15, 16), each registered once.
          expect.arrayContaining([
            { key: 'incremental-sync-3gki-wyrb', pattern: '20 * * * *', tz: 'America/New_York' },
            { key: 'incremental-sync-xuad-73uj', pattern: '20 * * * *', tz: 'America/New_York' },
            { key: 'reconcile-3gki-wyrb', pattern: '0 4 * * 0', tz: 'America/New_York' },
            { key: 'reconcile-xuad-73uj', pattern: '0 4 * * 0', tz: 'America/New_York' },
          ]),
        );
        expect(schedulers).toHaveLength(4);
        expect(await flows.getDelayedCount()).toBe(4);

        workers[0]!.child.kill('SIGTERM');
        expect((await workers[0]!.exited).code).toBe(0);
        const restarted = startWorker();
        await restarted.waitForOutput(/incremental syncs and reconciliations scheduled/);
        expect(await flows.getJobSchedulers()).toHaveLength(4);
        expect(await flows.getDelayedCount()).toBe(4);
      } finally {
        await flows.close();
      }
    },
  );

  it(
    'on SIGTERM stops taking jobs, releases the running ones within the grace period, exits 0; a new worker finishes',
    { timeout: 120_000 },
    async () => {
      database = await createTestDatabase();
      prefix = createTestPrefix();
      const queue = startTestQueue(database, fake, { prefix, workers: false });
      try {
        fake.addFault({ kind: 'slow', delayMs: 5_000 });
        const worker = startWorker({ SHUTDOWN_GRACE_MS: '1000' });
        await worker.waitForOutput(/workers started/);
        const { run } = await queue.orchestrator.requestRun(year, 'api');
        await waitFor(async () => (await stepsRunning(run.id)) > 0, 30_000, 'a step running');
        const stoppedAt = Date.now();
        worker.child.kill('SIGTERM');
        const exit = await worker.exited;
        expect(exit.code, worker.stderr()).toBe(0);
        expect(Date.now() - stoppedAt).toBeLessThan(12_000);
        expect(worker.stderr()).toMatch(/releasing running jobs/);
        // Released, not stalled: the jobs are waiting again at once.
        expect(await queue.orchestrator.queues.extract.getActiveCount()).toBe(0);

        fake.clearFaults();
        const next = startWorker();
        await expectEveryRowOnce(run.id, 60_000, () => next.stderr());
      } finally {
        await queue.close();
      }
    },
  );
});
