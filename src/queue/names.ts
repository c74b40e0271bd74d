import type { StepName } from '../db/schema/enums.js';

/**
 * Queue names and job ids. Ids are deterministic (run, window, step) and free of `:`, which
 * BullMQ reserves; the same run asked for twice therefore maps to the same jobs.
 */
export const queueNames = ['flows', 'extract', 'validate', 'transform', 'load'] as const;
export type QueueName = (typeof queueNames)[number];

export function runJobId(runId: number): string {
  return `run-${runId}`;
}

export function stepJobId(runId: number, windowIndex: number, step: StepName): string {
  return `run-${runId}-w${windowIndex}-${step}`;
}

/** The (run, window, step) of a step job id, or undefined for any other id. */
export function parseStepJobId(
  jobId: string,
): { runId: number; windowIndex: number; step: StepName } | undefined {
  const match = /^run-(\d+)-w(\d+)-(extract|validate|transform|load)$/.exec(jobId);
  if (!match) return undefined;
  return { runId: Number(match[1]), windowIndex: Number(match[2]), step: match[3] as StepName };
}
