import {
  bigint,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  unique,
} from 'drizzle-orm/pg-core';
import { runState, stepName } from './enums.js';
import { pipelineRuns } from './pipeline-runs.js';

/** Counts a step reports; which keys appear depends on the step. */
export interface StepCounts {
  extracted?: number;
  valid?: number;
  rejected?: number;
  duplicate?: number;
  transformed?: number;
  inserted?: number;
  updated?: number;
  unchanged?: number;
  deleted?: number;
  restored?: number;
}

/** One row per (run, window, step): the ledger's detail, mirroring the jobs when run on the queue. */
export const pipelineSteps = pgTable(
  'pipeline_steps',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    runId: bigint('run_id', { mode: 'number' })
      .notNull()
      .references(() => pipelineRuns.id, { onDelete: 'cascade' }),
    windowIndex: integer('window_index').notNull(),
    /** The window's bounds in the source's floating local time, [start, end). */
    windowStart: timestamp('window_start', { mode: 'string' }),
    windowEnd: timestamp('window_end', { mode: 'string' }),
    step: stepName('step').notNull(),
    state: runState('state').notNull().default('scheduled'),
    attempts: integer('attempts').notNull().default(0),
    jobId: text('job_id'),
    rowsIn: integer('rows_in'),
    rowsOut: integer('rows_out'),
    counts: jsonb('counts').$type<StepCounts>(),
    error: text('error'),
    startedAt: timestamp('started_at', { withTimezone: true }),
    endedAt: timestamp('ended_at', { withTimezone: true }),
    durationMs: integer('duration_ms'),
  },
  (table) => [
    unique('pipeline_steps_run_window_step').on(table.runId, table.windowIndex, table.step),
    index('pipeline_steps_state').on(table.state),
  ],
);

export type PipelineStep = typeof pipelineSteps.$inferSelect;
