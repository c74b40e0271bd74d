import type { RejectReason } from '../../src/pipeline/validate-row.js';
import type { SourceRow } from './truth.js';

/**
 * A corpus of bad and odd source rows, one kind per entry, each with what must become of it:
 * loaded (as the source's truth says, and with what the check adds), or quarantined for a
 * reason. Every row carries its kind in an extra field, `chaos_kind`, so a quarantined row can be
 * found again without an id. Ids are in a range the generator never uses (98xxxxxx).
 */
export interface BadRowKind {
  name: string;
  rows: SourceRow[];
  expect: {
    /** The kind's id is loaded: how, and what its stored incident must show. */
    loaded?: { what: string; check?: (incident: Record<string, unknown>) => string | undefined };
    /** Rows of the kind quarantined, and why (every row of the kind unless `count` says). */
    rejected?: { reason: RejectReason; count: number };
  };
}

const baseStamp = '2025-07-01T10:00:00.000';

function idOf(index: number): string {
  return `98${String(index).padStart(6, '0')}`;
}

function baseRow(kind: string, index: number, overrides: SourceRow = {}): SourceRow {
  return {
    date_time: '2025-06-15T14:30:00.000',
    id: idOf(index),
    type: 'INCIDENT',
    subtype: 'LARCENY FROM BUILDING C266 S20',
    location: '100 MASSACHUSETTS AVE',
    description: `Corpus row of kind ${kind}.`,
    last_updated: baseStamp,
    chaos_kind: kind,
    ...overrides,
  };
}

function without(row: SourceRow, ...fields: string[]): SourceRow {
  return Object.fromEntries(Object.entries(row).filter(([name]) => !fields.includes(name)));
}

const equals =
  (column: string, expected: unknown) =>
  (incident: Record<string, unknown>): string | undefined =>
    incident[column] === expected
      ? undefined
      : `${column} is ${JSON.stringify(incident[column])}, expected ${JSON.stringify(expected)}`;

type Spec = [
  name: string,
  rows: (kind: string, id: number) => SourceRow[],
  expect: BadRowKind['expect'],
];

const rejected = (reason: RejectReason, count = 1): BadRowKind['expect'] => ({
  rejected: { reason, count },
});
const loaded = (
  what: string,
  check?: (incident: Record<string, unknown>) => string | undefined,
): BadRowKind['expect'] => ({ loaded: check ? { what, check } : { what } });

