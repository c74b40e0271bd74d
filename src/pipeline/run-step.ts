import type { StepName } from '../db/schema/enums.js';
import { isRetryable, UserError } from '../errors.js';
import { getDatasetPipeline } from './datasets.js';
import { beginStep, failStep, readWindowSpec, StepAlreadyCompleted, stepOrder } from './ledger.js';
import type { StepDeps, StepFunction, StepOutcome } from './steps/context.js';
import { extractWindow } from './steps/extract.js';
import { loadWindow } from './steps/load.js';
import { transformWindow } from './steps/transform.js';
import { validateWindow } from './steps/validate.js';

export const stepFunctions: Record<StepName, StepFunction> = {
  extract: extractWindow,
  validate: validateWindow,
  transform: transformWindow,
  load: loadWindow,
};

export interface RunStepOptions {
  runId: number;
  windowIndex: number;
  /** The queue job running it, recorded in the ledger. */
  jobId?: string;
  onProgress?: (rows: number) => void;
  signal?: AbortSignal;
  /**
   * Whether a failure ends the step for good (no attempt follows). The in-process flow has no
   * step-level retries; a queue worker knows its attempts left.
   */
  isFinalFailure?: (error: unknown) => boolean;
}

/**
 * A step reads what the step before it committed; run out of order (a job retried by hand ahead
 * of its failed child) it would read nothing, or something stale. Refuse, saying what to do.
 */
async function assertPreviousStepCompleted(
  deps: StepDeps,
  runId: number,
  windowIndex: number,
  step: StepName,
): Promise<void> {
  const previous = stepOrder[stepOrder.indexOf(step) - 1];
  if (!previous) return;
  const { rows } = await deps.pool.query<{ state: string }>(
    'select state from pipeline_steps where run_id = $1 and window_index = $2 and step = $3',
    [runId, windowIndex, previous],
  );
  const state = rows[0]?.state;
  if (state !== 'completed') {
    throw new UserError(
      'step.out_of_order',
      `${step} of window ${windowIndex} of run ${runId} cannot run before ${previous}, which is ${state ?? 'missing'}; retry the failed ${previous} instead`,
    );
  }
}

export type RunStepResult = StepOutcome & {
  /** True when the ledger showed the step already completed: a re-delivery, nothing redone. */
  skipped: boolean;
};

/**
 * Runs one step of one window with its ledger bookkeeping: marks it running, skips it when it
 * already committed (at-least-once delivery made safe), records the failure otherwise.
 */
export async function runStep(
  step: StepName,
  deps: StepDeps,
  options: RunStepOptions,
): Promise<RunStepResult> {
  const { runId, windowIndex } = options;
  await assertPreviousStepCompleted(deps, runId, windowIndex, step);
  const record = await beginStep(deps.pool, runId, windowIndex, step, options.jobId);
  if (record.state === 'completed') {
    deps.log.info({ runId, windowIndex, step }, 'step already completed; not redone');
    return {
      skipped: true,
      rowsIn: record.rowsIn ?? 0,
      rowsOut: record.rowsOut ?? 0,
      counts: record.counts ?? {},
    };
  }
  try {
    const spec = await readWindowSpec(deps.pool, runId, windowIndex);
    const outcome = await stepFunctions[step](deps, {
      spec,
      pipeline: getDatasetPipeline(spec.dataset),
      ...(options.onProgress && { onProgress: options.onProgress }),
      ...(options.signal && { signal: options.signal }),
    });
    return { ...outcome, skipped: false };
  } catch (error) {
    if (error instanceof StepAlreadyCompleted) {
      deps.log.warn(
        { runId, windowIndex, step },
        'another execution of this step committed first; this one rolled back',
      );
      const record = await beginStep(deps.pool, runId, windowIndex, step);
      return {
        skipped: true,
        rowsIn: record.rowsIn ?? 0,
        rowsOut: record.rowsOut ?? 0,
        counts: record.counts ?? {},
      };
    }
    const final = options.isFinalFailure?.(error) ?? !isRetryable(error);
    await failStep(deps.pool, runId, windowIndex, step, error, final).catch(
      (ledgerError: unknown) =>
        deps.log.error(
          { err: ledgerError, runId, windowIndex, step },
          'could not record the step failure',
        ),
    );
    throw error;
  }
}
