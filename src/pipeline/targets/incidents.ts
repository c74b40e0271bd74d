import { policeLog } from '../../source/datasets/police-log.js';
import { resolveFloatingTimestamp } from '../local-time.js';
import type { DatasetPipeline, TargetTable } from '../target.js';
import { normalizeCode, normalizeNarrative, splitIntersection, splitStatute } from '../text.js';
import type { ValidRow } from '../validate-row.js';
import { normalizeStamp } from '../windows.js';

/** Police Log rows → `incidents` (src/db/schema/incidents.ts). */

const columns = [
  'id',
  'occurred_at',
  'occurred_local',
  'local_date',
  'local_hour',
  'local_weekday',
  'local_time_kind',
  'type',
  'subtype',
  'offense',
  'statute',
  'location',
  'location_street',
  'location_cross_street',
  'description',
  'source_updated_at',
  'source_updated_local',
] as const;

const { timeZone } = policeLog;

/** Pure: a validated Police Log row as an incident. */
export function transformPoliceLogRow(row: ValidRow): Array<string | number | null> {
  const occurred = normalizeStamp(row.date_time!);
  const updated = normalizeStamp(row.last_updated!);
  const when = resolveFloatingTimestamp(occurred, timeZone);
  const subtype = normalizeCode(row.subtype ?? undefined);
  const location = normalizeCode(row.location ?? undefined);
  const { offense, statute } = splitStatute(subtype);
  const { street, crossStreet } = splitIntersection(location);
  return [
    row.id!,
    when.instant,
    occurred,
    when.localDate,
    when.localHour,
    when.localWeekday,
    when.kind,
    normalizeCode(row.type!)!,
    subtype,
    offense,
    statute,
    location,
    street,
    crossStreet,
    normalizeNarrative(row.description ?? undefined),
    resolveFloatingTimestamp(updated, timeZone).instant,
    updated,
  ];
}

export const incidentsTarget: TargetTable = {
  table: 'incidents',
  keyColumn: 'id',
  cleanTemplate: 'staging.clean_rows',
  columns,
  contentColumns: columns.filter((column) => column !== 'id' && column !== 'source_updated_local'),
  cursorColumn: 'source_updated_local',
  versionColumn: 'source_updated_at',
  windowColumn: 'occurred_local',
  transform: transformPoliceLogRow,
};

export const policeLogPipeline: DatasetPipeline = {
  source: policeLog,
  rawTemplate: 'staging.raw_police_log',
  target: incidentsTarget,
};
