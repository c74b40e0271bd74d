ALTER TABLE "pipeline_runs" ADD COLUMN "rows_deleted" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "pipeline_runs" ADD COLUMN "rows_restored" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "pipeline_runs" ADD COLUMN "allow_deletes" boolean DEFAULT false NOT NULL;--> statement-breakpoint
CREATE INDEX "incidents_occurred_local_brin" ON "incidents" USING brin ("occurred_local");--> statement-breakpoint
CREATE INDEX "incidents_deleted" ON "incidents" USING btree ("deleted_at") WHERE "incidents"."deleted_at" is not null;