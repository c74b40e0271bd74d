import { createRandom } from './police-log-generator.js';
import type { SodaRow } from './fake-soda/types.js';

/**
 * A deterministic generator of synthetic Cambridge Crime Reports rows shaped like the real ones
 * (shared/reference/crime-reports.md): `YYYY-NNNNN` file numbers that restart each year, floating
 * `date_of_report`, `crime_date_time` in all its forms (single time, same-day range, cross-day
 * range, date only, null, and a rare unreadable one) with times planted at the DST edges, the
 * crime and neighborhood mix, reporting areas led by the neighborhood number with their
 * centroids, 100-block locations, and the system fields: `:updated_at` is the month-batch
 * publication instant (UTC, weeks after the month ends), and a few file numbers are published
 * twice, corrected, with a later stamp. Same seed, same rows.
 */

export interface CrimeReportsOptions {
  seed: number;
  rows: number;
  /** First local day, `YYYY-MM-DD`; default 2024-01-01. */
  from?: string;
  /** Day after the last (exclusive); default 2025-01-01. */
  to?: string;
}

const dayMs = 86_400_000;

const crimes: ReadonlyArray<readonly [string, number]> = [
  ['Hit and Run', 91],
  ['Larceny from MV', 74],
  ['Larceny of Bicycle', 63],
  ['Mal. Dest. Property', 61],
  ['Forgery', 61],
  ['Shoplifting', 56],
  ['Larceny from Building', 45],
  ['Warrant Arrest', 44],
  ['Simple Assault', 42],
  ['Larceny from Residence', 40],
  ['Housebreak', 38],
  ['Larceny from Person', 32],
  ['Accident', 28],
  ['Threats', 27],
  ['Flim Flam', 26],
  ['Aggravated Assault', 24],
  ['Auto Theft', 19],
  ['Missing Person', 19],
  ['Harassment', 15],
  ['Street Robbery', 9],
  ['OUI', 8],
  ['Drugs', 5],
  ['Commercial Break', 5],
  ['Arson', 1],
];

/** Neighborhood, its number (the reporting areas' leading digits), weight, centroid. */
const neighborhoods: ReadonlyArray<readonly [string, number, number, number, number]> = [
  ['East Cambridge', 1, 124, 42.3691, -71.0787],
  ['MIT', 2, 20, 42.3601, -71.0942],
  ['Inman/Harrington', 3, 58, 42.3725, -71.0915],
  ['Area 4', 4, 95, 42.3667, -71.0985],
  ['Cambridgeport', 5, 145, 42.3596, -71.1055],
  ['Mid-Cambridge', 6, 99, 42.3729, -71.1064],
  ['Riverside', 7, 95, 42.3665, -71.1155],
  ['Agassiz', 8, 26, 42.3806, -71.1163],
  ['Peabody', 9, 60, 42.3866, -71.1274],
  ['West Cambridge', 10, 93, 42.3767, -71.1413],
  ['North Cambridge', 11, 100, 42.3946, -71.1339],
  ['Highlands', 12, 26, 42.3896, -71.1502],
  ['Strawberry Hill', 13, 16, 42.3828, -71.1558],
];

const streets = [
  'MASSACHUSETTS AVE',
  'CAMBRIDGE ST',
  'OTIS ST',
  'RINDGE AVE',
  'Broadway',
  'HAMPSHIRE ST',
  'River St',
  'PROSPECT ST',
  'WESTERN AVE',
  'GORE ST',
  'FIFTH ST',
  'HURON AVE',
  'Concord Ave',
  'NORUMBEGA ST',
];

function pick<Item extends readonly [unknown, number, ...unknown[]]>(
  items: readonly Item[],
  random: () => number,
): Item {
  const total = items.reduce((sum, item) => sum + item[1], 0);
  let at = random() * total;
  for (const item of items) {
    at -= item[1];
    if (at < 0) return item;
  }
  return items[items.length - 1]!;
}

const pad = (value: number, width = 2) => String(value).padStart(width, '0');

function dayOf(text: string, name: string): number {
  const ms = Date.parse(`${text}T00:00:00Z`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text) || Number.isNaN(ms))
    throw new Error(`generateCrimeReports: ${name} must be YYYY-MM-DD, got ${text}`);
  return ms / dayMs;
}

/** `MM/DD/YYYY` and `HH:MM` of a UTC-as-wall-time millisecond value. */
function usDate(ms: number): string {
  const date = new Date(ms);
  return `${pad(date.getUTCMonth() + 1)}/${pad(date.getUTCDate())}/${date.getUTCFullYear()}`;
}
function clock(ms: number): string {
  const date = new Date(ms);
  return `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}`;
}
function floating(ms: number): string {
  return new Date(ms).toISOString().slice(0, 23);
}

/** Second Sunday of March and first Sunday of November (US rules since 2007), as day numbers. */
function dstDays(year: number): { spring: number; fall: number } {
  const sunday = (month: number, nth: number) => {
    const first = Date.UTC(year, month, 1) / dayMs;
    const weekday = new Date(first * dayMs).getUTCDay();
    return first + ((7 - weekday) % 7) + (nth - 1) * 7;
  };
  return { spring: sunday(2, 2), fall: sunday(10, 1) };
}

