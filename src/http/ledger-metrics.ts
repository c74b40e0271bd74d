import type pg from 'pg';
import {
  readLedgerAggregates,
  type DurationBucketRow,
  type LedgerAggregates,
} from '../pipeline/ledger/index.js';
import type { BucketGroup } from './ledger-histogram.js';

/** What /metrics reads from the ledger on each scrape: a handful of aggregates, no row lists. */

export interface LedgerSnapshot {
  runDurations: BucketGroup<'dataset' | 'mode' | 'state'>[];
  stepDurations: BucketGroup<'step' | 'state'>[];
  runs: LedgerAggregates['runs'];
  lastSuccess: LedgerAggregates['lastSuccess'];
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

function groupBuckets<Label extends string>(
  rows: (DurationBucketRow & Record<Label, string>)[],
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
  const { runDurations, stepDurations, runs, lastSuccess } = await readLedgerAggregates(pool, {
    runMs: thresholdsMs(runDurationBuckets),
    stepMs: thresholdsMs(stepDurationBuckets),
  });
  return {
    runDurations: groupBuckets(
      runDurations,
      ['dataset', 'mode', 'state'],
      runDurationBuckets.length,
    ),
    stepDurations: groupBuckets(stepDurations, ['step', 'state'], stepDurationBuckets.length),
    runs,
    lastSuccess,
  };
}
