import { bigint, integer, pgSchema, text } from 'drizzle-orm/pg-core';
import { incidentContentColumns } from './incidents.js';

/**
 * Rows between steps live in Postgres, never in Redis. These tables are templates: each
 * (run, window) gets its own copy (`CREATE TABLE … (LIKE staging.raw_police_log)`), which a
 * retried step replaces wholesale and the load drops in the transaction that commits the window.
 * They are ordinary (logged) tables, so a PostgreSQL crash mid-run loses nothing a later step
 * needs.
 */
export const staging = pgSchema('staging');

/**
 * What extract fetched from the Police Log, one source row per row, in the source's order. The
 * dataset's fields are columns (text, as Socrata sends every value), so later steps split a COPY
 * line instead of parsing JSON. A row the columns cannot hold faithfully (a value that is not
 * text, a NUL character) is kept whole in `raw_json` instead; fields the definition does not list
 * (system fields, new ones) are kept in `extra_fields`. Together they are exactly what was sent.
 */
export const stagingRawPoliceLog = staging.table('raw_police_log', {
  rowNumber: integer('row_number').notNull(),
  dateTime: text('date_time'),
  id: text('id'),
  type: text('type'),
  subtype: text('subtype'),
  location: text('location'),
  description: text('description'),
  lastUpdated: text('last_updated'),
  /** JSON object of the fields the definition does not list, when there are any. */
  extraFields: text('extra_fields'),
  /** The whole row as JSON, when the columns cannot hold it; the columns are then null. */
  rawJson: text('raw_json'),
});

/** Rows validate set aside: rejected (quarantined) or superseded by a later version of the id. */
export const stagingSkippedRows = staging.table('skipped_rows', {
  rowNumber: integer('row_number').notNull(),
  reason: text('reason').notNull(),
});

/** What transform produced: incidents ready to upsert, one per id. */
export const stagingCleanRows = staging.table('clean_rows', {
  rowNumber: integer('row_number').notNull(),
  id: bigint('id', { mode: 'number' }).notNull(),
  ...incidentContentColumns,
  /** Source `last_updated` as published, to advance the cursor in the source's own format. */
  sourceUpdatedLocal: text('source_updated_local').notNull(),
});
