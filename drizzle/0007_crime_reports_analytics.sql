-- Analytics views for Cambridge Crime Reports (contract: docs/analytics.md), beside the incidents
-- ones. The table is small (about 110,000 rows since 2009), so these are plain views: every
-- dashboard query reads the table itself and stays within a few tens of milliseconds (measured
-- by scripts/measure-crime-report-queries.ts), and nothing has to be refreshed after a load.
-- Only rows the source still serves count: a row with deleted_at set counts nowhere.
-- Local parts (report day, occurrence hour and weekday) come from the columns the transform
-- derived from the source's wall time, never from the instants.

-- How long after the occurrence began a crime was reported, in buckets (bucket 0: the report
-- predates the occurrence's start, a data error kept visible rather than hidden).
CREATE VIEW "analytics"."crime_report_delay_buckets" AS
SELECT bucket::smallint AS bucket, label, min_hours::float8 AS min_hours, max_hours::float8 AS max_hours
  FROM (VALUES (0, 'Reported before it began', NULL, 0),
               (1, 'Under 1 hour', 0, 1),
               (2, '1–6 hours', 1, 6),
               (3, '6–24 hours', 6, 24),
               (4, '1–3 days', 24, 72),
               (5, '3–7 days', 72, 168),
               (6, '1–4 weeks', 168, 672),
               (7, '4 weeks – 6 months', 672, 4383),
               (8, '6 months or more', 4383, NULL)) AS b(bucket, label, min_hours, max_hours);
--> statement-breakpoint

-- One row per crime report the source serves, with what the dashboards group by.
CREATE VIEW "analytics"."crime_report_facts" AS
WITH live AS (
  SELECT c.*, extract(epoch FROM c.reported_at - c.occurred_from)::float8 / 3600 AS delay_hours
    FROM public.crime_reports c
   WHERE c.deleted_at IS NULL
)
SELECT l.file_number,
       l.reported_at,
       l.reported_date AS day,
       l.crime,
       l.neighborhood,
       l.reporting_area,
       l.latitude::float8 AS latitude,
       l.longitude::float8 AS longitude,
       l.occurred_from,
       l.occurred_to,
       l.occurrence_form::text AS occurrence_form,
       l.occurred_hour AS hour,
       l.occurred_weekday AS weekday,
       l.delay_hours,
       CASE WHEN l.delay_hours IS NULL THEN NULL
            WHEN l.delay_hours < 0 THEN 0
            WHEN l.delay_hours < 1 THEN 1
            WHEN l.delay_hours < 6 THEN 2
            WHEN l.delay_hours < 24 THEN 3
            WHEN l.delay_hours < 72 THEN 4
            WHEN l.delay_hours < 168 THEN 5
            WHEN l.delay_hours < 672 THEN 6
            WHEN l.delay_hours < 4383 THEN 7
            ELSE 8 END::smallint AS delay_bucket
  FROM live l;
--> statement-breakpoint

-- Reports per month with trailing 3- and 12-month averages; NULL arguments mean "all". A range's
-- edge months count only their days in range; the averages reach back before `from`, so a range's
-- first month has the same averages as in the full series. Averages are NULL until 3 (12) months
-- of data exist.
CREATE FUNCTION "analytics"."crime_report_monthly_series"(p_from date, p_to date, p_crime text)
RETURNS TABLE ("month" date, "reports" int, "avg_3m" numeric, "avg_12m" numeric)
LANGUAGE sql STABLE AS $$
  WITH extent AS (
    SELECT min(f.day) AS first_day, max(f.day) AS last_day FROM analytics.crime_report_facts f
  ), bounds AS (
    SELECT date_trunc('month', e.first_day)::date AS first_month,
           greatest(coalesce(p_from, e.first_day), e.first_day) AS lo,
           least(coalesce(p_to, e.last_day), e.last_day) AS hi
      FROM extent e
     WHERE e.first_day IS NOT NULL
  ), counted AS (
    SELECT date_trunc('month', f.day)::date AS month, count(*)::int AS reports
      FROM analytics.crime_report_facts f CROSS JOIN bounds b
     WHERE f.day BETWEEN (date_trunc('month', b.lo) - interval '11 months')::date AND b.hi
       AND (f.day >= b.lo OR f.day < date_trunc('month', b.lo))
       AND (p_crime IS NULL OR f.crime = p_crime)
     GROUP BY 1
  ), series AS (
    SELECT m.month::date AS month, b.first_month, date_trunc('month', b.lo)::date AS lo_month,
           coalesce(c.reports, 0) AS reports
      FROM bounds b
     CROSS JOIN generate_series(greatest(date_trunc('month', b.lo) - interval '11 months', b.first_month),
                                date_trunc('month', b.hi), interval '1 month') AS m(month)
      LEFT JOIN counted c ON c.month = m.month::date
  ), averaged AS (
    SELECT s.month, s.lo_month, s.reports,
           CASE WHEN s.month >= s.first_month + interval '2 months' THEN round(avg(s.reports) OVER w3, 2) END AS avg_3m,
           CASE WHEN s.month >= s.first_month + interval '11 months' THEN round(avg(s.reports) OVER w12, 2) END AS avg_12m
      FROM series s
    WINDOW w3 AS (ORDER BY s.month ROWS 2 PRECEDING), w12 AS (ORDER BY s.month ROWS 11 PRECEDING)
  )
  SELECT a.month, a.reports, a.avg_3m, a.avg_12m FROM averaged a WHERE a.month >= a.lo_month ORDER BY a.month
$$;
--> statement-breakpoint
CREATE VIEW "analytics"."crime_report_monthly_counts" AS
SELECT month, reports, avg_3m, avg_12m FROM analytics.crime_report_monthly_series(NULL, NULL, NULL);
--> statement-breakpoint

-- "Last 30 days" counts back from the anchor day: the latest report day loaded (the source
-- publishes weeks late, so counting from today would show an empty month).
CREATE VIEW "analytics"."crime_type_counts" AS
WITH anchor AS (SELECT max(day) AS anchor_day FROM analytics.crime_report_facts)
SELECT f.crime,
       count(*)::int AS reports,
       count(*) FILTER (WHERE f.day > a.anchor_day - 30)::int AS last_30_days
  FROM analytics.crime_report_facts f CROSS JOIN anchor a
 GROUP BY f.crime
 ORDER BY reports DESC, f.crime;
--> statement-breakpoint

CREATE VIEW "analytics"."crime_neighborhood_counts" AS
WITH anchor AS (SELECT max(day) AS anchor_day FROM analytics.crime_report_facts)
SELECT f.neighborhood,
       count(*)::int AS reports,
       count(*) FILTER (WHERE f.day > a.anchor_day - 30)::int AS last_30_days
  FROM analytics.crime_report_facts f CROSS JOIN anchor a
 WHERE f.neighborhood IS NOT NULL
 GROUP BY f.neighborhood
 ORDER BY reports DESC, f.neighborhood;
--> statement-breakpoint

-- One point per reporting area that has a centroid: where the map puts its reports.
CREATE VIEW "analytics"."crime_area_points" AS
SELECT f.reporting_area,
       min(f.neighborhood) AS neighborhood,
       round(avg(f.latitude)::numeric, 6)::float8 AS latitude,
       round(avg(f.longitude)::numeric, 6)::float8 AS longitude,
       count(*)::int AS reports
  FROM analytics.crime_report_facts f
 WHERE f.reporting_area IS NOT NULL AND f.latitude IS NOT NULL AND f.longitude IS NOT NULL
 GROUP BY f.reporting_area
 ORDER BY reports DESC, f.reporting_area;
--> statement-breakpoint

-- Hour and weekday of the occurrence's start (reports without a time are left out); all 24 hours
-- and all 7 weekdays present. ISO weekday: 1 = Monday.
CREATE VIEW "analytics"."crime_hour_counts" AS
WITH counted AS (
  SELECT f.hour, count(*)::int AS reports FROM analytics.crime_report_facts f
   WHERE f.hour IS NOT NULL GROUP BY f.hour
)
SELECT h.hour::smallint AS hour, coalesce(c.reports, 0) AS reports
  FROM generate_series(0, 23) AS h(hour) LEFT JOIN counted c ON c.hour = h.hour
 ORDER BY h.hour;
--> statement-breakpoint
CREATE VIEW "analytics"."crime_weekday_counts" AS
WITH counted AS (
  SELECT f.weekday, count(*)::int AS reports FROM analytics.crime_report_facts f
   WHERE f.weekday IS NOT NULL GROUP BY f.weekday
)
SELECT w.weekday::smallint AS weekday, coalesce(c.reports, 0) AS reports
  FROM generate_series(1, 7) AS w(weekday) LEFT JOIN counted c ON c.weekday = w.weekday
 ORDER BY w.weekday;
--> statement-breakpoint

CREATE VIEW "analytics"."crime_report_delays" AS
WITH counted AS (
  SELECT f.delay_bucket, count(*)::int AS reports FROM analytics.crime_report_facts f
   WHERE f.delay_bucket IS NOT NULL GROUP BY f.delay_bucket
)
SELECT b.bucket, b.label, coalesce(c.reports, 0) AS reports
  FROM analytics.crime_report_delay_buckets b LEFT JOIN counted c ON c.delay_bucket = b.bucket
 ORDER BY b.bucket;
--> statement-breakpoint

-- As analytics.significant_changes for incidents: each crime type's 28 days to the anchor day
-- against the 28 days before, z = 2·(√current − √previous), significant when |z| ≥ 3.
CREATE VIEW "analytics"."crime_significant_changes" AS
WITH anchor AS (SELECT max(day) AS anchor_day FROM analytics.crime_report_facts),
types AS (SELECT DISTINCT crime FROM analytics.crime_report_facts),
windows AS (
  SELECT t.crime,
         count(f.file_number) FILTER (WHERE f.day > a.anchor_day - 28)::int AS current_28d,
         count(f.file_number) FILTER (WHERE f.day <= a.anchor_day - 28)::int AS previous_28d
    FROM types t
   CROSS JOIN anchor a
    LEFT JOIN analytics.crime_report_facts f ON f.crime = t.crime AND f.day > a.anchor_day - 56
   GROUP BY t.crime
), scored AS (
  SELECT w.*, 2 * (sqrt(w.current_28d) - sqrt(w.previous_28d)) AS raw_z FROM windows w
)
SELECT crime, current_28d, previous_28d,
       round(raw_z::numeric, 3) AS z,
       abs(raw_z) >= 3 AS significant
  FROM scored
 ORDER BY abs(raw_z) DESC, crime;
--> statement-breakpoint

-- How late the data is: the source publishes in month-sized batches weeks after the month ends.
-- One pass over the table.
CREATE VIEW "analytics"."crime_report_freshness" AS
WITH counted AS (
  SELECT max(c.reported_at) FILTER (WHERE c.deleted_at IS NULL) AS latest_report_at,
         max(c.reported_date) FILTER (WHERE c.deleted_at IS NULL) AS anchor_day,
         max(c.source_updated_at) AS latest_source_update_at,
         count(*) FILTER (WHERE c.deleted_at IS NULL) AS reports,
         count(*) FILTER (WHERE c.deleted_at IS NULL AND c.occurred_from IS NULL) AS reports_without_time,
         count(*) FILTER (WHERE c.deleted_at IS NOT NULL) AS deleted_reports
    FROM public.crime_reports c
)
SELECT k.latest_report_at,
       k.anchor_day,
       k.latest_source_update_at,
       (SELECT s.last_success_at FROM public.sync_state s WHERE s.dataset = 'xuad-73uj') AS last_successful_sync_at,
       k.reports::bigint AS reports,
       k.reports_without_time::bigint AS reports_without_time,
       k.deleted_reports::bigint AS deleted_reports
  FROM counted k;