const specs: Spec[] = [
  // Missing and empty fields.
  ['missing id', (k, i) => [without(baseRow(k, i), 'id')], rejected('missing_field')],
  ['missing date_time', (k, i) => [without(baseRow(k, i), 'date_time')], rejected('missing_field')],
  ['missing type', (k, i) => [without(baseRow(k, i), 'type')], rejected('missing_field')],
  [
    'missing last_updated',
    (k, i) => [without(baseRow(k, i), 'last_updated')],
    rejected('missing_field'),
  ],
  ['empty type', (k, i) => [baseRow(k, i, { type: '' })], rejected('missing_field')],
  ['blank type', (k, i) => [baseRow(k, i, { type: ' \t ' })], rejected('missing_field')],
  ['null required field', (k, i) => [baseRow(k, i, { type: null })], rejected('missing_field')],
  [
    'field renamed (ID for id)',
    (k, i) => [{ ...without(baseRow(k, i), 'id'), ID: idOf(i) }],
    rejected('missing_field'),
  ],
  ['only an unknown field', (k) => [{ chaos_kind: k }], rejected('missing_field')],
  [
    'optional fields absent',
    (k, i) => [without(baseRow(k, i), 'subtype', 'location', 'description')],
    loaded('with nulls', equals('location', null)),
  ],
  [
    'optional field null',
    (k, i) => [baseRow(k, i, { subtype: null })],
    loaded('subtype null', equals('subtype', null)),
  ],
  // Extra fields.
  ['extra field', (k, i) => [baseRow(k, i, { officer_badge: '1234' })], loaded('ignoring it')],
  [
    'huge extra field (1.5 MB)',
    (k, i) => [baseRow(k, i, { notes: 'x'.repeat(1_500_000) })],
    loaded('ignoring it'),
  ],
  [
    'NUL in an extra field',
    (k, i) => [baseRow(k, i, { notes: 'a\u0000b' })],
    loaded('ignoring it'),
  ],
  // Wrong types.
  [
    'id as a JSON number',
    (k, i) => [baseRow(k, i, { id: Number(idOf(i)) })],
    rejected('wrong_type'),
  ],
  [
    'date_time as a number',
    (k, i) => [baseRow(k, i, { date_time: 20250615 })],
    rejected('wrong_type'),
  ],
  ['array value', (k, i) => [baseRow(k, i, { subtype: ['A', 'B'] })], rejected('wrong_type')],
  [
    'object value',
    (k, i) => [baseRow(k, i, { location: { street: 'MAIN ST' } })],
    rejected('wrong_type'),
  ],
  ['boolean value', (k, i) => [baseRow(k, i, { type: true })], rejected('wrong_type')],
  // Ids.
  [
    'id with letters',
    (k, i) => [baseRow(k, i, { id: `98A${String(i).padStart(5, '0')}` })],
    rejected('non_numeric_id'),
  ],
  ['negative id', (k, i) => [baseRow(k, i, { id: `-${idOf(i)}` })], rejected('non_numeric_id')],
  [
    'id in full-width digits',
    (k, i) => [baseRow(k, i, { id: '９８０００１' })],
    rejected('non_numeric_id'),
  ],
  [
    'id of 16 digits',
    (k, i) => [baseRow(k, i, { id: `98${String(i).padStart(14, '0')}` })],
    rejected('text_too_long'),
  ],
  [
    'ids equal but for leading zeros',
    (k, i) => [
      baseRow(k, i, { id: `00${idOf(i)}`, description: 'older, zero-padded id' }),
      baseRow(k, i, { description: 'newer', last_updated: '2025-07-02T10:00:00.000' }),
    ],
    loaded('once, the newer', equals('description', 'newer')),
  ],
  // Timestamps.
  [
    'impossible date',
    (k, i) => [baseRow(k, i, { date_time: '2025-02-30T10:00:00.000' })],
    rejected('bad_timestamp'),
  ],
  [
    'words for a date',
    (k, i) => [baseRow(k, i, { date_time: 'yesterday' })],
    rejected('bad_timestamp'),
  ],
  [
    'timestamp with a zone',
    (k, i) => [baseRow(k, i, { date_time: '2025-06-15T14:30:00Z' })],
    rejected('bad_timestamp'),
  ],
  [
    'timestamp with a space',
    (k, i) => [baseRow(k, i, { date_time: '2025-06-15 14:30:00' })],
    rejected('bad_timestamp'),
  ],
  [
    'hour 24',
    (k, i) => [baseRow(k, i, { date_time: '2025-06-15T24:00:00.000' })],
    rejected('bad_timestamp'),
  ],
  [
    '29 February of a common year',
    (k, i) => [baseRow(k, i, { date_time: '2025-02-29T12:00:00.000' })],
    rejected('bad_timestamp'),
  ],
  [
    'invalid last_updated',
    (k, i) => [baseRow(k, i, { last_updated: 'not a date' })],
    rejected('bad_timestamp'),
  ],
  [
    'year 0000',
    (k, i) => [baseRow(k, i, { date_time: '0000-06-15T14:30:00.000' })],
    rejected('bad_timestamp'),
  ],
  [
    'year 1850 (local mean time)',
    (k, i) => [baseRow(k, i, { date_time: '1850-06-15T14:30:00.000' })],
    rejected('bad_timestamp'),
  ],
  [
    'DST gap (nonexistent local time)',
    (k, i) => [baseRow(k, i, { date_time: '2025-03-09T02:30:00.000' })],
    loaded('flagged', equals('local_time_kind', 'nonexistent')),
  ],
  [
    'DST overlap (ambiguous local time)',
    (k, i) => [baseRow(k, i, { date_time: '2025-11-02T01:30:00.000' })],
    loaded('flagged', equals('local_time_kind', 'ambiguous')),
  ],
  [
    '29 February of a leap year',
    (k, i) => [baseRow(k, i, { date_time: '2024-02-29T12:00:00.000' })],
    loaded('as is'),
  ],
  [
    'fractional seconds',
    (k, i) => [baseRow(k, i, { date_time: '2025-06-15T14:30:00.5' })],
    loaded('as is'),
  ],
  [
    'no fraction',
    (k, i) => [
      baseRow(k, i, { date_time: '2025-06-15T14:30:00', last_updated: '2025-07-01T10:00:00' }),
    ],
    loaded('as is'),
  ],
  // Sizes.
  [
    'description of 10,000 characters',
    (k, i) => [baseRow(k, i, { description: 'd'.repeat(10_000) })],
    loaded('whole'),
  ],
  [
    'description of 10,001 characters',
    (k, i) => [baseRow(k, i, { description: 'd'.repeat(10_001) })],
    rejected('text_too_long'),
  ],
  [
    'location padded to 670',
    (k, i) => [baseRow(k, i, { location: 'CENTRAL SQ'.padEnd(670, ' ') })],
    loaded('trimmed', equals('location', 'CENTRAL SQ')),
  ],
  [
    'location of 1,001 characters',
    (k, i) => [baseRow(k, i, { location: 'L'.repeat(1_001) })],
    rejected('text_too_long'),
  ],
  [
    'type of 101 characters',
    (k, i) => [baseRow(k, i, { type: 'T'.repeat(101) })],
    rejected('text_too_long'),
  ],
  // NUL and odd Unicode.
  [
    'NUL in description',
    (k, i) => [baseRow(k, i, { description: 'before\u0000after' })],
    rejected('nul_byte'),
  ],
  ['NUL in id', (k, i) => [baseRow(k, i, { id: `98\u0000${i}` })], rejected('nul_byte')],
  // PostgreSQL text holds no lone surrogate: like any UTF-8 store, it gets U+FFFD instead.
  [
    'lone high surrogate (escaped in JSON)',
    (k, i) => [baseRow(k, i, { description: 'bad \ud800 surrogate' })],
    loaded('as U+FFFD', equals('description', 'bad \ufffd surrogate')),
  ],
  [
    'lone low surrogate (escaped in JSON)',
    (k, i) => [baseRow(k, i, { location: 'MAIN ST \udc00' })],
    loaded('as U+FFFD', equals('location', 'MAIN ST \ufffd')),
  ],
  // Rows staged whole (a null, a NUL, a value that is not text) keep the escape further on.
  [
    'lone surrogate beside a null',
    (k, i) => [baseRow(k, i, { subtype: null, description: 'lone \ud800 here' })],
    loaded('as U+FFFD', equals('description', 'lone \ufffd here')),
  ],
  [
    'NUL in an extra field beside a null',
    (k, i) => [baseRow(k, i, { subtype: null, notes: 'a\u0000b' })],
    loaded('ignoring it', equals('subtype', null)),
  ],
  [
    'lone surrogate beside a NUL',
    (k, i) => [baseRow(k, i, { description: 'nul \u0000 here', location: 'lone \ud800 there' })],
    rejected('nul_byte'),
  ],
  [
    'lone surrogate beside a number',
    (k, i) => [baseRow(k, i, { id: Number(idOf(i)), description: 'lone \udc00' })],
    rejected('wrong_type'),
  ],
  [
    'right-to-left marks',
    (k, i) => [baseRow(k, i, { location: '\u200f100 MAIN ST \u202eTSAE' })],
    loaded('kept', equals('location', '\u200f100 MAIN ST \u202eTSAE')),
  ],
  [
    'emoji and ZWJ sequences',
    (k, i) => [baseRow(k, i, { description: 'Officers 👮🏽‍♀️ arrived 🚓🚨.' })],
    loaded('kept', equals('description', 'Officers 👮🏽‍♀️ arrived 🚓🚨.')),
  ],
  [
    'combining accents (NFD)',
    (k, i) => [baseRow(k, i, { description: 'Cafe\u0301 on Mass Ave' })],
    loaded('unchanged', equals('description', 'Cafe\u0301 on Mass Ave')),
  ],
  [
    'byte-order mark and zero-width space',
    (k, i) => [baseRow(k, i, { type: '\ufeffincident\u200b' })],
    loaded('BOM trimmed', equals('type', 'INCIDENT\u200b')),
  ],
  [
    'CRLF, tabs and blank lines',
    (k, i) => [baseRow(k, i, { description: 'line one\r\n\tline  two\r\n\r\n\r\n\r\nline three' })],
    loaded('tidied', equals('description', 'line one\nline two\n\nline three')),
  ],
  [
    "COPY's special characters",
    (k, i) => [baseRow(k, i, { description: 'back\\slash \\N \\. end\\' })],
    loaded('exact', equals('description', 'back\\slash \\N \\. end\\')),
  ],
  [
    'quotes, markup and SQL',
    (k, i) => [baseRow(k, i, { description: `"quoted" '; drop table incidents; -- </script>` })],
    loaded('exact', equals('description', `"quoted" '; drop table incidents; -- </script>`)),
  ],
  [
    'lower-case type',
    (k, i) => [baseRow(k, i, { type: 'arrest' })],
    loaded('upper-cased', equals('type', 'ARREST')),
  ],
  // Duplicate ids with conflicting content.
  [
    'duplicate id, later stamp last',
    (k, i) => [
      baseRow(k, i, { description: 'first version' }),
      baseRow(k, i, { description: 'second version', last_updated: '2025-07-03T10:00:00.000' }),
    ],
    loaded('the later', equals('description', 'second version')),
  ],
  [
    'duplicate id, later stamp first',
    (k, i) => [
      baseRow(k, i, { description: 'second version', last_updated: '2025-07-03T10:00:00.000' }),
      baseRow(k, i, { description: 'first version' }),
    ],
    loaded('the later', equals('description', 'second version')),
  ],
  [
    'duplicate id, equal stamps, conflicting content',
    (k, i) => [
      baseRow(k, i, { description: 'one story' }),
      baseRow(k, i, { description: 'another story' }),
    ],
    loaded('the one later in the source order'),
  ],
  [
    'duplicate id, newer version invalid',
    (k, i) => [
      baseRow(k, i, { description: 'valid older' }),
      baseRow(k, i, {
        date_time: '2025-13-01T00:00:00.000',
        last_updated: '2025-07-03T10:00:00.000',
      }),
    ],
    {
      ...loaded('the valid older', equals('description', 'valid older')),
      ...rejected('bad_timestamp'),
    },
  ],
  ['exact duplicate rows', (k, i) => [baseRow(k, i), baseRow(k, i)], loaded('once')],
  [
    'duplicate id in another month',
    (k, i) => [
      baseRow(k, i, {
        date_time: '2025-01-20T09:00:00.000',
        description: 'moved, newer',
        last_updated: '2025-07-05T10:00:00.000',
      }),
      baseRow(k, i, { date_time: '2025-06-20T09:00:00.000', description: 'original, older' }),
    ],
    loaded('the newer', equals('description', 'moved, newer')),
  ],
];

export function buildBadRowCorpus(): BadRowKind[] {
  return specs.map(([name, rows, expect], index) => ({
    name,
    rows: rows(name, index + 1),
    expect,
  }));
}

/** The id a loaded kind's incident has: the canonical number of its (last) row's id. */
export function loadedIdOf(kind: BadRowKind): string {
  const id = kind.rows.at(-1)?.id;
  if (typeof id !== 'string') throw new Error(`kind ${kind.name} has no id to load`);
  return BigInt(id).toString();
}
