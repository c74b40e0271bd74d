import { Job } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { incidentsTarget } from '../../src/pipeline/targets/incidents.js';
import { stepJobId } from '../../src/queue/names.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startFakeSoda, type FakeSoda } from '../support/fake-soda/index.js';
import { generatePoliceLog } from '../support/police-log-generator.js';
import { stepDepsFor, syncInProcess } from '../support/pipeline.js';
import { startTestQueue, waitFor, waitForRun, type TestQueue } from '../support/queue.js';

const rows = [...generatePoliceLog({ seed: 31, rows: 6_000 })];
const year = { mode: 'window', from: '2025-01-01', to: '2026-01-01', windowSize: 'month' } as const;

/** The incidents' content, ordered: what two loads of the same rows must agree on. */
async function contentOf(database: TestDatabase): Promise<string[]> {
  const columns = ['id', ...incidentsTarget.contentColumns]
    .map((column) => `"${column}"`)
    .join(', ');
  const { rows: content } = await database.pool.query<{ line: string }>(
    `select row(${columns})::text as line from incidents order by id`,
  );
  return content.map((row) => row.line);
}

describe('backfills on the queue', () => {
  let fake: FakeSoda;
  let database: TestDatabase;
  let queue: TestQueue | undefined;
  beforeAll(async () => {
    fake = await startFakeSoda({ rows });
  });
  afterEach(async () => {
    await queue?.close();
    queue = undefined;
    fake.clearFaults();
    await database?.drop();
  });
  afterAll(async () => {
    await fake.close();
  });

  it('runs a year in 12 monthly chains, loading what the in-process sync loads', async () => {
    database = await createTestDatabase();
    queue = startTestQueue(database, fake);
    const { run, created } = await queue.orchestrator.requestRun(year, 'api');
    expect(created).toBe(true);
    expect(run.windowCount).toBe(12);
    const totals = await waitForRun(database.pool, run.id);
    expect(totals.state).toBe('completed');

    const { rows: steps } = await database.pool.query<{
      state: string;
      count: number;
      withCounts: number;
    }>(
      `select state, count(*)::int as count, count(counts)::int as "withCounts" from pipeline_steps where run_id = $1 group by state`,
      [run.id],
    );
    expect(steps).toEqual([{ state: 'completed', count: 48, withCounts: 48 }]);

    const inProcess = await createTestDatabase();
    try {
      const { run: synced } = await syncInProcess(stepDepsFor(inProcess, fake), {
        ...year,
        windowSize: 'all',
      });
      expect(synced.state).toBe('completed');
      expect(totals.rowsInserted).toBe(synced.rowsInserted);
      expect(await contentOf(database)).toEqual(await contentOf(inProcess));
    } finally {
      await inProcess.drop();
    }
  });

  it('does the work once when the same backfill is asked for twice while it runs', async () => {
    database = await createTestDatabase();
    queue = startTestQueue(database, fake, { workers: false });
    const [first, second] = await Promise.all([
      queue.orchestrator.requestRun(year, 'api'),
      queue.orchestrator.requestRun(year, 'api'),
    ]);
    expect(first.run.id).toBe(second.run.id);
    expect([first.created, second.created].sort()).toEqual([false, true]);
    const third = await queue.orchestrator.requestRun(year, 'cli');
    expect(third).toMatchObject({ created: false, run: { id: first.run.id } });
    const { rows: runs } = await database.pool.query('select id from pipeline_runs');
    expect(runs).toHaveLength(1);
    // 12 chains of 4 steps: 12 extract jobs waiting, no more.
    expect(
      await queue.orchestrator.queues.extract.getJobCounts('wait', 'waiting', 'prioritized'),
    ).toMatchObject({ wait: 12 });

    // Once workers pick it up, it completes as one run.
    const withWorkers = startTestQueue(database, fake, { prefix: queue.prefix });
    try {
      expect((await waitForRun(database.pool, first.run.id)).state).toBe('completed');
    } finally {
      await withWorkers.close();
    }
  });

  it('fails the chain and the run when a step fails for good, and a retry resumes only that chain', async () => {
    database = await createTestDatabase();
    // The source refuses March's query (400) every time (and only March's: its lower bound).
    fake.addFault({ kind: '400', whereIncludes: "date_time >= '2025-03-01T00:00:00.000'" });
    queue = startTestQueue(database, fake);
    const { run } = await queue.orchestrator.requestRun(year, 'api');
    const failed = await waitForRun(database.pool, run.id, ['failed', 'completed']);
    expect(failed.state).toBe('failed');
    expect(failed.error).toMatch(/window 2, extract: .*400/);
    // The run failed at once; the other windows, already queued, go on to complete.
    await waitFor(async () => {
      const { rows: done } = await database.pool.query<{ count: number }>(
        `select count(*)::int as count from pipeline_steps where run_id = $1 and window_index <> 2 and state = 'completed'`,
        [run.id],
      );
      return done[0]!.count === 44;
    });
    expect((await waitForRun(database.pool, run.id)).state).toBe('failed');

    const { rows: before } = await database.pool.query<{
      windowIndex: number;
      step: string;
      state: string;
      attempts: number;
    }>(
      `select window_index as "windowIndex", step, state, attempts from pipeline_steps where run_id = $1 order by window_index, step`,
      [run.id],
    );
    const march = before.filter((step) => step.windowIndex === 2);
    expect(march.find((step) => step.step === 'extract')).toMatchObject({
      state: 'failed',
      attempts: 1,
    }); // refused: not retried
    expect(
      march.filter((step) => step.step !== 'extract').every((step) => step.state === 'scheduled'),
    ).toBe(true);
    expect(
      before.filter((step) => step.windowIndex !== 2).every((step) => step.state === 'completed'),
    ).toBe(true);
    const load = await Job.fromId(queue.orchestrator.queues.load, stepJobId(run.id, 2, 'load'));
    expect(await load?.isFailed()).toBe(true);

    fake.clearFaults();
    const { retried } = await queue.orchestrator.retryRun(run.id);
    // Only the failed step; its ancestors follow one by one as each child completes.
    expect(retried).toEqual([stepJobId(run.id, 2, 'extract')]);
    const resumed = await waitForRun(database.pool, run.id, ['completed', 'failed']);
    expect(resumed.state).toBe('completed');
    const { rows: after } = await database.pool.query<{
      windowIndex: number;
      attempts: number;
      state: string;
    }>(
      `select window_index as "windowIndex", attempts, state from pipeline_steps where run_id = $1`,
      [run.id],
    );
    expect(after.every((step) => step.state === 'completed')).toBe(true);
    // The other windows were not redone.
    expect(
      after.filter((step) => step.windowIndex !== 2).every((step) => step.attempts === 1),
    ).toBe(true);
    expect(resumed.rowsInserted).toBe(
      new Set(rows.filter((row) => row.date_time! < '2026').map((row) => row.id)).size,
    );
  });
});
