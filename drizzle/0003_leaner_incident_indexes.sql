DROP INDEX "incidents_local_date";--> statement-breakpoint
-- The anchor day from the occurred_at index instead of a local_date index, which every load had to
-- write: the latest instant's local date is the latest local date (New York's clock never moves
-- across midnight).
CREATE OR REPLACE VIEW "analytics"."freshness" AS
SELECT (SELECT max(occurred_at) FROM public.incidents) AS latest_incident_at,
       (SELECT max(source_updated_at) FROM public.incidents) AS latest_source_update_at,
       (SELECT max(last_success_at) FROM public.sync_state) AS last_successful_sync_at,
       (SELECT (max(occurred_at) AT TIME ZONE 'America/New_York')::date FROM public.incidents) AS anchor_day,
       -- From the rollup: counting a million rows live would cost more than the whole dashboard.
       (SELECT coalesce(sum(incidents), 0) FROM analytics.incident_daily)::bigint AS incidents,
       (SELECT refreshed_at FROM analytics.refresh_state) AS analytics_refreshed_at;
