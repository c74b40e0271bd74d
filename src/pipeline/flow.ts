/**
 * The flow, read this first. A run syncs one dataset: window mode cuts a date range into windows
 * (backfills); incremental mode takes one window of everything changed since the cursor;
 * reconcile mode takes one window of the whole dataset's keys, to notice removals. Each
 * window is a chain of four steps, extract → validate → transform → load (src/pipeline/steps/),
 * that pass rows through PostgreSQL staging tables and ids and counts through everything else.
 *
 * The same steps run two ways: here, in-process and in order (`cpd sync`), or as BullMQ jobs on
 * workers (src/queue/). Either way the ledger (ledger.ts) records the run, its steps, their counts
 * and errors, and a step's completion commits with its effects.
 */
import type pg from 'pg';
import type { RunTrigger, StepName } from '../db/schema/enums.js';
import { refreshAnalytics } from '../db/refresh-analytics.js';
import { UserError } from '../errors.js';
import type { DatasetPipeline } from './target.js';
import {
  completeRunIfDone,
  createRun,
  failRun,
  readRunTotals,
  readRunTrigger,
  readSyncCursor,
  recordLastSuccess,
  stepOrder,
  type RunRecord,
  type RunRequest,
} from './ledger/index.js';
import { runStep } from './run-step.js';
import type { StepDeps } from './steps/context.js';
import { dropRunStaging } from './staging.js';
import { lookBackFrom, planDateWindows, type WindowSize } from './windows.js';

export type RunPlan =
  | {
      mode: 'window';
      from: string;
      to: string;
      windowSize: WindowSize;
      /** Confirms that window reads may mark more than DELETE_GUARD of a window deleted. */
      allowDeletes?: boolean;
    }
  | { mode: 'incremental'; lookbackHours: number }
  | {
      /** A key-only listing of the whole dataset; marks deleted what we hold and it lacks. */
      mode: 'reconcile';
      /** Confirms that it may mark more than DELETE_GUARD of the rows we hold deleted. */
      allowDeletes?: boolean;
    };

/** The key under which at most one run is active: the same request while it runs gets that run. */
export function dedupeKeyOf(datasetId: string, plan: RunPlan): string {
  if (plan.mode === 'window')
    return `${datasetId}|window|${plan.from}|${plan.to}|${plan.windowSize}`;
  return `${datasetId}|${plan.mode}`;
}

/**
 * What to ask the ledger for: windows from the plan, the cursor (minus look-back) for incremental,
 * one window of the whole dataset for a reconciliation.
 */
export async function planRun(
  pool: pg.Pool,
  pipeline: DatasetPipeline,
  plan: RunPlan,
  trigger: RunTrigger,
): Promise<RunRequest> {
  const dataset = pipeline.source.id;
  const dedupeKey = dedupeKeyOf(dataset, plan);
  if (plan.mode === 'reconcile') {
    // One window, the whole dataset: the listing's chain is the same four steps.
    return {
      dataset,
      mode: 'reconcile',
      trigger,
      dedupeKey,
      ...(plan.allowDeletes && { allowDeletes: true }),
      windows: [{ index: 0 }],
    };
  }
  if (plan.mode === 'window') {
    return {
      dataset,
      mode: 'window',
      trigger,
      dedupeKey,
      rangeFrom: `${plan.from}T00:00:00`,
      rangeTo: `${plan.to}T00:00:00`,
      windowSize: plan.windowSize,
      ...(plan.allowDeletes && { allowDeletes: true }),
      windows: planDateWindows(plan.from, plan.to, plan.windowSize),
    };
  }
  const cursorFrom = lookBackFrom(await readSyncCursor(pool, dataset), plan.lookbackHours);
  return {
    dataset,
    mode: 'incremental',
    trigger,
    dedupeKey,
    ...(cursorFrom && { cursorFrom }),
    windows: [{ index: 0 }],
  };
}

export interface InProcessHooks {
  onStep?: (event: { windowIndex: number; windowCount: number; step: StepName }) => void;
  onProgress?: (event: { windowIndex: number; rows: number }) => void;
  onWindowDone?: (event: { windowIndex: number; windowCount: number }) => void;
}

/**
 * Runs a run's windows here, `concurrency` at a time (each window's steps in order), as workers
 * on the queue would: while one window's load holds PostgreSQL, another's extract or transform
 * keeps this process busy. Loads of one dataset still take turns (the load's advisory lock).
 * A failed step fails the run (the ledger records where and why): no further step starts, the
 * steps already running finish, and the error is rethrown; windows loaded before it stay loaded,
 * each being its own transaction.
 */
