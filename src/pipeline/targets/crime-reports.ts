import { crimeReports } from '../../source/datasets/crime-reports.js';
import { resolveFloatingTimestamp } from '../local-time.js';
import { parseOccurrenceTime } from '../occurrence-time.js';
import type { DatasetPipeline, TargetTable } from '../target.js';
import { normalizeText } from '../text.js';
import type { RowOf, ValidRow } from '../validate-row.js';
import { normalizeFixedStamp, normalizeStamp } from '../windows.js';

/** Crime Reports rows → `crime_reports` (src/db/schema/crime-reports.ts). */

const columns = [
  'file_number',
  'source_row_id',
  'reported_at',
  'reported_local',
  'reported_date',
  'reported_time_kind',
  'crime_date_time',
  'occurred_from',
  'occurred_to',
  'occurred_date',
  'occurred_hour',
  'occurred_weekday',
  'occurrence_form',
  'occurred_time_kind',
  'crime',
  'neighborhood',
  'reporting_area',
  'location',
  'latitude',
  'longitude',
  'source_updated_at',
  'source_updated_stamp',
] as const;

const { timeZone } = crimeReports;

/** Pure: a validated Crime Reports row as a `crime_reports` row. */
export function transformCrimeReportRow(input: ValidRow): Array<string | number | null> {
  const row = input as RowOf<typeof crimeReports>;
  const reportedLocal = normalizeStamp(row.date_of_report);
  const reported = resolveFloatingTimestamp(reportedLocal, timeZone);
  const occurred = parseOccurrenceTime(row.crime_date_time, timeZone);
  const updated = normalizeFixedStamp(row[':updated_at']);
  return [
    row.file_number,
    row[':id'],
    reported.instant,
    reportedLocal,
    reported.localDate,
    reported.kind,
    normalizeText(row.crime_date_time ?? undefined),
    occurred.from,
    occurred.to,
    occurred.localDate,
    occurred.localHour,
    occurred.localWeekday,
    occurred.form,
    occurred.kind,
    normalizeText(row.crime) ?? row.crime,
    normalizeText(row.neighborhood ?? undefined),
    normalizeText(row.reporting_area ?? undefined),
    normalizeText(row.location ?? undefined),
    row.reporting_area_lat ?? null,
    row.reporting_area_lon ?? null,
    updated,
    updated,
  ];
}

export const crimeReportsTarget: TargetTable = {
  table: 'crime_reports',
  keyColumn: 'file_number',
  windowColumn: 'reported_local',
  columns,
  contentColumns: columns.filter(
    (column) => column !== 'file_number' && column !== 'source_updated_stamp',
  ),
  cursorColumn: 'source_updated_stamp',
  versionColumn: 'source_updated_at',
  transform: transformCrimeReportRow,
};

export const crimeReportsPipeline: DatasetPipeline = {
  source: crimeReports,
  target: crimeReportsTarget,
};
