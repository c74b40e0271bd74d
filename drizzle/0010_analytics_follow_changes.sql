-- Analytics that follow the changes (issue 14) and leave deleted rows out (issue 16).
--
-- The materialised views become tables of the same names and columns that each load brings up to
-- date from what it changed, in its own transaction (src/analytics/rollups.ts, with the spec in
-- src/analytics/incidents.ts); what depends on the anchor day (last 30 days, top 100) becomes plain
-- views over them that read them by index. Rows marked deleted count nowhere. Other writers'
-- statements are still noted in pending_changes, and lead to a rebuild from the table.

DROP VIEW "analytics"."freshness";
--> statement-breakpoint
DROP VIEW "analytics"."significant_changes";
--> statement-breakpoint
DROP VIEW "analytics"."hour_weekday_grid";
--> statement-breakpoint
DROP VIEW "analytics"."hour_counts";
--> statement-breakpoint
DROP MATERIALIZED VIEW "analytics"."top_locations";
--> statement-breakpoint
DROP MATERIALIZED VIEW "analytics"."type_counts";
--> statement-breakpoint
DROP MATERIALIZED VIEW "analytics"."location_monthly";
--> statement-breakpoint
DROP MATERIALIZED VIEW "analytics"."location_daily";
--> statement-breakpoint
DROP MATERIALIZED VIEW "analytics"."hour_weekday_monthly";
--> statement-breakpoint
DROP MATERIALIZED VIEW "analytics"."incident_daily";
--> statement-breakpoint
DROP MATERIALIZED VIEW "analytics"."incident_rollup";
--> statement-breakpoint
DROP MATERIALIZED VIEW "analytics"."incident_extent";
--> statement-breakpoint

-- Which table another writer changed, so the refresh rebuilds that dataset's analytics only.
ALTER TABLE "analytics"."pending_changes" ADD COLUMN "table_name" text DEFAULT 'incidents' NOT NULL;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION "analytics"."note_incident_changes"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    INSERT INTO analytics.pending_changes (operation, table_name) VALUES (TG_OP, TG_TABLE_NAME);
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO analytics.pending_changes (operation, table_name)
      SELECT TG_OP, TG_TABLE_NAME WHERE EXISTS (SELECT 1 FROM changed_old);
  ELSIF coalesce(current_setting('cpd.load_notes_changes', true), '') <> 'on' THEN
    INSERT INTO analytics.pending_changes (operation, table_name) VALUES (TG_OP, TG_TABLE_NAME);
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint

