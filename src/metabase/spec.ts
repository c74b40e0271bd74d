/**
 * The Metabase dashboard as data: a collection, the cards (native SQL on the `analytics` views of
 * docs/analytics.md) and the "CPD Incident Trends" dashboard that lays them out. Provisioning
 * (plan.ts) turns this into API calls; editing this file and provisioning again updates Metabase
 * in place.
 */

/** A column of an analytics view, as Metabase will know it after a schema sync. */
export interface ViewColumn {
  schema: string;
  table: string;
  column: string;
}

export interface CardSpec {
  /** Stable key: written into the card's description so provisioning finds the card again. */
  key: string;
  name: string;
  description: string;
  display: 'line' | 'bar' | 'row' | 'table' | 'scalar' | 'map';
  /** Native SQL. `{{date}}` is where the dashboard's date filter goes (Metabase field filter). */
  sql: string;
  /**
   * The column the date filter applies to; set exactly when the SQL contains `{{date}}`. The
   * SQL must name that view unaliased (Metabase writes `"schema"."table"."column" …` in its
   * place).
   */
  dateFilter?: ViewColumn;
  visualizationSettings: Record<string, unknown>;
}

export interface HeadingSpec {
  heading: string;
}

export interface PlacedCardSpec {
  card: string;
}

/** Position on Metabase's 24-column dashboard grid. */
export type DashcardSpec = (HeadingSpec | PlacedCardSpec) & {
  row: number;
  col: number;
  sizeX: number;
  sizeY: number;
};

export interface DashboardParameterSpec {
  id: string;
  name: string;
  slug: string;
  type: string;
  sectionId: string;
}

export interface DashboardSpec {
  key: string;
  name: string;
  description: string;
  /** The date filter; every card placed here with a `dateFilter` is wired to it. */
  dateParameter: DashboardParameterSpec;
  dashcards: DashcardSpec[];
}

export interface MetabaseSpec {
  /** The name our PostgreSQL gets in Metabase (Admin → Databases). */
  databaseName: string;
  /** One collection holds every dashboard and card. */
  collection: { name: string; description: string };
  cards: CardSpec[];
  /** One per dataset, the Police Log first. */
  dashboards: DashboardSpec[];
}

/** The template tag our SQL uses for the date filter. */
export const dateTagName = 'date';

/** Appended to descriptions we own, so a card or dashboard is found by key and not by title. */
export function describeWithKey(text: string, key: string): string {
  return `${text}\n\nManaged by cpd metabase provision (key: ${key}); edits here are overwritten.`;
}

const keyPattern = /\(key: ([a-z0-9-]+)\)/;

/** The key written by `describeWithKey`, or undefined for an object we do not manage. */
export function readKey(description: string | null | undefined): string | undefined {
  return description ? keyPattern.exec(description)?.[1] : undefined;
}

const rollupDay: ViewColumn = { schema: 'analytics', table: 'incident_rollup', column: 'day' };
const dailyDay: ViewColumn = { schema: 'analytics', table: 'daily_counts', column: 'day' };
const monthlyMonth: ViewColumn = { schema: 'analytics', table: 'monthly_counts', column: 'month' };

const axes = (x: string, y: string, extra: Record<string, unknown> = {}) => ({
  'graph.x_axis.title_text': x,
  'graph.y_axis.title_text': y,
  ...extra,
});

const weekdays = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as const;

// Zeros, not gaps, for weekday × hour cells without incidents. The filter lives in a subquery
// that names the view unaliased, as a Metabase field filter requires, and aggregates before the
// join so the join sees 168 rows, not the whole rollup.
const hourWeekdaySql = `select h.hour as "Hour",
${weekdays.map((day, index) => `       coalesce(sum(f.incidents) filter (where f.weekday = ${index + 1}), 0)::int as "${day}"`).join(',\n')}
from generate_series(0, 23) as h(hour)
left join (
  select hour, weekday, sum(incidents) as incidents
  from analytics.incident_rollup
  where {{date}}
  group by hour, weekday
) as f on f.hour = h.hour
group by h.hour
order by h.hour`;

