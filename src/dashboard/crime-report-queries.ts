import type { DayRange, Extent } from './filter.js';
import type {
  ChartFilter,
  HourCount,
  Queryable,
  RunHealth,
  SignificantChange,
  TypeCount,
} from './queries.js';
import { queryRecentRuns } from './queries.js';

/**
 * The Crime Reports page's queries, on the `analytics.crime_*` views (plain views over about
 * 110,000 rows: drizzle/0006_crime_reports_analytics.sql). Dates are report days (local); the
 * type filter is the crime. Values always travel as bind parameters.
 */

export const crimeReportsSourceId = 'xuad-73uj';

export interface MonthCount {
  month: string;
  reports: number;
  avg3m: number | null;
  avg12m: number | null;
}

export interface AreaPoint {
  reportingArea: string;
  neighborhood: string | null;
  latitude: number;
  longitude: number;
  reports: number;
}

export interface DelayBucket {
  bucket: number;
  label: string;
  reports: number;
}

export interface CrimeTotals {
  range: number;
  past30Days: number;
  allHistory: number;
}

export interface CrimeFreshness {
  latestReportAt: string | null;
  anchorDay: string | null;
  latestSourceUpdateAt: string | null;
  lastSuccessfulSyncAt: string | null;
  reports: number;
  reportsWithoutTime: number;
  deletedReports: number;
}

