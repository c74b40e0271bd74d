import type pg from 'pg';
import type { RunRow } from '../pipeline/ledger/index.js';
import { splitWholeMonths, type DayRange, type Extent } from './filter.js';

/**
 * The dashboard's queries, one per chart. They read the analytics views (materialised, so a few
 * thousand rows each on a million incidents); values always travel as bind parameters. Days and
 * timestamps come back as text and counts as numbers, ready for JSON.
 */

/** A date range and an optional incident type (null: every type). */
export interface ChartFilter extends DayRange {
  type: string | null;
}

export type Queryable = Pick<pg.Pool, 'query'>;

export interface DayCount {
  day: string;
  incidents: number;
  avg7d: number | null;
  avg28d: number | null;
}

export interface MonthCount {
  month: string;
  incidents: number;
}

export interface TypeCount {
  type: string;
  incidents: number;
}

export interface HourCount {
  hour: number;
  incidents: number;
}

export interface GridCell {
  weekday: number;
  hour: number;
  incidents: number;
}

export interface LocationCount {
  location: string;
  incidents: number;
}

export interface SignificantChange {
  type: string;
  current28d: number;
  previous28d: number;
  z: number;
  significant: boolean;
}

export interface Freshness {
  latestIncidentAt: string | null;
  latestSourceUpdateAt: string | null;
  lastSuccessfulSyncAt: string | null;
  anchorDay: string | null;
  incidents: number;
  analyticsRefreshedAt: string | null;
}

/** A run row as the dashboard shows it (from analytics.run_health): instants as ISO text. */
export type RunHealth = Pick<
  RunRow,
  | 'dataset'
  | 'mode'
  | 'trigger'
  | 'state'
  | 'rowsExtracted'
  | 'rowsRejected'
  | 'rowsInserted'
  | 'rowsUpdated'
  | 'rowsUnchanged'
  | 'error'
> & {
  runId: number;
  createdAt: string;
  startedAt: string | null;
  endedAt: string | null;
  durationSeconds: number | null;
};

