import type pg from 'pg';
import type { RunPlan } from '../../src/pipeline/flow.js';
import type { RunTotals } from '../../src/pipeline/ledger/index.js';
import { compareWithTruth, countDoubleInserts } from './compare.js';
import type { Stage } from './stage.js';
import { computeTruth, countRejected } from './truth.js';

/** What one trial of a scenario did and found. */
export interface TrialResult {
  /** What was done, e.g. `SIGKILL in validate of window 1, +140 ms`. */
  label: string;
  /** Failures injected (kills, restarts, faulty answers, bad rows...). */
  faults: number;
  lost: number;
  duplicates: number;
  stale: number;
  unexpected: number;
  /** Rows marked deleted whose id the source still serves, or removed rows physically gone. */
  wronglyDeleted: number;
  /** Rows the source removed before the last complete read of their window, not marked deleted. */
  wronglyKept: number;
  /** From the fault to the moment the work it interrupted was committed again. */
  recoveryMs?: number;
  /** Every check that did not hold; empty when the trial passed. */
  problems: string[];
  /** What the ledger says of the runs (steps not completed first time, with their errors). */
  ledger: string;
}

export interface StepKey {
  runId: number;
  windowIndex: number;
  step: string;
}

/** The steps the ledger shows running now. */
export async function findRunningSteps(
  pool: pg.Pool,
  runIds: readonly number[],
): Promise<StepKey[]> {
  const { rows } = await pool.query<StepKey>(
    `select run_id::int as "runId", window_index as "windowIndex", step::text
       from pipeline_steps where run_id = any($1::bigint[]) and state = 'running'`,
    [runIds],
  );
  return rows;
}

/**
 * The recovery time of a fault at `faultAt` (epoch ms): until every step that was running then
 * has completed again; with none running, until the runs ended.
 */
export async function measureRecovery(
  pool: pg.Pool,
  interrupted: readonly StepKey[],
  faultAt: number,
  runs: readonly RunTotals[],
): Promise<number | undefined> {
  if (interrupted.length === 0) {
    const { rows } = await pool.query<{ ended: number | null }>(
      `select (extract(epoch from max(ended_at)) * 1000)::float8 as ended from pipeline_runs where id = any($1::bigint[])`,
      [runs.map((run) => run.id)],
    );
    const ended = rows[0]?.ended;
    return ended == null ? undefined : Math.max(0, ended - faultAt);
  }
  const { rows } = await pool.query<{ ended: number | null; open: number }>(
    `select (extract(epoch from max(s.ended_at)) * 1000)::float8 as ended,
            count(*) filter (where s.state <> 'completed')::int as open
       from pipeline_steps s
       join unnest($1::bigint[], $2::int[], $3::step_name[]) as k(run_id, window_index, step)
         on s.run_id = k.run_id and s.window_index = k.window_index and s.step = k.step`,
    [
      interrupted.map((step) => step.runId),
      interrupted.map((step) => step.windowIndex),
      interrupted.map((step) => step.step),
    ],
  );
  const { ended, open } = rows[0]!;
  return open > 0 || ended == null ? undefined : Math.max(0, ended - faultAt);
}

export interface CheckOptions {
  runIds: readonly number[];
  runs: readonly RunTotals[];
  /** The plan whose rows the table must end up with (the widest of the trial's runs). */
  plan: RunPlan;
  /** Rows the table held before the trial's runs. */
  heldBefore: number;
  /** Steps interrupted by the fault: the ledger must show each ran more than once, or had committed. */
  interrupted?: readonly StepKey[];
  faultAt?: number;
  /**
   * Until when (epoch ms) an interrupted step could still commit at its first attempt: a fast
   * shutdown of PostgreSQL lets a commit already under way finish. `faultAt` when unset.
   */
  settledAt?: number;
  /** Ids the table held that the source has removed since (and not served again). */
  removed?: ReadonlySet<string>;
  /** Ids the table held that the source removed while the runs read it: marked or not. */
  pending?: ReadonlySet<string>;
  /**
   * The source changed while the runs read it (removals mid-run): a run then counts the rows it
   * saw, which need not be the rows the source serves now.
   */
  sourceChangedDuringRuns?: boolean;
}

/**
 * After a trial: the table against the source's truth (lost, duplicated, stale, unexpected,
 * wrongly deleted and wrongly kept must all be 0), and the ledger against what happened (run states, counts, attempts).
 */
export async function checkTrial(
  stage: Stage,
  options: CheckOptions,
): Promise<Omit<TrialResult, 'label' | 'faults' | 'recoveryMs'>> {
  const problems: string[] = [...stage.fleet.takeCrashes()];
  const served = await stage.servedRows(options.plan);
  const truth = computeTruth(served);
  for (const run of options.runs) {
    if (run.state !== 'completed')
      problems.push(`run ${run.id} ended ${run.state}, not completed: ${run.error ?? ''}`);
  }
  const completed = options.runs.every((run) => run.state === 'completed');
  const comparison = await compareWithTruth(stage.pool, truth, options.removed, options.pending);
  const doubled = await countDoubleInserts(stage.pool, options.runIds, options.heldBefore);
  if (comparison.examples.length > 0)
    problems.push(`differs from the source: ${comparison.examples.join(', ')}`);
  if (doubled > 0) problems.push(`the runs recorded ${doubled} more inserts than the table gained`);

  if (completed) {
    const { rows: open } = await stage.pool.query<{ count: number }>(
      `select count(*)::int as count from pipeline_steps where run_id = any($1::bigint[]) and state <> 'completed'`,
      [options.runIds],
    );
    if (open[0]!.count > 0)
      problems.push(`${open[0]!.count} steps of completed runs are not completed`);
    // Each run read the whole range once, so it counted every row the source serves, once.
    for (const run of options.sourceChangedDuringRuns ? [] : options.runs) {
      if (run.rowsExtracted !== truth.served)
        problems.push(
          `run ${run.id} counted ${run.rowsExtracted} rows extracted; the source served ${truth.served}`,
        );
      if (run.rowsRejected !== countRejected(truth))
        problems.push(
          `run ${run.id} counted ${run.rowsRejected} rows rejected; ${countRejected(truth)} are invalid`,
        );
    }
  }
  if (options.interrupted && options.interrupted.length > 0 && options.faultAt !== undefined) {
    // A step interrupted before it committed ran again, and its attempts say so.
    const { rows } = await stage.pool.query<{ label: string }>(
      `select format('w%s %s', s.window_index, s.step) as label
         from pipeline_steps s
         join unnest($1::bigint[], $2::int[], $3::step_name[]) as k(run_id, window_index, step)
           on s.run_id = k.run_id and s.window_index = k.window_index and s.step = k.step
        where s.attempts < 2 and s.ended_at > to_timestamp($4::float8 / 1000)`,
      [
        options.interrupted.map((step) => step.runId),
        options.interrupted.map((step) => step.windowIndex),
        options.interrupted.map((step) => step.step),
        options.settledAt ?? options.faultAt,
      ],
    );
    for (const row of rows)
      problems.push(`the ledger shows ${row.label} completed after the fault at its first attempt`);
  }
  return {
    lost: comparison.lost,
    duplicates: comparison.duplicates + doubled,
    stale: comparison.stale,
    unexpected: comparison.unexpected,
    wronglyDeleted: comparison.wronglyDeleted,
    wronglyKept: comparison.wronglyKept,
    problems,
    ledger: await stage.describeRuns(options.runIds),
  };
}
