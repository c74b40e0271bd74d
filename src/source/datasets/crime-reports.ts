import type { DatasetDefinition } from '../dataset.js';

/**
 * Cambridge Crime Reports (shared/reference/crime-reports.md). The dataset has no update column of
 * its own, so incremental syncs follow Socrata's `:updated_at` (a fixed UTC stamp, served with
 * `$select=:*, *`); `:id` is kept to tell re-published rows apart. `crime_date_time` is text in
 * three forms, parsed by the mapping, never rejected here; `reporting_area` stays text (the
 * source's type is unverified, and `105` reads the same either way).
 */
export const crimeReports = {
  id: 'xuad-73uj',
  shortName: 'crime-reports',
  title: 'Cambridge Crime Reports',
  fields: [
    { name: ':id', type: 'text', required: true, maxLength: 100 },
    { name: ':updated_at', type: 'fixed_timestamp', required: true },
    { name: 'file_number', type: 'text', required: true, maxLength: 40 },
    { name: 'date_of_report', type: 'floating_timestamp', required: true },
    { name: 'crime_date_time', type: 'text', required: false, maxLength: 200 },
    { name: 'crime', type: 'text', required: true, maxLength: 200 },
    { name: 'reporting_area', type: 'text', required: false, maxLength: 40 },
    { name: 'neighborhood', type: 'text', required: false, maxLength: 200 },
    { name: 'location', type: 'text', required: false, maxLength: 1_000 },
    { name: 'reporting_area_lat', type: 'number', required: false },
    { name: 'reporting_area_lon', type: 'number', required: false },
  ],
  naturalKey: 'file_number',
  cursorField: ':updated_at',
  windowField: 'date_of_report',
  timeZone: 'America/New_York',
} as const satisfies DatasetDefinition;
