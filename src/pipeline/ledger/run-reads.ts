import type pg from 'pg';
import type { RunMode, RunState, RunTrigger, StepName } from '../../db/schema/enums.js';
import { getDatasetPipeline } from '../datasets.js';
import { stepOrder } from './step-order.js';

/** The ledger reads behind the runs endpoints and the CLI's summary. */

/**
 * A run row as the ledger reads it: what the API, the dashboard and the CLI describe of a run
 * take their fields from this one type.
 */
export interface RunRow {
  id: number;
  dataset: string;
  mode: RunMode;
  trigger: RunTrigger;
  state: RunState;
  rangeFrom: string | null;
  rangeTo: string | null;
  windowSize: string | null;
  cursorFrom: string | null;
  cursorTo: string | null;
  windowCount: number;
  stepsCompleted: number;
  rowsExtracted: number;
  rowsRejected: number;
  rowsDuplicate: number;
  rowsInserted: number;
  rowsUpdated: number;
  rowsUnchanged: number;
  rowsDeleted: number;
  rowsRestored: number;
  sourceFieldsAdded: string[] | null;
  error: string | null;
  createdAt: Date;
  startedAt: Date | null;
  endedAt: Date | null;
  durationMs: number | null;
}

/** What a runs list shows of a run (the detail adds the cursor's end and the drift). */
export type RunListRow = Omit<RunRow, 'cursorTo' | 'sourceFieldsAdded'>;

/** A step row as the runs endpoints read it. */
export interface StepRow {
  windowIndex: number;
  windowStart: string | null;
  windowEnd: string | null;
  step: StepName;
  state: RunState;
  attempts: number;
  rowsIn: number | null;
  rowsOut: number | null;
  counts: Record<string, number> | null;
  error: string | null;
  jobId: string | null;
  startedAt: Date | null;
  endedAt: Date | null;
  durationMs: number | null;
}

const runColumns = `
  r.id::int as id, r.dataset, r.mode, r.trigger, r.state,
  to_char(r.range_from, 'YYYY-MM-DD') as "rangeFrom", to_char(r.range_to, 'YYYY-MM-DD') as "rangeTo",
  r.window_size as "windowSize", r.cursor_from as "cursorFrom", r.window_count as "windowCount",
  -- A completed run completed every step (completeRunIfDone requires it): no need to count them.
  case when r.state = 'completed' then r.window_count * ${stepOrder.length}
       else (select count(*) from pipeline_steps s where s.run_id = r.id and s.state = 'completed')::int end as "stepsCompleted",
  r.rows_extracted as "rowsExtracted", r.rows_rejected as "rowsRejected", r.rows_duplicate as "rowsDuplicate",
  r.rows_inserted as "rowsInserted", r.rows_updated as "rowsUpdated", r.rows_unchanged as "rowsUnchanged",
  r.rows_deleted as "rowsDeleted", r.rows_restored as "rowsRestored",
  r.error, r.created_at as "createdAt", r.started_at as "startedAt", r.ended_at as "endedAt",
  case when r.started_at is null then null
       else round(extract(epoch from coalesce(r.ended_at, now()) - r.started_at) * 1000)::float8 end as "durationMs"`;

/**
 * Newest first, one page (keyset: ids only grow, so `id < before` is the next page whatever was
 * added meanwhile). One row more than asked tells whether another page follows.
 */
export async function listRuns(
  pool: pg.Pool,
  options: {
    limit: number;
    state?: RunState | undefined;
    before?: number | undefined;
    /** Short name or Socrata id. */
    dataset?: string | undefined;
  },
): Promise<{ rows: RunListRow[]; more: boolean }> {
  const { rows } = await pool.query<RunListRow>({
    // Named: prepared once per connection, so the busiest read skips planning.
    name: 'cpd-list-runs',
    text: `select ${runColumns}
             from pipeline_runs r
            where ($1::run_state is null or r.state = $1) and ($2::bigint is null or r.id < $2)
              and ($4::text is null or r.dataset = $4)
            order by r.id desc
            limit $3`,
    values: [
      options.state ?? null,
      options.before ?? null,
      options.limit + 1,
      options.dataset === undefined ? null : getDatasetPipeline(options.dataset).source.id,
    ],
  });
  return { rows: rows.slice(0, options.limit), more: rows.length > options.limit };
}

export interface RunDetailRows {
  run: RunRow;
  steps: StepRow[];
  rejected: { reason: string; count: number }[];
}

export async function readRunDetail(
  pool: pg.Pool,
  runId: number,
): Promise<RunDetailRows | undefined> {
  const [runs, steps, rejected] = await Promise.all([
    pool.query<RunDetailRows['run']>(
      `select ${runColumns}, r.cursor_to as "cursorTo", r.source_fields_added as "sourceFieldsAdded"
         from pipeline_runs r where r.id = $1`,
      [runId],
    ),
    pool.query<StepRow>(
      `select window_index as "windowIndex",
              to_char(window_start, 'YYYY-MM-DD"T"HH24:MI:SS') as "windowStart",
              to_char(window_end, 'YYYY-MM-DD"T"HH24:MI:SS') as "windowEnd",
              step, state, attempts, rows_in as "rowsIn", rows_out as "rowsOut", counts, error,
              job_id as "jobId", started_at as "startedAt", ended_at as "endedAt", duration_ms as "durationMs"
         from pipeline_steps where run_id = $1`,
      [runId],
    ),
    pool.query<{ reason: string; count: number }>(
      `select reason, count(*)::int as count from rejected_records where run_id = $1
        group by reason order by count(*) desc, reason`,
      [runId],
    ),
  ]);
  const run = runs.rows[0];
  if (!run) return undefined;
  return { run, steps: steps.rows, rejected: rejected.rows };
}
