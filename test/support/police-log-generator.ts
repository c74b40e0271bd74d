import type { SodaRow } from './fake-soda/types.js';

export type { SodaRow };

/**
 * A deterministic, streaming generator of synthetic Daily Police Log rows shaped like the real
 * ones (shared/reference/police-log.md): the type mix, statutes in subtypes, the hour-of-day curve,
 * Cambridge streets, squares and `A & B` intersections, padded locations, absent subtypes and
 * descriptions, repeated ids, publish-batch `last_updated` stamps with late re-stamps, and rows at
 * the DST edges. Names are synthetic. Nothing depends on the wall clock: same seed, same rows.
 */

export interface PoliceLogOptions {
  seed: number;
  rows: number;
  /** First local day, `YYYY-MM-DD`; default 2025-01-01. */
  from?: string;
  /** Day after the last, `YYYY-MM-DD` (exclusive); default 2026-01-16, so the last day is 2026-01-15. */
  to?: string;
}

const dayMs = 86_400_000;

/** sfc32: small, fast, and the same on every platform. */
export function createRandom(seed: number): () => number {
  let a = 0x9e3779b9;
  let b = 0x243f6a88;
  let c = 0xb7e15162;
  let d = seed >>> 0;
  const next = () => {
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    d >>>= 0;
    let t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    t = (t + d) | 0;
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 15; i += 1) next();
  return next;
}

/** A stable hash of a few integers, in [0, 1): for values shared by rows (one stamp per batch day). */
function hashUnit(...values: number[]): number {
  let h = 0x811c9dc5;
  for (const value of values) {
    h = Math.imul(h ^ (value >>> 0), 0x01000193);
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    h ^= h >>> 12;
  }
  return (h >>> 0) / 4294967296;
}

type Weighted<T> = readonly (readonly [T, number])[];

function createPicker<T>(items: Weighted<T>): (random: () => number) => T {
  const total = items.reduce((sum, [, weight]) => sum + weight, 0);
  const cumulative = items.map(([, weight]) => weight / total);
  for (let i = 1; i < cumulative.length; i += 1) cumulative[i]! += cumulative[i - 1]!;
  return (random) => {
    const r = random();
    for (let i = 0; i < cumulative.length; i += 1) if (r < cumulative[i]!) return items[i]![0];
    return items[items.length - 1]![0];
  };
}

function pickOne<T>(items: readonly T[], random: () => number): T {
  return items[Math.floor(random() * items.length)]!;
}

// Counts of one full pull (7,276 rows).
const pickType = createPicker([
  ['INCIDENT', 6904],
  ['ARREST', 238],
  ['TRAFFIC', 121],
  ['SP', 8],
  ['ASSIST', 4],
  ['INVESTIGATIONS', 1],
] as const);

type IncidentType = 'INCIDENT' | 'ARREST' | 'TRAFFIC' | 'SP' | 'ASSIST' | 'INVESTIGATIONS';