/**
 * The month batch a report is published in: the month after the report's, on a day three to
 * eight weeks after it ends, at a fixed UTC instant.
 */
function publishedAt(reportMs: number, seed: number): string {
  const date = new Date(reportMs);
  const monthEnd = Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1);
  const lag = 21 + ((date.getUTCMonth() * 7 + seed) % 36);
  return new Date(monthEnd + lag * dayMs + 14 * 3_600_000 + 5 * 60_000).toISOString();
}

function occurrenceText(reportMs: number, random: () => number): string | undefined {
  const roll = random();
  if (roll < 0.0015) return undefined; // null
  if (roll < 0.003) return usDate(reportMs - Math.floor(random() * 3) * dayMs); // date only
  if (roll < 0.0035) return 'UNKNOWN';
  // The start is before the report, by minutes to a few days.
  const delayMinutes = Math.floor(random() < 0.6 ? random() * 240 : random() * 4 * 1440);
  const start = Math.floor((reportMs - delayMinutes * 60_000) / 60_000) * 60_000;
  const form = random();
  if (form < 0.55) return `${usDate(start)} ${clock(start)}`;
  const length = Math.floor(random() * (form < 0.8 ? 600 : 2400)) * 60_000;
  const end = Math.min(start + length, reportMs);
  if (usDate(end) === usDate(start)) return `${usDate(start)} ${clock(start)} - ${clock(end)}`;
  return `${usDate(start)} ${clock(start)} - ${usDate(end)} ${clock(end)}`;
}

export function* generateCrimeReports(options: CrimeReportsOptions): Generator<SodaRow> {
  const { seed, rows } = options;
  if (!Number.isSafeInteger(rows) || rows < 0)
    throw new Error(`generateCrimeReports: rows must be a whole number, got ${rows}`);
  const firstDay = dayOf(options.from ?? '2024-01-01', 'from');
  const endDay = dayOf(options.to ?? '2025-01-01', 'to');
  if (endDay <= firstDay) throw new Error('generateCrimeReports: to must be after from');
  const random = createRandom(seed ^ 0x5eed);
  const spanMs = (endDay - firstDay) * dayMs;
  const sequences = new Map<number, number>();
  const planted = new Set<number>();
  for (let index = 0; index < rows; index += 1) {
    // Evenly spread over the range, a little jitter, in order (file numbers grow with reports).
    const reportMs =
      firstDay * dayMs + Math.floor((((index + random() * 0.9) / rows) * spanMs) / 60_000) * 60_000;
    const year = new Date(reportMs).getUTCFullYear();
    const sequence = (sequences.get(year) ?? 0) + (random() < 0.3 ? 2 : 1);
    sequences.set(year, sequence);
    const [neighborhood, number, , lat, lon] = pick(neighborhoods, random);
    const area = `${number}${pad(1 + Math.floor(random() * 9))}`;
    let crimeDateTime = occurrenceText(reportMs, random);
    // Once a year each, a time in the spring-forward gap and one in the fall-back overlap.
    const { spring, fall } = dstDays(year);
    const day = Math.floor(reportMs / dayMs);
    if (day > spring && !planted.has(year * 10 + 1)) {
      planted.add(year * 10 + 1);
      crimeDateTime = `${usDate(spring * dayMs)} 02:30`;
    } else if (day > fall && !planted.has(year * 10 + 2)) {
      planted.add(year * 10 + 2);
      crimeDateTime = `${usDate(fall * dayMs)} 01:30 - 01:45`;
    }
    const row: SodaRow = {
      ':updated_at': publishedAt(reportMs, seed),
      file_number: `${year}-${pad(sequence, 5)}`,
      date_of_report: floating(reportMs),
      crime: pick(crimes, random)[0],
    };
    row[':created_at'] = row[':updated_at']!;
    if (crimeDateTime !== undefined) row.crime_date_time = crimeDateTime;
    if (random() > 0.0001) {
      row.reporting_area = area;
      row.neighborhood = neighborhood;
      row.reporting_area_lat = (lat + (random() - 0.5) * 0.004).toFixed(6);
      row.reporting_area_lon = (lon + (random() - 0.5) * 0.004).toFixed(6);
    }
    if (random() > 0.003) {
      const street = streets[Math.floor(random() * streets.length)]!;
      row.location =
        random() < 0.15
          ? `${street} & ${streets[Math.floor(random() * streets.length)]!}, Cambridge, MA`
          : `${Math.floor(random() * 26) * 100} ${street}, Cambridge, MA`;
    }
    yield row;
    // About 0.3% are published again in a later batch, corrected (another crime type).
    if (random() < 0.003) {
      yield {
        ...row,
        crime: pick(crimes, random)[0],
        ':updated_at': new Date(Date.parse(row[':updated_at']!) + 31 * dayMs).toISOString(),
      };
    }
  }
}
