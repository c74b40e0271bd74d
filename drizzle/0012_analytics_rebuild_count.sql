-- How many times the rollups were rebuilt from the table (rebuildAnalytics): the loads keep them
-- by delta, so this moves only after a large first load, another writer's change or
-- `cpd analytics rebuild`; tests and operators can tell a kept rollup from a rebuilt one.
ALTER TABLE "analytics"."refresh_state" ADD COLUMN "rebuilds" bigint DEFAULT 0 NOT NULL;
