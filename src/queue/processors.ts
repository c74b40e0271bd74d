import { UnrecoverableError, type Job } from 'bullmq';
import type { StepName } from '../db/schema/enums.js';
import { describeError, isRetryable } from '../errors.js';
import { finishRun } from '../pipeline/flow.js';
import { runStep } from '../pipeline/run-step.js';
import type { StepDeps } from '../pipeline/steps/context.js';
import { jobCatalogue, type JobName, type JobPayload } from './catalogue.js';
import { catalogueNameOf } from './names.js';
import type { Orchestrator } from './orchestrator.js';

/** What a processor returns: small, counts only (it is stored in Redis with the job). */
export type JobResult = Record<string, unknown>;

export interface JobContext {
  job: Job;
  signal: AbortSignal;
}

/** One processor per catalogue entry: a missing one is a compile error. */
export type Processors = {
  [Name in JobName]: (payload: JobPayload<Name>, context: JobContext) => Promise<JobResult>;
};

export interface ProcessorDeps extends StepDeps {
  orchestrator: Pick<Orchestrator, 'requestRun'>;
  lookbackHours: number;
}

export function createProcessors(deps: ProcessorDeps): Processors {
  const step =
    (name: StepName) =>
    async (
      { runId, windowIndex }: { runId: number; windowIndex: number },
      { job, signal }: JobContext,
    ) => {
      const attempts = job.opts.attempts ?? 1;
      try {
        const outcome = await runStep(name, deps, {
          runId,
          windowIndex,
          jobId: job.id!,
          signal,
          isFinalFailure: (error) => !isRetryable(error) || job.attemptsMade + 1 >= attempts,
        });
        return {
          rowsIn: outcome.rowsIn,
          rowsOut: outcome.rowsOut,
          counts: outcome.counts,
          skipped: outcome.skipped,
        };
      } catch (error) {
        // BullMQ would retry anything else; a refusal (bad query, too many bad rows) will not pass.
        if (!isRetryable(error)) throw new UnrecoverableError(describeError(error));
        throw error;
      }
    };

  return {
    extract: step('extract'),
    validate: step('validate'),
    transform: step('transform'),
    load: step('load'),
    async run({ runId }) {
      const completed = await finishRun(deps, runId);
      if (!completed) throw new Error(`run ${runId} has steps that did not complete`);
      return { runId, completed };
    },
    async trigger({ dataset }) {
      const { run, created } = await deps.orchestrator.requestRun(
        { mode: 'incremental', lookbackHours: deps.lookbackHours },
        'schedule',
        dataset,
      );
      return { runId: run.id, created };
    },
    async 'reconcile-trigger'({ dataset }) {
      const { run, created } = await deps.orchestrator.requestRun(
        { mode: 'reconcile' },
        'schedule',
        dataset,
      );
      return { runId: run.id, created };
    },
  };
}

/** Checks a job against the catalogue before its processor sees it. */
export function parseJob(job: Job): { name: JobName; payload: unknown } {
  const name = catalogueNameOf(job.name);
  const definition = (jobCatalogue as Record<string, (typeof jobCatalogue)[JobName] | undefined>)[
    name
  ];
  if (!definition)
    throw new UnrecoverableError(
      `unknown job ${JSON.stringify(job.name)}; this worker knows ${Object.keys(jobCatalogue).join(', ')}`,
    );
  if (definition.queue !== job.queueName) {
    throw new UnrecoverableError(
      `job ${job.name} belongs on queue ${definition.queue}, not ${job.queueName}`,
    );
  }
  const parsed = definition.payload.safeParse(job.data);
  if (!parsed.success) {
    throw new UnrecoverableError(
      `job ${job.name} ${job.id ?? ''} has a bad payload: ${parsed.error.issues.map((issue) => `${issue.path.join('.') || 'data'}: ${issue.message}`).join('; ')}`,
    );
  }
  return { name: name as JobName, payload: parsed.data };
}
