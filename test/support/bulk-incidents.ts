import type pg from 'pg';
import { sourceTimeZone } from './incident-fixtures.js';

/**
 * Fills `incidents` with a realistic spread in one INSERT … SELECT over generate_series: days
 * with a season and a weekly rhythm, hours shaped like the real log (quiet at 03:00–05:00, peak at
 * 16:00), types in the real proportions, offences, and locations with a long tail. Deterministic
 * for a given seed. Rows go in chronological order, as a real history would have been loaded.
 */
export interface FillOptions {
  count: number;
  /** Last local day (inclusive), `YYYY-MM-DD`. */
  lastDay: string;
  /** How many days back from `lastDay` the rows spread over. */
  days: number;
  /** First id; ids are consecutive in time order. */
  firstId?: number;
  /** 0 to 1; the same seed gives the same rows. */
  seed?: number;
}

/** Share of incidents per local hour 0–23, read off the original dashboard. */
const hourWeights = [
  130, 120, 75, 60, 45, 55, 75, 195, 335, 380, 440, 445, 480, 490, 540, 570, 610, 520, 500, 375,
  330, 280, 175, 145,
];

/** Monday … Sunday. */
const weekdayWeights = [1.0, 1.02, 1.03, 1.02, 1.08, 0.95, 0.85];

/** [type, subtype, weight]: type shares as in one full pull of the real log. */
const offences: [string, string | null, number][] = [
  ['INCIDENT', 'LARCENY UNDER $1200 C266 S30(1)', 1600],
  ['INCIDENT', 'LARCENY FROM BUILDING C266 S20', 700],
  ['INCIDENT', 'MOTOR VEH, LARCENY OF C266 S28', 500],
  ['INCIDENT', 'B&E MV / BOAT NIGHTTIME FOR FELONY C266 S16', 350],
  ['INCIDENT', 'VANDALIZE PROPERTY C266 S126A', 600],
  ['INCIDENT', 'A&B C265 S13A', 550],
  ['INCIDENT', 'SHOPLIFTING C266 S30A', 900],
  ['INCIDENT', 'DISTURBANCE', 700],
  ['INCIDENT', 'SUSPICIOUS ACTIVITY', 650],
  ['INCIDENT', 'FRAUD C266 S33', 354],
  ['INCIDENT', null, 5],
  ['ARREST', 'WARRANT ARREST', 120],
  ['ARREST', 'OUI LIQUOR C90 S24', 70],
  ['ARREST', 'TRESPASS C266 S120', 48],
  ['TRAFFIC', 'MOTOR VEHICLE CRASH', 90],
  ['TRAFFIC', 'HIT AND RUN PROPERTY DAMAGE C90 S24', 31],
  ['SP', 'SPECIAL PATROL', 8],
  ['ASSIST', 'ASSIST OTHER AGENCY', 4],
  ['INVESTIGATIONS', 'INVESTIGATION', 1],
];

const streets = [
  'MASSACHUSETTS AVE',
  'CAMBRIDGE ST',
  'BROADWAY',
  'HAMPSHIRE ST',
  'MAIN ST',
  'PROSPECT ST',
  'RIVER ST',
  'WESTERN AVE',
  'MOUNT AUBURN ST',
  'BRATTLE ST',
  'CONCORD AVE',
  'HURON AVE',
  'GARDEN ST',
  'KIRKLAND ST',
  'BEACON ST',
  'SOMERVILLE AVE',
  'FIRST ST',
  'THIRD ST',
  'MEMORIAL DR',
  'JOHN F KENNEDY ST',
  'CHURCH ST',
  'JFK ST',
  'ELM ST',
  'INMAN ST',
  'HARVARD ST',
  'PUTNAM AVE',
  'SIDNEY ST',
  'VASSAR ST',
  'AMES ST',
  'BINNEY ST',
  'NEWPORT RD',
  'IRVING ST',
  'OXFORD ST',
  'ALEWIFE BROOK PKWY',
  'FRESH POND PKWY',
  'RINDGE AVE',
  'SHERMAN ST',
  'WALDEN ST',
  'LINNAEAN ST',
  'QUINCY ST',
];

