import { pgSchema } from 'drizzle-orm/pg-core';

/**
 * Rows between steps live in PostgreSQL, never in Redis, in this schema: one unlogged table per
 * (run, window, kind: raw, keys, skip, clean), created empty by the step that fills it, in the
 * transaction that fills it (a retried step replaces its table). The load drops its window's
 * tables in the transaction that commits the window; whatever a run left behind is dropped when
 * the run completes or is found crashed (src/pipeline/staging.ts has their shapes). No Drizzle
 * tables here: the raw, keys and skip tables have one shape for every dataset, and the clean
 * table is created like its dataset's own table.
 */
export const staging = pgSchema('staging');
