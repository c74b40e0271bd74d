import { pgEnum } from 'drizzle-orm/pg-core';

/** Prefect-like states, shared by runs and their steps. */
export const runState = pgEnum('run_state', [
  'scheduled',
  'pending',
  'running',
  'retrying',
  'completed',
  'failed',
  'crashed',
  'cancelled',
]);
export type RunState = (typeof runState.enumValues)[number];

export const runMode = pgEnum('run_mode', ['incremental', 'window', 'reconcile']);
export type RunMode = (typeof runMode.enumValues)[number];

export const runTrigger = pgEnum('run_trigger', ['schedule', 'api', 'cli']);
export type RunTrigger = (typeof runTrigger.enumValues)[number];

export const stepName = pgEnum('step_name', ['extract', 'validate', 'transform', 'load']);
export type StepName = (typeof stepName.enumValues)[number];

/**
 * How a floating local time maps to an instant. `nonexistent`: the wall time falls in the
 * spring-forward gap; `ambiguous`: it occurs twice at fall-back. The transform documents which
 * instant it picks for each.
 */
export const localTimeKind = pgEnum('local_time_kind', ['regular', 'nonexistent', 'ambiguous']);
export type LocalTimeKind = (typeof localTimeKind.enumValues)[number];

/**
 * Which of the source's forms a Crime Reports `crime_date_time` had: `instant` (`02/22/2009
 * 05:02`), `same_day_range` (`… 09:20 - 09:30`), `range` (`… 22:30 - 02/21/2009 10:00`); without
 * instants: `date_only` (a date and no time), `missing` (null or empty), `unreadable` (none of these).
 */
export const occurrenceForm = pgEnum('occurrence_form', [
  'instant',
  'same_day_range',
  'range',
  'date_only',
  'missing',
  'unreadable',
]);
export type OccurrenceForm = (typeof occurrenceForm.enumValues)[number];
