import { bigint, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { pipelineRuns } from './pipeline-runs.js';

/** The incremental cursor per dataset. It moves only in the transaction that commits a load. */
export const syncState = pgTable('sync_state', {
  dataset: text('dataset').primaryKey(),
  /** Highest source update stamp loaded, in the source's own floating format. */
  cursor: text('cursor'),
  lastRunId: bigint('last_run_id', { mode: 'number' }).references(() => pipelineRuns.id, {
    onDelete: 'set null',
  }),
  lastSuccessAt: timestamp('last_success_at', { withTimezone: true }),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

export type SyncState = typeof syncState.$inferSelect;
