import { formatCount, weekdayNames, type ChartData, type MapPoint, type Unit } from './charts.js';
import type { AreaPoint, DelayBucket, MonthCount } from './crime-report-queries.js';

/** The Crime Reports page's own charts (the ones the Police Log has no like of). Pure. */

export const reportUnit: Unit = { one: 'report', many: 'reports', title: 'Reports' };

const nothing = 'No reports in this period.';

function plural(count: number, one: string, many = `${one}s`): string {
  return `${formatCount(count)} ${count === 1 ? one : many}`;
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

/** Reports per month with the trailing 3- and 12-month averages. */
export function buildCrimeMonthlyChart(months: readonly MonthCount[]): ChartData {
  const total = sum(months.map((m) => m.reports));
  const label = (month: string) => month.slice(0, 7);
  let summary = nothing;
  if (total > 0) {
    let top = months[0]!;
    for (const month of months) if (month.reports > top.reports) top = month;
    const last = months[months.length - 1]!;
    summary =
      `${plural(total, 'report')} over ${plural(months.length, 'month')} (${label(months[0]!.month)} to ${label(last.month)}), ${(total / months.length).toFixed(1)} a month. ` +
      `Busiest month: ${label(top.month)} with ${formatCount(top.reports)}.`;
    if (last.avg3m !== null) {
      summary += ` In ${label(last.month)} the 3-month average was ${last.avg3m.toFixed(1)} a month`;
      summary +=
        last.avg12m !== null ? ` and the 12-month average ${last.avg12m.toFixed(1)}.` : '.';
    }
  }
  return {
    kind: 'line',
    x: months.map((m) => label(m.month)),
    series: [
      { name: 'Reports', values: months.map((m) => m.reports) },
      { name: '3-month average', values: months.map((m) => m.avg3m) },
      { name: '12-month average', values: months.map((m) => m.avg12m) },
    ],
    summary,
  };
}

export function buildWeekdayChart(
  days: readonly { weekday: number; reports: number }[],
): ChartData {
  const total = sum(days.map((d) => d.reports));
  let top = days[0];
  let bottom = days[0];
  for (const day of days) {
    if (top && day.reports > top.reports) top = day;
    if (bottom && day.reports < bottom.reports) bottom = day;
  }
  const name = (weekday: number) => weekdayNames[weekday - 1] ?? String(weekday);
  return {
    kind: 'bar',
    x: days.map((d) => name(d.weekday).slice(0, 3)),
    series: [{ name: 'Reports', values: days.map((d) => d.reports) }],
    summary:
      !top || !bottom || total === 0
        ? nothing
        : `Most crimes began on a ${name(top.weekday)} (${formatCount(top.reports)}), fewest on a ${name(bottom.weekday)} (${formatCount(bottom.reports)}).`,
  };
}

/** How long after the crime began it was reported; the median bucket in words. */
export function buildDelayChart(buckets: readonly DelayBucket[]): ChartData {
  const total = sum(buckets.map((b) => b.reports));
  let summary = nothing;
  if (total > 0) {
    let seen = 0;
    const median = buckets.find((b) => (seen += b.reports) >= total / 2)!;
    const within = (bucket: number) =>
      sum(buckets.filter((b) => b.bucket >= 1 && b.bucket <= bucket).map((b) => b.reports));
    const share = (part: number) => `${Math.round((100 * part) / total)}%`;
    const early = buckets.find((b) => b.bucket === 0)?.reports ?? 0;
    summary =
      `Of ${plural(total, 'report')} with a time of occurrence, half were made within “${median.label}”; ` +
      `${share(within(3))} within a day, ${share(total - within(6) - early)} more than four weeks later.` +
      (early > 0 ? ` ${plural(early, 'report')} predate the crime’s recorded start.` : '');
  }
  return {
    kind: 'bar',
    horizontal: true,
    x: buckets.map((b) => b.label),
    series: [{ name: 'Reports', values: buckets.map((b) => b.reports) }],
    summary,
  };
}

/** Each reporting area's centroid, sized by its reports; each neighborhood named at its middle. */
export function buildAreaMap(areas: readonly AreaPoint[]): ChartData {
  const points: MapPoint[] = areas.map((area) => ({
    name: area.reportingArea,
    group: area.neighborhood,
    latitude: area.latitude,
    longitude: area.longitude,
    value: area.reports,
  }));
  const byPlace = new Map<string, { weight: number; latitude: number; longitude: number }>();
  for (const area of areas) {
    if (!area.neighborhood) continue;
    const place = byPlace.get(area.neighborhood) ?? { weight: 0, latitude: 0, longitude: 0 };
    place.weight += area.reports;
    place.latitude += area.latitude * area.reports;
    place.longitude += area.longitude * area.reports;
    byPlace.set(area.neighborhood, place);
  }
  const places = [...byPlace]
    .filter(([, place]) => place.weight > 0)
    .map(([name, place]) => ({
      name,
      latitude: Math.round((place.latitude / place.weight) * 1e6) / 1e6,
      longitude: Math.round((place.longitude / place.weight) * 1e6) / 1e6,
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
  const top = areas
    .slice(0, 3)
    .map(
      (a) =>
        `${a.reportingArea} in ${a.neighborhood ?? 'no neighborhood'} (${formatCount(a.reports)})`,
    );
  return {
    kind: 'map',
    points,
    places,
    summary:
      areas.length === 0
        ? 'No reports with a reporting area in this period.'
        : `${plural(areas.length, 'reporting area')} on the map, each at its centroid, sized by its reports. Most reports: ${top.join(', ')}.`,
  };
}
