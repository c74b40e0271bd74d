import { pgSchema } from 'drizzle-orm/pg-core';

/**
 * Rows between steps live in PostgreSQL, never in Redis, in this schema: one unlogged table per
 * (run, window, kind), created by the step that fills it and dropped by the load that commits
 * the window (src/pipeline/staging.ts has their shapes). No templates: the raw, keys and skip
 * tables have one shape for every dataset, and the clean table takes its dataset's table's.
 */
export const staging = pgSchema('staging');
