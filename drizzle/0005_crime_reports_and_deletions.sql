CREATE TYPE "public"."occurrence_form" AS ENUM('instant', 'same_day_range', 'range', 'date_only', 'missing', 'unreadable');--> statement-breakpoint
CREATE TABLE "crime_reports" (
	"file_number" text PRIMARY KEY NOT NULL,
	"source_row_id" text,
	"reported_at" timestamp with time zone NOT NULL,
	"reported_local" timestamp NOT NULL,
	"reported_date" date NOT NULL,
	"reported_time_kind" "local_time_kind" DEFAULT 'regular' NOT NULL,
	"crime_date_time" text,
	"occurred_from" timestamp with time zone,
	"occurred_to" timestamp with time zone,
	"occurred_date" date,
	"occurred_hour" smallint,
	"occurred_weekday" smallint,
	"occurrence_form" "occurrence_form" NOT NULL,
	"occurred_time_kind" "local_time_kind",
	"crime" text NOT NULL,
	"neighborhood" text,
	"reporting_area" text,
	"location" text,
	"latitude" numeric,
	"longitude" numeric,
	"source_updated_at" timestamp with time zone NOT NULL,
	"first_seen_run_id" bigint,
	"last_changed_run_id" bigint,
	"loaded_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone,
	"deleted_run_id" bigint
);
--> statement-breakpoint
ALTER TABLE "incidents" ADD COLUMN "deleted_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "incidents" ADD COLUMN "deleted_run_id" bigint;