-- A counter per dataset that moves with every committed statement writing the dataset's table:
-- the built-in dashboard keys its cache by it (with analytics.refresh_state for the incidents'
-- materialised views), so a cached answer is never older than the data it was computed from.
-- The row is updated, not appended to, so the version is visible exactly when the change is
-- (a sequence would move before the commit). The row lock this takes costs nothing extra: loads
-- of one dataset already take turns (an advisory lock), and the lock ends with their commit.
CREATE TABLE "analytics"."data_versions" (
	"dataset" text PRIMARY KEY,
	"version" bigint NOT NULL,
	"changed_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE FUNCTION "analytics"."note_data_version"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO analytics.data_versions (dataset, version, changed_at) VALUES (TG_ARGV[0], 1, now())
  ON CONFLICT (dataset) DO UPDATE SET version = analytics.data_versions.version + 1, changed_at = now();
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER "incidents_note_data_version" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "public"."incidents"
  FOR EACH STATEMENT EXECUTE FUNCTION "analytics"."note_data_version"('3gki-wyrb');
--> statement-breakpoint
CREATE TRIGGER "crime_reports_note_data_version" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "public"."crime_reports"
  FOR EACH STATEMENT EXECUTE FUNCTION "analytics"."note_data_version"('xuad-73uj');
--> statement-breakpoint
-- When each dataset last synced successfully, for the pages' freshness (read apart from the data,
-- since a sync that changed nothing still counts).
CREATE VIEW "analytics"."dataset_syncs" AS
SELECT s.dataset, s.last_success_at AS last_successful_sync_at FROM public.sync_state s;
