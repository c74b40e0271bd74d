import { buildChangesChart, buildHourChart, buildTypeChart, formatCount } from '../charts.js';
import {
  buildAreaMap,
  buildCrimeMonthlyChart,
  buildDelayChart,
  buildWeekdayChart,
  reportUnit,
} from '../crime-report-charts.js';
import {
  crimeReportsSourceId,
  queryAreaPoints,
  queryCrimeChanges,
  queryCrimeExtent,
  queryCrimeFreshness,
  queryCrimeHours,
  queryCrimeMonthly,
  queryCrimeTotals,
  queryCrimeTypeCounts,
  queryCrimeTypes,
  queryCrimeWeekdays,
  queryNeighborhoodCounts,
  queryReportDelays,
  type CrimeFreshness,
} from '../crime-report-queries.js';
import { resolveFilter, type DashboardQuery } from '../filter.js';
import { describeAge, formatLocalTime } from '../freshness.js';
import type { DatasetPage, DescribedFreshness, PageData, SectionSpec } from '../page-spec.js';
import type { Queryable } from '../queries.js';

/** Cambridge Crime Reports (xuad-73uj): `/datasets/crime-reports`. */

export type CrimeReportFacts = Omit<CrimeFreshness, 'lastSuccessfulSyncAt'>;

const sections: SectionSpec[] = [
  {
    id: 'over-time',
    title: 'Reports over time',
    note: 'Reports by the month they were made, with trailing 3- and 12-month averages. Follows the date range and the crime filter.',
    cards: [{ id: 'crime-monthly', title: 'Reports by month', wide: true }],
  },
  {
    id: 'what',
    title: 'What was reported',
    note: 'The 20 most reported crimes of the range. Follows the date range and the crime filter.',
    cards: [{ id: 'crime-types', title: 'Reports by crime type', wide: true, tall: true }],
  },
  {
    id: 'where',
    title: 'Where',
    note: 'The source places each report at its reporting area’s centroid, never at an address. Follows the date range and the crime filter.',
    cards: [
      { id: 'crime-neighborhoods', title: 'Reports by neighborhood' },
      { id: 'crime-map', title: 'Reporting areas, sized by reports', map: true },
    ],
  },
  {
    id: 'when',
    title: 'When crimes began',
    note: 'Local hour and weekday of the occurrence’s start, for reports that give a time. Follows the date range (of the reports) and the crime filter.',
    cards: [
      { id: 'crime-hours', title: 'Reports by hour the crime began' },
      { id: 'crime-weekdays', title: 'Reports by weekday the crime began' },
    ],
  },
  {
    id: 'delay',
    title: 'From crime to report',
    note: 'How long after the crime began it was reported, for reports that give a time. Follows the date range and the crime filter.',
    cards: [{ id: 'crime-delays', title: 'Time from the crime’s start to its report', wide: true }],
  },
  {
    id: 'changes-section',
    title: 'Significant changes',
    note: 'Each crime’s reports in the 28 days to {anchor} against the 28 days before, as a Poisson z-score 2·(√current − √previous); |z| ≥ 3 is flagged. Covers every crime, whatever the filters.',
    cards: [{ id: 'crime-changes', title: 'Change by crime type (z-score)', wide: true }],
  },
];

export const crimeReportChartIds = sections.flatMap((section) =>
  section.cards.map((card) => card.id),
);

