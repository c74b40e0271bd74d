import type pg from 'pg';
import type { RunMode, RunState, RunTrigger, StepName } from '../../db/schema/enums.js';
import type { StepCounts } from '../../db/schema/pipeline-steps.js';
import { describeError } from '../../errors.js';
import type { RunRow } from './run-reads.js';
import { stepOrder } from './step-order.js';

/**
 * The run ledger in PostgreSQL: runs and their step rows, with Prefect-like states. Whoever runs a
 * step (the in-process flow or a queue worker) records it here; a step's "completed" is written
 * in the same transaction as its effects, so a step re-delivered after it committed sees that and
 * does nothing twice.
 */

export { stepOrder, stepsOfRun } from './step-order.js';
export * from './run-reads.js';
export * from './aggregates.js';

export interface PlannedWindow {
  index: number;
  start?: string;
  end?: string;
}

export interface RunRequest {
  dataset: string;
  mode: RunMode;
  trigger: RunTrigger;
  dedupeKey: string;
  rangeFrom?: string;
  rangeTo?: string;
  windowSize?: string;
  cursorFrom?: string;
  /** The user confirmed that window reads may mark more than DELETE_GUARD of a window deleted. */
  allowDeletes?: boolean;
  windows: PlannedWindow[];
}

/** A run as creating it returns it. */
export type RunRecord = Pick<
  RunRow,
  'id' | 'dataset' | 'mode' | 'state' | 'cursorFrom' | 'windowCount'
>;

/**
 * Creates a run and its step rows, unless a run with the same dedupe key is active: then that run
 * is returned with `created: false`. A partial unique index makes this hold across processes.
 */
export async function createRun(
  pool: pg.Pool,
  request: RunRequest,
): Promise<{ run: RunRecord; created: boolean }> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    const inserted = await client.query<RunRecord>(
      `insert into pipeline_runs (dataset, mode, trigger, state, dedupe_key, range_from, range_to, window_size, cursor_from, window_count, allow_deletes)
       values ($1, $2, $3, 'scheduled', $4, $5, $6, $7, $8, $9, $10)
       on conflict (dedupe_key) where state in ('scheduled', 'pending', 'running', 'retrying') do nothing
       returning id::int, dataset, mode, state, cursor_from as "cursorFrom", window_count as "windowCount"`,
      [
        request.dataset,
        request.mode,
        request.trigger,
        request.dedupeKey,
        request.rangeFrom ?? null,
        request.rangeTo ?? null,
        request.windowSize ?? null,
        request.cursorFrom ?? null,
        request.windows.length,
        request.allowDeletes ?? false,
      ],
    );
    const run = inserted.rows[0];
    if (!run) {
      await client.query('rollback');
      const active = await findActiveRun(client, request.dedupeKey);
      if (active) return { run: active, created: false };
      // The active run ended between our insert and our look; try again.
      return await createRun(pool, request);
    }
    await client.query(
      `insert into pipeline_steps (run_id, window_index, window_start, window_end, step)
       select $1, w.index, w.start_at, w.end_at, s.step
         from unnest($2::int[], $3::timestamp[], $4::timestamp[]) as w(index, start_at, end_at)
         cross join unnest($5::step_name[]) with ordinality as s(step, position)
        order by w.index, s.position`,
      [
        run.id,
        request.windows.map((window) => window.index),
        request.windows.map((window) => window.start ?? null),
        request.windows.map((window) => window.end ?? null),
        stepOrder,
      ],
    );
    await client.query('commit');
    return { run, created: true };
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

async function findActiveRun(
  client: pg.ClientBase,
  dedupeKey: string,
): Promise<RunRecord | undefined> {
  const { rows } = await client.query<RunRecord>(
    `select id::int, dataset, mode, state, cursor_from as "cursorFrom", window_count as "windowCount"
       from pipeline_runs
      where dedupe_key = $1 and state in ('scheduled', 'pending', 'running', 'retrying')`,
    [dedupeKey],
  );
  return rows[0];
}

export interface WindowSpec {
  runId: number;
  dataset: string;
  mode: RunMode;
  cursorFrom: string | null;
  windowIndex: number;
  start: string | null;
  end: string | null;
  /** Carried on the run, so every step of it sees the user's confirmation wherever it runs. */
  allowDeletes: boolean;
}

