import { z } from 'zod';
import type { QueueName } from './names.js';

/**
 * Every job the queue knows: which queue it runs on, the payload it carries (validated with zod
 * before a processor sees it: ids only, never rows, never secrets) and its retry policy.
 * src/queue/processors.ts must provide a processor for each name; the compiler checks it.
 */

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  attempts: number;
  /** First retry delay; doubled each time (exponential), with jitter. */
  backoffMs: number;
  /** Share of the delay that is random (0–1), so retries of many jobs do not march in step. */
  jitter: number;
  /** The attempt is aborted (and counts as failed) after this long. */
  timeoutMs: number;
}

const windowPayload = z.strictObject({
  runId: z.number().int().positive(),
  windowIndex: z.number().int().nonnegative(),
});

export const jobCatalogue = {
  /** A run: the parent of one chain per window; runs when they all completed. */
  run: {
    queue: 'flows',
    payload: z.strictObject({ runId: z.number().int().positive() }),
    policy: { attempts: 3, backoffMs: 2_000, jitter: 0.5, timeoutMs: 10 * 60_000 },
  },
  /** Emitted by the job scheduler: plans an incremental run and adds its flow. */
  trigger: {
    queue: 'flows',
    payload: z.strictObject({ dataset: z.string().regex(/^[a-z0-9]{4}-[a-z0-9]{4}$/) }),
    policy: { attempts: 3, backoffMs: 5_000, jitter: 0.5, timeoutMs: 60_000 },
  },
  /** Emitted by the reconciliation's job scheduler: plans a reconciliation and adds its flow. */
  'reconcile-trigger': {
    queue: 'flows',
    payload: z.strictObject({ dataset: z.string().regex(/^[a-z0-9]{4}-[a-z0-9]{4}$/) }),
    policy: { attempts: 3, backoffMs: 5_000, jitter: 0.5, timeoutMs: 60_000 },
  },
  extract: {
    queue: 'extract',
    payload: windowPayload,
    // The source client already retries each request; these attempts cover what outlasts that.
    policy: { attempts: 5, backoffMs: 5_000, jitter: 0.5, timeoutMs: 60 * 60_000 },
  },
  validate: {
    queue: 'validate',
    payload: windowPayload,
    policy: { attempts: 3, backoffMs: 2_000, jitter: 0.5, timeoutMs: 30 * 60_000 },
  },
  transform: {
    queue: 'transform',
    payload: windowPayload,
    policy: { attempts: 3, backoffMs: 2_000, jitter: 0.5, timeoutMs: 30 * 60_000 },
  },
  load: {
    queue: 'load',
    payload: windowPayload,
    policy: { attempts: 3, backoffMs: 2_000, jitter: 0.5, timeoutMs: 30 * 60_000 },
  },
} as const satisfies Record<string, { queue: QueueName; payload: z.ZodType; policy: RetryPolicy }>;

export type JobName = keyof typeof jobCatalogue;
export type JobPayload<Name extends JobName> = z.infer<(typeof jobCatalogue)[Name]['payload']>;

/** BullMQ job options for a policy; `backoffScale` shortens delays (tests, benchmarks). */
export function jobOptionsFor(name: JobName, backoffScale = 1) {
  const { policy } = jobCatalogue[name];
  return {
    attempts: policy.attempts,
    backoff: {
      type: 'exponential',
      delay: Math.max(1, Math.round(policy.backoffMs * backoffScale)),
      jitter: policy.jitter,
    },
    // Keep finished jobs long enough to read in Bull Board, not forever.
    removeOnComplete: { age: 7 * 24 * 3600, count: 5_000 },
    removeOnFail: { age: 30 * 24 * 3600, count: 5_000 },
  };
}
