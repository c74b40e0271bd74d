import type pg from 'pg';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { createSodaClientFromConfig } from '../source/client.js';
import { createOrchestrator, type Orchestrator } from './orchestrator.js';
import { createProcessors } from './processors.js';
import { registerSchedulers } from './schedulers.js';
import { startWorkers, type RunningWorkers } from './workers.js';

/**
 * The queue side of a long-running process (`cpd worker`, `cpd up`): the orchestrator, the
 * workers and the scheduler, wired from the configuration.
 */
export interface QueueService {
  orchestrator: Orchestrator;
  workers: RunningWorkers | undefined;
  close(graceMs: number): Promise<void>;
}

export function startQueueService(
  config: Config,
  deps: { pool: pg.Pool; log: Logger },
  options: { workers: boolean; scheduler: boolean },
): QueueService {
  const orchestrator = createOrchestrator({
    pool: deps.pool,
    redisUrl: config.REDIS_URL,
    prefix: config.QUEUE_PREFIX,
    datasetId: config.SOCRATA_DATASET,
    backoffScale: config.STEP_BACKOFF_SCALE,
  });
  if (options.scheduler) keepRegisteringSchedulers(orchestrator, config, deps.log);
  const workers = options.workers
    ? startWorkers(
        {
          redisUrl: config.REDIS_URL,
          prefix: config.QUEUE_PREFIX,
          concurrency: config.WORKER_CONCURRENCY,
          lockDurationMs: config.WORKER_LOCK_MS,
          stalledIntervalMs: config.WORKER_STALLED_INTERVAL_MS,
        },
        createProcessors({
          pool: deps.pool,
          source: createSodaClientFromConfig(config),
          settings: {
            rejectThreshold: config.REJECT_THRESHOLD,
            deleteGuard: config.DELETE_GUARD,
          },
          log: deps.log,
          orchestrator,
          lookbackHours: config.SYNC_LOOKBACK_HOURS,
        }),
        deps,
      )
    : undefined;
  return {
    orchestrator,
    workers,
    async close(graceMs) {
      await workers?.close(graceMs);
      await orchestrator.close();
    },
  };
}

/**
 * Registers the schedulers as soon as Redis answers: a process started while Redis is down
 * still comes up (and says so), and registers when it returns.
 */
function keepRegisteringSchedulers(orchestrator: Orchestrator, config: Config, log: Logger): void {
  const attempt = async (delayMs: number): Promise<void> => {
    if (!(await orchestrator.ready(delayMs))) {
      log.warn('Redis is not reachable yet; the sync schedule will be registered when it is');
      return attempt(Math.min(delayMs * 2, 60_000));
    }
    try {
      const schedules = await registerSchedulers(orchestrator.queues.flows, config);
      log.info({ schedules }, 'incremental syncs and reconciliations scheduled');
    } catch (error) {
      log.warn({ err: error }, 'could not register the sync schedule yet; trying again');
      setTimeout(() => void attempt(Math.min(delayMs * 2, 60_000)), delayMs).unref();
    }
  };
  void attempt(2_000);
}
