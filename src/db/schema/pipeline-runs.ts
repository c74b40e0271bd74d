import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import { runMode, runState, runTrigger } from './enums.js';

/**
 * The run ledger: one row per flow run, in-process or on the queue. Counts are the sums over the
 * run's windows, written as the load steps commit.
 */
export const pipelineRuns = pgTable(
  'pipeline_runs',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    dataset: text('dataset').notNull(),
    mode: runMode('mode').notNull(),
    trigger: runTrigger('trigger').notNull(),
    state: runState('state').notNull().default('scheduled'),
    /** Requests with the same key while a run is active get that run instead of a new one. */
    dedupeKey: text('dedupe_key').notNull(),
    /** Window mode: the requested local date range [from, to). */
    rangeFrom: timestamp('range_from', { mode: 'string' }),
    rangeTo: timestamp('range_to', { mode: 'string' }),
    windowSize: text('window_size'),
    /** Incremental mode: the source stamp the run reads from (cursor minus look-back). */
    cursorFrom: text('cursor_from'),
    /** The highest source stamp the run loaded; becomes the dataset's cursor. */
    cursorTo: text('cursor_to'),
    windowCount: integer('window_count').notNull().default(0),
    rowsExtracted: integer('rows_extracted').notNull().default(0),
    rowsRejected: integer('rows_rejected').notNull().default(0),
    rowsDuplicate: integer('rows_duplicate').notNull().default(0),
    rowsInserted: integer('rows_inserted').notNull().default(0),
    rowsUpdated: integer('rows_updated').notNull().default(0),
    rowsUnchanged: integer('rows_unchanged').notNull().default(0),
    /** Window mode: rows we held in a window that its complete read no longer served. */
    rowsDeleted: integer('rows_deleted').notNull().default(0),
    /** Rows marked deleted earlier that the source served again. */
    rowsRestored: integer('rows_restored').notNull().default(0),
    /** The user confirmed that this run may mark more than DELETE_GUARD of a window deleted. */
    allowDeletes: boolean('allow_deletes').notNull().default(false),
    /** Fields the source has that the dataset definition does not know (recorded, not fatal). */
    sourceFieldsAdded: jsonb('source_fields_added').$type<string[]>(),
    error: text('error'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    startedAt: timestamp('started_at', { withTimezone: true }),
    endedAt: timestamp('ended_at', { withTimezone: true }),
  },
  (table) => [
    uniqueIndex('pipeline_runs_one_active_per_key')
      .on(table.dedupeKey)
      .where(sql`${table.state} in ('scheduled', 'pending', 'running', 'retrying')`),
    index('pipeline_runs_created_at').on(table.createdAt.desc()),
    index('pipeline_runs_dataset_state_ended').on(table.dataset, table.state, table.endedAt),
  ],
);

export type PipelineRun = typeof pipelineRuns.$inferSelect;
export type NewPipelineRun = typeof pipelineRuns.$inferInsert;