/** What a step needs to know about its window, read from the ledger (jobs carry only ids). */
export async function readWindowSpec(
  pool: pg.Pool,
  runId: number,
  windowIndex: number,
): Promise<WindowSpec> {
  const { rows } = await pool.query<WindowSpec>(
    `select r.id::int as "runId", r.dataset, r.mode, r.cursor_from as "cursorFrom", s.window_index as "windowIndex", r.allow_deletes as "allowDeletes",
            to_char(s.window_start, 'YYYY-MM-DD"T"HH24:MI:SS.MS') as start,
            to_char(s.window_end, 'YYYY-MM-DD"T"HH24:MI:SS.MS') as end
       from pipeline_runs r join pipeline_steps s on s.run_id = r.id
      where r.id = $1 and s.window_index = $2 and s.step = 'extract'`,
    [runId, windowIndex],
  );
  const spec = rows[0];
  if (!spec) throw new Error(`no window ${windowIndex} in run ${runId}`);
  return spec;
}

export interface StepRecord {
  state: RunState;
  counts: StepCounts | null;
  rowsIn: number | null;
  rowsOut: number | null;
  attempts: number;
}

/**
 * Marks a step running (one more attempt) and its run running, unless the step already completed:
 * then returns its record so the caller can skip the work.
 */
export async function beginStep(
  pool: pg.Pool,
  runId: number,
  windowIndex: number,
  step: StepName,
  jobId?: string,
): Promise<StepRecord> {
  // A failed run comes back to life only when one of its failed steps is retried, not when a
  // step of another window that was already queued starts after the failure.
  const { rows } = await pool.query<StepRecord>(
    `with previous as (
       select state from pipeline_steps where run_id = $1 and window_index = $2 and step = $3 for update
     ), marked as (
       update pipeline_steps
          set state = case when state = 'completed' then state else 'running' end,
              attempts = case when state = 'completed' then attempts else attempts + 1 end,
              started_at = case when state = 'completed' then started_at else now() end,
              ended_at = case when state = 'completed' then ended_at else null end,
              error = case when state = 'completed' then error else null end,
              job_id = coalesce($4, job_id)
        where run_id = $1 and window_index = $2 and step = $3
        returning state, counts, rows_in as "rowsIn", rows_out as "rowsOut", attempts
     ), started as (
       update pipeline_runs
          set state = 'running', started_at = coalesce(started_at, now()), error = null, ended_at = null
        where id = $1
          and exists (select 1 from marked where state = 'running')
          and (state in ('scheduled', 'pending', 'retrying')
               or (state in ('failed', 'crashed') and (select state from previous) in ('failed', 'crashed')))
     )
     select * from marked`,
    [runId, windowIndex, step, jobId ?? null],
  );
  const record = rows[0];
  if (!record) throw new Error(`no ${step} step for window ${windowIndex} of run ${runId}`);
  return record;
}

/**
 * Thrown inside a step's transaction when another execution of the same step committed first (a
 * re-delivered job racing one that timed out or stalled): the transaction rolls back, so the work
 * counts once.
 */
export class StepAlreadyCompleted extends Error {
  override name = 'StepAlreadyCompleted';
}

/**
 * Records a step's success; call it inside the transaction that commits the step's effects.
 * (clock_timestamp, not now(): now() is when that transaction began.)
 */
export async function completeStep(
  client: pg.ClientBase,
  runId: number,
  windowIndex: number,
  step: StepName,
  outcome: { rowsIn: number; rowsOut: number; counts: StepCounts },
  redo = false,
): Promise<void> {
  // A redo (staging rebuilt for a later step) counts as one more attempt of a completed step.
  const { rowCount } = await client.query(
    `update pipeline_steps
        set state = 'completed', rows_in = $4, rows_out = $5, counts = $6, error = null, ended_at = clock_timestamp(),
            duration_ms = (extract(epoch from clock_timestamp() - started_at) * 1000)::int,
            attempts = attempts + case when $7 then 1 else 0 end
      where run_id = $1 and window_index = $2 and step = $3 and (state <> 'completed' or $7)`,
    [
      runId,
      windowIndex,
      step,
      outcome.rowsIn,
      outcome.rowsOut,
      JSON.stringify(outcome.counts),
      redo,
    ],
  );
  if (!rowCount)
    throw new StepAlreadyCompleted(
      `${step} of window ${windowIndex} of run ${runId} already completed`,
    );
}

