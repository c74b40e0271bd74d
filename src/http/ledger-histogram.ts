import { Histogram, type HistogramConfiguration, type LabelValues } from 'prom-client';

/**
 * A Prometheus histogram whose buckets are counted by the database at scrape time rather than
 * observed in this process: the ledger already holds every duration, and every server replica
 * then reports the same figures.
 */

export interface BucketGroup<Label extends string> {
  labels: LabelValues<Label>;
  /** Observations per bucket, not cumulative: index i counts values ≤ bounds[i] and > bounds[i-1]; index bounds.length counts the rest. */
  counts: number[];
  sum: number;
}

/** The `_bucket` (cumulative, with `le`), `_sum` and `_count` lines of each group. Pure. */
export function toHistogramValues<Label extends string>(
  name: string,
  bounds: readonly number[],
  groups: readonly BucketGroup<Label>[],
) {
  return groups.flatMap((group) => {
    let cumulative = 0;
    const buckets = bounds.map((bound, index) => {
      cumulative += group.counts[index] ?? 0;
      return {
        metricName: `${name}_bucket`,
        labels: { ...group.labels, le: bound },
        value: cumulative,
      };
    });
    const total = cumulative + (group.counts[bounds.length] ?? 0);
    return [
      ...buckets,
      { metricName: `${name}_bucket`, labels: { ...group.labels, le: '+Inf' }, value: total },
      { metricName: `${name}_sum`, labels: group.labels, value: group.sum },
      { metricName: `${name}_count`, labels: group.labels, value: total },
    ];
  });
}

type HistogramObject = Awaited<ReturnType<Histogram['get']>>;

export class LedgerHistogram<Label extends string> extends Histogram<Label> {
  constructor(
    private readonly configuration: HistogramConfiguration<Label> & { buckets: number[] },
    private readonly load: () => Promise<BucketGroup<Label>[]>,
  ) {
    super(configuration);
  }

  override async get(): Promise<HistogramObject> {
    const groups = await this.load();
    return {
      name: this.configuration.name,
      help: this.configuration.help,
      // prom-client's typings call this an enum; at run time it is the string the base class set.
      type: (this as unknown as { type: HistogramObject['type'] }).type,
      aggregator: 'sum',
      values: toHistogramValues(this.configuration.name, this.configuration.buckets, groups),
      collect: () => undefined,
    };
  }

  /** The registry prefers this to get() when it exists; the base class's reads observed values. */
  getForPromString() {
    return this.get();
  }
}
