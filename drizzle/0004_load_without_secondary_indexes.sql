DROP INDEX "incidents_occurred_at";--> statement-breakpoint
DROP INDEX "incidents_source_updated_at";--> statement-breakpoint
-- The latest stamps, for freshness, now that incidents has no index on them: the refresh reads
-- them in the same snapshot as the other views. One row; the constant key lets it refresh
-- CONCURRENTLY.
CREATE MATERIALIZED VIEW "analytics"."incident_extent" AS
SELECT true AS singleton,
       max(occurred_at) AS latest_incident_at,
       max(source_updated_at) AS latest_source_update_at
  FROM public.incidents;
--> statement-breakpoint
CREATE UNIQUE INDEX "incident_extent_key" ON "analytics"."incident_extent" ("singleton");
--> statement-breakpoint
-- The latest stamps and the anchor day are as of analytics_refreshed_at, like every count here.
-- The anchor is the latest instant's local date (New York's clock never moves across midnight).
CREATE OR REPLACE VIEW "analytics"."freshness" AS
SELECT (SELECT latest_incident_at FROM analytics.incident_extent) AS latest_incident_at,
       (SELECT latest_source_update_at FROM analytics.incident_extent) AS latest_source_update_at,
       (SELECT max(last_success_at) FROM public.sync_state) AS last_successful_sync_at,
       (SELECT (latest_incident_at AT TIME ZONE 'America/New_York')::date FROM analytics.incident_extent) AS anchor_day,
       (SELECT coalesce(sum(incidents), 0) FROM analytics.incident_daily)::bigint AS incidents,
       (SELECT refreshed_at FROM analytics.refresh_state) AS analytics_refreshed_at;
--> statement-breakpoint
-- Inserts and updates are no longer collected in transition tables: on a million-row load that
-- copy of every row cost a fifth of the load. The pipeline's load marks its own changes from the
-- counts it already has (and says so with cpd.load_notes_changes, for its transaction only); any
-- other writer's statement is marked as it runs, whether or not it changed a row (a statement
-- trigger cannot tell without a transition table), which costs at most one needless refresh.
CREATE OR REPLACE FUNCTION "analytics"."note_incident_changes"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    INSERT INTO analytics.pending_changes (operation) VALUES (TG_OP);
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO analytics.pending_changes (operation)
      SELECT TG_OP WHERE EXISTS (SELECT 1 FROM changed_old);
  ELSIF coalesce(current_setting('cpd.load_notes_changes', true), '') <> 'on' THEN
    INSERT INTO analytics.pending_changes (operation) VALUES (TG_OP);
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
DROP TRIGGER "incidents_note_insert" ON "public"."incidents";
--> statement-breakpoint
CREATE TRIGGER "incidents_note_insert" AFTER INSERT ON "public"."incidents"
  FOR EACH STATEMENT EXECUTE FUNCTION "analytics"."note_incident_changes"();
--> statement-breakpoint
DROP TRIGGER "incidents_note_update" ON "public"."incidents";
--> statement-breakpoint
CREATE TRIGGER "incidents_note_update" AFTER UPDATE ON "public"."incidents"
  FOR EACH STATEMENT EXECUTE FUNCTION "analytics"."note_incident_changes"();
