-- Analytics views for the built-in dashboard and Metabase (contract: docs/analytics.md).
--
-- Whole-table aggregations are materialised, so every dashboard query reads thousands of rows, not
-- millions; refreshAnalytics (src/db/refresh-analytics.ts) refreshes them after a load changed
-- incidents. Each has a unique index so it can be refreshed CONCURRENTLY, without blocking readers.
-- Views over the run ledger (freshness, run health) and cheap derivations stay plain views.
-- Local parts (day, hour, weekday) always come from the columns the transform derived from the
-- source's wall time, never from occurred_at, so DST days land where the source put them.

-- Statements that changed incidents leave a row here; a refresh consumes them. A plain insert (no
-- shared counter row) so parallel window loads never wait on each other.
CREATE TABLE "analytics"."pending_changes" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY,
	"operation" text NOT NULL,
	"noted_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "analytics"."refresh_state" (
	"singleton" boolean PRIMARY KEY DEFAULT true CHECK ("singleton"),
	"refreshed_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
INSERT INTO "analytics"."refresh_state" ("refreshed_at") VALUES (now());
--> statement-breakpoint
-- Transition tables hold only the rows a statement really inserted, updated or deleted, so an
-- upsert that changed nothing (a replayed window) leaves no mark and the next refresh is a no-op.
CREATE FUNCTION "analytics"."note_incident_changes"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    INSERT INTO analytics.pending_changes (operation) VALUES (TG_OP);
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO analytics.pending_changes (operation)
      SELECT TG_OP WHERE EXISTS (SELECT 1 FROM changed_old);
  ELSE
    INSERT INTO analytics.pending_changes (operation)
      SELECT TG_OP WHERE EXISTS (SELECT 1 FROM changed_new);
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER "incidents_note_insert" AFTER INSERT ON "public"."incidents"
  REFERENCING NEW TABLE AS changed_new FOR EACH STATEMENT
  EXECUTE FUNCTION "analytics"."note_incident_changes"();
--> statement-breakpoint
CREATE TRIGGER "incidents_note_update" AFTER UPDATE ON "public"."incidents"
  REFERENCING NEW TABLE AS changed_new FOR EACH STATEMENT
  EXECUTE FUNCTION "analytics"."note_incident_changes"();
--> statement-breakpoint
CREATE TRIGGER "incidents_note_delete" AFTER DELETE ON "public"."incidents"
  REFERENCING OLD TABLE AS changed_old FOR EACH STATEMENT
  EXECUTE FUNCTION "analytics"."note_incident_changes"();
--> statement-breakpoint
CREATE TRIGGER "incidents_note_truncate" AFTER TRUNCATE ON "public"."incidents"
  FOR EACH STATEMENT EXECUTE FUNCTION "analytics"."note_incident_changes"();
--> statement-breakpoint

-- The base of every filtered count: one row per (local day, hour, type). The weekday is computed
-- from the day so the unique key can never see two weekdays for one day.
CREATE MATERIALIZED VIEW "analytics"."incident_rollup" AS
SELECT i.local_date AS day,
       i.local_hour AS hour,
       extract(isodow FROM i.local_date)::smallint AS weekday,
       i.type,
       count(*)::int AS incidents
  FROM public.incidents i
 GROUP BY i.local_date, i.local_hour, i.type;
--> statement-breakpoint
CREATE UNIQUE INDEX "incident_rollup_key" ON "analytics"."incident_rollup" ("day", "hour", "type");
--> statement-breakpoint
CREATE INDEX "incident_rollup_type_day" ON "analytics"."incident_rollup" ("type", "day");
--> statement-breakpoint

-- The same at day grain: a 24th of the rows, for day, month and type series.
CREATE MATERIALIZED VIEW "analytics"."incident_daily" AS
SELECT r.day, r.weekday, r.type, sum(r.incidents)::int AS incidents
  FROM analytics.incident_rollup r
 GROUP BY r.day, r.weekday, r.type;
