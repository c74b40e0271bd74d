import type { RunMode, StepName } from '../db/schema/enums.js';
import { databaseWaitMs, isDatabaseUnavailable, waitForDatabase } from '../db/availability.js';
import { describeError, isRetryable, isUserError, UserError } from '../errors.js';
import { getDatasetPipeline } from './datasets.js';
import {
  beginStep,
  failStep,
  readStepState,
  readWindowSpec,
  readWindowStepRows,
  StepAlreadyCompleted,
  stepOrder,
} from './ledger/index.js';
import { countStagedRows, dropStagingTables, type StagingKind } from './staging.js';
import type { StepDeps, StepFunction, StepInput, StepOutcome } from './steps/context.js';
import { extractWindow } from './steps/extract.js';
import { loadWindow } from './steps/load.js';
import {
  extractKeyListing,
  transformKeyListing,
  validateKeyListing,
} from './steps/reconcile-listing.js';
import { loadReconciliation } from './steps/reconcile-load.js';
import { transformWindow } from './steps/transform.js';
import { validateWindow } from './steps/validate.js';

export const stepFunctions: Record<StepName, StepFunction> = {
  extract: extractWindow,
  validate: validateWindow,
  transform: transformWindow,
  load: loadWindow,
};

/** A reconciliation's steps: a key listing through the same four steps and staging tables. */
export const reconcileStepFunctions: Record<StepName, StepFunction> = {
  extract: extractKeyListing,
  validate: validateKeyListing,
  transform: transformKeyListing,
  load: loadReconciliation,
};

function stepFunctionsOf(mode: RunMode): Record<StepName, StepFunction> {
  return mode === 'reconcile' ? reconcileStepFunctions : stepFunctions;
}

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
  /**
   * Told of a failure before it is recorded: an in-process run stops its other windows here, so
   * none of them begins a step after the ledger shows this one failed.
   */
  onFailure?: (error: unknown) => void;
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
  const state = await readStepState(deps.pool, runId, windowIndex, previous);
  if (state !== 'completed') {
    throw new UserError(
      'step.out_of_order',
      `${step} of window ${windowIndex} of run ${runId} cannot run before ${previous}, which is ${state ?? 'missing'}; retry the failed ${previous} instead`,
    );
  }
}

/** The staging tables each step reads, and the step that writes each. */
const reads: Record<StepName, StagingKind[]> = {
  extract: [],
  validate: ['raw'],
  transform: ['raw', 'skip'],
  // The keys the source served: what a window read marks deleted is judged by them.
  load: ['clean', 'keys'],
};
const writtenBy: Record<StagingKind, StepName> = {
  raw: 'extract',
  keys: 'validate',
  skip: 'validate',
  clean: 'transform',
};

/**
 * Staging is unlogged: a PostgreSQL crash empties it while the ledger still says the steps that
 * wrote it completed. Before a step reads its input, the rows there are checked against what the
 * ledger says was written; if any are gone, the steps from the earliest loss up to this one run
 * again (from the source, when raw rows were lost), so nothing is lost and nothing is stale.
 */
async function restoreLostStaging(step: StepName, deps: StepDeps, input: StepInput): Promise<void> {
  if (reads[step].length === 0) return;
  const { runId, windowIndex } = input.spec;
  const rows = await readWindowStepRows(deps.pool, runId, windowIndex);
  const recorded = (name: StepName) =>
    rows.find((row) => row.step === name) ?? { rowsIn: 0, rowsOut: 0 };
  const expected: Record<StagingKind, number> = {
    raw: recorded('extract').rowsOut ?? 0,
    keys: recorded('validate').rowsIn ?? 0,
    skip: (recorded('validate').rowsIn ?? 0) - (recorded('validate').rowsOut ?? 0),
    clean: recorded('transform').rowsOut ?? 0,
  };
  const client = await deps.pool.connect();
  const lost: StagingKind[] = [];
  try {
    const check = async (kind: StagingKind) => {
      if ((await countStagedRows(client, kind, runId, windowIndex)) !== expected[kind])
        lost.push(kind);
    };
    for (const kind of reads[step]) await check(kind);
    // Rebuilding a table needs what its writer reads: clean needs raw and skip, keys needs raw.
    for (const kind of [...lost]) {
      for (const needed of reads[writtenBy[kind]]) if (!lost.includes(needed)) await check(needed);
    }
  } finally {
    client.release();
  }
  if (lost.length === 0) return;
  const from = Math.min(...lost.map((kind) => stepOrder.indexOf(writtenBy[kind])));
  const redo = stepOrder.slice(from, stepOrder.indexOf(step));
  deps.log.warn(
    { runId, windowIndex, step, lost, redo },
    'staging rows were lost (PostgreSQL restarted?); rebuilding them',
  );
  const steps = stepFunctionsOf(input.spec.mode);
  for (const name of redo) await steps[name](deps, { ...input, redo: true });
}

async function dropWindowStaging(
  deps: StepDeps,
  runId: number,
  windowIndex: number,
): Promise<void> {
  const client = await deps.pool.connect();
  try {
    await dropStagingTables(client, runId, windowIndex);
  } finally {
    client.release();
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
    const pipeline = getDatasetPipeline(spec.dataset);
    await restoreLostStaging(step, deps, {
      spec,
      pipeline,
      ...(options.signal && { signal: options.signal }),
    });
    const outcome = await stepFunctionsOf(spec.mode)[step](deps, {
      spec,
      pipeline,
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
    if (isDatabaseUnavailable(error)) {
      // A database restart is waited out here, not spent on attempts: the step's retries would
      // all fail while the server is away, and its failure could not even be recorded, leaving
      // the ledger saying `running` for a run the queue had given up.
      deps.log.warn(
        { runId, windowIndex, step, error: describeError(error) },
        'the database is unavailable; waiting for it before this step is retried',
      );
      await waitForDatabase(deps.pool, {
        timeoutMs: databaseWaitMs,
        ...(options.signal && { signal: options.signal }),
      });
    }
    if (isUserError(error) && error.code === 'load.delete_guard') {
      // The staged answer is what looked like a fault at the source: a retry must read the
      // window again (restoreLostStaging rebuilds it from the source), not judge the same rows.
      await dropWindowStaging(deps, runId, windowIndex).catch((dropError: unknown) =>
        deps.log.error({ err: dropError, runId, windowIndex }, 'could not drop the staged window'),
      );
    }
    options.onFailure?.(error);
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
