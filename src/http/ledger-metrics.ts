import type pg from 'pg';
import type { BucketGroup } from './ledger-histogram.js';

/** What /metrics reads from the ledger on each scrape: a handful of aggregates, no row lists. */

export interface LedgerSnapshot {
  runDurations: BucketGroup<'dataset' | 'mode' | 'state'>[];
  stepDurations: BucketGroup<'step' | 'state'>[];
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

/** Seconds. Runs take seconds to hours; steps, milliseconds to minutes. */
export const runDurationBuckets = [1, 5, 15, 30, 60, 120, 300, 600, 1_800, 3_600, 7_200];
export const stepDurationBuckets = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900];

/**
 * Thresholds for width_bucket over whole milliseconds: with `bound + 1`, a duration lands in the
 * first bucket whose bound it does not exceed (Prometheus's `le`), all counted by PostgreSQL.
 */
function thresholdsMs(bounds: number[]): number[] {
  return bounds.map((seconds) => Math.round(seconds * 1000) + 1);
}

interface BucketRow {
  bucket: number;
  count: number;
  sumMs: number;
}

function groupBuckets<Label extends string>(
  rows: (BucketRow & Record<Label, string>)[],
  labelNames: readonly Label[],
  bucketCount: number,
): BucketGroup<Label>[] {
  const groups = new Map<string, BucketGroup<Label>>();
  for (const row of rows) {
    const labels = Object.fromEntries(
      labelNames.map((name) => [name, row[name]]),
    ) as unknown as Record<Label, string>;
    const key = JSON.stringify(labels);
    let group = groups.get(key);
    if (!group)
      groups.set(
        key,
        (group = { labels, counts: new Array<number>(bucketCount + 1).fill(0), sum: 0 }),
      );
    group.counts[row.bucket] = (group.counts[row.bucket] ?? 0) + row.count;
    group.sum += row.sumMs / 1000;
  }
  return [...groups.values()];
}

export async function readLedgerSnapshot(pool: pg.Pool): Promise<LedgerSnapshot> {
  const [runDurations, stepDurations, runs, lastSuccess] = await Promise.all([
    pool.query<BucketRow & { dataset: string; mode: string; state: string }>(
      `select dataset, mode::text as mode, state::text as state, width_bucket(ms, $1::bigint[]) as bucket,
              count(*)::int as count, sum(ms)::float8 as "sumMs"
         from (select dataset, mode, state,
                      (extract(epoch from ended_at - coalesce(started_at, created_at)) * 1000)::bigint as ms
                 from pipeline_runs where ended_at is not null) finished
        group by 1, 2, 3, 4`,
      [thresholdsMs(runDurationBuckets)],
    ),
    pool.query<BucketRow & { step: string; state: string }>(
      `select step::text as step, state::text as state, width_bucket(duration_ms, $1::int[]) as bucket,
              count(*)::int as count, sum(duration_ms)::float8 as "sumMs"
         from pipeline_steps where duration_ms is not null
        group by 1, 2, 3`,
      [thresholdsMs(stepDurationBuckets)],
    ),
    pool.query<LedgerSnapshot['runs'][number]>(
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
    runDurations: groupBuckets(
      runDurations.rows,
      ['dataset', 'mode', 'state'],
      runDurationBuckets.length,
    ),
    stepDurations: groupBuckets(stepDurations.rows, ['step', 'state'], stepDurationBuckets.length),
    runs: runs.rows,
    lastSuccess: lastSuccess.rows,
  };
}