/** Subtypes with their offence phrase for narratives; most end in a statute `C<ch> S<sec>`. */
const subtypes: Record<IncidentType, Weighted<readonly [string, string]>> = {
  INCIDENT: [
    [['LARCENY FROM BUILDING C266 S20', 'a larceny from a building'], 14],
    [['LARCENY UNDER $1200 C266 S30(1)', 'a larceny'], 12],
    [['LARCENY OVER $1200 C266 S30', 'a larceny'], 6],
    [['LARCENY OVER $1200 BY FALSE PRETENSE C266 S34', 'a fraud'], 5],
    [['SHOPLIFTING BY ASPORTATION C266 S30A', 'a shoplifting'], 8],
    [['SHOPLIFTING BY CONCEALING MDSE C266 S30A', 'a shoplifting'], 8],
    [['MOTOR VEH, LARCENY OF C266 S28', 'a stolen motor vehicle'], 5],
    [
      [
        'B&E MV / BOAT NIGHTTIME FOR FELONY C266 S16',
        'a breaking and entering into a motor vehicle',
      ],
      5,
    ],
    [['B&E BUILDING DAYTIME FOR FELONY C266 S18', 'a breaking and entering'], 3],
    [['LARCENY OF BICYCLE C266 S30', 'a stolen bicycle'], 7],
    [['ASSAULT & BATTERY C265 S13A', 'an assault and battery'], 5],
    [['A&B WITH DANGEROUS WEAPON C265 S15A', 'an assault with a dangerous weapon'], 2],
    [['VANDALIZE PROPERTY C266 S126A', 'vandalism'], 4],
    [
      ['MALICIOUS DESTRUCTION OF PROPERTY -$1200 C266 S127', 'malicious destruction of property'],
      3,
    ],
    [['THREAT TO COMMIT CRIME C275 S2', 'threats'], 3],
    [['HARASSMENT C265 S43A', 'harassment'], 2],
    [['IDENTITY FRAUD C266 S37E', 'identity fraud'], 3],
    [['TRESPASS C266 S120', 'a trespass'], 2],
    [['DISORDERLY CONDUCT C272 S53', 'disorderly conduct'], 1],
    [['ROBBERY, UNARMED C265 S19(b)', 'an unarmed robbery'], 1],
    [['LEAVE SCENE OF PROPERTY DAMAGE C90 S24', 'a hit and run'], 3],
    [['TRAFFIC INVESTIGATIONS', 'a traffic matter'], 2],
    [['SUSPICIOUS ACTIVITY', 'suspicious activity'], 2],
    [['MISSING PERSON', 'a missing person'], 1],
  ],
  ARREST: [
    [['WARRANT ARREST REPORT', 'an outstanding warrant'], 10],
    [['OUI LIQUOR C90 S24', 'operating under the influence'], 2],
    [['SHOPLIFTING BY CONCEALING MDSE C266 S30A', 'shoplifting'], 2],
    [['ASSAULT & BATTERY C265 S13A', 'assault and battery'], 2],
    [['TRESPASS C266 S120', 'trespassing'], 1],
  ],
  TRAFFIC: [
    [['MOTOR VEHICLE CRASH', 'a motor vehicle crash'], 6],
    [['MOTOR VEH CRASH, PERSONAL INJURY', 'a crash with injuries'], 2],
    [['LEAVE SCENE OF PROPERTY DAMAGE C90 S24', 'a hit and run'], 2],
    [['UNLICENSED OPERATION OF MV C90 S10', 'unlicensed operation of a motor vehicle'], 1],
  ],
  SP: [
    [['SUSPICIOUS PERSON', 'a suspicious person'], 3],
    [['SUSPICIOUS PACKAGE', 'a suspicious package'], 1],
  ],
  ASSIST: [
    [['ASSIST OTHER AGENCY', 'a request for assistance'], 2],
    [['ASSIST CITIZEN', 'a request for assistance'], 1],
  ],
  INVESTIGATIONS: [[['DEATH INVESTIGATION', 'an unattended death'], 1]],
};

const subtypePickers = Object.fromEntries(
  Object.entries(subtypes).map(([type, items]) => [type, createPicker(items)]),
) as Record<IncidentType, (random: () => number) => readonly [string, string]>;

const streets: Weighted<string> = [
  ['MASSACHUSETTS AVE', 30],
  ['CAMBRIDGE ST', 8],
  ['BROADWAY', 6],
  ['HAMPSHIRE ST', 5],
  ['MAIN ST', 5],
  ['PROSPECT ST', 4],
  ['RIVER ST', 4],
  ['WESTERN AVE', 4],
  ['MEMORIAL DR', 3],
  ['CONCORD AVE', 3],
  ['MT AUBURN ST', 3],
  ['BRATTLE ST', 2],
  ['HURON AVE', 2],
  ['GARDEN ST', 2],
  ['FIRST ST', 2],
  ['THIRD ST', 2],
  ['SIXTH ST', 1],
  ['INMAN ST', 2],
  ['WALDEN ST', 1],
  ['IRVING ST', 1],
  ['NEWPORT RD', 1],
  ['HUNTING ST', 1],
  ['CEDAR ST', 1],
  ['AMES ST', 1],
  ['ALEWIFE BROOK PKWY', 3],
  ['FRESH POND PKWY', 2],
  ['MT VERNON ST', 1],
  ['GREEN ST', 2],
  ['PEARL ST', 2],
  ['BINNEY ST', 1],
  ['WINDSOR ST', 1],
  ['PUTNAM AVE', 1],
  ['RINDGE AVE', 2],
  ['JFK ST', 2],
  ['DUNSTER ST', 1],
  ['KIRKLAND ST', 1],
  ['OXFORD ST', 1],
  ['BEACON ST', 1],
  ['SOMERVILLE AVE', 1],
  ['VASSAR ST', 1],
  ['SIDNEY ST', 1],
  ['PORTLAND ST', 1],
  ['HARVARD ST', 1],
  ['COLUMBIA ST', 1],
  ['MAGAZINE ST', 1],
  ['ELM ST', 1],
  ['CAMBRIDGESIDE PL', 2],
];
const pickStreet = createPicker(streets);
const squares = ['CENTRAL SQ', 'HARVARD SQ', 'KENDALL SQ', 'INMAN SQ', 'PORTER SQ'] as const;