--> statement-breakpoint
CREATE UNIQUE INDEX "incident_daily_key" ON "analytics"."incident_daily" ("day", "type");
--> statement-breakpoint
CREATE INDEX "incident_daily_type_day" ON "analytics"."incident_daily" ("type", "day");
--> statement-breakpoint

-- Hours by weekday per month: all-history hour and weekday charts read ~170 rows a month instead of
-- ~24 a day; a date range reads its whole months here and its edge days from incident_rollup.
CREATE MATERIALIZED VIEW "analytics"."hour_weekday_monthly" AS
SELECT date_trunc('month', r.day)::date AS month, r.weekday, r.hour, r.type,
       sum(r.incidents)::int AS incidents
  FROM analytics.incident_rollup r
 GROUP BY 1, 2, 3, 4;
--> statement-breakpoint
CREATE UNIQUE INDEX "hour_weekday_monthly_key" ON "analytics"."hour_weekday_monthly" ("month", "weekday", "hour", "type");
--> statement-breakpoint

-- Locations per day and per month: top locations over a date range read whole months from the
-- monthly one and the partial months at the range's edges from the daily one. Locations are cut
-- to 300 characters so the unique keys stay within a B-tree entry whatever the source sends.
CREATE MATERIALIZED VIEW "analytics"."location_daily" AS
SELECT i.local_date AS day,
       i.type,
       left(i.location, 300) AS location,
       count(*)::int AS incidents
  FROM public.incidents i
 WHERE i.location IS NOT NULL AND i.location <> ''
 GROUP BY 1, 2, 3;
--> statement-breakpoint
CREATE UNIQUE INDEX "location_daily_key" ON "analytics"."location_daily" ("day", "type", "location");
--> statement-breakpoint
CREATE MATERIALIZED VIEW "analytics"."location_monthly" AS
SELECT date_trunc('month', d.day)::date AS month, d.type, d.location, sum(d.incidents)::int AS incidents
  FROM analytics.location_daily d
 GROUP BY 1, 2, 3;
--> statement-breakpoint
CREATE UNIQUE INDEX "location_monthly_key" ON "analytics"."location_monthly" ("month", "type", "location");
--> statement-breakpoint

CREATE MATERIALIZED VIEW "analytics"."type_counts" AS
WITH anchor AS (SELECT max(local_date) AS anchor_day FROM public.incidents)
SELECT i.type,
       i.offense,
       i.statute,
       count(*)::int AS incidents,
       count(*) FILTER (WHERE i.local_date > a.anchor_day - 30)::int AS last_30_days
  FROM public.incidents i CROSS JOIN anchor a
 GROUP BY i.type, i.offense, i.statute;
--> statement-breakpoint
CREATE UNIQUE INDEX "type_counts_key" ON "analytics"."type_counts" ("type", "offense", "statute") NULLS NOT DISTINCT;
--> statement-breakpoint

CREATE MATERIALIZED VIEW "analytics"."top_locations" AS
WITH anchor AS (SELECT max(day) AS anchor_day FROM analytics.incident_daily),
counted AS (
  SELECT d.location,
         sum(d.incidents)::int AS incidents,
         coalesce(sum(d.incidents) FILTER (WHERE d.day > a.anchor_day - 30), 0)::int AS last_30_days
    FROM analytics.location_daily d CROSS JOIN anchor a
   GROUP BY d.location
),
ranked AS (
  -- row_number, not rank: ties are broken by name so the view never holds more than 100 rows.
  SELECT c.*, row_number() OVER (ORDER BY c.incidents DESC, c.location)::int AS rank FROM counted c
)
SELECT location, incidents, last_30_days, rank FROM ranked WHERE rank <= 100;
--> statement-breakpoint
CREATE UNIQUE INDEX "top_locations_key" ON "analytics"."top_locations" ("location");
--> statement-breakpoint

