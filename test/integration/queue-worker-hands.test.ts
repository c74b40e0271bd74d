import { Queue } from 'bullmq';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { JobName } from '../../src/queue/catalogue.js';
import { queueNames, stepJobId } from '../../src/queue/names.js';
import type { Processors } from '../../src/queue/processors.js';
import { startWorkers, type RunningWorkers } from '../../src/queue/workers.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { silentLog } from '../support/pipeline.js';
import { createTestPrefix, deletePrefix, testRedisUrl, waitFor } from '../support/queue.js';

/**
 * WORKER_CONCURRENCY counts a process's jobs across its queues, and a process with no free hand
 * takes no job: another process may run it. Real Redis; the processors only note what runs.
 */
describe('jobs a worker process runs at once', () => {
  let database: TestDatabase;
  let prefix: string;
  const queues = new Map<string, Queue>();
  const running = new Map<string, Set<string>>();
  let mostAtOnce = new Map<string, number>();
  const ran: string[] = [];
  /** Released by the test: jobs hold their hand until then. */
  let release: () => void = () => undefined;
  let released = Promise.resolve();

  const steps = ['extract', 'validate', 'transform', 'load'] as const;

  function processorsFor(processName: string): Processors {
    const step = async (_payload: unknown, { job }: { job: { id?: string } }) => {
      const mine = running.get(processName) ?? new Set<string>();
      running.set(processName, mine);
      mine.add(job.id!);
      mostAtOnce.set(processName, Math.max(mostAtOnce.get(processName) ?? 0, mine.size));
      ran.push(`${processName} ${job.id}`);
      await released;
      mine.delete(job.id!);
      return {};
    };
    const none = () => Promise.resolve({});
    return {
      extract: step,
      validate: step,
      transform: step,
      load: step,
      run: none,
      trigger: none,
      'reconcile-trigger': none,
    };
  }

  const started: RunningWorkers[] = [];
  function start(processName: string, concurrency: number): void {
    started.push(
      startWorkers({ redisUrl: testRedisUrl, prefix, concurrency }, processorsFor(processName), {
        pool: database.pool,
        log: silentLog,
      }),
    );
  }

  function waitForJobsStarted(count: number, what: string): Promise<void> {
    return waitFor(() => Promise.resolve(ran.length === count), 10_000, what);
  }

  /** One job of each step (their own windows), all ready at once. */
  async function addOneJobPerStep(runId: number): Promise<string[]> {
    return Promise.all(
      steps.map(async (step, windowIndex) => {
        const id = stepJobId(runId, windowIndex, step);
        await queues.get(step)!.add(step satisfies JobName, { runId, windowIndex }, { jobId: id });
        return id;
      }),
    );
  }

  async function countActive(): Promise<number> {
    const counts = await Promise.all([...queues.values()].map((queue) => queue.getActiveCount()));
    return counts.reduce((sum, count) => sum + count, 0);
  }

  function holdJobs(): void {
    released = new Promise<void>((resolve) => (release = resolve));
  }

  beforeAll(async () => {
    database = await createTestDatabase();
    prefix = createTestPrefix();
    for (const name of queueNames)
      queues.set(name, new Queue(name, { connection: { url: testRedisUrl }, prefix }));
  });

  beforeEach(() => {
    mostAtOnce = new Map();
    running.clear();
    ran.length = 0;
    holdJobs();
  });

  afterEach(async () => {
    release();
    await Promise.all(started.splice(0).map((workers) => workers.close(5_000)));
  });

  afterAll(async () => {
    release();
    await Promise.all([...queues.values()].map((queue) => queue.close()));
    await deletePrefix(prefix);
    await database?.close();
  });

  it('runs one job at a time across four queues, latest step first, and holds no other while it runs', async () => {
    start('only', 1);
    await addOneJobPerStep(1);
    await waitForJobsStarted(1, 'the first job to start');
    // Fetches under way when the process's hand was taken hand their jobs back: a moment later
    // only the running job is active, the others wait for any worker.
    await waitFor(async () => (await countActive()) === 1, 10_000, 'one job active');
    for (let count = 1; count <= steps.length; count += 1) {
      expect(ran).toHaveLength(count);
      const next = release;
      holdJobs();
      next();
      if (count < steps.length) await waitForJobsStarted(count + 1, 'the next job');
    }
    release();
    await waitFor(async () => (await countActive()) === 0, 10_000, 'every job done');
    expect(mostAtOnce.get('only')).toBe(1);
    expect(new Set(ran).size).toBe(steps.length);
    // The first job is whichever queue answered first; then the latest step waiting goes next.
    const order = ran.map((entry) => entry.slice(entry.lastIndexOf('-') + 1));
    expect(order.slice(1)).toEqual(
      ['load', 'transform', 'validate', 'extract'].filter((step) => step !== order[0]),
    );
  });

  it('leaves the jobs a busy process cannot run to a process with a free hand', async () => {
    start('busy', 1);
    await addOneJobPerStep(2);
    await waitForJobsStarted(1, 'the busy process to start a job');
    // The busy process keeps its hand; a second process must be able to take another job.
    start('other', 2);
    await waitForJobsStarted(3, 'the other process to take two jobs');
    expect(ran.filter((entry) => entry.startsWith('busy'))).toHaveLength(1);
    expect(mostAtOnce.get('other')).toBe(2);
    expect(await countActive()).toBe(3);
    release();
    await waitForJobsStarted(steps.length, 'the last job');
    await waitFor(async () => (await countActive()) === 0, 10_000, 'every job done');
    expect(new Set(ran.map((entry) => entry.split(' ')[1])).size).toBe(steps.length);
  });
});
