import type { ChartData } from './charts.js';
import type { DashboardQuery } from './filter.js';
import { describeRun, type RunView } from './freshness.js';
import type { DatasetPage, PageData } from './page-spec.js';
import { queryRecentRuns, type Queryable } from './queries.js';
import type { DrawnChart } from './render-charts.js';

/**
 * The dashboards' answers, remembered so that the public pages cannot wear the database out: a
 * page's data for one filter is computed once per data version (analytics.data_versions, which
 * moves with every committed change of the dataset's table, with the incidents' analytics refresh
 * stamp), by one query set even when many requests ask at once, and kept in a store bounded by
 * entries and by size, the least recently used going first. A flood of distinct `?type=` values
 * therefore costs one query set per value and data version at most, and the rate limit
 * (router.ts) caps how fast one client can ask for new ones.
 *
 * What changes without the data (the latest runs, the last successful sync) is read apart, once
 * every few seconds per dataset whatever the filter; the data version itself is read at most
 * once a second per dataset.
 */

export interface AnswerCacheOptions {
  /** Most answers kept; default 500. */
  maxEntries?: number;
  /** Most bytes kept (data as JSON, drawings as SVG); default 64 MB. */
  maxBytes?: number;
  /** How long a data version read is believed; default 1 s. */
  versionTtlMs?: number;
  /** How long runs and the last sync are shown as read; default 5 s. */
  statusTtlMs?: number;
  /** Milliseconds, for the two times above. */
  clock?: () => number;
}

export interface PageStatus {
  lastSuccessfulSyncAt: string | null;
  runs: RunView[];
}

export type DrawCharts = (
  charts: Record<string, ChartData>,
) => Promise<Partial<Record<string, DrawnChart>>>;

interface Entry {
  page: string;
  version: string;
  data: Promise<PageData>;
  drawn?: Promise<Partial<Record<string, DrawnChart>>>;
  bytes: number;
}

interface Timed<T> {
  value: Promise<T>;
  at: number;
}

export interface DashboardAnswers {
  /** The page's data for a filter, from the store when its data version has not moved. */
  data(page: DatasetPage, query: DashboardQuery): Promise<PageData>;
  /** The same, with every chart drawn (drawn once per answer). */
  drawn(
    page: DatasetPage,
    query: DashboardQuery,
    draw: DrawCharts,
  ): Promise<{ data: PageData; drawn: Partial<Record<string, DrawnChart>> }>;
  status(page: DatasetPage): Promise<PageStatus>;
  /** What the store holds, for tests and metrics. */
  size(): { entries: number; bytes: number };
}

export function createDashboardAnswers(
  db: Queryable,
  options: AnswerCacheOptions = {},
): DashboardAnswers {
  const maxEntries = options.maxEntries ?? 500;
  const maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
  const versionTtlMs = options.versionTtlMs ?? 1_000;
  const statusTtlMs = options.statusTtlMs ?? 5_000;
  const clock = options.clock ?? Date.now;
  const entries = new Map<string, Entry>();
  const versions = new Map<string, Timed<string>>();
  const statuses = new Map<string, Timed<PageStatus>>();
  let bytes = 0;

  /** A value read at most once per `ttl`, concurrent askers sharing the read; failures forgotten. */
  function timed<T>(
    store: Map<string, Timed<T>>,
    key: string,
    ttl: number,
    read: () => Promise<T>,
  ) {
    const known = store.get(key);
    const now = clock();
    if (known && now - known.at < ttl) return known.value;
    const value = read();
    const timedValue = { value, at: now };
    store.set(key, timedValue);
    value.catch(() => {
      if (store.get(key) === timedValue) store.delete(key);
    });
    return value;
  }

  function readVersion(page: DatasetPage): Promise<string> {
    return timed(versions, page.sourceId, versionTtlMs, async () => {
      const { rows } = await db.query<{ version: string }>(
        `select coalesce((select version from analytics.data_versions where dataset = $1), 0)::text
                || '/' || coalesce((select refreshed_at::text from analytics.refresh_state), '') as version`,
        [page.sourceId],
      );
      return rows[0]?.version ?? '';
    });
  }

  function forget(key: string, entry: Entry): void {
    if (entries.get(key) !== entry) return;
    entries.delete(key);
    bytes -= entry.bytes;
  }

  function account(entry: Entry, key: string, more: number): void {
    if (entries.get(key) !== entry) return;
    entry.bytes += more;
    bytes += more;
    evict();
  }

  function evict(): void {
    for (const [key, entry] of entries) {
      if (entries.size <= maxEntries && bytes <= maxBytes) break;
      forget(key, entry);
    }
  }

  async function entryFor(page: DatasetPage, query: DashboardQuery): Promise<[string, Entry]> {
    const version = await readVersion(page);
    const key = JSON.stringify([
      page.name,
      version,
      query.from ?? null,
      query.to ?? null,
      query.type ?? null,
    ]);
    const known = entries.get(key);
    if (known) {
      // Most recently used last.
      entries.delete(key);
      entries.set(key, known);
      return [key, known];
    }
    // Answers of an older version of this page can never be asked for again.
    for (const [otherKey, other] of entries) {
      if (other.page === page.name && other.version !== version) forget(otherKey, other);
    }
    const entry: Entry = { page: page.name, version, data: page.loadData(db, query), bytes: 0 };
    entries.set(key, entry);
    evict();
    entry.data.then(
      (data) => account(entry, key, JSON.stringify(data).length),
      () => forget(key, entry),
    );
    return [key, entry];
  }

  return {
    async data(page, query) {
      const [, entry] = await entryFor(page, query);
      return entry.data;
    },
    async drawn(page, query, draw) {
      const [key, entry] = await entryFor(page, query);
      const data = await entry.data;
      if (!entry.drawn) {
        const drawn = draw(data.charts);
        entry.drawn = drawn;
        drawn.then(
          (charts) =>
            account(
              entry,
              key,
              Object.values(charts).reduce((total, chart) => total + (chart?.svg.length ?? 0), 0),
            ),
          () => {
            if (entry.drawn === drawn) delete entry.drawn;
          },
        );
      }
      return { data, drawn: await entry.drawn };
    },
    status(page) {
      return timed(statuses, page.sourceId, statusTtlMs, async () => {
        const [syncs, runs] = await Promise.all([
          db.query<{ at: string | null }>(
            `select to_char(last_successful_sync_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as at
               from analytics.dataset_syncs where dataset = $1`,
            [page.sourceId],
          ),
          queryRecentRuns(db, 10, page.sourceId),
        ]);
        return { lastSuccessfulSyncAt: syncs.rows[0]?.at ?? null, runs: runs.map(describeRun) };
      });
    },
    size: () => ({ entries: entries.size, bytes }),
  };
}
