import { sql } from 'drizzle-orm';
import { bigint, date, index, pgTable, smallint, text, timestamp } from 'drizzle-orm/pg-core';
import { localTimeKind } from './enums.js';

/**
 * The content columns of an incident: everything derived from one source row. The load compares
 * exactly these to decide whether a row changed; run ids and `loaded_at` are bookkeeping.
 */
export const incidentContentColumns = {
  /** Source `date_time` as an instant; see transform for how DST gaps and overlaps resolve. */
  occurredAt: timestamp('occurred_at', { withTimezone: true, mode: 'string' }).notNull(),
  /** Source `date_time` exactly as published: America/New_York wall time. */
  occurredLocal: timestamp('occurred_local', { mode: 'string' }).notNull(),
  localDate: date('local_date', { mode: 'string' }).notNull(),
  localHour: smallint('local_hour').notNull(),
  /** ISO weekday of the local date: 1 = Monday … 7 = Sunday. */
  localWeekday: smallint('local_weekday').notNull(),
  localTimeKind: localTimeKind('local_time_kind').notNull().default('regular'),
  type: text('type').notNull(),
  /** Source `subtype` as published (normalised whitespace). */
  subtype: text('subtype'),
  /** `subtype` without its trailing statute. */
  offense: text('offense'),
  /** The statute cited at the end of `subtype`, e.g. `C266 S30A`. */
  statute: text('statute'),
  location: text('location'),
  /** First street of an `A & B` intersection, or the whole location otherwise. */
  locationStreet: text('location_street'),
  /** Second street of an `A & B` intersection. */
  locationCrossStreet: text('location_cross_street'),
  description: text('description'),
  /** Source `last_updated` as an instant. */
  sourceUpdatedAt: timestamp('source_updated_at', { withTimezone: true, mode: 'string' }).notNull(),
};

// No B-tree index but the key: every index is written on every load (the two on occurred_at and
// source_updated_at cost more than half of a million-row load), and reads go through the
// analytics rollups, which keep the latest stamps too (analytics.incident_extent). Two that cost
// next to nothing to keep: a BRIN index on the window column (rows arrive window by window, so
// its block ranges stay narrow), for the rows a window read holds; and a partial index of the
// rows the source deleted (none of the rows a load inserts is in it), for audits and freshness.
export const incidents = pgTable(
  'incidents',
  {
    id: bigint('id', { mode: 'number' }).primaryKey(),
    ...incidentContentColumns,
    // Run ids without foreign keys on purpose: a key check per row would slow every bulk load
    // for a link that is informational (the ledger may be pruned; incidents must stay).
    firstSeenRunId: bigint('first_seen_run_id', { mode: 'number' }),
    lastChangedRunId: bigint('last_changed_run_id', { mode: 'number' }),
    loadedAt: timestamp('loaded_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
    /** When the source stopped serving this row (never a physical delete); NULL while it is served. */
    deletedAt: timestamp('deleted_at', { withTimezone: true, mode: 'string' }),
    deletedRunId: bigint('deleted_run_id', { mode: 'number' }),
  },
  (table) => [
    // A window read finds the rows it holds in its window by this index (deletions.ts). Not BRIN:
    // pages a load appends stay unsummarised until a vacuum, so every read scanned the table.
    index('incidents_occurred_local').on(table.occurredLocal),
    index('incidents_deleted')
      .on(table.deletedAt)
      .where(sql`${table.deletedAt} is not null`),
  ],
);

export type Incident = typeof incidents.$inferSelect;