// Share of a year's rows per hour, read off the original dashboard: a trough at 03:00–05:00, a
// rise from 07:00, the peak at 16:00, a decline after 20:00.
const hourWeights = [
  250, 180, 140, 55, 48, 58, 110, 200, 300, 380, 430, 460, 480, 500, 520, 560, 610, 560, 480, 420,
  380, 330, 300, 270,
];
const pickHour = createPicker(hourWeights.map((weight, hour) => [hour, weight] as const));

const firstNames = [
  'Alex',
  'Jamie',
  'Sam',
  'Taylor',
  'Jordan',
  'Casey',
  'Riley',
  'Morgan',
  'Avery',
  'Quinn',
  'Drew',
  'Robin',
  'Charlie',
  'Frankie',
  'Jesse',
  'Reese',
];
const lastNames = ['Doe', 'Roe', 'Poe', 'Coe', 'Loe', 'Moe', 'Noe', 'Voe', 'Yoe', 'Soe'];
const towns = [
  'Cambridge',
  'Somerville',
  'Boston',
  'Malden',
  'Roslindale',
  'Arlington',
  'Medford',
  'Everett',
  'Quincy',
  'Chelsea',
  'Watertown',
  'Belmont',
  'Revere',
  'Lynn',
];
const items = [
  'laptop',
  'bicycle',
  'cell phone',
  'wallet',
  'backpack',
  'package',
  'set of headphones',
  'catalytic converter',
  'handbag',
  'tablet',
];
const colours = ['black', 'dark', 'grey', 'blue', 'red', 'white', 'green', 'tan'];

const titles = new Map<string, string>();

function titleCase(text: string): string {
  let title = titles.get(text);
  if (title === undefined) {
    title = text.toLowerCase().replace(/\b[a-z]/g, (char) => char.toUpperCase());
    titles.set(text, title);
  }
  return title;
}

function personOf(random: () => number): string {
  return `${pickOne(firstNames, random)} ${pickOne(lastNames, random)}, ${18 + Math.floor(random() * 60)}, of ${pickOne(towns, random)}`;
}

function clock(minuteOfDay: number): string {
  const hour = Math.floor(minuteOfDay / 60) % 24;
  const minute = String(minuteOfDay % 60).padStart(2, '0');
  return `${hour % 12 === 0 ? 12 : hour % 12}:${minute} ${hour < 12 ? 'AM' : 'PM'}`;
}

const openers: ((facts: NarrativeFacts, random: () => number) => string)[] = [
  (f) => `Police responded to the ${f.block} block of ${f.street} for a report of ${f.offence}.`,
  (f, r) => `A ${pickOne(towns, r)} resident reported ${f.offence} near ${f.place}.`,
  (f, r) =>
    `A ${pickOne(towns, r)} resident came to the Central Square police station to report ${f.offence}.`,
  (f) =>
    `Police were dispatched by the Emergency Communications Center to ${f.place} for ${f.offence}.`,
  (f) => `An employee of a business on ${f.street} reported ${f.offence}.`,
  (f, r) =>
    `A ${pickOne(towns, r)} resident will be summonsed to Cambridge District Court for ${f.offence}.`,
];

const arrestOpener = (f: NarrativeFacts, r: () => number) =>
  `${personOf(r)} was placed under arrest near ${f.place} for ${f.offence}.`;

