import type pg from 'pg';

/** The ledger's aggregates behind /metrics: a handful per scrape, no row lists. */

export interface DurationBucketRow {
  bucket: number;
  count: number;
  sumMs: number;
}

export interface LedgerAggregates {
  runDurations: (DurationBucketRow & { dataset: string; mode: string; state: string })[];
  stepDurations: (DurationBucketRow & { step: string; state: string })[];
  runs: {
    dataset: string;
    state: string;
    runs: number;
    inserted: number;
    updated: number;
    unchanged: number;
    rejected: number;
  }[];
  lastSuccess: { dataset: string; at: number }[];
}

/**
 * Durations counted by PostgreSQL into `width_bucket` buckets over whole milliseconds: the
 * thresholds are the caller's (runs' and steps' differ).
 */
export async function readLedgerAggregates(
  pool: pg.Pool,
  thresholds: { runMs: number[]; stepMs: number[] },
): Promise<LedgerAggregates> {
  const [runDurations, stepDurations, runs, lastSuccess] = await Promise.all([
    pool.query<LedgerAggregates['runDurations'][number]>(
      `select dataset, mode::text as mode, state::text as state, width_bucket(ms, $1::bigint[]) as bucket,
              count(*)::int as count, sum(ms)::float8 as "sumMs"
         from (select dataset, mode, state,
                      (extract(epoch from ended_at - coalesce(started_at, created_at)) * 1000)::bigint as ms
                 from pipeline_runs where ended_at is not null) finished
        group by 1, 2, 3, 4`,
      [thresholds.runMs],
    ),
    pool.query<LedgerAggregates['stepDurations'][number]>(
      `select step::text as step, state::text as state, width_bucket(duration_ms, $1::int[]) as bucket,
              count(*)::int as count, sum(duration_ms)::float8 as "sumMs"
         from pipeline_steps where duration_ms is not null
        group by 1, 2, 3`,
      [thresholds.stepMs],
    ),
    pool.query<LedgerAggregates['runs'][number]>(
      `select dataset, state::text as state, count(*)::int as runs,
              sum(rows_inserted)::float8 as inserted, sum(rows_updated)::float8 as updated,
              sum(rows_unchanged)::float8 as unchanged, sum(rows_rejected)::float8 as rejected
         from pipeline_runs group by 1, 2`,
    ),
    pool.query<{ dataset: string; at: number }>(
      `select dataset, extract(epoch from last_success_at)::float8 as at from sync_state where last_success_at is not null`,
    ),
  ]);
  return {
    runDurations: runDurations.rows,
    stepDurations: stepDurations.rows,
    runs: runs.rows,
    lastSuccess: lastSuccess.rows,
  };
}
