import { describe, expect, it } from 'vitest';
import { policeLog } from '../../../src/source/datasets/police-log.js';
import { SoqlQueryError } from '../../support/fake-soda/soql-evaluator.js';
import {
  parseOrder,
  parseSelect,
  parseWhere,
  SoqlSyntaxError,
} from '../../support/fake-soda/soql-parser.js';
import { RowStore } from '../../support/fake-soda/store.js';
import type { SodaRow } from '../../support/fake-soda/types.js';

const columns = policeLog.fields.map((field) => ({ name: field.name, type: field.type }));

const rows: SodaRow[] = [
  {
    ':id': 'row-c',
    date_time: '2025-03-01T10:00:00.000',
    id: '1',
    type: 'INCIDENT',
    subtype: 'LARCENY C266 S30',
    last_updated: '2025-03-03T15:00:00.000',
  },
  {
    ':id': 'row-a',
    date_time: '2025-03-01T23:59:59.000',
    id: '2',
    type: 'ARREST',
    last_updated: '2025-03-03T15:00:00.000',
  },
  {
    ':id': 'row-d',
    date_time: '2025-03-02T00:00:00.000',
    id: '3',
    type: 'INCIDENT',
    subtype: 'TRESPASS C266 S120',
    last_updated: '2025-03-04T15:10:00.000',
  },
  {
    ':id': 'row-b',
    date_time: '2025-02-28T08:30:00.000',
    id: '4',
    type: 'TRAFFIC',
    subtype: "O'BRIEN CRASH",
    last_updated: '2025-03-02T15:00:00.000',
  },
  {
    ':id': 'row-e',
    date_time: '2025-03-05T12:00:00.000',
    id: '5',
    type: 'INCIDENT',
    last_updated: '2025-03-04T15:10:00.000',
  },
];

function ids(where?: string, order?: string): string[] {
  const store = new RowStore(rows, columns, 'id');
  const selection = store.select({
    ...(where !== undefined && { where }),
    ...(order !== undefined && { order }),
  });
  return [...selection.slots].map((slot) => store.readRow(slot).id!);
}

function refusal(where: string): { kind: string; code?: string } {
  try {
    ids(where);
  } catch (error) {
    if (error instanceof SoqlSyntaxError) return { kind: 'syntax' };
    if (error instanceof SoqlQueryError) return { kind: 'query', code: error.sourceCode };
    throw error;
  }
  return { kind: 'accepted' };
}

describe("the fake server's $where", () => {
  it('compares text and floating timestamps, coercing string literals as Socrata does', () => {
    expect(ids("type = 'ARREST'")).toEqual(['2']);
    expect(ids("type != 'INCIDENT'")).toEqual(['2', '4']);
    // A date literal is midnight: compared as a time, not as text.
    expect(ids("date_time >= '2025-03-01' AND date_time < '2025-03-02'")).toEqual(['1', '2']);
    expect(ids("date_time <= '2025-03-02'")).toEqual(['1', '2', '3', '4']);
    expect(ids("date_time > '2025-03-01T23:59:59'")).toEqual(['3', '5']);
    expect(ids("subtype = 'O''BRIEN CRASH'")).toEqual(['4']);
  });

  it('gives AND precedence over OR, honours parentheses and NOT, case-insensitively', () => {
    expect(ids("type = 'ARREST' OR type = 'TRAFFIC' AND id = '2'")).toEqual(['2']);
    expect(ids("(type = 'ARREST' OR type = 'TRAFFIC') AND id = '4'")).toEqual(['4']);
    expect(ids("not (type = 'INCIDENT') and TRUE")).toEqual(['2', '4']);
    expect(ids("NOT type = 'INCIDENT' OR id = '1'")).toEqual(['1', '2', '4']);
  });

  it('treats an absent field as NULL, with three-valued logic', () => {
    expect(ids('subtype IS NULL')).toEqual(['2', '5']);
    expect(ids('subtype IS NOT NULL')).toEqual(['1', '3', '4']);
    // NULL = 'x' is unknown, and so is NOT of it: rows without a subtype match neither.
    expect(ids("subtype = 'TRESPASS C266 S120'")).toEqual(['3']);
    expect(ids("NOT (subtype = 'TRESPASS C266 S120')")).toEqual(['1', '4']);
    expect(ids("subtype = 'TRESPASS C266 S120' OR subtype IS NULL")).toEqual(['2', '3', '5']);
  });

  it('supports BETWEEN, IN, LIKE and a few functions', () => {
    expect(ids("date_time BETWEEN '2025-03-01' AND '2025-03-02'")).toEqual(['1', '2', '3']);
    expect(ids("date_time NOT BETWEEN '2025-03-01' AND '2025-03-02'")).toEqual(['4', '5']);
    expect(ids("type IN ('ARREST', 'TRAFFIC')")).toEqual(['2', '4']);
    expect(ids("type NOT IN ('INCIDENT')")).toEqual(['2', '4']);
    expect(ids("subtype LIKE '%C266%'")).toEqual(['1', '3']);
    expect(ids("starts_with(subtype, 'TRES')")).toEqual(['3']);
    expect(ids("upper(type) = 'ARREST'")).toEqual(['2']);
  });

  it('filters on system fields', () => {
    expect(ids(":id = 'row-a'")).toEqual(['2']);
    expect(ids(':id IS NOT NULL').length).toBe(5);
  });

  it('refuses what Socrata refuses, with its error codes', () => {
    expect(refusal("nope = 'x'")).toEqual({ kind: 'query', code: 'query.soql.no-such-column' });
    expect(refusal('id = 5')).toEqual({ kind: 'query', code: 'query.soql.type-mismatch' });
    expect(refusal("date_time > 'yesterday'")).toEqual({
      kind: 'query',
      code: 'query.soql.type-mismatch',
    });
    expect(refusal("type = 'ARREST")).toEqual({ kind: 'syntax' });
    expect(refusal("type = 'A' AND")).toEqual({ kind: 'syntax' });
    expect(refusal("type = 'A' extra")).toEqual({ kind: 'syntax' });
    expect(refusal("(type = 'A'")).toEqual({ kind: 'syntax' });
    expect(refusal('type')).toEqual({ kind: 'query', code: 'query.soql.type-mismatch' });
    expect(refusal("frobnicate(type) = 'A'")).toEqual({
      kind: 'query',
      code: 'query.soql.no-such-function',
    });
  });
});