const sentences: ((facts: NarrativeFacts, random: () => number) => string)[] = [
  (_, r) => {
    const start = Math.floor(r() * 1380);
    return `The victim stated that it happened between ${clock(start)} and ${clock(start + 15 + Math.floor(r() * 600))}.`;
  },
  () => 'Officers canvassed the area for the suspect with negative results.',
  () => 'A description of the suspect was broadcast to area units.',
  () => 'The reporting party provided surveillance footage to the responding officers.',
  (_, r) =>
    `Items taken included a ${pickOne(items, r)} valued at approximately $${(1 + Math.floor(r() * 40)) * 50}.`,
  () => 'Detectives from the Criminal Investigations Section were notified and will follow up.',
  () => 'There were no reported injuries.',
  (_, r) =>
    `The suspect was described as wearing a ${pickOne(colours, r)} jacket and ${pickOne(colours, r)} pants.`,
  () => 'Officers spoke with several witnesses, who gave consistent accounts of what happened.',
  () => 'The investigation is ongoing.',
  () => 'A report was filed for documentation purposes.',
  (_, r) => `${personOf(r)}, was identified as a witness and gave a statement.`,
  () => 'The vehicle was towed from the scene.',
  () => 'Fire and EMS also responded and evaluated those involved.',
  (f) => `Officers checked the area around ${f.street} and spoke with nearby businesses.`,
  (_, r) =>
    `The reporting party was given a case number, ${25 + Math.floor(r() * 2)}-${String(Math.floor(r() * 1e5)).padStart(5, '0')}, for insurance purposes.`,
  () => 'The area was searched, and nothing further was found at the time of the report.',
  (_, r) =>
    `A ${pickOne(colours, r)} sedan was seen leaving the area shortly afterwards, heading toward ${titleCase(pickStreet(r))}.`,
  () =>
    'The reporting party declined medical attention at the scene and was advised of the options for a restraining order.',
  () =>
    'Officers reviewed video from a nearby business, which showed the suspect entering and leaving within a few minutes.',
  (_, r) => `${personOf(r)}, was later located by officers and admitted to the offense.`,
  () =>
    'The property was photographed and the images were attached to the report for the detectives assigned to the case.',
  () => 'No arrests were made at this time.',
  () =>
    'The reporting party was advised to contact the police if the suspect returned or if anything further was discovered.',
];

interface NarrativeFacts {
  block: number;
  street: string;
  place: string;
  offence: string;
}

const maxDescription = 1500;
const strides = [1, 3, 5, 7, 9, 11].filter((stride) => gcd(stride, sentences.length) === 1);

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/** A few sentences, a few hundred characters on average, up to about 1,500. */
function describe(type: IncidentType, facts: NarrativeFacts, random: () => number): string {
  let text =
    type === 'ARREST' ? arrestOpener(facts, random) : pickOne(openers, random)(facts, random);
  const extra = Math.min(30, Math.floor(-Math.log(1 - random()) * 4));
  // Stepping through the sentences by a stride coprime with their number visits each once before
  // any repeats, so a narrative does not say the same thing twice.
  const start = Math.floor(random() * sentences.length);
  const stride = strides[Math.floor(random() * strides.length)]!;
  for (let i = 0; i < extra; i += 1) {
    const sentence = sentences[(start + i * stride) % sentences.length]!(facts, random);
    if (text.length + 1 + sentence.length > maxDescription) break;
    text += ` ${sentence}`;
  }
  return text;
}

function locationOf(random: () => number): { location: string; street: string } {
  const r = random();
  if (r < 0.14) {
    const square = pickOne(squares, random);
    return { location: square, street: titleCase(square.replace(/ SQ$/, ' Square')) };
  }
  const street = pickStreet(random);
  if (r < 0.4) {
    let other = pickStreet(random);
    if (other === street) other = other === 'BROADWAY' ? 'PROSPECT ST' : 'BROADWAY';
    return { location: `${street} & ${other}`, street: titleCase(street) };
  }
  return { location: street, street: titleCase(street) };
}

/** Some exports pad locations to a fixed width: most to 53 characters, a few to 670. */
function padLocation(location: string, random: () => number): string {
  const r = random();
  if (r < 0.005) return location.padEnd(670, ' ');
  if (r < 0.2) return location.padEnd(53, ' ');
  return location;
}

