import type pg from 'pg';

/**
 * Incident rows for tests, written straight into `incidents` (the pipeline is not involved), with
 * the local parts derived from the wall time the way the source means it: America/New_York.
 */

export const sourceTimeZone = 'America/New_York';

export type LocalTimeKind = 'regular' | 'nonexistent' | 'ambiguous';

export interface IncidentInput {
  id: number;
  /** Wall time in America/New_York, `YYYY-MM-DDTHH:MM` or with seconds, as the source publishes. */
  local: string;
  /**
   * Which instant an ambiguous wall time (the repeated hour at fall-back) means: the first
   * (daylight time) unless told. A nonexistent one (the spring-forward gap) is read with the
   * offset in force before the gap, so 02:30 becomes 03:30 daylight time: JavaScript Temporal's
   * and PostgreSQL's choice.
   */
  occurrence?: 'earlier' | 'later';
  type?: string;
  subtype?: string | null;
  location?: string | null;
  description?: string | null;
  /** An ISO instant; a day after the incident unless told. */
  sourceUpdatedAt?: string;
}

/** A row of `incidents` with the column names of the table. */
export interface IncidentRow {
  id: number;
  occurred_at: string;
  occurred_local: string;
  local_date: string;
  local_hour: number;
  local_weekday: number;
  local_time_kind: LocalTimeKind;
  type: string;
  subtype: string | null;
  offense: string | null;
  statute: string | null;
  location: string | null;
  location_street: string | null;
  location_cross_street: string | null;
  description: string | null;
  source_updated_at: string;
}

const wallTimePattern = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/;

export function buildIncident(input: IncidentInput): IncidentRow {
  const match = wallTimePattern.exec(input.local);
  if (!match) throw new Error(`buildIncident: expected YYYY-MM-DDTHH:MM, got ${input.local}`);
  const [year, month, day, hour, minute, second] = match.slice(1).map((part) => Number(part ?? 0));
  const wallAsUtc = Date.UTC(year!, month! - 1, day, hour, minute, second);
  const { instant, kind } = resolveWallTime(wallAsUtc, input.occurrence ?? 'earlier');
  const subtype = input.subtype === undefined ? 'LARCENY UNDER $1200 C266 S30(1)' : input.subtype;
  const { offense, statute } = splitStatute(subtype);
  const location = input.location === undefined ? 'MASSACHUSETTS AVE' : input.location;
  const [street, crossStreet] = location?.split(' & ') ?? [];
  const localDate = input.local.slice(0, 10);
  return {
    id: input.id,
    occurred_at: new Date(instant).toISOString(),
    occurred_local: `${localDate} ${input.local.slice(11)}`,
    local_date: localDate,
    local_hour: hour!,
    local_weekday: new Date(Date.UTC(year!, month! - 1, day)).getUTCDay() || 7,
    local_time_kind: kind,
    type: input.type ?? 'INCIDENT',
    subtype,
    offense,
    statute,
    location,
    location_street: street ?? null,
    location_cross_street: crossStreet ?? null,
    description: input.description === undefined ? 'Synthetic narrative.' : input.description,
    source_updated_at: input.sourceUpdatedAt ?? new Date(instant + 86_400_000).toISOString(),
  };
}

/** Inserts rows in one statement. */
export async function insertIncidents(pool: pg.Pool, rows: readonly IncidentRow[]): Promise<void> {
  if (rows.length === 0) return;
  const columns = Object.keys(rows[0]!).join(', ');
  await pool.query(
    `insert into incidents (${columns})
     select ${columns} from json_populate_recordset(null::incidents, $1::json)`,
    [JSON.stringify(rows)],
  );
}

/** The UTC offset, in ms, of the zone at an instant. */
function zoneOffsetMs(instant: number): number {
  const parts = Object.fromEntries(
    offsetFormat.formatToParts(new Date(instant)).map((part) => [part.type, part.value]),
  );
  const asUtc = Date.UTC(
    Number(parts.year),
    Number(parts.month) - 1,
    Number(parts.day),
    Number(parts.hour) % 24,
    Number(parts.minute),
    Number(parts.second),
  );
  return asUtc - Math.floor(instant / 1000) * 1000;
}

const offsetFormat = new Intl.DateTimeFormat('en-US', {
  timeZone: sourceTimeZone,
  hourCycle: 'h23',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

function resolveWallTime(
  wallAsUtc: number,
  occurrence: 'earlier' | 'later',
): { instant: number; kind: LocalTimeKind } {
  // The zone's offsets half a day either side cover any transition near this wall time.
  const offsets = [
    ...new Set([zoneOffsetMs(wallAsUtc - 43_200_000), zoneOffsetMs(wallAsUtc + 43_200_000)]),
  ];
  const matches = offsets
    .map((offset) => wallAsUtc - offset)
    .filter((instant) => instant + zoneOffsetMs(instant) === wallAsUtc)
    .sort((a, b) => a - b);
  if (matches.length === 2) {
    return { instant: occurrence === 'earlier' ? matches[0]! : matches[1]!, kind: 'ambiguous' };
  }
  if (matches.length === 1) return { instant: matches[0]!, kind: 'regular' };
  // In the gap: read with the offset before it (the larger instant of the two candidates).
  const before = zoneOffsetMs(wallAsUtc - 43_200_000);
  return { instant: wallAsUtc - before, kind: 'nonexistent' };
}

function splitStatute(subtype: string | null): { offense: string | null; statute: string | null } {
  if (subtype === null) return { offense: null, statute: null };
  const match = /^(.*?)\s+(C\d+[A-Z]?\s+S[\w()]+)$/.exec(subtype);
  return match ? { offense: match[1]!, statute: match[2]! } : { offense: subtype, statute: null };
}
