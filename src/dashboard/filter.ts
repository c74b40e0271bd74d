import { z } from 'zod';

/**
 * The dashboard's filter: parsing the query string, and turning it into the day ranges each card
 * reads. Pure; days are `YYYY-MM-DD` local dates, ranges inclusive at both ends.
 */

export interface DayRange {
  from: string;
  to: string;
}

/** The days the data covers: first incident's local day to the anchor day (the latest's). */
export interface Extent {
  firstDay: string;
  anchorDay: string;
}

export interface ResolvedFilter {
  type: string | null;
  /** The chosen range, clipped to the data; may be empty (from after to) when it misses it. */
  range: DayRange;
  /** The 30 days ending at the anchor day, whatever the range. */
  past30Days: DayRange;
  allHistory: DayRange;
}

const day = z
  .string({ message: 'expected a date as YYYY-MM-DD' })
  .regex(/^\d{4}-\d{2}-\d{2}$/, { message: 'expected a date as YYYY-MM-DD' })
  .refine(isCalendarDate, { message: 'expected a date that exists on the calendar' });

export const dashboardQuerySchema = z
  .strictObject({
    from: day.optional(),
    to: day.optional(),
    type: z
      .string({ message: 'expected one incident type' })
      .max(100, { message: 'expected an incident type of at most 100 characters' })
      .optional(),
  })
  .refine((query) => !query.from || !query.to || query.from <= query.to, {
    path: ['from'],
    message: 'must not be after to',
  });

export type DashboardQuery = z.infer<typeof dashboardQuerySchema>;

export type ParsedQuery =
  { ok: true; query: DashboardQuery } | { ok: false; parameter: string; message: string };

/**
 * Validates a query string object (Express's `req.query`). Empty values count as absent, as an
 * HTML form sends them; a repeated parameter or an unknown one is an error naming it.
 */
export function parseDashboardQuery(raw: Record<string, unknown>): ParsedQuery {
  const present = Object.fromEntries(Object.entries(raw).filter(([, value]) => value !== ''));
  const result = dashboardQuerySchema.safeParse(present);
  if (result.success) return { ok: true, query: result.data };
  const issue = result.error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    const parameter = issue.keys[0] ?? 'query';
    return {
      ok: false,
      parameter,
      message: `${parameter}: unknown parameter; expected from, to or type`,
    };
  }
  const parameter = String(issue.path[0] ?? 'query');
  return { ok: false, parameter, message: `${parameter}: ${issue.message}` };
}

export function resolveFilter(query: DashboardQuery, extent: Extent): ResolvedFilter {
  const { firstDay, anchorDay } = extent;
  return {
    type: query.type ?? null,
    range: {
      from: maxDay(query.from ?? firstDay, firstDay),
      to: minDay(query.to ?? anchorDay, anchorDay),
    },
    past30Days: { from: maxDay(addDays(anchorDay, -29), firstDay), to: anchorDay },
    allHistory: { from: firstDay, to: anchorDay },
  };
}

export interface MonthSplit {
  /** First days of the first and last months the range covers wholly, if any. */
  months: DayRange | null;
  /** The days outside those months: at most one stretch before and one after. */
  edges: DayRange[];
}

/**
 * Splits a range into whole months (read from a monthly rollup) and the days at its edges (read
 * row by row). A month counts as whole when the range covers all of its days that can hold data,
 * so a range starting at the first day or ending at the anchor day needs no edge there.
 */
export function splitWholeMonths(range: DayRange, extent: Extent): MonthSplit {
  const from = maxDay(range.from, extent.firstDay);
  const to = minDay(range.to, extent.anchorDay);
  if (from > to) return { months: null, edges: [] };
  const fromMonth = monthStart(from);
  const firstMonth =
    from === fromMonth || from === extent.firstDay ? fromMonth : addMonths(fromMonth, 1);
  const toMonth = monthStart(to);
  const lastMonth =
    addDays(addMonths(toMonth, 1), -1) === to || to === extent.anchorDay
      ? toMonth
      : addMonths(toMonth, -1);
  if (firstMonth > lastMonth) return { months: null, edges: [{ from, to }] };
  const edges: DayRange[] = [];
  if (from < firstMonth) edges.push({ from, to: addDays(firstMonth, -1) });
  const afterLast = addMonths(lastMonth, 1);
  if (afterLast <= to) edges.push({ from: afterLast, to });
  return { months: { from: firstMonth, to: lastMonth }, edges };
}

export function addDays(day: string, days: number): string {
  return new Date(toUtcMs(day) + days * 86_400_000).toISOString().slice(0, 10);
}

function addMonths(monthStartDay: string, months: number): string {
  const date = new Date(toUtcMs(monthStartDay));
  date.setUTCMonth(date.getUTCMonth() + months);
  return date.toISOString().slice(0, 10);
}

function monthStart(day: string): string {
  return `${day.slice(0, 7)}-01`;
}

function maxDay(a: string, b: string): string {
  return a > b ? a : b;
}

function minDay(a: string, b: string): string {
  return a < b ? a : b;
}

function toUtcMs(day: string): number {
  return Date.parse(`${day}T00:00:00Z`);
}

function isCalendarDate(value: string): boolean {
  const ms = toUtcMs(value);
  return Number.isFinite(ms) && new Date(ms).toISOString().slice(0, 10) === value;
}