CREATE TABLE "analytics"."incident_rollup" (
	"day" date NOT NULL,
	"hour" smallint NOT NULL,
	"weekday" smallint NOT NULL,
	"type" text NOT NULL,
	"incidents" int NOT NULL,
	PRIMARY KEY ("day", "hour", "type")
);
--> statement-breakpoint
CREATE INDEX "incident_rollup_type_day" ON "analytics"."incident_rollup" ("type", "day");
--> statement-breakpoint
CREATE TABLE "analytics"."incident_daily" (
	"day" date NOT NULL,
	"weekday" smallint NOT NULL,
	"type" text NOT NULL,
	"incidents" int NOT NULL,
	PRIMARY KEY ("day", "type")
);
--> statement-breakpoint
CREATE INDEX "incident_daily_type_day" ON "analytics"."incident_daily" ("type", "day");
--> statement-breakpoint
CREATE TABLE "analytics"."hour_weekday_monthly" (
	"month" date NOT NULL,
	"weekday" smallint NOT NULL,
	"hour" smallint NOT NULL,
	"type" text NOT NULL,
	"incidents" int NOT NULL,
	PRIMARY KEY ("month", "weekday", "hour", "type")
);
--> statement-breakpoint
CREATE TABLE "analytics"."location_daily" (
	"day" date NOT NULL,
	"type" text NOT NULL,
	"location" text NOT NULL,
	"incidents" int NOT NULL,
	PRIMARY KEY ("day", "type", "location")
);
--> statement-breakpoint
CREATE TABLE "analytics"."location_monthly" (
	"month" date NOT NULL,
	"type" text NOT NULL,
	"location" text NOT NULL,
	"incidents" int NOT NULL,
	PRIMARY KEY ("month", "type", "location")
);
--> statement-breakpoint
-- All-history counts per location, ranked by an index, so the top 100 are read, not sorted.
CREATE TABLE "analytics"."location_totals" (
	"location" text PRIMARY KEY NOT NULL,
	"incidents" int NOT NULL
);
--> statement-breakpoint
CREATE INDEX "location_totals_ranked" ON "analytics"."location_totals" ("incidents" DESC, "location");
--> statement-breakpoint
-- (type, offense, statute) per day, for type_counts' last 30 days; and all-history totals. No
-- offense or statute is '' (NULL in type_counts), so the keys are plain and compared with =.
CREATE TABLE "analytics"."type_daily" (
	"day" date NOT NULL,
	"type" text NOT NULL,
	"offense" text NOT NULL,
	"statute" text NOT NULL,
	"incidents" int NOT NULL,
	PRIMARY KEY ("day", "type", "offense", "statute")
);
--> statement-breakpoint
CREATE TABLE "analytics"."type_totals" (
	"type" text NOT NULL,
	"offense" text NOT NULL,
	"statute" text NOT NULL,
	"incidents" int NOT NULL,
	PRIMARY KEY ("type", "offense", "statute")
);
--> statement-breakpoint
CREATE TABLE "analytics"."incident_extent" (
	"singleton" boolean PRIMARY KEY DEFAULT true CHECK ("singleton"),
	"latest_incident_at" timestamp with time zone,
	"latest_source_update_at" timestamp with time zone
);
--> statement-breakpoint

-- Filled once from what is there (the same definitions as src/analytics/incidents.ts).
INSERT INTO "analytics"."incident_rollup" (day, hour, weekday, type, incidents)
SELECT local_date, local_hour, extract(isodow FROM local_date)::smallint, type, count(*)::int
  FROM public.incidents WHERE deleted_at IS NULL GROUP BY 1, 2, 3, 4;
--> statement-breakpoint
INSERT INTO "analytics"."incident_daily" (day, weekday, type, incidents)
SELECT day, weekday, type, sum(incidents)::int FROM analytics.incident_rollup GROUP BY 1, 2, 3;
--> statement-breakpoint
INSERT INTO "analytics"."hour_weekday_monthly" (month, weekday, hour, type, incidents)
SELECT date_trunc('month', day)::date, weekday, hour, type, sum(incidents)::int
  FROM analytics.incident_rollup GROUP BY 1, 2, 3, 4;
--> statement-breakpoint
INSERT INTO "analytics"."location_daily" (day, type, location, incidents)
SELECT local_date, type, left(location, 300), count(*)::int FROM public.incidents
 WHERE deleted_at IS NULL AND location IS NOT NULL AND location <> '' GROUP BY 1, 2, 3;
--> statement-breakpoint
INSERT INTO "analytics"."location_monthly" (month, type, location, incidents)
SELECT date_trunc('month', day)::date, type, location, sum(incidents)::int
  FROM analytics.location_daily GROUP BY 1, 2, 3;
--> statement-breakpoint
INSERT INTO "analytics"."location_totals" (location, incidents)
SELECT location, sum(incidents)::int FROM analytics.location_monthly GROUP BY 1;
--> statement-breakpoint
INSERT INTO "analytics"."type_daily" (day, type, offense, statute, incidents)
SELECT local_date, type, coalesce(offense, ''), coalesce(statute, ''), count(*)::int FROM public.incidents
 WHERE deleted_at IS NULL GROUP BY 1, 2, 3, 4;
