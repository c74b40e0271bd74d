import type pg from 'pg';
import { createRandom } from './police-log-generator.js';

/**
 * Crime Reports rows for tests, written straight into `crime_reports` (no sync is involved),
 * shaped like the real ones (shared/reference/crime-reports.md): the 13 police neighborhoods with
 * reporting areas numbered after them and a centroid each, the crime mix, reports weeks after the
 * crime now and then, every form of `crime_date_time` (one time, a same-day range, a range over
 * days, a date alone, none, unreadable) and a few rows the source no longer serves. Wall times
 * are America/New_York; PostgreSQL turns them into instants and local parts as the transform
 * does. Same seed, same rows.
 */

export interface CrimeReportOptions {
  seed: number;
  rows: number;
  /** First report day, `YYYY-MM-DD`; default 2024-01-01. */
  from?: string;
  /** Day after the last report day (exclusive); default 2026-11-01 (a month batch). */
  to?: string;
  /** Every how many rows one is marked deleted; default 97. */
  deletedEvery?: number;
}

/** A row as the insert below takes it: local wall times, the rest as the table holds it. */
export interface CrimeReportInput {
  fileNumber: string;
  /** `YYYY-MM-DDTHH:MM` local. */
  reportedLocal: string;
  crimeDateTime: string | null;
  occurrenceForm: 'instant' | 'same_day_range' | 'range' | 'date_only' | 'missing' | 'unreadable';
  /** `YYYY-MM-DDTHH:MM` local, or null when the source gave no time. */
  occurredFromLocal: string | null;
  occurredToLocal: string | null;
  crime: string;
  neighborhood: string | null;
  reportingArea: string | null;
  location: string | null;
  latitude: number | null;
  longitude: number | null;
  deleted: boolean;
}

/** The police neighborhoods, their number (the reporting areas' leading digits) and a centroid. */
export const crimeNeighborhoods = [
  { name: 'East Cambridge', number: 1, lat: 42.3695, lon: -71.0795, weight: 12.4 },
  { name: 'MIT', number: 2, lat: 42.3601, lon: -71.0942, weight: 2.0 },
  { name: 'Inman/Harrington', number: 3, lat: 42.3726, lon: -71.0965, weight: 5.8 },
  { name: 'Area 4', number: 4, lat: 42.3664, lon: -71.0995, weight: 9.5 },
  { name: 'Cambridgeport', number: 5, lat: 42.3587, lon: -71.1063, weight: 14.5 },
  { name: 'Mid-Cambridge', number: 6, lat: 42.3738, lon: -71.1115, weight: 9.9 },
  { name: 'Riverside', number: 7, lat: 42.3668, lon: -71.1162, weight: 9.5 },
  { name: 'Agassiz', number: 8, lat: 42.3818, lon: -71.1166, weight: 2.6 },
  { name: 'Peabody', number: 9, lat: 42.3867, lon: -71.1305, weight: 6.0 },
  { name: 'West Cambridge', number: 10, lat: 42.3775, lon: -71.1388, weight: 9.3 },
  { name: 'North Cambridge', number: 11, lat: 42.3954, lon: -71.1331, weight: 10.0 },
  { name: 'Highlands', number: 12, lat: 42.3893, lon: -71.1494, weight: 2.6 },
  { name: 'Strawberry Hill', number: 13, lat: 42.3805, lon: -71.1535, weight: 1.6 },
] as const;

/** The most frequent crimes with their rough shares, then a long tail. */
const crimes: readonly (readonly [string, number])[] = [
  ['Hit and Run', 9.1],
  ['Larceny from MV', 7.4],
  ['Larceny of Bicycle', 6.3],
  ['Mal. Dest. Property', 6.15],
  ['Forgery', 6.1],
  ['Shoplifting', 5.6],
  ['Larceny from Building', 4.5],
  ['Warrant Arrest', 4.4],
  ['Simple Assault', 4.2],
  ['Larceny from Residence', 4.0],
  ['Housebreak', 3.85],
  ['Larceny from Person', 3.2],
  ['Accident', 2.85],
  ['Threats', 2.75],
  ['Flim Flam', 2.6],
  ['Aggravated Assault', 2.4],
  ['Auto Theft', 1.95],
  ['Harassment', 1.5],
  ['Street Robbery', 0.9],
  ['Commercial Break', 0.7],
  ['OUI', 0.6],
  ['Trespassing', 0.5],
  ['Drugs', 0.4],
  ['Arson', 0.1],
];

