import { Job, Queue, WaitingError, Worker, type Job as BullJob } from 'bullmq';
import type pg from 'pg';
import { databaseWaitMs, isDatabaseUnavailable, waitForDatabase } from '../db/availability.js';
import { describeError } from '../errors.js';
import type { Logger } from '../logger.js';
import { countUnfinishedSteps, failStep, markFailedRunCrashed } from '../pipeline/ledger/index.js';
import { jobCatalogue } from './catalogue.js';
import { createWorkerConnection } from './connection.js';
import { createHands, pickQueue, type QueueLoad } from './hands.js';
import { parseStepJobId, queueNames, type QueueName } from './names.js';
import { parseJob, type JobResult, type Processors } from './processors.js';

export interface WorkerSettings {
  redisUrl: string;
  prefix: string;
  /** Jobs this process runs at once, whatever their queues. */
  concurrency: number;
  /** How long a job's lock lives without renewal; a killed worker's job is free after this. */
  lockDurationMs?: number;
  /** How often to look for jobs whose worker died (stalled), and put them back. */
  stalledIntervalMs?: number;
}

export interface RunningWorkers {
  workers: Worker[];
  /**
   * Stops taking jobs and lets running ones finish; past the grace period, running jobs are
   * aborted and put back in their queue for another worker, then the workers close.
   */
  close(graceMs: number): Promise<void>;
}

const shutdownReason = 'shutdown';

/** How long a freed hand waits for the queue it was offered to before every queue may fill it. */
const handOfferMs = 100;

/**
 * One BullMQ worker per queue, sharing the processors and `concurrency` hands between them. Every
 * failure is logged, never thrown at the process: bad payloads fail their job (unrecoverable), a
 * lost Redis is waited out.
 */