--> statement-breakpoint
INSERT INTO "analytics"."type_totals" (type, offense, statute, incidents)
SELECT type, offense, statute, sum(incidents)::int FROM analytics.type_daily GROUP BY 1, 2, 3;
--> statement-breakpoint
INSERT INTO "analytics"."incident_extent" (singleton, latest_incident_at, latest_source_update_at)
SELECT true, max(occurred_at), max(source_updated_at) FROM public.incidents WHERE deleted_at IS NULL;
--> statement-breakpoint

CREATE VIEW "analytics"."type_counts" AS
WITH anchor AS (SELECT max(day) AS anchor_day FROM analytics.incident_daily),
recent AS (
  SELECT d.type, d.offense, d.statute, sum(d.incidents)::int AS incidents
    FROM analytics.type_daily d CROSS JOIN anchor a
   WHERE d.day > a.anchor_day - 30
   GROUP BY 1, 2, 3
)
SELECT t.type, nullif(t.offense, '') AS offense, nullif(t.statute, '') AS statute, t.incidents,
       coalesce(r.incidents, 0)::int AS last_30_days
  FROM analytics.type_totals t
  LEFT JOIN recent r ON r.type = t.type AND r.offense = t.offense AND r.statute = t.statute;
--> statement-breakpoint

-- row_number, not rank: ties are broken by name so the view never holds more than 100 rows.
CREATE VIEW "analytics"."top_locations" AS
WITH anchor AS (SELECT max(day) AS anchor_day FROM analytics.incident_daily),
ranked AS (
  SELECT l.location, l.incidents,
         row_number() OVER (ORDER BY l.incidents DESC, l.location)::int AS rank
    FROM analytics.location_totals l
   ORDER BY l.incidents DESC, l.location
   LIMIT 100
),
recent AS (
  SELECT d.location, sum(d.incidents)::int AS incidents
    FROM analytics.location_daily d CROSS JOIN anchor a
   WHERE d.day > a.anchor_day - 30 AND d.location IN (SELECT location FROM ranked)
   GROUP BY d.location
)
SELECT k.location, k.incidents, coalesce(r.incidents, 0)::int AS last_30_days, k.rank
  FROM ranked k LEFT JOIN recent r ON r.location = k.location;
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

-- The last two columns come from the partial index of deleted rows: exact, and cheap however
-- large the table.
CREATE VIEW "analytics"."freshness" AS
SELECT (SELECT latest_incident_at FROM analytics.incident_extent) AS latest_incident_at,
       (SELECT latest_source_update_at FROM analytics.incident_extent) AS latest_source_update_at,
       (SELECT max(last_success_at) FROM public.sync_state) AS last_successful_sync_at,
       (SELECT (latest_incident_at AT TIME ZONE 'America/New_York')::date FROM analytics.incident_extent) AS anchor_day,
       (SELECT coalesce(sum(incidents), 0) FROM analytics.incident_daily)::bigint AS incidents,
       (SELECT refreshed_at FROM analytics.refresh_state) AS analytics_refreshed_at,
       (SELECT count(*) FROM public.incidents WHERE deleted_at IS NOT NULL)::bigint AS removed_incidents,
       (SELECT max(deleted_at) FROM public.incidents WHERE deleted_at IS NOT NULL) AS last_removed_at;
--> statement-breakpoint

-- Rows the source no longer serves, kept for audits: when the pipeline noticed and in which run.
CREATE VIEW "analytics"."deleted_incidents" AS
SELECT i.id, i.occurred_at, i.occurred_local, i.local_date, i.type, i.subtype, i.location,
       i.description, i.source_updated_at, i.first_seen_run_id, i.last_changed_run_id,
       i.deleted_at, i.deleted_run_id
  FROM public.incidents i
 WHERE i.deleted_at IS NOT NULL;
--> statement-breakpoint

CREATE OR REPLACE VIEW "analytics"."run_health" AS
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
       r.error,
       r.rows_deleted,
       r.rows_restored
  FROM public.pipeline_runs r
 ORDER BY r.created_at DESC, r.id DESC;
