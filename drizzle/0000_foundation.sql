CREATE SCHEMA "staging";
--> statement-breakpoint
CREATE SCHEMA "analytics";
--> statement-breakpoint
CREATE TYPE "public"."local_time_kind" AS ENUM('regular', 'nonexistent', 'ambiguous');--> statement-breakpoint
CREATE TYPE "public"."run_mode" AS ENUM('incremental', 'window');--> statement-breakpoint
CREATE TYPE "public"."run_state" AS ENUM('scheduled', 'pending', 'running', 'retrying', 'completed', 'failed', 'crashed', 'cancelled');--> statement-breakpoint
CREATE TYPE "public"."run_trigger" AS ENUM('schedule', 'api', 'cli');--> statement-breakpoint
CREATE TYPE "public"."step_name" AS ENUM('extract', 'validate', 'transform', 'load');--> statement-breakpoint
CREATE TABLE "incidents" (
	"id" bigint PRIMARY KEY NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	"occurred_local" timestamp NOT NULL,
	"local_date" date NOT NULL,
	"local_hour" smallint NOT NULL,
	"local_weekday" smallint NOT NULL,
	"local_time_kind" "local_time_kind" DEFAULT 'regular' NOT NULL,
	"type" text NOT NULL,
	"subtype" text,
	"offense" text,
	"statute" text,
	"location" text,
	"location_street" text,
	"location_cross_street" text,
	"description" text,
	"source_updated_at" timestamp with time zone NOT NULL,
	"first_seen_run_id" bigint,
	"last_changed_run_id" bigint,
	"loaded_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "pipeline_runs" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "pipeline_runs_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"dataset" text NOT NULL,
	"mode" "run_mode" NOT NULL,
	"trigger" "run_trigger" NOT NULL,
	"state" "run_state" DEFAULT 'scheduled' NOT NULL,
	"dedupe_key" text NOT NULL,
	"range_from" timestamp,
	"range_to" timestamp,
	"window_size" text,
	"cursor_from" text,
	"cursor_to" text,
	"window_count" integer DEFAULT 0 NOT NULL,
	"rows_extracted" integer DEFAULT 0 NOT NULL,
	"rows_rejected" integer DEFAULT 0 NOT NULL,
	"rows_duplicate" integer DEFAULT 0 NOT NULL,
	"rows_inserted" integer DEFAULT 0 NOT NULL,
	"rows_updated" integer DEFAULT 0 NOT NULL,
	"rows_unchanged" integer DEFAULT 0 NOT NULL,
	"source_fields_added" jsonb,
	"error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"ended_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "pipeline_steps" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "pipeline_steps_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"run_id" bigint NOT NULL,
	"window_index" integer NOT NULL,
	"window_start" timestamp,
	"window_end" timestamp,
	"step" "step_name" NOT NULL,
	"state" "run_state" DEFAULT 'scheduled' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"job_id" text,
	"rows_in" integer,
	"rows_out" integer,
	"counts" jsonb,
	"error" text,
	"started_at" timestamp with time zone,
	"ended_at" timestamp with time zone,
	"duration_ms" integer,
	CONSTRAINT "pipeline_steps_run_window_step" UNIQUE("run_id","window_index","step")
);
--> statement-breakpoint
CREATE TABLE "rejected_records" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "rejected_records_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"run_id" bigint NOT NULL,
	"dataset" text NOT NULL,
	"window_index" integer NOT NULL,
	"row_number" integer NOT NULL,
	"source_key" text,
	"reason" text NOT NULL,
	"detail" text NOT NULL,
	"payload" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sync_state" (
	"dataset" text PRIMARY KEY NOT NULL,
	"cursor" text,
	"last_run_id" bigint,
	"last_success_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "staging"."clean_rows" (
	"row_number" integer NOT NULL,
	"id" bigint NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	"occurred_local" timestamp NOT NULL,
	"local_date" date NOT NULL,
	"local_hour" smallint NOT NULL,
	"local_weekday" smallint NOT NULL,
	"local_time_kind" "local_time_kind" DEFAULT 'regular' NOT NULL,
	"type" text NOT NULL,
	"subtype" text,
	"offense" text,
	"statute" text,
	"location" text,
	"location_street" text,
	"location_cross_street" text,
	"description" text,
	"source_updated_at" timestamp with time zone NOT NULL,
	"source_updated_local" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "staging"."raw_rows" (
	"row_number" integer NOT NULL,
	"payload" text NOT NULL
);
--> statement-breakpoint
ALTER TABLE "pipeline_steps" ADD CONSTRAINT "pipeline_steps_run_id_pipeline_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."pipeline_runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "rejected_records" ADD CONSTRAINT "rejected_records_run_id_pipeline_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."pipeline_runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sync_state" ADD CONSTRAINT "sync_state_last_run_id_pipeline_runs_id_fk" FOREIGN KEY ("last_run_id") REFERENCES "public"."pipeline_runs"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "incidents_occurred_at" ON "incidents" USING btree ("occurred_at");--> statement-breakpoint
CREATE INDEX "incidents_local_date" ON "incidents" USING btree ("local_date");--> statement-breakpoint
CREATE INDEX "incidents_type_local_date" ON "incidents" USING btree ("type","local_date");--> statement-breakpoint
CREATE INDEX "incidents_source_updated_at" ON "incidents" USING btree ("source_updated_at");--> statement-breakpoint
CREATE UNIQUE INDEX "pipeline_runs_one_active_per_key" ON "pipeline_runs" USING btree ("dedupe_key") WHERE "pipeline_runs"."state" in ('scheduled', 'pending', 'running', 'retrying');--> statement-breakpoint
CREATE INDEX "pipeline_runs_created_at" ON "pipeline_runs" USING btree ("created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "pipeline_runs_dataset_state_ended" ON "pipeline_runs" USING btree ("dataset","state","ended_at");--> statement-breakpoint
CREATE INDEX "pipeline_steps_state" ON "pipeline_steps" USING btree ("state");--> statement-breakpoint
CREATE INDEX "rejected_records_run_window" ON "rejected_records" USING btree ("run_id","window_index");--> statement-breakpoint
CREATE INDEX "rejected_records_reason" ON "rejected_records" USING btree ("reason");