-- One definition of the daily series for the daily_counts view and the dashboard's filtered series
-- (from, to and type null mean "all"). Averages are NULL until a full 7 or 28 days of data exist,
-- and reach back before `from`, so a range's first day has the same average as in the full series.
CREATE FUNCTION "analytics"."daily_series"(p_from date, p_to date, p_type text)
RETURNS TABLE ("day" date, "incidents" int, "avg_7d" numeric, "avg_28d" numeric)
LANGUAGE sql STABLE AS $$
  WITH extent AS (
    SELECT min(d.day) AS first_day, max(d.day) AS anchor_day FROM analytics.incident_daily d
  ), bounds AS (
    SELECT e.first_day,
           greatest(coalesce(p_from, e.first_day), e.first_day) AS lo,
           least(coalesce(p_to, e.anchor_day), e.anchor_day) AS hi
      FROM extent e
  ), per_day AS (
    SELECT d.day, sum(d.incidents)::int AS incidents
      FROM analytics.incident_daily d CROSS JOIN bounds b
     WHERE d.day BETWEEN b.lo - 27 AND b.hi AND (p_type IS NULL OR d.type = p_type)
     GROUP BY d.day
  ), series AS (
    SELECT s.day::date AS day, b.first_day, b.lo, coalesce(p.incidents, 0) AS incidents
      FROM bounds b
     CROSS JOIN generate_series(greatest(b.lo - 27, b.first_day), b.hi, interval '1 day') AS s(day)
      LEFT JOIN per_day p ON p.day = s.day::date
  ), averaged AS (
    SELECT s.day, s.lo, s.incidents,
           CASE WHEN s.day >= s.first_day + 6 THEN round(avg(s.incidents) OVER w7, 2) END AS avg_7d,
           CASE WHEN s.day >= s.first_day + 27 THEN round(avg(s.incidents) OVER w28, 2) END AS avg_28d
      FROM series s
    WINDOW w7 AS (ORDER BY s.day ROWS 6 PRECEDING), w28 AS (ORDER BY s.day ROWS 27 PRECEDING)
  )
  SELECT a.day, a.incidents, a.avg_7d, a.avg_28d FROM averaged a WHERE a.day >= a.lo ORDER BY a.day
$$;
--> statement-breakpoint
CREATE VIEW "analytics"."daily_counts" AS
SELECT day, incidents, avg_7d, avg_28d FROM analytics.daily_series(NULL, NULL, NULL);
--> statement-breakpoint

CREATE VIEW "analytics"."monthly_counts" AS
SELECT date_trunc('month', d.day)::date AS month, sum(d.incidents)::int AS incidents
  FROM analytics.daily_counts d
 GROUP BY 1
 ORDER BY 1;
--> statement-breakpoint

CREATE VIEW "analytics"."hour_counts" AS
WITH anchor AS (SELECT max(day) AS anchor_day FROM analytics.incident_daily),
all_days AS (
  SELECT m.hour, sum(m.incidents)::int AS incidents FROM analytics.hour_weekday_monthly m GROUP BY m.hour
),
last_30 AS (
  SELECT r.hour, sum(r.incidents)::int AS incidents
    FROM analytics.incident_rollup r CROSS JOIN anchor a
   WHERE r.day > a.anchor_day - 30
   GROUP BY r.hour
)
SELECT h.hour::smallint AS hour,
       coalesce(d.incidents, 0) AS incidents,
       coalesce(l.incidents, 0) AS last_30_days
  FROM generate_series(0, 23) AS h(hour)
  LEFT JOIN all_days d ON d.hour = h.hour
  LEFT JOIN last_30 l ON l.hour = h.hour
 ORDER BY h.hour;
--> statement-breakpoint

CREATE VIEW "analytics"."hour_weekday_grid" AS
WITH counted AS (
  SELECT m.weekday, m.hour, sum(m.incidents)::int AS incidents
    FROM analytics.hour_weekday_monthly m
   GROUP BY m.weekday, m.hour
)
SELECT w.weekday::smallint AS weekday,
       h.hour::smallint AS hour,
       coalesce(c.incidents, 0) AS incidents
  FROM generate_series(1, 7) AS w(weekday)
 CROSS JOIN generate_series(0, 23) AS h(hour)
  LEFT JOIN counted c ON c.weekday = w.weekday AND c.hour = h.hour
 ORDER BY w.weekday, h.hour;
