import { bigint, integer, pgSchema, text } from 'drizzle-orm/pg-core';
import { incidentContentColumns } from './incidents.js';

/**
 * Rows between steps live in Postgres, never in Redis. These two tables are templates: each
 * (run, window) gets its own UNLOGGED copy (`CREATE UNLOGGED TABLE … (LIKE staging.raw_rows)`),
 * which a retried step can replace wholesale and the load drops in the same transaction that
 * commits the window. Unlogged, because staging is rebuilt from the source after a crash anyway.
 */
export const staging = pgSchema('staging');

/** What extract fetched: one source row per line, as the JSON text the source sent. */
export const stagingRawRows = staging.table('raw_rows', {
  rowNumber: integer('row_number').notNull(),
  payload: text('payload').notNull(),
});

/** What transform produced: incidents ready to upsert, one per id. */
export const stagingCleanRows = staging.table('clean_rows', {
  rowNumber: integer('row_number').notNull(),
  id: bigint('id', { mode: 'number' }).notNull(),
  ...incidentContentColumns,
  /** Source `last_updated` as published, to advance the cursor in the source's own format. */
  sourceUpdatedLocal: text('source_updated_local').notNull(),
});
