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
  display: 'line' | 'bar' | 'row' | 'table' | 'scalar';
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

export interface MetabaseSpec {
  /** The name our PostgreSQL gets in Metabase (Admin → Databases). */
  databaseName: string;
  collection: { name: string; description: string };
  cards: CardSpec[];
  dashboard: {
    key: string;
    name: string;
    description: string;
    /** The date filter; every card with a `dateFilter` is wired to it. */
    dateParameter: DashboardParameterSpec;
    dashcards: DashcardSpec[];
  };
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

export const metabaseSpec: MetabaseSpec = {
  databaseName: 'CPD Police Log',
  collection: {
    name: 'CPD Incident Trends',
    description:
      'Cambridge (MA) Police Daily Log: incident trends, kept by cpd metabase provision from the analytics views.',
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
  ],
  dashboard: {
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