const isoInstant = (column: string) =>
  `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** The days the data covers, or null when no incident is loaded. */
export async function queryExtent(db: Queryable): Promise<Extent | null> {
  const { rows } = await db.query<{ first_day: string | null; anchor_day: string | null }>(
    `select min(day)::text as first_day, max(day)::text as anchor_day from analytics.incident_daily`,
  );
  const row = rows[0];
  return row?.first_day && row.anchor_day
    ? { firstDay: row.first_day, anchorDay: row.anchor_day }
    : null;
}

/** Every incident type seen, alphabetically. */
export async function queryIncidentTypes(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ type: string }>(
    `select type from analytics.incident_daily group by type order by type`,
  );
  return rows.map((row) => row.type);
}

export async function queryTotal(db: Queryable, filter: ChartFilter): Promise<number> {
  const { rows } = await db.query<{ incidents: number }>(
    `select coalesce(sum(incidents), 0)::int as incidents from analytics.incident_daily
      where day between $1::date and $2::date and ($3::text is null or type = $3)`,
    [filter.from, filter.to, filter.type],
  );
  return rows[0]?.incidents ?? 0;
}

/** Every day of the range, zero days included, with trailing 7- and 28-day averages. */
export async function queryDailyCounts(db: Queryable, filter: ChartFilter): Promise<DayCount[]> {
  const { rows } = await db.query<DayCount>(
    `select day::text as day, incidents, avg_7d::float8 as "avg7d", avg_28d::float8 as "avg28d"
       from analytics.daily_series($1::date, $2::date, $3::text)`,
    [filter.from, filter.to, filter.type],
  );
  return rows;
}

/** Every month the range touches, zero months included (edge months count only days in range). */
export async function queryMonthlyCounts(
  db: Queryable,
  filter: ChartFilter,
): Promise<MonthCount[]> {
  const { rows } = await db.query<MonthCount>(
    `with counted as (
       select date_trunc('month', day)::date as month, sum(incidents)::int as incidents
         from analytics.incident_daily
        where day between $1::date and $2::date and ($3::text is null or type = $3)
        group by 1
     )
     select m.month::date::text as month, coalesce(c.incidents, 0) as incidents
       from generate_series(date_trunc('month', $1::date), date_trunc('month', $2::date),
                            interval '1 month') as m(month)
       left join counted c on c.month = m.month::date
      order by m.month`,
    [filter.from, filter.to, filter.type],
  );
  return rows;
}

/** Types with incidents in the range, most first. */
export async function queryTypeCounts(db: Queryable, filter: ChartFilter): Promise<TypeCount[]> {
  const { rows } = await db.query<TypeCount>(
    `select type, sum(incidents)::int as incidents from analytics.incident_daily
      where day between $1::date and $2::date and ($3::text is null or type = $3)
      group by type order by incidents desc, type`,
    [filter.from, filter.to, filter.type],
  );
  return rows;
}

/**
 * Bind values $1–$6 of a query that reads whole months from a monthly rollup ($1–$2: first and
 * last month) and the days at the range's edges from a daily one ($3–$4, $5–$6), so a long range
 * reads about as many rows as a short one.
 */
function monthsAndEdges(filter: DayRange, extent: Extent): (string | null)[] {
  const { months, edges } = splitWholeMonths(filter, extent);
  const [before, after] = edges;
  return [
    months?.from ?? null,
    months?.to ?? null,
    before?.from ?? null,
    before?.to ?? null,
    after?.from ?? null,
    after?.to ?? null,
  ];
}

const inEdges = (column: string) =>
  `(${column} between $3::date and $4::date or ${column} between $5::date and $6::date)`;

/** Hour of day and weekday counts of a range, from the monthly grid plus the edge days. */
const hourWeekdayCounts = `
  select weekday, hour, incidents from analytics.hour_weekday_monthly
   where month between $1::date and $2::date and ($7::text is null or type = $7)
  union all
  select weekday, hour, incidents from analytics.incident_rollup
   where ${inEdges('day')} and ($7::text is null or type = $7)`;

/** All 24 local hours. */
export async function queryHourCounts(
  db: Queryable,
  filter: ChartFilter,
  extent: Extent,
): Promise<HourCount[]> {
  const { rows } = await db.query<HourCount>(
    `with counted as (
       select hour, sum(incidents)::int as incidents from (${hourWeekdayCounts}) parts group by hour
     )
     select h.hour, coalesce(c.incidents, 0) as incidents
       from generate_series(0, 23) as h(hour) left join counted c on c.hour = h.hour
      order by h.hour`,
    [...monthsAndEdges(filter, extent), filter.type],
  );
  return rows;
}

/** All 168 cells of ISO weekday (1 = Monday) × local hour. */
export async function queryHourWeekdayGrid(
  db: Queryable,
  filter: ChartFilter,
  extent: Extent,
): Promise<GridCell[]> {
  const { rows } = await db.query<GridCell>(
    `with counted as (
       select weekday, hour, sum(incidents)::int as incidents from (${hourWeekdayCounts}) parts
        group by weekday, hour
     )
     select w.weekday, h.hour, coalesce(c.incidents, 0) as incidents
       from generate_series(1, 7) as w(weekday)
      cross join generate_series(0, 23) as h(hour)
       left join counted c on c.weekday = w.weekday and c.hour = h.hour
      order by w.weekday, h.hour`,
    [...monthsAndEdges(filter, extent), filter.type],
  );
  return rows;
}

/** The locations with most incidents in the range. */
export async function queryTopLocations(
  db: Queryable,
  filter: ChartFilter,
  extent: Extent,
  limit = 15,
): Promise<LocationCount[]> {
  const { rows } = await db.query<LocationCount>(
    `with parts as (
       select location, incidents from analytics.location_monthly
        where month between $1::date and $2::date and ($7::text is null or type = $7)
       union all
       select location, incidents from analytics.location_daily
        where ${inEdges('day')} and ($7::text is null or type = $7)
     )
     select location, sum(incidents)::int as incidents from parts
      group by location order by incidents desc, location limit $8`,
    [...monthsAndEdges(filter, extent), filter.type, limit],
  );
  return rows;
}

export async function querySignificantChanges(db: Queryable): Promise<SignificantChange[]> {
  const { rows } = await db.query<SignificantChange>(
    `select type, current_28d as "current28d", previous_28d as "previous28d", z::float8 as z,
            significant
       from analytics.significant_changes`,
  );
  return rows;
}

export async function queryFreshness(db: Queryable): Promise<Freshness> {
  const { rows } = await db.query<Freshness>(
    `select ${isoInstant('latest_incident_at')} as "latestIncidentAt",
            ${isoInstant('latest_source_update_at')} as "latestSourceUpdateAt",
            ${isoInstant('last_successful_sync_at')} as "lastSuccessfulSyncAt",
            anchor_day::text as "anchorDay",
            incidents::float8 as incidents,
            ${isoInstant('analytics_refreshed_at')} as "analyticsRefreshedAt"
       from analytics.freshness`,
  );
  return rows[0]!;
}

/** The latest runs, of one dataset (its Socrata id) or of all. */
export async function queryRecentRuns(
  db: Queryable,
  limit = 10,
  dataset: string | null = null,
): Promise<RunHealth[]> {
  const { rows } = await db.query<RunHealth>(
    `select run_id::float8 as "runId", dataset, mode, trigger, state,
            ${isoInstant('created_at')} as "createdAt",
            ${isoInstant('started_at')} as "startedAt",
            ${isoInstant('ended_at')} as "endedAt",
            duration_seconds::float8 as "durationSeconds",
            rows_extracted as "rowsExtracted", rows_rejected as "rowsRejected",
            rows_inserted as "rowsInserted", rows_updated as "rowsUpdated",
            rows_unchanged as "rowsUnchanged", error
       from analytics.run_health where $2::text is null or dataset = $2 limit $1`,
    [limit, dataset],
  );
  return rows;
}
