import { formatWallTime } from '../pipeline/local-time.js';
import type { FieldProblem } from './errors.js';

/**
 * The rules of a backfill range beyond its shape: ordered, not in the future, not too long.
 * Pure: "today" is given (the source's local date), so tests need no clock.
 */

export interface BackfillLimits {
  /** Today in the source's time zone, `YYYY-MM-DD`. */
  today: string;
  maxDays: number;
  timeZone: string;
}

const dayMs = 86_400_000;

function addDays(day: string, days: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + days * dayMs).toISOString().slice(0, 10);
}

function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / dayMs);
}

/** The local date of an instant in a zone. */
export function localDateOf(now: Date, timeZone: string): string {
  return formatWallTime(now.getTime(), timeZone).slice(0, 10);
}

export function checkBackfillRange(
  range: { from: string; to: string },
  limits: BackfillLimits,
): FieldProblem[] {
  const { from, to } = range;
  if (from >= to) {
    return [
      {
        field: 'to',
        message: `must be after from (${from}): the range is [from, to), so to=${addDays(from, 1)} loads the one day ${from}`,
      },
    ];
  }
  const problems: FieldProblem[] = [];
  // [from, to) excludes its end: to = tomorrow is the latest that loads today.
  const latest = addDays(limits.today, 1);
  if (to > latest) {
    problems.push({
      field: 'to',
      message: `must not be in the future: at most ${latest} (tomorrow in ${limits.timeZone}; the range excludes its end)`,
    });
  }
  const days = daysBetween(from, to);
  if (days > limits.maxDays) {
    problems.push({
      field: 'from',
      message: `the range spans ${days.toLocaleString('en-US')} days; one backfill may span at most ${limits.maxDays.toLocaleString('en-US')} (BACKFILL_MAX_DAYS): split it into several`,
    });
  }
  return problems;
}
