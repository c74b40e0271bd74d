import { integer, text } from 'drizzle-orm/pg-core';
import { crimeReportContentColumns } from './crime-reports.js';
import { staging } from './staging.js';

/**
 * Crime Reports' staging templates, as staging.ts has the Police Log's: the raw table (one text
 * column per source field, system fields included) and the clean one (the target's columns).
 * Interim: the generic staging that derives from the target table replaces both.
 */
export const stagingRawCrimeReports = staging.table('raw_crime_reports', {
  rowNumber: integer('row_number').notNull(),
  id: text(':id'),
  updatedAt: text(':updated_at'),
  fileNumber: text('file_number'),
  dateOfReport: text('date_of_report'),
  crimeDateTime: text('crime_date_time'),
  crime: text('crime'),
  reportingArea: text('reporting_area'),
  neighborhood: text('neighborhood'),
  location: text('location'),
  reportingAreaLat: text('reporting_area_lat'),
  reportingAreaLon: text('reporting_area_lon'),
  extraFields: text('extra_fields'),
  rawJson: text('raw_json'),
});

export const stagingCleanCrimeReports = staging.table('clean_crime_reports', {
  rowNumber: integer('row_number').notNull(),
  fileNumber: text('file_number').notNull(),
  ...crimeReportContentColumns,
  /** `:updated_at` as published (normalised), to advance the cursor. */
  sourceUpdatedStamp: text('source_updated_stamp').notNull(),
});
