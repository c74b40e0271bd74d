import type { StepName } from '../db/schema/enums.js';

/**
 * Queue names and job ids. Ids are deterministic (run, window, step) and free of `:`, which
 * BullMQ reserves; the same run asked for twice therefore maps to the same jobs.
 */
export const queueNames = ['flows', 'extract', 'validate', 'transform', 'load'] as const;
export type QueueName = (typeof queueNames)[number];

/**
 * A job's name as Bull Board lists it: the catalogue's name, then the dataset's short name
 * (`extract crime-reports`), so two datasets' runs read apart. Workers look the job up by the
 * first word (catalogueNameOf).
 */
export function jobNameOf(name: string, datasetShortName: string | undefined): string {
  return datasetShortName === undefined ? name : `${name} ${datasetShortName}`;
}

export function catalogueNameOf(jobName: string): string {
  const space = jobName.indexOf(' ');
  return space < 0 ? jobName : jobName.slice(0, space);
}

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