const streets = [
  'MASSACHUSETTS AVE',
  'CAMBRIDGE ST',
  'BROADWAY',
  'HAMPSHIRE ST',
  'RINDGE AVE',
  'OTIS ST',
  'HARVARD ST',
  'Main St',
  'PROSPECT ST',
  'CONCORD AVE',
];

function pick<T>(random: () => number, items: readonly (readonly [T, number])[]): T {
  const total = items.reduce((sum, [, weight]) => sum + weight, 0);
  let at = random() * total;
  for (const [item, weight] of items) {
    at -= weight;
    if (at < 0) return item;
  }
  return items[items.length - 1]![0];
}

const pad = (value: number, width = 2) => String(value).padStart(width, '0');
const dayMs = 86_400_000;

function wall(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16);
}

/** `MM/DD/YYYY HH:MM`, the source's form, from a wall time held as a UTC-based number. */
function sourceForm(ms: number, withDate = true): string {
  const date = new Date(ms);
  const time = `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}`;
  if (!withDate) return time;
  return `${pad(date.getUTCMonth() + 1)}/${pad(date.getUTCDate())}/${date.getUTCFullYear()} ${time}`;
}

/** Crimes happen more in the afternoon and evening; reports follow within hours, or weeks. */
const hourWeights: readonly (readonly [number, number])[] = Array.from({ length: 24 }, (_, h) => [
  h,
  h < 6 ? 1.2 - h * 0.12 : h < 12 ? 0.8 + (h - 6) * 0.35 : h < 19 ? 3.2 : 3.2 - (h - 18) * 0.45,
]);

export function generateCrimeReports(options: CrimeReportOptions): CrimeReportInput[] {
  const random = createRandom(options.seed);
  const fromMs = Date.parse(`${options.from ?? '2024-01-01'}T00:00:00Z`);
  const toMs = Date.parse(`${options.to ?? '2026-11-01'}T00:00:00Z`);
  const days = Math.round((toMs - fromMs) / dayMs);
  const deletedEvery = options.deletedEvery ?? 97;
  const neighborhoodWeights = crimeNeighborhoods.map((n) => [n, n.weight] as const);
  const sequence = new Map<number, number>();
  const rows: CrimeReportInput[] = [];
  for (let index = 0; index < options.rows; index += 1) {
    // Report days spread evenly, in order, so file numbers follow report dates as they do.
    const day = Math.floor((index * days) / options.rows);
    const reportedMs =
      fromMs +
      day * dayMs +
      Math.floor(random() * 24) * 3_600_000 +
      Math.floor(random() * 60) * 60_000;
    const year = new Date(reportedMs).getUTCFullYear();
    const number = (sequence.get(year) ?? 0) + 1 + Math.floor(random() * 2);
    sequence.set(year, number);

    const crime = pick(random, crimes);
    const area = random() < 0.004 ? null : pick(random, neighborhoodWeights);
    const areaIndex = 1 + Math.floor(random() * 8);
    const reportingArea = area ? `${area.number}${pad(areaIndex)}` : null;
    // Each area's centroid sits near its neighborhood's, always at the same place.
    const latitude = area ? round6(area.lat + ((areaIndex % 3) - 1) * 0.0021) : null;
    const longitude = area ? round6(area.lon + (Math.floor(areaIndex / 3) - 1) * 0.0027) : null;

    // How long before the report it began: mostly hours, sometimes weeks, rarely years.
    const roll = random();
    const delayHours =
      roll < 0.45
        ? random() * 3
        : roll < 0.8
          ? 3 + random() * 45
          : roll < 0.97
            ? 48 + random() * 24 * 40
            : roll < 0.995
              ? 24 * 40 + random() * 24 * 700
              : -random() * 2; // a report stamped before the start: a data error the source has
    const startHour = pick(random, hourWeights);
    const startDay = Math.floor((reportedMs - delayHours * 3_600_000) / dayMs) * dayMs;
    let startMs = startDay + startHour * 3_600_000 + Math.floor(random() * 12) * 5 * 60_000;
    if (startMs > reportedMs && delayHours >= 0) startMs = reportedMs - 60_000;

    const formRoll = random();
    let input: Pick<
      CrimeReportInput,
      'crimeDateTime' | 'occurrenceForm' | 'occurredFromLocal' | 'occurredToLocal'
    >;
    if (formRoll < 0.55) {
      input = {
        crimeDateTime: sourceForm(startMs),
        occurrenceForm: 'instant',
        occurredFromLocal: wall(startMs),
        occurredToLocal: wall(startMs),
      };
    } else if (formRoll < 0.78) {
      const endMs = Math.min(
        startMs + (1 + Math.floor(random() * 6)) * 30 * 60_000,
        startDay + dayMs - 60_000,
      );
      input = {
        crimeDateTime: `${sourceForm(startMs)} - ${sourceForm(endMs, false)}`,
        occurrenceForm: 'same_day_range',
        occurredFromLocal: wall(startMs),
        occurredToLocal: wall(endMs),
      };
    } else if (formRoll < 0.97) {
      const endMs = startMs + (12 + Math.floor(random() * 48)) * 3_600_000;
      input = {
        crimeDateTime: `${sourceForm(startMs)} - ${sourceForm(endMs)}`,
        occurrenceForm: 'range',
        occurredFromLocal: wall(startMs),
        occurredToLocal: wall(endMs),
      };
    } else if (formRoll < 0.985) {
      input = {
        crimeDateTime: sourceForm(startMs).slice(0, 10),
        occurrenceForm: 'date_only',
        occurredFromLocal: null,
        occurredToLocal: null,
      };
    } else if (formRoll < 0.997) {
      input = {
        crimeDateTime: null,
        occurrenceForm: 'missing',
        occurredFromLocal: null,
        occurredToLocal: null,
      };
    } else {
      input = {
        crimeDateTime: '13/45/20 25:99',
        occurrenceForm: 'unreadable',
        occurredFromLocal: null,
        occurredToLocal: null,
      };
    }

    const street = streets[Math.floor(random() * streets.length)]!;
    rows.push({
      fileNumber: `${year}-${pad(number, 5)}`,
      reportedLocal: wall(reportedMs),
      ...input,
      crime,
      neighborhood: area?.name ?? null,
      reportingArea,
      location:
        random() < 0.003 ? null : `${Math.floor(random() * 20) * 100} ${street}, Cambridge, MA`,
      latitude,
      longitude,
      deleted: index % deletedEvery === deletedEvery - 1,
    });
  }
  return rows;
}

