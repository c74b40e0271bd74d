DROP TABLE "staging"."clean_rows" CASCADE;--> statement-breakpoint
DROP TABLE "staging"."raw_police_log" CASCADE;--> statement-breakpoint
DROP TABLE "staging"."skipped_rows" CASCADE;