import type {
  DayCount,
  GridCell,
  HourCount,
  LocationCount,
  MonthCount,
  SignificantChange,
  TypeCount,
} from './queries.js';

/**
 * Query results shaped for the page: what each chart draws, and the text summary beside it that
 * says the same in words (for screen readers, and for anyone who prefers reading). Pure.
 */

export interface ChartSeries {
  name: string;
  values: (number | null)[];
}

export type ChartData =
  | { kind: 'line'; x: string[]; series: ChartSeries[]; summary: string }
  | {
      kind: 'bar';
      x: string[];
      series: ChartSeries[];
      summary: string;
      horizontal?: boolean;
      /** Values to mark with a dashed line, e.g. the significance bounds of a z-score. */
      thresholds?: number[];
    }
  | {
      kind: 'heatmap';
      x: string[];
      y: string[];
      /** [x index, y index, value] */
      cells: [number, number, number][];
      summary: string;
    }
  | {
      /** Points on longitude (x) and latitude (y), sized by count: a map from the data alone. */
      kind: 'map';
      points: MapPoint[];
      /** Labels drawn at a place, e.g. each neighborhood at the middle of its points. */
      places: { name: string; latitude: number; longitude: number }[];
      summary: string;
    };

export interface MapPoint {
  name: string;
  group: string | null;
  latitude: number;
  longitude: number;
  value: number;
}

/** What a chart counts, for its series name and its summary: incidents, reports. */
export interface Unit {
  one: string;
  many: string;
  /** The series name, e.g. "Incidents". */
  title: string;
}

export const incidentUnit: Unit = { one: 'incident', many: 'incidents', title: 'Incidents' };

export const weekdayNames = [
  'Monday',
  'Tuesday',
  'Wednesday',
  'Thursday',
  'Friday',
  'Saturday',
  'Sunday',
];

const noIncidents = 'No incidents in this period.';
const nothingIn = (unit: Unit) => `No ${unit.many} in this period.`;

export function formatCount(value: number): string {
  return value.toLocaleString('en-US');
}

function plural(count: number, one: string, many = `${one}s`): string {
  return `${formatCount(count)} ${count === 1 ? one : many}`;
}

function share(part: number, whole: number): string {
  if (whole === 0) return '0%';
  const percent = (100 * part) / whole;
  return percent > 0 && percent < 1 ? '<1%' : `${Math.round(percent)}%`;
}

function hourLabel(hour: number): string {
  return `${String(hour).padStart(2, '0')}:00`;
}

function hourSpan(hour: number): string {
  return `${hourLabel(hour)}–${String(hour).padStart(2, '0')}:59`;
}

