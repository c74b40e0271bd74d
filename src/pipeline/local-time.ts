import type { LocalTimeKind } from '../db/schema/enums.js';

/**
 * Socrata's floating timestamps are wall-clock times with no zone; the Police Log's are
 * America/New_York. Turning one into an instant needs the zone's offset at that wall time, which
 * is not unique twice a year:
 *
 * - spring forward (e.g. 2025-03-09 02:00–02:59 does not exist): we read the time with the offset
 *   in force before the jump (EST, −05:00), so `02:30` becomes 07:30Z, which a clock showed as
 *   03:30 EDT. This is what JavaScript's Temporal ('compatible') does.
 * - fall back (e.g. 2025-11-02 01:00–01:59 happens twice): we take the first occurrence (EDT,
 *   −04:00), so `01:30` becomes 05:30Z.
 *
 * Either case is flagged (`nonexistent` / `ambiguous`) so a dashboard or an analyst can tell.
 * Every other wall time maps to exactly one instant and back. The local date, hour and weekday are
 * those of the wall time as published.
 *
 * This runs once per row on millions of rows, so the common path is string work only: a day's
 * offset is looked up once and cached, and the instant is written as the wall time plus that
 * offset (`2025-07-01T12:00:00.000-04:00`), which PostgreSQL reads as a timestamptz.
 */

export interface ResolvedTimestamp {
  /** The instant: ISO 8601 with an explicit offset or `Z`. */
  instant: string;
  kind: LocalTimeKind;
  /** `YYYY-MM-DD` of the wall time. */
  localDate: string;
  localHour: number;
  /** ISO weekday of the local date: 1 = Monday … 7 = Sunday. */
  localWeekday: number;
}

const monthDays = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Reads `count` ASCII digits at `at`; -1 when any is not a digit. */
function digits(text: string, at: number, count: number): number {
  let value = 0;
  for (let i = at; i < at + count; i++) {
    const code = text.charCodeAt(i) - 48;
    if (code < 0 || code > 9) return -1;
    value = value * 10 + code;
  }
  return value;
}

/**
 * True when `text` is `YYYY-MM-DDTHH:mm:ss[.S[S[S]]]` and names a real calendar time. Written
 * with character codes rather than a regular expression: it runs twice per row.
 */
export function isFloatingTimestamp(text: string): boolean {
  const length = text.length;
  if (length !== 19 && (length < 21 || length > 23)) return false;
  if (
    text[4] !== '-' ||
    text[7] !== '-' ||
    text[10] !== 'T' ||
    text[13] !== ':' ||
    text[16] !== ':'
  )
    return false;
  if (length > 19 && (text[19] !== '.' || digits(text, 20, length - 20) < 0)) return false;
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 2);
  const day = digits(text, 8, 2);
  const hour = digits(text, 11, 2);
  const minute = digits(text, 14, 2);
  const second = digits(text, 17, 2);
  if (year < 0 || month < 1 || month > 12 || hour < 0 || hour > 23) return false;
  if (minute < 0 || minute > 59 || second < 0 || second > 59) return false;
  const leap = month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return day >= 1 && day <= monthDays[month - 1]! + (leap ? 1 : 0);
}

interface DayInfo {
  /** Offsets (ms east of UTC) a day before and two days after the local midnight. */
  before: number;
  after: number;
  weekday: number;
  /** For a day without a transition: its offset as `±HH:MM`. */
  suffix: string | undefined;
  /** For a day with one: the first instant (ms) of the `after` offset. */
  transition: number | undefined;
}

const dayCaches = new Map<string, Map<string, DayInfo>>();

/**
 * Resolves a floating timestamp (already checked with isFloatingTimestamp) in a zone.
 */
export function resolveFloatingTimestamp(text: string, timeZone: string): ResolvedTimestamp {
  const localDate = text.slice(0, 10);
  const day = dayInfo(localDate, timeZone);
  const localHour = (text.charCodeAt(11) - 48) * 10 + (text.charCodeAt(12) - 48);
  if (day.suffix !== undefined) {
    return {
      instant: text + day.suffix,
      kind: 'regular',
      localDate,
      localHour,
      localWeekday: day.weekday,
    };
  }
  const { instant, kind } = resolveOnTransitionDay(wallAsUtc(text), day);
  return { instant, kind, localDate, localHour, localWeekday: day.weekday };
}

