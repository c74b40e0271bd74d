import {
  buildChangesChart,
  buildDailyChart,
  buildGridChart,
  buildHourChart,
  buildLocationChart,
  buildMonthlyChart,
  buildTypeChart,
  type ChartData,
} from './charts.js';
import { resolveFilter, type DashboardQuery, type ResolvedFilter } from './filter.js';
import type { FreshnessView, RunView } from './freshness.js';
import type { DescribedFreshness, PageData } from './page-spec.js';
import {
  queryDailyCounts,
  queryExtent,
  queryFreshness,
  queryHourCounts,
  queryHourWeekdayGrid,
  queryIncidentTypes,
  queryMonthlyCounts,
  querySignificantChanges,
  queryTopLocations,
  queryTotal,
  queryTypeCounts,
  type Freshness,
  type Queryable,
  type SignificantChange,
} from './queries.js';

export const chartIds = [
  'past30-daily',
  'past30-types',
  'past30-hours',
  'history-monthly',
  'history-types',
  'history-hours',
  'range-daily',
  'range-grid',
  'range-locations',
  'changes',
] as const;
export type ChartId = (typeof chartIds)[number];

/** Everything a page shows, in one response (the Police Log's freshness unless told). */
export interface DashboardData<Freshness extends DescribedFreshness = FreshnessView> {
  /** The filter as applied; null when nothing is loaded yet. */
  filter: ResolvedFilter | null;
  types: string[];
  totals: { range: number; past30Days: number; allHistory: number };
  charts: Record<string, ChartData>;
  changes: SignificantChange[];
  freshness: Freshness;
  runs: RunView[];
}

/** The Police Log's freshness facts: everything the freshness view has but the last sync. */
export type PoliceLogFacts = Omit<Freshness, 'lastSuccessfulSyncAt'>;

/** Runs every card's query (in parallel, over the pool) for one filter. */
export async function loadPoliceLogData(
  db: Queryable,
  query: DashboardQuery,
): Promise<PageData<PoliceLogFacts>> {
  const [extent, types, freshness, changes] = await Promise.all([
    queryExtent(db),
    queryIncidentTypes(db),
    queryFreshness(db),
    querySignificantChanges(db),
  ]);
  const { lastSuccessfulSyncAt: _lastSync, ...facts } = freshness;
  const common = { types, changes, facts };
  if (!extent) {
    return {
      ...common,
      filter: null,
      totals: { range: 0, past30Days: 0, allHistory: 0 },
      charts: {},
    };
  }
  const filter = resolveFilter(query, extent);
  const { type } = filter;
  const range = { ...filter.range, type };
  const past30 = { ...filter.past30Days, type };
  const history = { ...filter.allHistory, type };
  const [
    rangeTotal,
    past30Total,
    historyTotal,
    past30Days,
    past30Types,
    past30Hours,
    historyMonths,
    historyTypes,
    historyHours,
    rangeDays,
    rangeGrid,
    rangeLocations,
  ] = await Promise.all([
    queryTotal(db, range),
    queryTotal(db, past30),
    queryTotal(db, history),
    queryDailyCounts(db, past30),
    queryTypeCounts(db, past30),
    queryHourCounts(db, past30, extent),
    queryMonthlyCounts(db, history),
    queryTypeCounts(db, history),
    queryHourCounts(db, history, extent),
    queryDailyCounts(db, range),
    queryHourWeekdayGrid(db, range, extent),
    queryTopLocations(db, range, extent),
  ]);
  const charts: Record<ChartId, ChartData> = {
    'past30-daily': buildDailyChart(past30Days, false),
    'past30-types': buildTypeChart(past30Types),
    'past30-hours': buildHourChart(past30Hours),
    'history-monthly': buildMonthlyChart(historyMonths),
    'history-types': buildTypeChart(historyTypes),
    'history-hours': buildHourChart(historyHours),
    'range-daily': buildDailyChart(rangeDays, true),
    'range-grid': buildGridChart(rangeGrid),
    'range-locations': buildLocationChart(rangeLocations),
    changes: buildChangesChart(changes, extent.anchorDay),
  };
  return {
    ...common,
    filter,
    totals: { range: rangeTotal, past30Days: past30Total, allHistory: historyTotal },
    charts,
  };
}
