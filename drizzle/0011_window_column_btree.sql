DROP INDEX "incidents_occurred_local_brin";--> statement-breakpoint
CREATE INDEX "incidents_occurred_local" ON "incidents" USING btree ("occurred_local");--> statement-breakpoint
CREATE INDEX "crime_reports_reported_local" ON "crime_reports" USING btree ("reported_local");