export function startWorkers(
  settings: WorkerSettings,
  processors: Processors,
  deps: { pool: pg.Pool; log: Logger },
): RunningWorkers {
  const { log } = deps;
  const connection = createWorkerConnection(settings.redisUrl);
  const queues = new Map<string, Queue>();

  // One BullMQ worker per queue runs `concurrency` jobs of its own step: with four steps, two
  // processes ran eight jobs on two cores, whose contention cost a 1M backfill 35 s where one job
  // at a time per process took 24–27 s (`cpd sync`: 25 s). So the process counts its jobs across
  // queues, and while it has no free hand its workers take none: a job is active only while it runs.
  let closing = false;
  let fallback: NodeJS.Timeout | undefined;
  const hands = createHands(settings.concurrency, () => {
    clearTimeout(fallback);
    for (const worker of workers) void worker.pause(true);
  });
  const resumeAll = () => {
    if (!closing) for (const worker of workers) void worker.resume();
  };
  /** A freed hand goes to the queue pickQueue names; to every queue if it finds none. */
  const offerFreeHand = async (freedBy: string) => {
    let chosen: QueueName | undefined;
    try {
      chosen = pickQueue(await Promise.all(queueNames.map(readQueueLoad)), freedBy);
    } catch {
      // Redis away: every worker looks, and waits it out as it would anyway.
    }
    if (closing || !hands.hasFree()) return;
    if (!chosen) return resumeAll();
    void workers[queueNames.indexOf(chosen)]!.resume();
    // Another process may take that job first: then every queue may offer one.
    clearTimeout(fallback);
    fallback = setTimeout(() => hands.hasFree() && resumeAll(), handOfferMs);
  };
  const queueOf = (queueName: string): Queue => {
    let queue = queues.get(queueName);
    if (!queue) {
      queue = new Queue(queueName, { connection, prefix: settings.prefix });
      queue.on('error', () => undefined);
      queues.set(queueName, queue);
    }
    return queue;
  };
  const readQueueLoad = async (queueName: QueueName): Promise<QueueLoad> => {
    const counts = await queueOf(queueName).getJobCounts('wait', 'prioritized', 'active');
    return {
      queue: queueName,
      waiting: (counts.wait ?? 0) + (counts.prioritized ?? 0),
      active: counts.active ?? 0,
    };
  };

  const processJob = async (
    job: BullJob,
    token: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<JobResult> => {
    if (!hands.take()) {
      // Taken by a fetch already under way when the workers paused: back to the head of its
      // queue (not an attempt), for a worker with a free hand.
      await job.moveToWait(token);
      throw new WaitingError();
    }
    try {
      return await processTakenJob(job, token, signal);
    } finally {
      if (hands.give()) void offerFreeHand(job.queueName);
    }
  };

  const processTakenJob = async (
    job: BullJob,
    token: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<JobResult> => {
    const { name, payload } = parseJob(job);
    const deadline = AbortSignal.timeout(jobCatalogue[name].policy.timeoutMs);
    const combined = signal ? AbortSignal.any([signal, deadline]) : deadline;
    const processor = processors[name] as (
      payload: unknown,
      context: { job: BullJob; signal: AbortSignal },
    ) => Promise<JobResult>;
    try {
      return await abortable(processor(payload, { job, signal: combined }), combined);
    } catch (error) {
      if (signal?.aborted && signal.reason === shutdownReason && token) {
        // Released at shutdown: back to its queue at once, for the next worker.
        await job.moveToWait(token);
        throw new WaitingError();
      }
      if (isDatabaseUnavailable(error)) {
        // A database restart is waited out before BullMQ counts the attempt and retries: every
        // attempt would otherwise fail within seconds while the server is away or recovering,
        // and the run fail for nothing. Here, so it holds for every job, whichever step it cut.
        await waitForDatabase(deps.pool, { timeoutMs: databaseWaitMs, signal: combined });
      }
      throw error;
    }
  };

  const lockAndStall = {
    connection,
    prefix: settings.prefix,
    ...(settings.lockDurationMs && { lockDuration: settings.lockDurationMs }),
    ...(settings.stalledIntervalMs && { stalledInterval: settings.stalledIntervalMs }),
    // A job whose worker died is put back twice before it counts as crashed.
    maxStalledCount: 2,
  };
  const workers: Worker[] = queueNames.map((queueName) => {
    const worker = new Worker(queueName, processJob, {
      ...lockAndStall,
      concurrency: settings.concurrency,
      // A paused worker does not look for stalled jobs; its queue's checker does.
      skipStalledCheck: true,
    });
    worker.on('error', (error) => log.error({ err: error, queue: queueName }, 'worker error'));
    worker.on('failed', (job, error) => {
      if (!job) return;
      log.warn(
        { jobId: job.id, queue: queueName, attempts: job.attemptsMade, error: error.message },
        'job failed',
      );
    });
    worker.on(
      'completed',
      (job) => void resumeFailedParent(job, settings.prefix, queueOf, deps.pool, log),
    );
    return worker;
  });
  // Workers that take no job and only put back the jobs of workers that died, whether or not
  // this process's own workers are paused.
  const checkers = queueNames.map((queueName) => {
    const checker = new Worker(queueName, null, { ...lockAndStall, autorun: false });
    checker.on('error', (error) =>
      log.error({ err: error, queue: queueName }, 'stalled-job checker error'),
    );
    checker.on('stalled', (jobId) => {
      log.warn({ jobId, queue: queueName }, 'job stalled (its worker stopped); it will run again');
      void recordStall(deps.pool, jobId, log);
    });
    checker.on('failed', (job, error) => {
      if (!job) return;
      log.warn({ jobId: job.id, queue: queueName, error: error.message }, 'job failed');
      if (/stalled more than allowable limit/i.test(error.message))
        void recordCrash(deps.pool, job, log);
    });
    void checker.startStalledCheckTimer();
    return checker;
  });

  return {
    workers,
    async close(graceMs) {
      closing = true;
      clearTimeout(fallback);
      const closed = Promise.all(workers.map((worker) => worker.close()));
      if (!(await settlesWithin(closed, graceMs))) {
        log.warn({ graceMs }, 'grace period over: releasing running jobs back to their queues');
        for (const worker of workers) worker.cancelAllJobs(shutdownReason);
        if (!(await settlesWithin(closed, 10_000)))
          await Promise.all(workers.map((worker) => worker.close(true)));
      }
      await Promise.all(checkers.map((checker) => checker.close()));
      await Promise.all([...queues.values()].map((queue) => queue.close()));
      connection.disconnect();
    },
  };
}

/** Rejects as soon as the signal aborts, even if the work ignores it (its transaction then rolls back or loses a race it cannot win twice: see completeStep). */
function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(asError(signal.reason));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(asError(signal.reason));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function asError(reason: unknown): Error {
  if (reason instanceof Error)
    return reason.name === 'TimeoutError'
      ? new Error(`the job ran past its time limit (${reason.message})`)
      : reason;
  return new Error(typeof reason === 'string' ? `aborted: ${reason}` : 'aborted');
}

async function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  const settled = work.then(
    () => true,
    () => true,
  );
  const result = await Promise.race([settled, timeout]);
  clearTimeout(timer);
  return result;
}

async function recordStall(pool: pg.Pool, jobId: string, log: Logger): Promise<void> {
  const step = parseStepJobId(jobId);
  if (!step) return;
  await failStep(
    pool,
    step.runId,
    step.windowIndex,
    step.step,
    new Error('its worker stopped responding (stalled); it was put back to run again'),
    false,
  ).catch((error: unknown) => log.error({ err: error, jobId }, 'could not record a stalled job'));
}

async function recordCrash(pool: pg.Pool, job: BullJob, log: Logger): Promise<void> {
  const step = parseStepJobId(job.id ?? '');
  if (!step) return;
  try {
    await failStep(
      pool,
      step.runId,
      step.windowIndex,
      step.step,
      new Error('its workers kept stopping (stalled too often)'),
      true,
    );
    await markFailedRunCrashed(pool, step.runId);
  } catch (error) {
    log.error({ err: error, jobId: job.id }, 'could not record a crashed job');
  }
}

/**
 * A failed chain resumed (retryRun, or a step retried by hand in Bull Board): BullMQ leaves the
 * failed ancestors failed, and would run a retried parent at once, before its child. So each
 * failed parent is retried here, when its child completes: in order, one step at a time. The run
 * (parent of every window) only once the ledger shows every step completed.
 */
async function resumeFailedParent(
  job: BullJob,
  prefix: string,
  queueOf: (queueName: string) => Queue,
  pool: pg.Pool,
  log: Logger,
): Promise<void> {
  const parent = job.parent;
  if (!parent?.id) return;
  try {
    const run = /^run-(\d+)$/.exec(parent.id);
    if (run) {
      if (await countUnfinishedSteps(pool, Number(run[1]))) return;
    }
    const queue = queueOf(parent.queueKey.slice(prefix.length + 1));
    const parentJob = await Job.fromId(queue, parent.id);
    if (parentJob && (await parentJob.isFailed())) {
      await parentJob.retry('failed');
      log.info(
        { jobId: parentJob.id, child: job.id },
        'retried the failed parent of a completed job',
      );
    }
  } catch (error) {
    log.error(
      { err: error, jobId: job.id, error: describeError(error) },
      'could not resume the parent of a completed job',
    );
  }
}