const crimeDay: ViewColumn = { schema: 'analytics', table: 'crime_report_facts', column: 'day' };
const crimeMonth: ViewColumn = {
  schema: 'analytics',
  table: 'crime_report_monthly_counts',
  column: 'month',
};

/** Cambridge Crime Reports (xuad-73uj): the cards of its dashboard, on the `crime_*` views. */
const crimeReportCards: CardSpec[] = [
  {
    key: 'crime-by-month',
    name: 'Crime reports by month',
    description:
      'Reports per month with trailing 3- and 12-month averages, all history (or the dashboard date range).',
    display: 'line',
    sql: `select month as "Month", reports as "Reports",
       avg_3m as "3-month average", avg_12m as "12-month average"
from analytics.crime_report_monthly_counts
where {{date}}
order by month`,
    dateFilter: crimeMonth,
    visualizationSettings: {
      'graph.dimensions': ['Month'],
      'graph.metrics': ['Reports', '3-month average', '12-month average'],
      'graph.x_axis.scale': 'timeseries',
      ...axes('Month reported', 'Reports'),
    },
  },
  {
    key: 'crime-by-type',
    name: 'Crime reports by crime type',
    description: 'Reports per crime, most first (dashboard date range).',
    display: 'row',
    sql: `select crime as "Crime", count(*)::int as "Reports"
from analytics.crime_report_facts
where {{date}}
group by crime
order by count(*) desc, crime`,
    dateFilter: crimeDay,
    visualizationSettings: {
      'graph.dimensions': ['Crime'],
      'graph.metrics': ['Reports'],
    },
  },
  {
    key: 'crime-by-neighborhood',
    name: 'Crime reports by neighborhood',
    description: 'Reports per police neighborhood, most first (dashboard date range).',
    display: 'row',
    sql: `select neighborhood as "Neighborhood", count(*)::int as "Reports"
from analytics.crime_report_facts
where {{date}} and neighborhood is not null
group by neighborhood
order by count(*) desc, neighborhood`,
    dateFilter: crimeDay,
    visualizationSettings: {
      'graph.dimensions': ['Neighborhood'],
      'graph.metrics': ['Reports'],
    },
  },
  {
    key: 'crime-area-map',
    name: 'Crime reports by reporting area',
    description:
      'Each reporting area at its centroid (the source gives no addresses), with its reports (dashboard date range).',
    display: 'map',
    sql: `select reporting_area as "Reporting area", min(neighborhood) as "Neighborhood",
       avg(latitude) as "Latitude", avg(longitude) as "Longitude", count(*)::int as "Reports"
from analytics.crime_report_facts
where {{date}} and reporting_area is not null and latitude is not null and longitude is not null
group by reporting_area
order by count(*) desc`,
    dateFilter: crimeDay,
    visualizationSettings: {
      'map.type': 'pin',
      'map.latitude_column': 'Latitude',
      'map.longitude_column': 'Longitude',
    },
  },
  {
    key: 'crime-by-hour',
    name: 'Crime reports by hour the crime began',
    description:
      'Local hour of the occurrence’s start, for reports that give a time (dashboard date range of the reports).',
    display: 'bar',
    sql: `select h.hour as "Hour of day", coalesce(f.reports, 0)::int as "Reports"
from generate_series(0, 23) as h(hour)
left join (
  select hour, count(*) as reports
  from analytics.crime_report_facts
  where {{date}} and hour is not null
  group by hour
) as f on f.hour = h.hour
order by h.hour`,
    dateFilter: crimeDay,
    visualizationSettings: {
      'graph.dimensions': ['Hour of day'],
      'graph.metrics': ['Reports'],
      'graph.x_axis.scale': 'ordinal',
      ...axes('Hour the crime began', 'Reports'),
    },
  },
  {
    key: 'crime-by-weekday',
    name: 'Crime reports by weekday the crime began',
    description:
      'ISO weekday of the occurrence’s start, for reports that give a time (dashboard date range of the reports).',
    display: 'bar',
    sql: `select w.weekday as "Weekday number", (array['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'])[w.weekday] as "Weekday",
       coalesce(f.reports, 0)::int as "Reports"
from generate_series(1, 7) as w(weekday)
left join (
  select weekday, count(*) as reports
  from analytics.crime_report_facts
  where {{date}} and weekday is not null
  group by weekday
) as f on f.weekday = w.weekday
order by w.weekday`,
    dateFilter: crimeDay,
    visualizationSettings: {
      'graph.dimensions': ['Weekday'],
      'graph.metrics': ['Reports'],
      'graph.x_axis.scale': 'ordinal',
      ...axes('Weekday the crime began', 'Reports'),
    },
  },
  {
    key: 'crime-report-delays',
    name: 'Time from crime to report',
    description:
      'How long after the crime began it was reported, in buckets, for reports that give a time (dashboard date range).',
    display: 'row',
    sql: `select b.bucket as "Bucket", b.label as "Delay", coalesce(f.reports, 0)::int as "Reports"
from analytics.crime_report_delay_buckets b
left join (
  select delay_bucket, count(*) as reports
  from analytics.crime_report_facts
  where {{date}} and delay_bucket is not null
  group by delay_bucket
) as f on f.delay_bucket = b.bucket
order by b.bucket`,
    dateFilter: crimeDay,
    visualizationSettings: {
      'graph.dimensions': ['Delay'],
      'graph.metrics': ['Reports'],
    },
  },
  {
    key: 'crime-significant-changes',
    name: 'Crime types changed significantly',
    description:
      'Each crime’s reports in the 28 days to the latest report against the 28 days before; z = 2·(√current − √previous), flagged when |z| ≥ 3.',
    display: 'table',
    sql: `select crime as "Crime", current_28d as "Last 28 days", previous_28d as "28 days before",
       z as "z-score", significant as "Significant"
from analytics.crime_significant_changes
order by abs(z) desc, crime`,
    visualizationSettings: {},
  },
  {
    key: 'crime-freshness',
    name: 'Crime Reports freshness',
    description:
      'The source publishes a month at a time, weeks after the month ends: the latest report, how many days before today it is, and the last successful sync.',
    display: 'table',
    sql: `select anchor_day as "Latest report day",
       (current_date - anchor_day) as "Days behind today",
       latest_source_update_at as "Latest source update",
       last_successful_sync_at as "Last successful sync",
       reports as "Reports", reports_without_time as "Without a time",
       deleted_reports as "No longer served"
from analytics.crime_report_freshness`,
    visualizationSettings: {},
  },
];