--> statement-breakpoint

-- Each day is paired with the day of the same ISO weekday and week a year earlier, so a partial
-- week (the anchor's) is compared with the same days, not a whole week. previous_year is NULL when
-- any of those days falls outside the data.
CREATE VIEW "analytics"."yoy_weekly" AS
WITH days AS (
  SELECT d.day, d.incidents,
         extract(isoyear FROM d.day)::int AS iso_year,
         extract(week FROM d.day)::int AS iso_week,
         extract(isodow FROM d.day)::int AS iso_weekday
    FROM analytics.daily_counts d
), paired AS (
  SELECT c.iso_year, c.iso_week, c.incidents, p.incidents AS previous
    FROM days c
    LEFT JOIN days p
      ON p.iso_year = c.iso_year - 1 AND p.iso_week = c.iso_week AND p.iso_weekday = c.iso_weekday
)
SELECT iso_year,
       iso_week,
       sum(incidents)::int AS incidents,
       CASE WHEN count(previous) = count(*) THEN sum(previous)::int END AS previous_year,
       CASE WHEN count(previous) = count(*) AND sum(previous) > 0
            THEN round(100.0 * (sum(incidents) - sum(previous)) / sum(previous), 1) END AS change_pct,
       count(*)::int AS days
  FROM paired
 GROUP BY iso_year, iso_week
 ORDER BY iso_year, iso_week;
--> statement-breakpoint

CREATE VIEW "analytics"."significant_changes" AS
WITH anchor AS (SELECT max(day) AS anchor_day FROM analytics.incident_daily),
types AS (SELECT DISTINCT type FROM analytics.incident_daily),
windows AS (
  SELECT t.type,
         coalesce(sum(d.incidents) FILTER (WHERE d.day > a.anchor_day - 28), 0)::int AS current_28d,
         coalesce(sum(d.incidents) FILTER (WHERE d.day <= a.anchor_day - 28), 0)::int AS previous_28d
    FROM types t
   CROSS JOIN anchor a
    LEFT JOIN analytics.incident_daily d ON d.type = t.type AND d.day > a.anchor_day - 56
   GROUP BY t.type
), scored AS (
  SELECT w.*, 2 * (sqrt(w.current_28d) - sqrt(w.previous_28d)) AS raw_z FROM windows w
)
SELECT type, current_28d, previous_28d,
       round(raw_z::numeric, 3) AS z,
       abs(raw_z) >= 3 AS significant
  FROM scored
 ORDER BY abs(raw_z) DESC, type;
--> statement-breakpoint

CREATE VIEW "analytics"."freshness" AS
SELECT (SELECT max(occurred_at) FROM public.incidents) AS latest_incident_at,
       (SELECT max(source_updated_at) FROM public.incidents) AS latest_source_update_at,
       (SELECT max(last_success_at) FROM public.sync_state) AS last_successful_sync_at,
       (SELECT max(local_date) FROM public.incidents) AS anchor_day,
       -- From the rollup: counting a million rows live would cost more than the whole dashboard.
       (SELECT coalesce(sum(incidents), 0) FROM analytics.incident_daily)::bigint AS incidents,
       (SELECT refreshed_at FROM analytics.refresh_state) AS analytics_refreshed_at;
--> statement-breakpoint

CREATE VIEW "analytics"."run_health" AS
SELECT r.id AS run_id,
       r.dataset,
       r.mode::text AS mode,
       r.trigger::text AS trigger,
       r.state::text AS state,
       r.created_at,
       r.started_at,
       r.ended_at,
       round(extract(epoch FROM r.ended_at - r.started_at), 1) AS duration_seconds,
       r.rows_extracted,
       r.rows_rejected,
       r.rows_inserted,
       r.rows_updated,
       r.rows_unchanged,
       r.error
  FROM public.pipeline_runs r
 ORDER BY r.created_at DESC, r.id DESC;