function parseDay(text: string, name: string): number {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  const ms = match
    ? Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]))
    : Number.NaN;
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== text) {
    throw new Error(
      `generatePoliceLog: ${name} must be a date YYYY-MM-DD, got ${JSON.stringify(text)}`,
    );
  }
  return ms / dayMs;
}

const dates = new Map<number, string>();

/** `YYYY-MM-DD` of a day number (days since 1970-01-01, calendar arithmetic in UTC). */
function dateOf(day: number): string {
  let date = dates.get(day);
  if (date === undefined) {
    date = new Date(day * dayMs).toISOString().slice(0, 10);
    dates.set(day, date);
  }
  return date;
}

function stampOf(day: number, minuteOfDay: number, second: number): string {
  const hh = String(Math.floor(minuteOfDay / 60)).padStart(2, '0');
  const mm = String(minuteOfDay % 60).padStart(2, '0');
  return `${dateOf(day)}T${hh}:${mm}:${String(second).padStart(2, '0')}.000`;
}

/** US rules since 2007: DST starts the second Sunday of March, ends the first Sunday of November. */
function dstEdge(day: number): 'spring' | 'fall' | undefined {
  const date = new Date(day * dayMs);
  if (date.getUTCDay() !== 0) return undefined;
  const month = date.getUTCMonth();
  const dom = date.getUTCDate();
  if (month === 2 && dom >= 8 && dom <= 14) return 'spring';
  if (month === 10 && dom <= 7) return 'fall';
  return undefined;
}

/** The publish batch's stamp for a day: one per day, shared by every row published that day. */
function batchStamp(seed: number, day: number): string {
  const r = hashUnit(seed, day, 1);
  const minute =
    r < 0.85
      ? 15 * 60 + Math.floor(hashUnit(seed, day, 2) * 60)
      : r < 0.93
        ? 16 * 60
        : 9 * 60 + Math.floor(hashUnit(seed, day, 2) * 240);
  return stampOf(day, minute, Math.floor(hashUnit(seed, day, 3) * 60));
}

/** Corrections are re-published in rarer batches, about one day in nine, at odd hours. */
function restampAfter(seed: number, earliest: number): string {
  let day = earliest;
  while (hashUnit(seed, day, 4) >= 1 / 9) day += 1;
  const minute = 9 * 60 + Math.floor(hashUnit(seed, day, 5) * 300);
  return stampOf(day, minute, Math.floor(hashUnit(seed, day, 6) * 60));
}

const publishLag = createPicker([
  [1, 30],
  [2, 25],
  [3, 20],
  [4, 15],
  [5, 10],
] as const);

/** Rows per day: weekday and seasonal shape with noise, summing exactly to `rows`. */
function allocateRows(
  rows: number,
  firstDay: number,
  days: number,
  random: () => number,
): number[] {
  const weights: number[] = [];
  for (let i = 0; i < days; i += 1) {
    const date = new Date((firstDay + i) * dayMs);
    const weekday = [0.85, 1, 1.02, 1.03, 1.05, 1.1, 0.95][date.getUTCDay()]!;
    const season = 1 + 0.15 * Math.sin(((date.getUTCMonth() - 3) / 12) * 2 * Math.PI);
    weights.push(weekday * season * (0.7 + 0.6 * random()));
  }
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  const exact = weights.map((weight) => (weight / total) * rows);
  const counts = exact.map(Math.floor);
  let missing = rows - counts.reduce((sum, count) => sum + count, 0);
  const byRemainder = exact
    .map((value, index) => [value - Math.floor(value), index] as const)
    .sort((a, b) => b[0] - a[0]);
  for (const [, index] of byRemainder) {
    if (missing === 0) break;
    counts[index]! += 1;
    missing -= 1;
  }
  // The pipeline must meet the DST edges, so those days get a row whenever there are rows to spare.
  const edges = counts.map((_, i) => dstEdge(firstDay + i) !== undefined);
  for (let i = 0; i < days; i += 1) {
    if (counts[i] === 0 && edges[i] && rows >= 10) {
      let donor = -1;
      for (let j = 0; j < days; j += 1)
        if (!edges[j] && (donor < 0 || counts[j]! > counts[donor]!)) donor = j;
      counts[donor]! -= 1;
      counts[i] = 1;
    }
  }
  return counts;
}