/**
 * Records a step's failure. `final: false` means another attempt will follow (state `retrying`);
 * a final failure also fails the run.
 */
export async function failStep(
  pool: pg.Pool,
  runId: number,
  windowIndex: number,
  step: StepName,
  error: unknown,
  final: boolean,
): Promise<void> {
  const message = describeError(error);
  await pool.query(
    `with failed as (
       update pipeline_steps
          set state = $4, error = $5, ended_at = clock_timestamp(),
              duration_ms = (extract(epoch from clock_timestamp() - started_at) * 1000)::int
        where run_id = $1 and window_index = $2 and step = $3 and state <> 'completed'
     )
     update pipeline_runs
        set state = case when $6 then 'failed'::run_state else 'retrying'::run_state end,
            error = case when $6 then format('window %s, %s: %s', $2::int, $3::text, $5::text) else error end,
            ended_at = case when $6 then now() else ended_at end
      where id = $1
        and state not in ('completed', 'cancelled')
        -- a passing hiccup in one window does not hide that another failed for good
        and ($6 or state not in ('failed', 'crashed'))`,
    [runId, windowIndex, step, final ? 'failed' : 'retrying', message, final],
  );
}

/** Adds a window's load counts to its run; inside the load's transaction. */
export async function addRunCounts(
  client: pg.ClientBase,
  runId: number,
  counts: StepCounts,
): Promise<void> {
  await client.query(
    `update pipeline_runs
        set rows_extracted = rows_extracted + $2, rows_rejected = rows_rejected + $3,
            rows_duplicate = rows_duplicate + $4, rows_inserted = rows_inserted + $5,
            rows_updated = rows_updated + $6, rows_unchanged = rows_unchanged + $7,
            rows_deleted = rows_deleted + $8, rows_restored = rows_restored + $9
      where id = $1`,
    [
      runId,
      counts.extracted ?? 0,
      counts.rejected ?? 0,
      counts.duplicate ?? 0,
      counts.inserted ?? 0,
      counts.updated ?? 0,
      counts.unchanged ?? 0,
      counts.deleted ?? 0,
      counts.restored ?? 0,
    ],
  );
}

/** Records fields the source has that the definition does not (drift that is not fatal). */
export async function recordAddedFields(
  pool: pg.Pool,
  runId: number,
  fields: string[],
): Promise<void> {
  if (fields.length === 0) return;
  await pool.query(
    `update pipeline_runs
        set source_fields_added = (
          select jsonb_agg(distinct field order by field)
            from jsonb_array_elements_text(coalesce(source_fields_added, '[]'::jsonb) || $2::jsonb) as field)
      where id = $1`,
    [runId, JSON.stringify(fields)],
  );
}

/**
 * Ends a run as completed when every step of every window completed. Returns whether it did.
 */
export async function completeRunIfDone(pool: pg.Pool, runId: number): Promise<boolean> {
  const { rowCount } = await pool.query(
    `update pipeline_runs set state = 'completed', ended_at = now(), error = null
      where id = $1 and state <> 'completed'
        and not exists (select 1 from pipeline_steps where run_id = $1 and state <> 'completed')`,
    [runId],
  );
  return (rowCount ?? 0) > 0;
}

export async function failRun(
  pool: pg.Pool,
  runId: number,
  state: 'failed' | 'crashed' | 'cancelled',
  error: unknown,
): Promise<void> {
  await pool.query(
    `update pipeline_runs set state = $2, error = coalesce($3, error), ended_at = now()
      where id = $1 and state not in ('completed', 'cancelled')`,
    [runId, state, error === undefined ? null : describeError(error)],
  );
}

/** A run's outcome as the CLI's summary shows it (`durationMs` counts from its creation if it never started). */
export type RunTotals = Pick<
  RunRow,
  | 'id'
  | 'state'
  | 'windowCount'
  | 'rowsExtracted'
  | 'rowsRejected'
  | 'rowsDuplicate'
  | 'rowsInserted'
  | 'rowsUpdated'
  | 'rowsUnchanged'
  | 'rowsDeleted'
  | 'rowsRestored'
  | 'sourceFieldsAdded'
  | 'error'
  | 'durationMs'