/** Streets, and intersections of neighbouring ones, with Zipf weights: a few carry most rows. */
function buildLocations(): { names: string[]; weights: number[] } {
  const names = [...streets];
  for (let i = 0; i + 1 < streets.length; i += 1) names.push(`${streets[i]} & ${streets[i + 1]}`);
  for (let i = 0; i + 3 < streets.length; i += 2) names.push(`${streets[i]} & ${streets[i + 3]}`);
  return { names, weights: names.map((_, rank) => 1 / (rank + 1)) };
}

/** Lower bounds of each bucket of a weighted choice, for `width_bucket(random(), bounds)`. */
function bucketBounds(weights: readonly number[]): number[] {
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  let running = 0;
  return weights.map((weight) => {
    const bound = running / total;
    running += weight;
    return bound;
  });
}

function dayWeights(lastDay: string, days: number): { dates: string[]; weights: number[] } {
  const last = Date.parse(`${lastDay}T00:00:00Z`);
  const dates: string[] = [];
  const weights: number[] = [];
  for (let offset = days - 1; offset >= 0; offset -= 1) {
    const date = new Date(last - offset * 86_400_000);
    const dayOfYear = (date.getTime() - Date.UTC(date.getUTCFullYear(), 0, 1)) / 86_400_000;
    const season = 1 + 0.18 * Math.sin((2 * Math.PI * (dayOfYear - 100)) / 365);
    const trend = 1 + (0.1 * (days - offset)) / days;
    dates.push(date.toISOString().slice(0, 10));
    weights.push(season * trend * weekdayWeights[(date.getUTCDay() + 6) % 7]!);
  }
  return { dates, weights };
}

export async function fillIncidents(pool: pg.Pool, options: FillOptions): Promise<void> {
  const { dates, weights } = dayWeights(options.lastDay, options.days);
  const locations = buildLocations();
  const client = await pool.connect();
  try {
    await client.query('select setseed($1)', [options.seed ?? 0.42]);
    await client.query(
      `
      with picked as (
        select g,
               ($1::date[])[width_bucket(random(), $2::float8[])] as day,
               width_bucket(random(), $3::float8[]) - 1 as hour,
               floor(random() * 60)::int as minute,
               width_bucket(random(), $4::float8[]) as offence,
               width_bucket(random(), $8::float8[]) as place,
               1 + floor(random() * 5)::int as publish_lag
          from generate_series(1, $10::int) as g
      ), timed as (
        select p.*, p.day + make_time(p.hour, p.minute, 0) as occurred_local from picked p
      ), placed as (
        select t.*,
               (t.occurred_local at time zone $11) as occurred_at,
               ($5::text[])[t.offence] as type,
               ($6::text[])[t.offence] as subtype,
               ($7::text[])[t.place] as location
          from timed t
      )
      insert into incidents (
        id, occurred_at, occurred_local, local_date, local_hour, local_weekday, local_time_kind,
        type, subtype, offense, statute, location, location_street, location_cross_street,
        description, source_updated_at)
      select $9::bigint + row_number() over (order by occurred_local, g) - 1,
             occurred_at,
             occurred_local,
             day,
             hour,
             extract(isodow from day)::smallint,
             (case
               when occurred_at at time zone $11 <> occurred_local then 'nonexistent'
               when (occurred_at + interval '1 hour') at time zone $11 = occurred_local
                 or (occurred_at - interval '1 hour') at time zone $11 = occurred_local
                 then 'ambiguous'
               else 'regular'
             end)::local_time_kind,
             type,
             subtype,
             coalesce(substring(subtype from '^(.*?)\\s+C\\d+[A-Z]?\\s+S[\\w()]+$'), subtype),
             substring(subtype from '\\s(C\\d+[A-Z]?\\s+S[\\w()]+)$'),
             location,
             split_part(location, ' & ', 1),
             nullif(split_part(location, ' & ', 2), ''),
             'Synthetic narrative ' || g,
             ((day + publish_lag + time '15:30') at time zone $11)
        from placed
       order by occurred_local, g`,
      [
        dates,
        bucketBounds(weights),
        bucketBounds(hourWeights),
        bucketBounds(offences.map(([, , weight]) => weight)),
        offences.map(([type]) => type),
        offences.map(([, subtype]) => subtype),
        locations.names,
        bucketBounds(locations.weights),
        options.firstId ?? 1,
        options.count,
        sourceTimeZone,
      ],
    );
  } finally {
    client.release();
  }
}