const crimeReportsDashboard: DashboardSpec = {
  key: 'cambridge-crime-reports',
  name: 'Cambridge Crime Reports',
  description:
    'Cambridge (MA) Crime Reports, published monthly and weeks late. The date filter is the report date; significant changes count back from the latest report.',
  dateParameter: {
    id: 'crime-report-date',
    name: 'Report date',
    slug: 'report_date',
    type: 'date/all-options',
    sectionId: 'date',
  },
  dashcards: [
    { heading: 'Over time', row: 0, col: 0, sizeX: 24, sizeY: 1 },
    { card: 'crime-by-month', row: 1, col: 0, sizeX: 24, sizeY: 6 },
    { heading: 'What and where', row: 7, col: 0, sizeX: 24, sizeY: 1 },
    { card: 'crime-by-type', row: 8, col: 0, sizeX: 8, sizeY: 10 },
    { card: 'crime-by-neighborhood', row: 8, col: 8, sizeX: 8, sizeY: 10 },
    { card: 'crime-area-map', row: 8, col: 16, sizeX: 8, sizeY: 10 },
    { heading: 'When and how late', row: 18, col: 0, sizeX: 24, sizeY: 1 },
    { card: 'crime-by-hour', row: 19, col: 0, sizeX: 8, sizeY: 6 },
    { card: 'crime-by-weekday', row: 19, col: 8, sizeX: 8, sizeY: 6 },
    { card: 'crime-report-delays', row: 19, col: 16, sizeX: 8, sizeY: 6 },
    { heading: 'Changes and data health', row: 25, col: 0, sizeX: 24, sizeY: 1 },
    { card: 'crime-significant-changes', row: 26, col: 0, sizeX: 16, sizeY: 7 },
    { card: 'crime-freshness', row: 26, col: 16, sizeX: 8, sizeY: 7 },
  ],
};