describe("the fake server's $order", () => {
  it('sorts on several keys, ASC and DESC, system fields included', () => {
    expect(ids(undefined, ':id')).toEqual(['2', '4', '1', '3', '5']);
    expect(ids(undefined, ':id DESC')).toEqual(['5', '3', '1', '4', '2']);
    expect(ids(undefined, 'last_updated, :id')).toEqual(['4', '2', '1', '3', '5']);
    expect(ids(undefined, 'last_updated DESC, :id ASC')).toEqual(['3', '5', '2', '1', '4']);
    expect(ids(undefined, 'type, date_time desc')).toEqual(['2', '5', '3', '1', '4']);
  });

  it('puts NULLs last ascending and first descending, unless told', () => {
    expect(ids(undefined, 'subtype, :id')).toEqual(['1', '4', '3', '2', '5']);
    expect(ids(undefined, 'subtype DESC, :id')).toEqual(['2', '5', '3', '4', '1']);
    expect(ids(undefined, 'subtype ASC NULL FIRST, :id')).toEqual(['2', '5', '1', '4', '3']);
  });

  it('parses order terms and select lists', () => {
    expect(parseOrder('a DESC, :id')).toEqual([
      { expr: { type: 'column', name: 'a' }, descending: true, nullsFirst: true },
      { expr: { type: 'column', name: ':id' }, descending: false, nullsFirst: false },
    ]);
    expect(parseSelect(':*, *')).toEqual([{ type: 'system' }, { type: 'all' }]);
    expect(parseSelect('count(*) AS n')).toEqual([
      {
        type: 'expr',
        expr: { type: 'call', name: 'count', args: [{ type: 'column', name: '*' }] },
        alias: 'n',
      },
    ]);
    expect(parseWhere("`date_time` > '2025'")).toMatchObject({
      left: { type: 'column', name: 'date_time' },
    });
  });
});

describe("the fake server's default order", () => {
  it('is a different scramble on every request, so paging without $order loses and repeats rows', () => {
    const many = Array.from({ length: 500 }, (_, i) => ({ id: String(i), type: 'INCIDENT' }));
    const store = new RowStore(many, columns, 'id');
    const { slots } = store.select({});
    const seen = new Set<number>();
    for (let page = 0; page < 5; page += 1) {
      for (const slot of store.scramble(slots, page + 1).subarray(page * 100, page * 100 + 100))
        seen.add(slot);
    }
    expect(seen.size).toBeLessThan(500);
    expect(store.scramble(slots, 1)).toEqual(store.scramble(slots, 1));
    expect([...store.scramble(slots, 1)].sort((a, b) => a - b)).toEqual([...slots]);
  });
});