export function* generatePoliceLog(options: PoliceLogOptions): Generator<SodaRow> {
  const { seed, rows } = options;
  if (!Number.isSafeInteger(rows) || rows < 0)
    throw new Error(`generatePoliceLog: rows must be a whole number, got ${rows}`);
  const firstDay = parseDay(options.from ?? '2025-01-01', 'from');
  const endDay = parseDay(options.to ?? '2026-01-16', 'to');
  if (endDay <= firstDay) throw new Error('generatePoliceLog: to must be after from');
  const random = createRandom(seed);
  const counts = allocateRows(rows, firstDay, endDay - firstDay, random);
  const sequences = new Map<number, number>();
  // Real ids skip numbers (reports that never reach the public log); dense data cannot afford gaps.
  const rowsPerYear = (rows / (endDay - firstDay)) * 365;
  // Past about a million a year, six digits need every number.
  const gapChance = rowsPerYear > 500_000 ? 0 : 0.25;

  for (let offset = 0; offset < counts.length; offset += 1) {
    const day = firstDay + offset;
    const count = counts[offset]!;
    if (count === 0) continue;
    const minutes: number[] = [];
    for (let i = 0; i < count; i += 1)
      minutes.push(pickHour(random) * 60 + Math.floor(random() * 60));
    const edge = dstEdge(day);
    // 02:00–02:59 does not exist on the spring-forward day, so the source has no such times but
    // the one planted at 02:30 (the pipeline must flag it); 01:30 happens twice on the fall-back day.
    if (edge === 'spring')
      for (let i = 0; i < count; i += 1)
        if (minutes[i]! >= 120 && minutes[i]! < 180) minutes[i]! += 60;
    if (edge) minutes[0] = edge === 'spring' ? 150 : 90;
    minutes.sort((a, b) => a - b);

    const year = new Date(day * dayMs).getUTCFullYear();
    for (let i = 0; i < count; i += 1) {
      let sequence = sequences.get(year) ?? 0;
      sequence += random() < gapChance ? 2 : 1;
      sequences.set(year, sequence);
      const id = `${String(year % 100).padStart(2, '0')}${String(sequence).padStart(6, '0')}`;
      const dateTime = stampOf(day, minutes[i]!, 0);
      const row = createRow(id, dateTime, day, seed, random);
      yield row;
      // About 0.6% of ids appear twice: a corrected version, published later.
      if (i + 1 < count && random() < 0.006) {
        i += 1;
        yield reviseRow(row, day, seed, random);
      }
    }
  }
}

function createRow(
  id: string,
  dateTime: string,
  day: number,
  seed: number,
  random: () => number,
): SodaRow {
  const type = pickType(random);
  const [subtype, offence] = subtypePickers[type](random);
  const { location, street } = locationOf(random);
  const facts = {
    block: Math.floor(random() * 26) * 100,
    street,
    place: titleCase(location),
    offence,
  };
  const description = describe(type, facts, random);
  const lastUpdated =
    random() < 0.03
      ? restampAfter(seed, day + 14 + Math.floor(random() * 50))
      : batchStamp(seed, day + publishLag(random));
  const row: SodaRow = { date_time: dateTime, id, type };
  if (random() >= 0.0007) row.subtype = subtype;
  row.location = padLocation(location, random);
  if (random() >= 0.013) row.description = description;
  row.last_updated = lastUpdated;
  return row;
}

/** The same incident republished with an amended narrative and a later stamp. */
function reviseRow(original: SodaRow, day: number, seed: number, random: () => number): SodaRow {
  const addition = `Supplemental: ${pickOne(sentences, random)(
    { block: 0, street: 'the area', place: 'the area', offence: 'the incident' },
    random,
  )}`;
  const base = (original.description ?? 'Report pending.').slice(
    0,
    maxDescription - addition.length - 1,
  );
  const publishedDay = Date.parse(`${original.last_updated!.slice(0, 10)}T00:00:00Z`) / dayMs;
  const { date_time, id, type, subtype, location } = original;
  return {
    date_time: date_time!,
    id: id!,
    type: type!,
    ...(subtype !== undefined && { subtype }),
    location: location!,
    description: `${base} ${addition}`,
    last_updated: restampAfter(
      seed,
      Math.max(publishedDay + 1, day + 7 + Math.floor(random() * 40)),
    ),
  };
}