const isoInstant = (column: string) =>
  `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

const inFilter = `day between $1::date and $2::date and ($3::text is null or crime = $3)`;
const filterValues = (filter: ChartFilter) => [filter.from, filter.to, filter.type];

export async function queryCrimeExtent(db: Queryable): Promise<Extent | null> {
  const { rows } = await db.query<{ first_day: string | null; anchor_day: string | null }>(
    `select min(day)::text as first_day, max(day)::text as anchor_day from analytics.crime_report_facts`,
  );
  const row = rows[0];
  return row?.first_day && row.anchor_day
    ? { firstDay: row.first_day, anchorDay: row.anchor_day }
    : null;
}

export async function queryCrimeTypes(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ crime: string }>(
    `select crime from analytics.crime_type_counts order by crime`,
  );
  return rows.map((row) => row.crime);
}

/** The three totals of the page at once: the range, the 30 days to the anchor, all history. */
export async function queryCrimeTotals(
  db: Queryable,
  type: string | null,
  range: DayRange,
  past30Days: DayRange,
): Promise<CrimeTotals> {
  const { rows } = await db.query<CrimeTotals>(
    `select count(*) filter (where day between $2::date and $3::date)::int as range,
            count(*) filter (where day between $4::date and $5::date)::int as "past30Days",
            count(*)::int as "allHistory"
       from analytics.crime_report_facts where $1::text is null or crime = $1`,
    [type, range.from, range.to, past30Days.from, past30Days.to],
  );
  return rows[0] ?? { range: 0, past30Days: 0, allHistory: 0 };
}

/** Every month the range touches, with trailing 3- and 12-month averages. */
export async function queryCrimeMonthly(db: Queryable, filter: ChartFilter): Promise<MonthCount[]> {
  const { rows } = await db.query<MonthCount>(
    `select month::text as month, reports, avg_3m::float8 as "avg3m", avg_12m::float8 as "avg12m"
       from analytics.crime_report_monthly_series($1::date, $2::date, $3::text)`,
    filterValues(filter),
  );
  return rows;
}

/** Crimes with reports in the range, most first, as the shared type chart takes them. */
export async function queryCrimeTypeCounts(
  db: Queryable,
  filter: ChartFilter,
  limit = 20,
): Promise<TypeCount[]> {
  const { rows } = await db.query<TypeCount>(
    `select crime as type, count(*)::int as incidents from analytics.crime_report_facts
      where ${inFilter} group by crime order by incidents desc, crime limit $4`,
    [...filterValues(filter), limit],
  );
  return rows;
}

export async function queryNeighborhoodCounts(
  db: Queryable,
  filter: ChartFilter,
): Promise<TypeCount[]> {
  const { rows } = await db.query<TypeCount>(
    `select neighborhood as type, count(*)::int as incidents from analytics.crime_report_facts
      where ${inFilter} and neighborhood is not null
      group by neighborhood order by incidents desc, neighborhood`,
    filterValues(filter),
  );
  return rows;
}

/** Reporting areas with a centroid and reports in the range. */
export async function queryAreaPoints(db: Queryable, filter: ChartFilter): Promise<AreaPoint[]> {
  const { rows } = await db.query<AreaPoint>(
    `select reporting_area as "reportingArea", min(neighborhood) as neighborhood,
            round(avg(latitude)::numeric, 6)::float8 as latitude,
            round(avg(longitude)::numeric, 6)::float8 as longitude,
            count(*)::int as reports
       from analytics.crime_report_facts
      where ${inFilter} and reporting_area is not null and latitude is not null
        and longitude is not null
      group by reporting_area order by reports desc, reporting_area`,
    filterValues(filter),
  );
  return rows;
}

/** All 24 hours of the occurrence's start. */
export async function queryCrimeHours(db: Queryable, filter: ChartFilter): Promise<HourCount[]> {
  const { rows } = await db.query<HourCount>(
    `with counted as (
       select hour, count(*)::int as reports from analytics.crime_report_facts
        where ${inFilter} and hour is not null group by hour
     )
     select h.hour, coalesce(c.reports, 0) as incidents
       from generate_series(0, 23) as h(hour) left join counted c on c.hour = h.hour
      order by h.hour`,
    filterValues(filter),
  );
  return rows;
}

/** All 7 ISO weekdays (1 = Monday) of the occurrence's start. */
export async function queryCrimeWeekdays(
  db: Queryable,
  filter: ChartFilter,
): Promise<{ weekday: number; reports: number }[]> {
  const { rows } = await db.query<{ weekday: number; reports: number }>(
    `with counted as (
       select weekday, count(*)::int as reports from analytics.crime_report_facts
        where ${inFilter} and weekday is not null group by weekday
     )
     select w.weekday, coalesce(c.reports, 0) as reports
       from generate_series(1, 7) as w(weekday) left join counted c on c.weekday = w.weekday
      order by w.weekday`,
    filterValues(filter),
  );
  return rows;
}

/** Every delay bucket, in order, zero buckets included. */
export async function queryReportDelays(
  db: Queryable,
  filter: ChartFilter,
): Promise<DelayBucket[]> {
  const { rows } = await db.query<DelayBucket>(
    `with counted as (
       select delay_bucket, count(*)::int as reports from analytics.crime_report_facts
        where ${inFilter} and delay_bucket is not null group by delay_bucket
     )
     select b.bucket, b.label, coalesce(c.reports, 0) as reports
       from analytics.crime_report_delay_buckets b
       left join counted c on c.delay_bucket = b.bucket
      order by b.bucket`,
    filterValues(filter),
  );
  return rows;
}

export async function queryCrimeChanges(db: Queryable): Promise<SignificantChange[]> {
  const { rows } = await db.query<SignificantChange>(
    `select crime as type, current_28d as "current28d", previous_28d as "previous28d",
            z::float8 as z, significant
       from analytics.crime_significant_changes`,
  );
  return rows;
}

export async function queryCrimeFreshness(db: Queryable): Promise<CrimeFreshness> {
  const { rows } = await db.query<CrimeFreshness>(
    `select ${isoInstant('latest_report_at')} as "latestReportAt",
            anchor_day::text as "anchorDay",
            ${isoInstant('latest_source_update_at')} as "latestSourceUpdateAt",
            ${isoInstant('last_successful_sync_at')} as "lastSuccessfulSyncAt",
            reports::float8 as reports,
            reports_without_time::float8 as "reportsWithoutTime",
            deleted_reports::float8 as "deletedReports"
       from analytics.crime_report_freshness`,
  );
  return rows[0]!;
}

export function queryCrimeRuns(db: Queryable, limit = 10): Promise<RunHealth[]> {
  return queryRecentRuns(db, limit, crimeReportsSourceId);
}