function round6(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

/**
 * Writes rows into `crime_reports` in batches, deriving instants, local date, hour and ISO weekday
 * from the wall times in PostgreSQL (America/New_York), as the transform does.
 */
export async function insertCrimeReports(
  pool: Pick<pg.Pool, 'query'>,
  rows: readonly CrimeReportInput[],
): Promise<void> {
  for (let start = 0; start < rows.length; start += 5_000) {
    const batch = rows.slice(start, start + 5_000);
    await pool.query(
      `insert into crime_reports (
         file_number, source_row_id, reported_at, reported_local, reported_date, crime_date_time,
         occurred_from, occurred_to, occurred_date, occurred_hour, occurred_weekday, occurrence_form,
         crime, neighborhood, reporting_area, location, latitude, longitude, source_updated_at,
         deleted_at)
       select r."fileNumber", 'row-' || r."fileNumber",
              r."reportedLocal"::timestamp at time zone 'America/New_York',
              r."reportedLocal"::timestamp, r."reportedLocal"::date, r."crimeDateTime",
              r."occurredFromLocal"::timestamp at time zone 'America/New_York',
              r."occurredToLocal"::timestamp at time zone 'America/New_York',
              r."occurredFromLocal"::date,
              extract(hour from r."occurredFromLocal"::timestamp)::smallint,
              extract(isodow from r."occurredFromLocal"::timestamp)::smallint,
              r."occurrenceForm"::occurrence_form,
              r.crime, r.neighborhood, r."reportingArea", r.location, r.latitude, r.longitude,
              least((r."reportedLocal"::timestamp at time zone 'America/New_York') + interval '20 days', now()),
              case when r.deleted then now() end
         from json_to_recordset($1::json) as r(
           "fileNumber" text, "reportedLocal" text, "crimeDateTime" text, "occurrenceForm" text,
           "occurredFromLocal" text, "occurredToLocal" text, crime text, neighborhood text,
           "reportingArea" text, location text, latitude numeric, longitude numeric, deleted boolean)`,
      [JSON.stringify(batch)],
    );
  }
}
