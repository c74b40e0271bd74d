import { UserError } from '../errors.js';
import { isFloatingTimestamp } from './local-time.js';

/**
 * Windows: how a run divides its work. Window mode cuts a local date range [from, to) on the
 * dataset's window field at calendar boundaries; incremental mode has one window, everything the
 * source changed since the cursor (minus a look-back).
 */

export const windowSizes = ['day', 'week', 'month', 'all'] as const;
export type WindowSize = (typeof windowSizes)[number];

export interface DateWindow {
  index: number;
  /** Floating local timestamps, `YYYY-MM-DDT00:00:00.000`; [start, end). */
  start: string;
  end: string;
}

const datePattern = /^\d{4}-\d{2}-\d{2}$/;

/** `YYYY-MM-DD` that names a real date; a UserError naming the option otherwise. */
export function parseLocalDate(value: string, option: string): string {
  if (!datePattern.test(value) || !isFloatingTimestamp(`${value}T00:00:00`)) {
    throw new UserError(
      'input.date',
      `${option} must be a date like 2025-01-31 (got ${JSON.stringify(value)})`,
    );
  }
  return value;
}

/** Checks a [from, to) date range; both ends `YYYY-MM-DD`. */
export function parseDateRange(from: string, to: string): { from: string; to: string } {
  parseLocalDate(from, '--from');
  parseLocalDate(to, '--to');
  if (from >= to) {
    throw new UserError(
      'input.range',
      `--from (${from}) must be before --to (${to}); the range is [from, to)`,
    );
  }
  return { from, to };
}

function toDate(day: string): Date {
  return new Date(`${day}T00:00:00Z`);
}

function toDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

function nextBoundary(day: Date, size: Exclude<WindowSize, 'all'>): Date {
  const next = new Date(day);
  if (size === 'day') next.setUTCDate(next.getUTCDate() + 1);
  if (size === 'week') next.setUTCDate(next.getUTCDate() + (8 - (next.getUTCDay() || 7))); // next Monday
  if (size === 'month') next.setUTCMonth(next.getUTCMonth() + 1, 1);
  return next;
}

/** Splits [from, to) at day, ISO-week (Monday) or month starts; the ends may be partial. */
export function planDateWindows(from: string, to: string, size: WindowSize): DateWindow[] {
  const end = toDate(to);
  const windows: DateWindow[] = [];
  let cursor = toDate(from);
  while (cursor < end) {
    const boundary = size === 'all' ? end : nextBoundary(cursor, size);
    const windowEnd = boundary < end ? boundary : end;
    windows.push({
      index: windows.length,
      start: `${toDay(cursor)}T00:00:00.000`,
      end: `${toDay(windowEnd)}T00:00:00.000`,
    });
    cursor = windowEnd;
  }
  return windows;
}

/**
 * Why [from, to) cut at `size` makes more windows than one run may have, or undefined when it
 * does not: each window is a chain of four jobs, so a day window over ten years is 14,640 jobs
 * from one request. The message names the limit and the window sizes that would fit (among
 * `sizes`, what the caller offers).
 */
export function checkWindowCount(
  range: { from: string; to: string; size: WindowSize },
  maxWindows: number,
  sizes: readonly WindowSize[] = windowSizes,
): string | undefined {
  const count = planDateWindows(range.from, range.to, range.size).length;
  if (count <= maxWindows) return undefined;
  const fitting = sizes
    .slice(sizes.indexOf(range.size) + 1)
    .filter((size) => planDateWindows(range.from, range.to, size).length <= maxWindows);
  const choose =
    fitting.length > 0
      ? `choose a larger window (${fitting.join(' or ')})`
      : 'choose a larger window';
  return `[${range.from}, ${range.to}) makes ${count.toLocaleString('en-US')} ${range.size} windows, and one run may have at most ${maxWindows.toLocaleString('en-US')} (BACKFILL_MAX_WINDOWS): ${choose}, or split the range into several runs`;
}

/** The same check for the command line: a UserError naming --window. */
export function assertWindowCount(
  range: { from: string; to: string; size: WindowSize },
  maxWindows: number,
  sizes: readonly WindowSize[] = windowSizes,
): void {
  const problem = checkWindowCount(range, maxWindows, sizes);
  if (problem) throw new UserError('input.too_many_windows', `--window ${range.size}: ${problem}`);
}

/**
 * The stamp an incremental run reads from: the cursor minus the look-back, so rows the source
 * published late with an older stamp are caught. Floating timestamps have no zone; subtracting
 * hours on the wall clock is exactly what a look-back margin means.
 */
export function lookBackFrom(cursor: string | null | undefined, hours: number): string | undefined {
  if (!cursor) return undefined;
  const wall = Date.parse(`${cursor.length === 19 ? cursor : cursor.slice(0, 19)}Z`);
  if (Number.isNaN(wall)) return undefined;
  return new Date(wall - hours * 3_600_000).toISOString().slice(0, 23);
}

/** Source stamps compare as text once they share one shape: `YYYY-MM-DDTHH:mm:ss.SSS`. */
export function normalizeStamp(stamp: string): string {
  return stamp.length >= 23
    ? stamp.slice(0, 23)
    : stamp.length === 19
      ? `${stamp}.000`
      : stamp.padEnd(23, '0');
}

/** A fixed stamp (`…Z`) in one shape, `YYYY-MM-DDTHH:mm:ss.SSSZ`, so stamps compare as text. */
export function normalizeFixedStamp(stamp: string): string {
  return `${normalizeStamp(stamp.endsWith('Z') ? stamp.slice(0, -1) : stamp)}Z`;
}
