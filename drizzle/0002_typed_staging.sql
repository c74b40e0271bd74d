CREATE TABLE "staging"."raw_police_log" (
	"row_number" integer NOT NULL,
	"date_time" text,
	"id" text,
	"type" text,
	"subtype" text,
	"location" text,
	"description" text,
	"last_updated" text,
	"extra_fields" text,
	"raw_json" text
);
--> statement-breakpoint
CREATE TABLE "staging"."skipped_rows" (
	"row_number" integer NOT NULL,
	"reason" text NOT NULL
);
--> statement-breakpoint
DROP TABLE "staging"."raw_rows" CASCADE;--> statement-breakpoint
DROP INDEX "incidents_type_local_date";