export const metabaseSpec: MetabaseSpec = {
  databaseName: 'CPD Police Log',
  collection: {
    name: 'CPD Incident Trends',
    description:
      'Cambridge (MA) Police Daily Log and Crime Reports: trends, kept by cpd metabase provision from the analytics views.',
  },
  cards: [
    {
      key: 'past-30-days-by-day',
      name: 'CPD Incident Count by Day',
      description: 'Incidents per day over the 30 days ending at the latest incident loaded.',
      display: 'line',
      sql: `select day as "Date", incidents as "Incidents"
from analytics.daily_counts
where day > (select anchor_day from analytics.freshness) - 30
order by day`,
      visualizationSettings: {
        'graph.dimensions': ['Date'],
        'graph.metrics': ['Incidents'],
        'graph.x_axis.scale': 'timeseries',
        ...axes('Date', 'Incidents'),
      },
    },
    {
      key: 'past-30-days-by-type',
      name: 'CPD Incident Count by Type (past 30 days)',
      description: 'Incidents per type over the 30 days ending at the latest incident loaded.',
      display: 'bar',
      sql: `select type as "Type", sum(last_30_days)::int as "Incidents"
from analytics.type_counts
group by type
having sum(last_30_days) > 0
order by type`,
      visualizationSettings: {
        'graph.dimensions': ['Type'],
        'graph.metrics': ['Incidents'],
        'graph.x_axis.scale': 'ordinal',
        ...axes('Type', 'Incidents'),
      },
    },
    {
      key: 'past-30-days-by-hour',
      name: 'CPD Incident Count by Hour (past 30 days)',
      description:
        'Incidents per local hour of day over the 30 days ending at the latest incident.',
      display: 'bar',
      // From the rollup's last 30 days (an index range) rather than hour_counts, which sums all
      // history to get its last_30_days column.
      sql: `select h.hour as "Hour of day", coalesce(f.incidents, 0)::int as "Incidents"
from generate_series(0, 23) as h(hour)
left join (
  select hour, sum(incidents) as incidents
  from analytics.incident_rollup
  where day > (select max(day) from analytics.incident_rollup) - 30
  group by hour
) as f on f.hour = h.hour
order by h.hour`,
      visualizationSettings: {
        'graph.dimensions': ['Hour of day'],
        'graph.metrics': ['Incidents'],
        'graph.x_axis.scale': 'ordinal',
        ...axes('Hour of day', 'Incidents'),
      },
    },
    {
      key: 'history-by-month',
      name: 'CPD Incident Count by Month',
      description: 'Incidents per month, all history (or the dashboard date range).',
      display: 'line',
      sql: `select month as "Month", incidents as "Incidents"
from analytics.monthly_counts
where {{date}}
order by month`,
      dateFilter: monthlyMonth,
      visualizationSettings: {
        'graph.dimensions': ['Month'],
        'graph.metrics': ['Incidents'],
        'graph.x_axis.scale': 'timeseries',
        ...axes('Year-Month', 'Incidents'),
      },
    },
    {
      key: 'history-by-type',
      name: 'CPD Incident Count by Type',
      description: 'Incidents per type, all history (or the dashboard date range).',
      display: 'bar',
      sql: `select type as "Type", sum(incidents)::int as "Incidents"
from analytics.incident_rollup
where {{date}}
group by type
order by type`,
      dateFilter: rollupDay,
      visualizationSettings: {
        'graph.dimensions': ['Type'],
        'graph.metrics': ['Incidents'],
        'graph.x_axis.scale': 'ordinal',
        ...axes('Type', 'Incidents'),
      },
    },
    {
      key: 'history-by-hour',
      name: 'CPD Incident Count by Hour',
      description: 'Incidents per local hour of day, all history (or the dashboard date range).',
      display: 'bar',
      sql: `select h.hour as "Hour of day", coalesce(f.incidents, 0)::int as "Incidents"
from generate_series(0, 23) as h(hour)
left join (
  select hour, sum(incidents) as incidents
  from analytics.incident_rollup
  where {{date}}
  group by hour
) as f on f.hour = h.hour
order by h.hour`,
      dateFilter: rollupDay,
      visualizationSettings: {
        'graph.dimensions': ['Hour of day'],
        'graph.metrics': ['Incidents'],
        'graph.x_axis.scale': 'ordinal',
        ...axes('Hour of day', 'Incidents'),
      },
    },
    {
      key: 'daily-rolling-averages',
      name: 'Daily incidents with 7- and 28-day averages',
      description:
        'Incidents per day, zero days included, with trailing 7- and 28-day averages (dashboard date range).',
      display: 'line',
      sql: `select day as "Date", incidents as "Incidents",
       round(avg_7d, 2) as "7-day average", round(avg_28d, 2) as "28-day average"
from analytics.daily_counts
where {{date}}
order by day`,
      dateFilter: dailyDay,
      visualizationSettings: {
        'graph.dimensions': ['Date'],
        'graph.metrics': ['Incidents', '7-day average', '28-day average'],
        'graph.x_axis.scale': 'timeseries',
        ...axes('Date', 'Incidents'),
      },
    },
    {
      key: 'significant-changes',
      name: 'Significant changes by type (last 28 days vs the 28 before)',
      description:
        'Poisson z-score 2·(√current − √previous) per type; flagged when |z| ≥ 3. Days counted back from the latest incident.',
      display: 'table',
      sql: `select type as "Type", previous_28d as "Previous 28 days", current_28d as "Last 28 days",
       round(z, 2) as "z",
       case when not significant then '' when z > 0 then 'up' else 'down' end as "Significant"
from analytics.significant_changes
order by abs(z) desc, type`,
      visualizationSettings: {
        'table.column_formatting': [
          {
            columns: ['z'],
            type: 'range',
            colors: ['#509EE3', '#FFFFFF', '#EF8C8C'],
            min_type: 'custom',
            min_value: -3,
            max_type: 'custom',
            max_value: 3,
            highlight_row: false,
          },
        ],
      },
    },
    {
      key: 'hour-weekday-grid',
      name: 'Weekly rhythm: hour × weekday',
      description: 'Incidents per local hour and weekday (dashboard date range); darker is busier.',
      display: 'table',
      sql: hourWeekdaySql,
      dateFilter: rollupDay,
      visualizationSettings: {
        'table.column_formatting': [
          {
            columns: [...weekdays],
            type: 'range',
            colors: ['#FFFFFF', '#509EE3'],
            min_type: null,
            max_type: null,
            highlight_row: false,
          },
        ],
      },
    },
    {
      key: 'top-locations',
      name: 'Top locations',
      description: 'The 25 locations with the most incidents, with their last 30 days.',
      display: 'table',
      sql: `select rank as "Rank", location as "Location", incidents as "Incidents",
       last_30_days as "Last 30 days"
from analytics.top_locations
order by rank
limit 25`,
      visualizationSettings: {},
    },
    {
      key: 'year-over-year-weekly',
      name: 'Year over year by ISO week',
      description: 'Incidents per ISO week for the last three ISO years, one line per year.',
      display: 'line',
      sql: `select iso_week as "ISO week", iso_year::text as "Year", incidents as "Incidents"
from analytics.yoy_weekly
where iso_year > (select max(iso_year) from analytics.yoy_weekly) - 3
order by iso_year, iso_week`,
      visualizationSettings: {
        'graph.dimensions': ['ISO week', 'Year'],
        'graph.metrics': ['Incidents'],
        'graph.x_axis.scale': 'linear',
        ...axes('ISO week', 'Incidents'),
      },
    },
    {
      key: 'freshness',
      name: 'Data freshness',
      description:
        'Latest incident, latest source update stamp and last successful sync; the anchor day the "last N days" cards count back from.',
      display: 'table',
      sql: `select latest_incident_at as "Latest incident", latest_source_update_at as "Latest source update",
       last_successful_sync_at as "Last successful sync", anchor_day as "Anchor day",
       incidents as "Incidents"
from analytics.freshness`,
      visualizationSettings: {},
    },
    {
      key: 'recent-runs',
      name: 'Recent pipeline runs',
      description: 'The 20 latest pipeline runs: state, duration, row counts and errors.',
      display: 'table',
      sql: `select run_id as "Run", mode as "Mode", trigger as "Trigger", state as "State",
       created_at as "Created", round(duration_seconds, 1) as "Seconds",
       rows_extracted as "Extracted", rows_inserted as "Inserted", rows_updated as "Updated",
       rows_unchanged as "Unchanged", rows_rejected as "Rejected", error as "Error"
from analytics.run_health
order by created_at desc
limit 20`,
      visualizationSettings: {},
    },
    ...crimeReportCards,
  ],
  dashboards: [
    {
      key: 'cpd-incident-trends',
      name: 'CPD Incident Trends',
      description:
        'Cambridge (MA) Police Daily Log. "Past 30 days" counts back from the latest incident loaded; the date filter applies to the historical, trend and rhythm cards.',
      dateParameter: {
        id: 'cpd-date',
        name: 'Date',
        slug: 'date',
        type: 'date/all-options',
        sectionId: 'date',
      },
      dashcards: [
        { heading: 'Past 30 days', row: 0, col: 0, sizeX: 24, sizeY: 1 },
        { card: 'past-30-days-by-day', row: 1, col: 0, sizeX: 8, sizeY: 6 },
        { card: 'past-30-days-by-type', row: 1, col: 8, sizeX: 8, sizeY: 6 },
        { card: 'past-30-days-by-hour', row: 1, col: 16, sizeX: 8, sizeY: 6 },
        { heading: 'Historical', row: 7, col: 0, sizeX: 24, sizeY: 1 },
        { card: 'history-by-month', row: 8, col: 0, sizeX: 8, sizeY: 6 },
        { card: 'history-by-type', row: 8, col: 8, sizeX: 8, sizeY: 6 },
        { card: 'history-by-hour', row: 8, col: 16, sizeX: 8, sizeY: 6 },
        { heading: 'Trends', row: 14, col: 0, sizeX: 24, sizeY: 1 },
        { card: 'daily-rolling-averages', row: 15, col: 0, sizeX: 16, sizeY: 6 },
        { card: 'significant-changes', row: 15, col: 16, sizeX: 8, sizeY: 6 },
        { card: 'year-over-year-weekly', row: 21, col: 0, sizeX: 24, sizeY: 6 },
        { heading: 'Rhythm and places', row: 27, col: 0, sizeX: 24, sizeY: 1 },
        { card: 'hour-weekday-grid', row: 28, col: 0, sizeX: 12, sizeY: 9 },
        { card: 'top-locations', row: 28, col: 12, sizeX: 12, sizeY: 9 },
        { heading: 'Data health', row: 37, col: 0, sizeX: 24, sizeY: 1 },
        { card: 'freshness', row: 38, col: 0, sizeX: 24, sizeY: 3 },
        { card: 'recent-runs', row: 41, col: 0, sizeX: 24, sizeY: 7 },
      ],
    },
    crimeReportsDashboard,
  ],
};

/** The view columns the spec's date filters need Metabase to know. */
export function listFilterColumns(spec: MetabaseSpec): ViewColumn[] {
  const seen = new Map<string, ViewColumn>();
  for (const card of spec.cards)
    if (card.dateFilter) seen.set(describeColumn(card.dateFilter), card.dateFilter);
  return [...seen.values()];
}

export function describeColumn(column: ViewColumn): string {
  return `${column.schema}.${column.table}.${column.column}`;
}

/** The analytics views the cards read, as `schema.view`: Metabase must see each before cards run. */
export function listViews(spec: MetabaseSpec): string[] {
  const views = new Set<string>();
  for (const card of spec.cards)
    for (const match of card.sql.matchAll(/\banalytics\.([a-z_][a-z0-9_]*)/g))
      views.add(`analytics.${match[1]}`);
  return [...views].sort();
}
