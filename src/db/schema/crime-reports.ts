import {
  bigint,
  date,
  index,
  numeric,
  pgTable,
  smallint,
  text,
  timestamp,
} from 'drizzle-orm/pg-core';
import { localTimeKind, occurrenceForm } from './enums.js';

/**
 * Cambridge Crime Reports (Socrata xuad-73uj), one row per file number. The content columns are
 * everything derived from one source row; the load compares exactly these to decide whether a
 * row changed. Facts behind the shapes: shared/reference/crime-reports.md.
 */
export const crimeReportContentColumns = {
  /** Socrata's row id (`:id`), kept to tell re-published rows apart. */
  sourceRowId: text('source_row_id'),
  /** Source `date_of_report` as an instant (America/New_York wall time, DST resolved). */
  reportedAt: timestamp('reported_at', { withTimezone: true, mode: 'string' }).notNull(),
  /** Source `date_of_report` exactly as published. */
  reportedLocal: timestamp('reported_local', { mode: 'string' }).notNull(),
  reportedDate: date('reported_date', { mode: 'string' }).notNull(),
  reportedTimeKind: localTimeKind('reported_time_kind').notNull().default('regular'),
  /** Source `crime_date_time` as published (text in three forms; see occurrence_form). */
  crimeDateTime: text('crime_date_time'),
  /** Start of the occurrence; NULL when the source gave no time (occurrence_form says why). */
  occurredFrom: timestamp('occurred_from', { withTimezone: true, mode: 'string' }),
  /** End of the occurrence: equals occurred_from for a single time. */
  occurredTo: timestamp('occurred_to', { withTimezone: true, mode: 'string' }),
  /** Local date, hour and ISO weekday (1 = Monday) of the occurrence's start. */
  occurredDate: date('occurred_date', { mode: 'string' }),
  occurredHour: smallint('occurred_hour'),
  occurredWeekday: smallint('occurred_weekday'),
  occurrenceForm: occurrenceForm('occurrence_form').notNull(),
  /** DST flag of the start (or of the end, when only the end falls in a gap or overlap). */
  occurredTimeKind: localTimeKind('occurred_time_kind'),
  crime: text('crime').notNull(),
  neighborhood: text('neighborhood'),
  reportingArea: text('reporting_area'),
  location: text('location'),
  /** The reporting area's centroid, as published. */
  latitude: numeric('latitude'),
  longitude: numeric('longitude'),
  /** Socrata's `:updated_at` (a fixed UTC stamp): the dataset has no update column of its own. */
  sourceUpdatedAt: timestamp('source_updated_at', { withTimezone: true, mode: 'string' }).notNull(),
};

export const crimeReports = pgTable(
  'crime_reports',
  {
    fileNumber: text('file_number').primaryKey(),
    ...crimeReportContentColumns,
    firstSeenRunId: bigint('first_seen_run_id', { mode: 'number' }),
    lastChangedRunId: bigint('last_changed_run_id', { mode: 'number' }),
    loadedAt: timestamp('loaded_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
    /** When the source stopped serving this row (never a physical delete); NULL while it is served. */
    deletedAt: timestamp('deleted_at', { withTimezone: true, mode: 'string' }),
    deletedRunId: bigint('deleted_run_id', { mode: 'number' }),
  },
  // A window read finds the rows it holds in its window by this index (src/pipeline/steps/deletions.ts).
  (table) => [index('crime_reports_reported_local').on(table.reportedLocal)],
);

export type CrimeReport = typeof crimeReports.$inferSelect;