>;

export async function readRunTotals(pool: pg.Pool, runId: number): Promise<RunTotals> {
  const { rows } = await pool.query<RunTotals>(
    `select id::int, state, window_count as "windowCount", rows_extracted as "rowsExtracted",
            rows_rejected as "rowsRejected", rows_duplicate as "rowsDuplicate", rows_inserted as "rowsInserted",
            rows_updated as "rowsUpdated", rows_unchanged as "rowsUnchanged",
            rows_deleted as "rowsDeleted", rows_restored as "rowsRestored",
            source_fields_added as "sourceFieldsAdded", error,
            (extract(epoch from coalesce(ended_at, now()) - coalesce(started_at, created_at)) * 1000)::float8 as "durationMs"
       from pipeline_runs where id = $1`,
    [runId],
  );
  if (!rows[0]) throw new Error(`no run ${runId}`);
  return rows[0];
}

export interface StepTotals {
  step: StepName;
  rowsIn: number;
  rowsOut: number;
  durationMs: number;
  windows: number;
  completed: number;
}

/** Per step, summed over the run's windows: what the summary table shows. */
export async function readStepTotals(pool: pg.Pool, runId: number): Promise<StepTotals[]> {
  const { rows } = await pool.query<StepTotals>(
    `select step, coalesce(sum(rows_in), 0)::int as "rowsIn", coalesce(sum(rows_out), 0)::int as "rowsOut",
            coalesce(sum(duration_ms), 0)::float8 as "durationMs", count(*)::int as windows,
            count(*) filter (where state = 'completed')::int as completed
       from pipeline_steps where run_id = $1 group by step order by step`,
    [runId],
  );
  return rows;
}

/** A run's state; `pending` when the row is not there (yet). */
export async function readRunState(pool: pg.Pool, runId: number): Promise<RunState> {
  const { rows } = await pool.query<{ state: RunState }>(
    'select state from pipeline_runs where id = $1',
    [runId],
  );
  return rows[0]?.state ?? 'pending';
}

/** Who started a run, or undefined when there is no such run. */
export async function readRunTrigger(
  pool: pg.Pool,
  runId: number,
): Promise<RunTrigger | undefined> {
  const owner = await pool.query<{ trigger: RunTrigger }>(
    'select trigger from pipeline_runs where id = $1',
    [runId],
  );
  return owner.rows[0]?.trigger;
}

/** What retrying a run needs to know of it, or undefined when there is no such run. */
export async function readRunForRetry(
  pool: pg.Pool,
  runId: number,
): Promise<{ state: string; windowCount: number; dataset: string } | undefined> {
  const { rows } = await pool.query<{ state: string; windowCount: number; dataset: string }>(
    'select state, window_count as "windowCount", dataset from pipeline_runs where id = $1',
    [runId],
  );
  return rows[0];
}

/** A run's flow was added to the queue: `scheduled` becomes `pending`. */
export async function markRunEnqueued(pool: pg.Pool, runId: number): Promise<void> {
  await pool.query(
    `update pipeline_runs set state = 'pending' where id = $1 and state = 'scheduled'`,
    [runId],
  );
}

/**
 * A failed run is retried: `scheduled` when its flow must be added again, `pending` when its
 * failed jobs were retried in place.
 */
export async function reopenRun(
  pool: pg.Pool,
  runId: number,
  state: 'scheduled' | 'pending',
): Promise<void> {
  await pool.query(
    state === 'scheduled'
      ? `update pipeline_runs set state = 'scheduled', error = null, ended_at = null where id = $1`
      : `update pipeline_runs set state = 'pending', error = null, ended_at = null where id = $1`,
    [runId],
  );
}

/** A run failed because its workers kept stopping: crashed, not failed. */
export async function markFailedRunCrashed(pool: pg.Pool, runId: number): Promise<void> {
  await pool.query(
    `update pipeline_runs set state = 'crashed' where id = $1 and state = 'failed'`,
    [runId],
  );
}

