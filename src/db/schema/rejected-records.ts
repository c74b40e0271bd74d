import { bigint, index, integer, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { pipelineRuns } from './pipeline-runs.js';

/**
 * Quarantine: source rows that failed validation, kept whole so nothing is lost and a fix can
 * replay them. NUL characters cannot live in jsonb; the validator replaces them with U+FFFD in the
 * stored payload and says so in `detail`.
 */
export const rejectedRecords = pgTable(
  'rejected_records',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    runId: bigint('run_id', { mode: 'number' })
      .notNull()
      .references(() => pipelineRuns.id, { onDelete: 'cascade' }),
    dataset: text('dataset').notNull(),
    windowIndex: integer('window_index').notNull(),
    /** Position of the row in the window's extract, so a retried step replaces, never doubles. */
    rowNumber: integer('row_number').notNull(),
    /** The row's natural key as the source sent it, when it had one. */
    sourceKey: text('source_key'),
    reason: text('reason').notNull(),
    detail: text('detail').notNull(),
    payload: jsonb('payload').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    index('rejected_records_run_window').on(table.runId, table.windowIndex),
    index('rejected_records_reason').on(table.reason),
  ],
);

export type RejectedRecord = typeof rejectedRecords.$inferSelect;
