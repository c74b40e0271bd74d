import type { LocalTimeKind, OccurrenceForm } from '../db/schema/enums.js';
import { resolveFloatingTimestamp } from './local-time.js';

/**
 * Crime Reports' `crime_date_time` is text, not a timestamp (shared/reference/crime-reports.md §3),
 * in local wall time:
 *
 * - `02/22/2009 05:02`                     instant: from = to
 * - `02/21/2009 09:20 - 09:30`             same-day range: the end takes the start's date
 * - `02/20/2009 22:30 - 02/21/2009 10:00`  range: each end has its own date
 * - `02/21/2009`                           date only: no instants
 * - null, empty                            missing: no instants
 * - anything else (a date that does not exist, 25:00, a year before 1900, other words)
 *                                          unreadable: no instants
 *
 * Nothing here rejects a row: a report without a readable time is still a report. Each end is
 * resolved in the zone as floating timestamps are (local-time.ts: a time in the spring-forward gap
 * is read with the offset before the jump, an ambiguous one as its first occurrence), and the
 * result is flagged: the start's kind, or the end's when only the end is irregular. Pure.
 */

export interface OccurrenceTime {
  form: OccurrenceForm;
  /** Instants (ISO 8601 with an offset), NULL without a time. */
  from: string | null;
  to: string | null;
  /** Local date, hour and ISO weekday of the start. */
  localDate: string | null;
  localHour: number | null;
  localWeekday: number | null;
  kind: LocalTimeKind | null;
}

const date = String.raw`(\d{2})/(\d{2})/(\d{4})`;
const time = String.raw`(\d{2}):(\d{2})(?::(\d{2}))?`;
const dateOnly = new RegExp(String.raw`^${date}$`);
const full = new RegExp(String.raw`^${date}\s+${time}(?:\s*-\s*(?:${date}\s+)?${time})?$`);

/** Floating years before this are unreadable: local-time.ts and the warehouse stop there too. */
const earliestYear = 1900;

const nothing = (form: OccurrenceForm): OccurrenceTime => ({
  form,
  from: null,
  to: null,
  localDate: null,
  localHour: null,
  localWeekday: null,
  kind: null,
});

/** `YYYY-MM-DDTHH:mm:ss.000` for a real calendar time, else undefined. */
function wallTime(
  month: string,
  day: string,
  year: string,
  hour: string,
  minute: string,
  second = '00',
): string | undefined {
  const [y, mo, d, h, mi, s] = [year, month, day, hour, minute, second].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (y < earliestYear || h > 23 || mi > 59 || s > 59) return undefined;
  const probe = new Date(Date.UTC(y, mo - 1, d));
  if (probe.getUTCFullYear() !== y || probe.getUTCMonth() !== mo - 1 || probe.getUTCDate() !== d)
    return undefined;
  return `${year}-${month}-${day}T${hour}:${minute}:${second}.000`;
}

function isRealDate(month: string, day: string, year: string): boolean {
  return wallTime(month, day, year, '00', '00') !== undefined;
}

export function parseOccurrenceTime(
  text: string | null | undefined,
  timeZone: string,
): OccurrenceTime {
  const value = text?.trim() ?? '';
  if (value === '') return nothing('missing');
  const onlyDate = dateOnly.exec(value);
  if (onlyDate) {
    const [, month, day, year] = onlyDate as unknown as [string, string, string, string];
    return nothing(isRealDate(month, day, year) ? 'date_only' : 'unreadable');
  }
  const match = full.exec(value);
  if (!match) return nothing('unreadable');
  const [, month, day, year, hour, minute, second] = match as unknown as string[];
  const start = wallTime(month!, day!, year!, hour!, minute!, second);
  if (start === undefined) return nothing('unreadable');
  const [endMonth, endDay, endYear, endHour, endMinute, endSecond] = match.slice(7, 13);
  let form: OccurrenceForm = 'instant';
  let end = start;
  if (endHour !== undefined) {
    form = endYear === undefined ? 'same_day_range' : 'range';
    const ended =
      endYear === undefined
        ? wallTime(month!, day!, year!, endHour, endMinute!, endSecond)
        : wallTime(endMonth!, endDay!, endYear, endHour, endMinute!, endSecond);
    if (ended === undefined) return nothing('unreadable');
    end = ended;
  }
  const from = resolveFloatingTimestamp(start, timeZone);
  const to = end === start ? from : resolveFloatingTimestamp(end, timeZone);
  return {
    form,
    from: from.instant,
    to: to.instant,
    localDate: from.localDate,
    localHour: from.localHour,
    localWeekday: from.localWeekday,
    kind: from.kind !== 'regular' ? from.kind : to.kind,
  };
}