/** How many steps of a run have not completed. */
export async function countUnfinishedSteps(pool: pg.Pool, runId: number): Promise<number> {
  const { rows } = await pool.query<{ pending: number }>(
    `select count(*)::int as pending from pipeline_steps where run_id = $1 and state <> 'completed'`,
    [runId],
  );
  return rows[0]?.pending ?? 0;
}

/** A run's state, its completed steps and the rows it loaded: what a progress bar shows. */
export async function readRunProgress(
  pool: pg.Pool,
  runId: number,
): Promise<{ state: string; done: number; loaded: number } | undefined> {
  const { rows } = await pool.query<{ state: string; done: number; loaded: number }>(
    `select r.state, (select count(*)::int from pipeline_steps s where s.run_id = r.id and s.state = 'completed') as done,
            r.rows_inserted + r.rows_updated + r.rows_unchanged as loaded
       from pipeline_runs r where r.id = $1`,
    [runId],
  );
  return rows[0];
}

/** One step's state, or undefined when the window has no such step. */
export async function readStepState(
  pool: pg.Pool,
  runId: number,
  windowIndex: number,
  step: StepName,
): Promise<string | undefined> {
  const { rows } = await pool.query<{ state: string }>(
    'select state from pipeline_steps where run_id = $1 and window_index = $2 and step = $3',
    [runId, windowIndex, step],
  );
  return rows[0]?.state;
}

/** The rows each step of a window recorded reading and writing. */
export async function readWindowStepRows(
  pool: pg.Pool,
  runId: number,
  windowIndex: number,
): Promise<{ step: StepName; rowsIn: number | null; rowsOut: number | null }[]> {
  const { rows } = await pool.query<{
    step: StepName;
    rowsIn: number | null;
    rowsOut: number | null;
  }>(
    `select step, rows_in as "rowsIn", rows_out as "rowsOut" from pipeline_steps where run_id = $1 and window_index = $2`,
    [runId, windowIndex],
  );
  return rows;
}

/** The counts validate recorded for a window; inside the load's transaction. */
export async function readValidateCounts(
  client: pg.ClientBase,
  runId: number,
  windowIndex: number,
): Promise<StepCounts> {
  const { rows } = await client.query<{ counts: StepCounts | null }>(
    `select counts from pipeline_steps where run_id = $1 and window_index = $2 and step = 'validate'`,
    [runId, windowIndex],
  );
  return rows[0]?.counts ?? {};
}

/** The source stamp a dataset's incremental sync reached, or undefined before the first. */
export async function readSyncCursor(
  pool: pg.Pool,
  dataset: string,
): Promise<string | null | undefined> {
  const { rows } = await pool.query<{ cursor: string | null }>(
    'select cursor from sync_state where dataset = $1',
    [dataset],
  );
  return rows[0]?.cursor;
}

/**
 * Records a completed run as its dataset's last successful sync. A reconciliation is not one: it
 * reads keys, not content, so the data is no fresher for it.
 */
export async function recordLastSuccess(pool: pg.Pool, runId: number): Promise<void> {
  await pool.query(
    `insert into sync_state (dataset, last_run_id, last_success_at, updated_at)
     select dataset, id, now(), now() from pipeline_runs where id = $1 and mode <> 'reconcile'
     on conflict (dataset) do update set last_success_at = now(), last_run_id = excluded.last_run_id, updated_at = now()`,
    [runId],
  );
}

/**
 * Moves the dataset's cursor, and the run's `cursor_to`, to the highest stamp in the clean
 * staging table `clean` (a quoted name); never backwards. Inside the load's transaction.
 */
export async function advanceCursor(
  client: pg.ClientBase,
  dataset: string,
  runId: number,
  clean: string,
  cursorColumn: string,
): Promise<void> {
  await client.query(
    `insert into sync_state (dataset, cursor, last_run_id, updated_at)
     select $1, max("${cursorColumn}"), $2, now() from ${clean} having max("${cursorColumn}") is not null
     on conflict (dataset) do update
       set cursor = greatest(sync_state.cursor, excluded.cursor), last_run_id = excluded.last_run_id, updated_at = now()`,
    [dataset, runId],
  );
  await client.query(
    `update pipeline_runs set cursor_to = greatest(cursor_to, (select max("${cursorColumn}") from ${clean})) where id = $1`,
    [runId],
  );
}