export async function loadCrimeReportsData(
  db: Queryable,
  query: DashboardQuery,
): Promise<PageData<CrimeReportFacts>> {
  const [extent, types, freshness, changes] = await Promise.all([
    queryCrimeExtent(db),
    queryCrimeTypes(db),
    queryCrimeFreshness(db),
    queryCrimeChanges(db),
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
  const range = { ...filter.range, type: filter.type };
  const [totals, months, crimes, neighborhoods, areas, hours, weekdays, delays] = await Promise.all(
    [
      queryCrimeTotals(db, filter.type, filter.range, filter.past30Days),
      queryCrimeMonthly(db, range),
      queryCrimeTypeCounts(db, range),
      queryNeighborhoodCounts(db, range),
      queryAreaPoints(db, range),
      queryCrimeHours(db, range),
      queryCrimeWeekdays(db, range),
      queryReportDelays(db, range),
    ],
  );
  return {
    ...common,
    filter,
    totals,
    charts: {
      'crime-monthly': buildCrimeMonthlyChart(months),
      'crime-types': buildTypeChart(crimes, reportUnit, { horizontal: true, what: 'crime' }),
      'crime-neighborhoods': buildTypeChart(neighborhoods, reportUnit, {
        horizontal: true,
        what: 'neighborhood',
      }),
      'crime-map': buildAreaMap(areas),
      'crime-hours': buildHourChart(hours, reportUnit),
      'crime-weekdays': buildWeekdayChart(weekdays),
      'crime-delays': buildDelayChart(delays),
      'crime-changes': buildChangesChart(changes, extent.anchorDay, reportUnit),
    },
  };
}

const dayMs = 86_400_000;

/** Whole days from one local date to another. */
function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / dayMs);
}

/**
 * The source publishes a month of reports at a time, weeks after the month ends: the page says
 * how far behind today the latest report is, so an old "latest" reads as expected, not broken.
 */
export function describeCrimeFreshness(
  facts: CrimeReportFacts,
  lastSuccessfulSyncAt: string | null,
  now: Date,
): DescribedFreshness {
  const when = (iso: string | null, never: string) =>
    iso ? `${describeAge(iso, now)} (${formatLocalTime(iso)})` : never;
  const today = formatLocalTime(now.toISOString()).slice(0, 10);
  const behind = facts.anchorDay ? daysBetween(facts.anchorDay, today) : null;
  const lateness =
    behind === null
      ? 'none loaded yet'
      : `${facts.anchorDay}, ${behind <= 0 ? 'today' : `${formatCount(behind)} day${behind === 1 ? '' : 's'} before today`}`;
  const lines = [
    { label: 'Latest report', value: lateness },
    {
      label: 'Latest source update',
      value: when(facts.latestSourceUpdateAt, 'none loaded yet'),
    },
    { label: 'Last successful sync', value: when(lastSuccessfulSyncAt, 'never') },
    { label: 'Reports loaded', value: formatCount(facts.reports) },
    { label: 'Without a time of occurrence', value: formatCount(facts.reportsWithoutTime) },
    { label: 'No longer served by the source', value: formatCount(facts.deletedReports) },
  ];
  const sync = lastSuccessfulSyncAt
    ? `last successful sync ${describeAge(lastSuccessfulSyncAt, now)}.`
    : 'no sync has succeeded yet.';
  const summary =
    behind === null
      ? 'No crime reports loaded yet: run cpd sync --dataset crime-reports to fetch them.'
      : `Reports through ${facts.anchorDay}, ${formatCount(Math.max(behind, 0))} days before today: the source publishes a month at a time, weeks after it ends; ${sync}`;
  return { lines, summary };
}

export const crimeReportsPage: DatasetPage<CrimeReportFacts> = {
  name: 'crime-reports',
  sourceId: crimeReportsSourceId,
  path: '/datasets/crime-reports',
  dataPath: '/datasets/crime-reports/data',
  label: 'Crime Reports',
  title: 'Cambridge Crime Reports',
  lede: 'Crimes reported to the Cambridge (MA) Police Department since 2009, published monthly',
  unit: reportUnit,
  typeLabel: 'Crime',
  filterHint:
    'Dates are report dates. The dates and the crime apply to every chart but “Significant changes”; “Past 30 days” is the 30 days to the latest report.',
  totalLabels: { range: 'Selected range', past30Days: 'Past 30 days', allHistory: 'All history' },
  sections,
  loadData: loadCrimeReportsData,
  describeFreshness: describeCrimeFreshness,
};