export async function runInProcess(
  deps: StepDeps,
  run: RunRecord,
  hooks: InProcessHooks = {},
  concurrency = 1,
): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  async function lane(): Promise<void> {
    while (!failure && next < run.windowCount) {
      const windowIndex = next++;
      for (const step of stepOrder) {
        if (failure) return;
        hooks.onStep?.({ windowIndex, windowCount: run.windowCount, step });
        try {
          await runStep(step, deps, {
            runId: run.id,
            windowIndex,
            isFinalFailure: () => true,
            onFailure: (error) => (failure ??= { error }),
            ...(hooks.onProgress && {
              onProgress: (rows: number) => hooks.onProgress?.({ windowIndex, rows }),
            }),
          });
        } catch (error) {
          failure ??= { error };
          return;
        }
      }
      hooks.onWindowDone?.({ windowIndex, windowCount: run.windowCount });
    }
  }
  const lanes = Math.max(1, Math.min(concurrency, run.windowCount));
  await Promise.all(Array.from({ length: lanes }, lane));
  if (failure) throw failure.error;
  await finishRun(deps, run.id);
}

/**
 * After a run's last step: marks it completed when every step is, records the dataset's last
 * successful sync, refreshes the dashboards' materialised views. Idempotent; returns whether the
 * run is completed.
 */
export async function finishRun(
  deps: Pick<StepDeps, 'pool' | 'log'>,
  runId: number,
): Promise<boolean> {
  const completedNow = await completeRunIfDone(deps.pool, runId);
  const totals = await readRunTotals(deps.pool, runId);
  if (totals.state !== 'completed') return false;
  if (completedNow) {
    await recordLastSuccess(deps.pool, runId);
    await dropStagingOf(deps.pool, runId);
  }
  await refreshAnalytics(deps.pool);
  return true;
}

async function dropStagingOf(pool: pg.Pool, runId: number): Promise<void> {
  const client = await pool.connect();
  try {
    await dropRunStaging(client, runId);
  } finally {
    client.release();
  }
}

/**
 * In-process runs hold a session advisory lock on their run for as long as they run, so another
 * process can tell a live one from one whose process died (the lock is free): that one is marked
 * crashed and no longer blocks its dedupe key.
 */
export async function claimInProcessRun(
  pool: pg.Pool,
  request: RunRequest,
): Promise<{ run: RunRecord; lock: pg.PoolClient }> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const { run, created } = await createRun(pool, request);
    const lock = await pool.connect();
    const { rows } = await lock.query<{ locked: boolean }>(
      'select pg_try_advisory_lock($1, $2) as locked',
      [inProcessLockSpace, run.id],
    );
    if (created && rows[0]?.locked) return { run, lock };
    if (!rows[0]?.locked) {
      lock.release();
      throw new UserError(
        'run.active',
        `run ${run.id} for the same ${describeScope(request)} is already running in another process; wait for it to finish (a second one is not started)`,
      );
    }
    // Free lock on an existing active run: either its process died, or it is a queue run.
    const trigger = await readRunTrigger(pool, run.id);
    await lock.query('select pg_advisory_unlock($1, $2)', [inProcessLockSpace, run.id]);
    lock.release();
    if (trigger !== 'cli') {
      throw new UserError(
        'run.active',
        `run ${run.id} for the same ${describeScope(request)} is active on the job queue; follow it with the HTTP API (GET /api/runs/${run.id}) or wait for it to finish`,
      );
    }
    await failRun(pool, run.id, 'crashed', 'the process running it stopped before it finished');
    await dropStagingOf(pool, run.id);
  }
  throw new UserError(
    'run.active',
    'could not start a run: another process keeps starting the same one',
  );
}

function describeScope(request: RunRequest): string {
  if (request.mode === 'window') return 'range';
  return request.mode === 'reconcile' ? 'dataset (a reconciliation)' : 'dataset';
}

/** Advisory lock namespace (first key) for in-process run ownership. */
const inProcessLockSpace = 4_243_117;

export async function releaseInProcessRun(lock: pg.PoolClient, runId: number): Promise<void> {
  await lock
    .query('select pg_advisory_unlock($1, $2)', [inProcessLockSpace, runId])
    .catch(() => undefined);
  lock.release();
}