/** The first of the largest and of the smallest, by a key. */
function extremes<T extends object>(
  items: readonly T[],
  value: (item: T) => number,
): { top: T; bottom: T } | null {
  if (items.length === 0) return null;
  let top = items[0]!;
  let bottom = items[0]!;
  for (const item of items) {
    if (value(item) > value(top)) top = item;
    if (value(item) < value(bottom)) bottom = item;
  }
  return { top, bottom };
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

/** Incidents per day; with averages, the 7- and 28-day lines too. */
export function buildDailyChart(days: readonly DayCount[], withAverages: boolean): ChartData {
  const series: ChartSeries[] = [{ name: 'Incidents', values: days.map((d) => d.incidents) }];
  if (withAverages) {
    series.push(
      { name: '7-day average', values: days.map((d) => d.avg7d) },
      { name: '28-day average', values: days.map((d) => d.avg28d) },
    );
  }
  return {
    kind: 'line',
    x: days.map((d) => d.day),
    series,
    summary: summarizeDays(days, withAverages),
  };
}

function summarizeDays(days: readonly DayCount[], withAverages: boolean): string {
  const total = sum(days.map((d) => d.incidents));
  const range = extremes(days, (d) => d.incidents);
  if (!range || total === 0) return noIncidents;
  const first = days[0]!;
  const last = days[days.length - 1]!;
  const perDay = (total / days.length).toFixed(1);
  let text =
    `${plural(total, 'incident')} over ${plural(days.length, 'day')} (${first.day} to ${last.day}), ${perDay} a day. ` +
    `Busiest day: ${range.top.day} with ${formatCount(range.top.incidents)}; quietest: ${range.bottom.day} with ${formatCount(range.bottom.incidents)}.`;
  if (withAverages && last.avg7d !== null) {
    text += ` On ${last.day} the 7-day average was ${last.avg7d.toFixed(1)} a day`;
    text += last.avg28d !== null ? ` and the 28-day average ${last.avg28d.toFixed(1)}.` : '.';
  }
  return text;
}

export function buildMonthlyChart(months: readonly MonthCount[]): ChartData {
  const total = sum(months.map((m) => m.incidents));
  const range = extremes(months, (m) => m.incidents);
  const label = (month: string) => month.slice(0, 7);
  const summary =
    !range || total === 0
      ? noIncidents
      : `${plural(total, 'incident')} over ${plural(months.length, 'month')} (${label(months[0]!.month)} to ${label(months[months.length - 1]!.month)}). ` +
        `Busiest month: ${label(range.top.month)} with ${formatCount(range.top.incidents)}; quietest: ${label(range.bottom.month)} with ${formatCount(range.bottom.incidents)}.`;
  return {
    kind: 'line',
    x: months.map((m) => label(m.month)),
    series: [{ name: 'Incidents', values: months.map((m) => m.incidents) }],
    summary,
  };
}

export function buildTypeChart(
  types: readonly TypeCount[],
  unit: Unit = incidentUnit,
  options: { horizontal?: boolean; what?: string } = {},
): ChartData {
  const total = sum(types.map((t) => t.incidents));
  const listed = types
    .slice(0, 5)
    .map((t) => `${t.type} ${formatCount(t.incidents)} (${share(t.incidents, total)})`);
  const what = options.what ?? 'type';
  const more = types.length > 5 ? `, and ${plural(types.length - 5, `more ${what}`)}` : '';
  return {
    kind: 'bar',
    ...(options.horizontal && { horizontal: true }),
    x: types.map((t) => t.type),
    series: [{ name: unit.title, values: types.map((t) => t.incidents) }],
    summary:
      total === 0
        ? nothingIn(unit)
        : `${plural(total, unit.one, unit.many)}: ${listed.join(', ')}${more}.`,
  };
}

export function buildHourChart(hours: readonly HourCount[], unit: Unit = incidentUnit): ChartData {
  const total = sum(hours.map((h) => h.incidents));
  const range = extremes(hours, (h) => h.incidents);
  const summary =
    !range || total === 0
      ? nothingIn(unit)
      : `Busiest hour: ${hourSpan(range.top.hour)} with ${formatCount(range.top.incidents)} (${share(range.top.incidents, total)}). ` +
        `Quietest: ${hourSpan(range.bottom.hour)} with ${formatCount(range.bottom.incidents)}.`;
  return {
    kind: 'bar',
    x: hours.map((h) => hourLabel(h.hour)),
    series: [{ name: unit.title, values: hours.map((h) => h.incidents) }],
    summary,
  };
}

/** Hours across, weekdays down (Monday on top). */
export function buildGridChart(cells: readonly GridCell[]): ChartData {
  const total = sum(cells.map((c) => c.incidents));
  const range = extremes(cells, (c) => c.incidents);
  const at = (cell: GridCell) => `${weekdayNames[cell.weekday - 1]} ${hourSpan(cell.hour)}`;
  const summary =
    !range || total === 0
      ? noIncidents
      : `Busiest time of the week: ${at(range.top)} with ${formatCount(range.top.incidents)}. ` +
        `Quietest: ${at(range.bottom)} with ${formatCount(range.bottom.incidents)}.`;
  return {
    kind: 'heatmap',
    x: Array.from({ length: 24 }, (_, hour) => hourLabel(hour)),
    y: weekdayNames.map((name) => name.slice(0, 3)),
    cells: cells.map((c) => [c.hour, c.weekday - 1, c.incidents]),
    summary,
  };
}

export function buildLocationChart(locations: readonly LocationCount[]): ChartData {
  const listed = locations.slice(0, 3).map((l) => `${l.location} (${formatCount(l.incidents)})`);
  return {
    kind: 'bar',
    horizontal: true,
    x: locations.map((l) => l.location),
    series: [{ name: 'Incidents', values: locations.map((l) => l.incidents) }],
    summary:
      locations.length === 0
        ? 'No incidents with a location in this period.'
        : `Most incidents: ${listed.join(', ')}.`,
  };
}

export const significanceThreshold = 3;

export function buildChangesChart(
  changes: readonly SignificantChange[],
  anchorDay: string,
  unit: Unit = incidentUnit,
): ChartData {
  const significant = changes.filter((c) => c.significant);
  const described = significant.map(
    (c) =>
      `${c.type} ${c.z > 0 ? 'up' : 'down'} (${formatCount(c.current28d)} against ${formatCount(c.previous28d)}, z = ${c.z.toFixed(1)})`,
  );
  const window = `in the 28 days to ${anchorDay} against the 28 days before`;
  const summary =
    changes.length === 0
      ? nothingIn(unit)
      : significant.length === 0
        ? `No type changed significantly (|z| ≥ ${significanceThreshold}) ${window}.`
        : `${plural(significant.length, 'type')} of ${changes.length} changed significantly (|z| ≥ ${significanceThreshold}) ${window}: ${described.join('; ')}.`;
  return {
    kind: 'bar',
    x: changes.map((c) => c.type),
    series: [{ name: 'z-score', values: changes.map((c) => c.z) }],
    thresholds: [-significanceThreshold, significanceThreshold],
    summary,
  };
}
