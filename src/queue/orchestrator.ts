import { FlowProducer, Job, Queue } from 'bullmq';
import type pg from 'pg';
import type { RunTrigger } from '../db/schema/enums.js';
import { UserError } from '../errors.js';
import { getDatasetPipeline } from '../pipeline/datasets.js';
import { planRun, type RunPlan } from '../pipeline/flow.js';
import {
  createRun,
  markRunEnqueued,
  readRunForRetry,
  reopenRun,
  stepOrder,
  type RunRecord,
} from '../pipeline/ledger/index.js';
import { createProducerConnection, waitUntilReady } from './connection.js';
import { buildRunFlow } from './flow-builder.js';
import { queueNames, runJobId, stepJobId, type QueueName } from './names.js';

/**
 * The queue side of runs: asking for one (backfill, incremental sync), retrying a failed one. Used
 * by the HTTP API, `cpd backfill` and the scheduler's trigger job, so they all behave alike: a
 * request for a run that is already active gets that run, and adds no work.
 */
export interface Orchestrator {
  queues: Record<QueueName, Queue>;
  /** Waits for Redis (false after the time given): requests fail fast while it is away. */
  ready(timeoutMs: number): Promise<boolean>;
  /**
   * Plans, records and enqueues a run of a dataset (id or short name; default the orchestrator's
   * own); an identical active run is returned instead.
   */
  requestRun(
    plan: RunPlan,
    trigger: RunTrigger,
    dataset?: string,
  ): Promise<{ run: RunRecord; created: boolean }>;
  /**
   * Retries a failed run: the lowest failed step of each failed chain. Workers then resume each
   * failed ancestor as its child completes (see workers.ts), so the chain runs again in order.
   */
  retryRun(runId: number): Promise<{ retried: string[] }>;
  close(): Promise<void>;
}

export interface OrchestratorOptions {
  pool: pg.Pool;
  redisUrl: string;
  prefix: string;
  /** The dataset of requests that name none (SOCRATA_DATASET). */
  datasetId: string;
  /** Shortens retry delays (tests); 1 in production. */
  backoffScale?: number;
}

export function createOrchestrator(options: OrchestratorOptions): Orchestrator {
  const { pool, prefix } = options;
  const connection = createProducerConnection(options.redisUrl, 'cpd-orchestrator');
  const queues = Object.fromEntries(
    queueNames.map((name) => [name, new Queue(name, { connection, prefix })]),
  ) as Record<QueueName, Queue>;
  for (const queue of Object.values(queues)) queue.on('error', () => undefined);
  const flowProducer = new FlowProducer({ connection, prefix });
  flowProducer.on('error', () => undefined);
  // Checked at once, so a bad SOCRATA_DATASET fails at start rather than at the first request.
  getDatasetPipeline(options.datasetId);

  /** Adds the run's flow once: a run still `scheduled` was never enqueued (or its enqueuer died). */
  async function enqueue(run: RunRecord, datasetId: string): Promise<void> {
    if (run.state !== 'scheduled') return;
    const { shortName } = getDatasetPipeline(datasetId).source;
    await flowProducer.add(buildRunFlow(run, options.backoffScale, shortName));
    await markRunEnqueued(pool, run.id);
  }

  return {
    queues,
    ready: (timeoutMs) => waitUntilReady(connection, timeoutMs),
    async requestRun(plan, trigger, dataset = options.datasetId) {
      const request = await planRun(pool, getDatasetPipeline(dataset), plan, trigger);
      const { run, created } = await createRun(pool, request);
      await enqueue(run, request.dataset);
      return { run, created };
    },

    async retryRun(runId) {
      const run = await readRunForRetry(pool, runId);
      if (!run) throw new UserError('run.not_found', `there is no run ${runId}`);
      if (run.state !== 'failed' && run.state !== 'crashed') {
        throw new UserError(
          'run.not_failed',
          `run ${runId} is ${run.state}; only a failed or crashed run can be retried`,
        );
      }
      const parent = await Job.fromId(queues.flows, runJobId(runId));
      if (!parent) {
        // Its jobs were cleaned up: enqueue the run again. Steps that completed are not redone
        // (the ledger says so), so this resumes it.
        await reopenRun(pool, runId, 'scheduled');
        await enqueue(
          { id: runId, state: 'scheduled', windowCount: run.windowCount } as RunRecord,
          run.dataset,
        );
        return { retried: [runJobId(runId)] };
      }
      // BullMQ (6.7) moves a retried parent straight to waiting, whatever its children's state:
      // retrying a whole chain at once would run its steps together, out of order. So only the
      // lowest failed step of each chain is retried here; each ancestor is retried by the worker
      // that completes its child.
      const retried: string[] = [];
      for (let windowIndex = 0; windowIndex < run.windowCount; windowIndex++) {
        for (const step of stepOrder) {
          const job = await Job.fromId(queues[step], stepJobId(runId, windowIndex, step));
          if (job && (await job.isFailed())) {
            await job.retry('failed');
            retried.push(job.id!);
            break;
          }
        }
      }
      if (retried.length === 0 && (await parent.isFailed())) {
        await parent.retry('failed');
        retried.push(parent.id!);
      }
      await reopenRun(pool, runId, 'pending');
      return { retried };
    },

    async close() {
      await flowProducer.close();
      await Promise.all(Object.values(queues).map((queue) => queue.close()));
      connection.disconnect();
    },
  };
}