function dayInfo(localDate: string, timeZone: string): DayInfo {
  let cache = dayCaches.get(timeZone);
  if (!cache) dayCaches.set(timeZone, (cache = new Map<string, DayInfo>()));
  let day = cache.get(localDate);
  if (!day) {
    const midnight = Date.UTC(
      Number(localDate.slice(0, 4)),
      Number(localDate.slice(5, 7)) - 1,
      Number(localDate.slice(8, 10)),
    );
    const before = offsetAt(midnight - 86_400_000, timeZone);
    const after = offsetAt(midnight + 2 * 86_400_000, timeZone);
    const weekday = new Date(midnight).getUTCDay() || 7;
    day =
      before === after
        ? { before, after, weekday, suffix: formatOffset(before), transition: undefined }
        : {
            before,
            after,
            weekday,
            suffix: undefined,
            transition: findTransition(midnight, before, timeZone),
          };
    if (cache.size > 200_000) cache.clear();
    cache.set(localDate, day);
  }
  return day;
}

/**
 * The first minute (ms) whose offset is no longer `before`, between a day before the local
 * midnight and two days after: a binary search, a dozen calls to Intl once per transition day,
 * after which every row of that day is plain arithmetic.
 */
function findTransition(midnight: number, before: number, timeZone: string): number {
  let low = midnight - 86_400_000;
  let high = midnight + 2 * 86_400_000;
  while (high - low > 60_000) {
    const middle = Math.floor((low + high) / 120_000) * 60_000;
    if (offsetAt(middle, timeZone) === before) low = middle;
    else high = middle;
  }
  return high;
}

function resolveOnTransitionDay(
  asUtc: number,
  day: DayInfo,
): { instant: string; kind: LocalTimeKind } {
  const offsetOf = (instant: number) => (instant < day.transition! ? day.before : day.after);
  // Try each offset; keep those that give this wall time back.
  const candidates = [day.before, day.after]
    .map((offset) => asUtc - offset)
    .filter((instant) => instant + offsetOf(instant) === asUtc)
    .sort((a, b) => a - b);
  if (candidates.length === 0) {
    // In the gap: read with the offset in force before the transition.
    return { instant: new Date(asUtc - day.before).toISOString(), kind: 'nonexistent' };
  }
  return {
    instant: new Date(candidates[0]!).toISOString(),
    kind: candidates.length > 1 && candidates[0] !== candidates[1] ? 'ambiguous' : 'regular',
  };
}

/** Milliseconds of the wall time read as if it were UTC: a convenient linear scale. */
function wallAsUtc(text: string): number {
  return Date.parse(`${text.length === 19 ? `${text}.000` : text.padEnd(23, '0')}Z`);
}

function formatOffset(offsetMs: number): string {
  const sign = offsetMs < 0 ? '-' : '+';
  // Whole seconds: before 1883 the zone kept local mean time (−4:56:02), and PostgreSQL reads
  // `-04:56:02` but not a fractional minute.
  const seconds = Math.round(Math.abs(offsetMs) / 1000);
  const pad = (value: number) => String(value).padStart(2, '0');
  const hhmm = `${sign}${pad(Math.floor(seconds / 3600))}:${pad(Math.floor(seconds / 60) % 60)}`;
  return seconds % 60 === 0 ? hhmm : `${hhmm}:${pad(seconds % 60)}`;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
/** Offsets by zone and minute: on a transition day every row asks, and Intl is slow. */
const offsetCache = new Map<string, number>();

/** The zone's offset from UTC, in ms, at an instant (whole seconds; zones here have no finer). */
function offsetAt(instantMs: number, timeZone: string): number {
  if (instantMs % 60_000 === 0) {
    const key = `${timeZone}|${instantMs}`;
    let offset = offsetCache.get(key);
    if (offset === undefined) {
      offset = computeOffset(instantMs, timeZone);
      if (offsetCache.size > 100_000) offsetCache.clear();
      offsetCache.set(key, offset);
    }
    return offset;
  }
  return computeOffset(instantMs, timeZone);
}

function computeOffset(instantMs: number, timeZone: string): number {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, formatter);
  }
  const parts = formatter.formatToParts(new Date(instantMs));
  const get = (type: string) => Number(parts.find((part) => part.type === type)?.value);
  const local = Date.UTC(
    get('year'),
    get('month') - 1,
    get('day'),
    get('hour'),
    get('minute'),
    get('second'),
  );
  return local - (instantMs - (((instantMs % 1000) + 1000) % 1000));
}

/** The wall time an instant shows in a zone, as `YYYY-MM-DDTHH:mm:ss.SSS`. */
export function formatWallTime(instantMs: number, timeZone: string): string {
  return new Date(instantMs + offsetAt(instantMs, timeZone)).toISOString().slice(0, 23);
}
