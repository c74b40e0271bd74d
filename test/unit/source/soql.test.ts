import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { policeLog } from '../../../src/source/datasets/police-log.js';
import {
  buildPageSearch,
  buildQuery,
  formatCondition,
  formatLiteral,
  formatOrder,
  formatSelect,
  listAllowedFields,
  type SoqlCondition,
} from '../../../src/source/soql.js';
import { parseWhere } from '../../support/fake-soda/soql-parser.js';

const allowed = listAllowedFields(policeLog);

describe('formatLiteral', () => {
  it('single-quotes strings and doubles the quotes inside', () => {
    expect(formatLiteral('MASSACHUSETTS AVE')).toBe("'MASSACHUSETTS AVE'");
    expect(formatLiteral("O'BRIEN HWY")).toBe("'O''BRIEN HWY'");
    expect(formatLiteral("''")).toBe("''''''");
    expect(formatLiteral('')).toBe("''");
  });

  it('writes numbers and booleans bare, and refuses numbers SoQL cannot spell', () => {
    expect(formatLiteral(42)).toBe('42');
    expect(formatLiteral(-1.5)).toBe('-1.5');
    expect(formatLiteral(true)).toBe('true');
    expect(formatLiteral(false)).toBe('false');
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, 1e21, 1e-7]) {
      expect(() => formatLiteral(bad)).toThrow(/cannot be written as a SoQL literal/);
    }
  });
});

describe('formatCondition', () => {
  it('writes every kind of condition', () => {
    const cases: [SoqlCondition, string][] = [
      [{ kind: 'compare', field: 'type', operator: '=', value: 'ARREST' }, "type = 'ARREST'"],
      [{ kind: 'compare', field: ':id', operator: '>', value: 'row-a' }, ":id > 'row-a'"],
      [
        { kind: 'between', field: 'date_time', low: '2025-01-01', high: '2025-02-01' },
        "date_time BETWEEN '2025-01-01' AND '2025-02-01'",
      ],
      [{ kind: 'is-null', field: 'subtype' }, 'subtype IS NULL'],
      [{ kind: 'is-null', field: 'description', negated: true }, 'description IS NOT NULL'],
      [
        { kind: 'not', condition: { kind: 'compare', field: 'type', operator: '=', value: 'SP' } },
        "NOT (type = 'SP')",
      ],
    ];
    for (const [condition, text] of cases) expect(formatCondition(condition, allowed)).toBe(text);
  });

  it('parenthesises nested AND and OR so precedence is explicit', () => {
    const condition: SoqlCondition = {
      kind: 'and',
      conditions: [
        { kind: 'compare', field: 'date_time', operator: '>=', value: '2025-01-01T00:00:00.000' },
        {
          kind: 'or',
          conditions: [
            { kind: 'compare', field: 'type', operator: '=', value: 'ARREST' },
            { kind: 'is-null', field: 'subtype' },
          ],
        },
      ],
    };
    expect(formatCondition(condition, allowed)).toBe(
      "date_time >= '2025-01-01T00:00:00.000' AND (type = 'ARREST' OR subtype IS NULL)",
    );
  });

  it('refuses a field that is not in the allow-list, and an empty AND', () => {
    expect(() => formatCondition({ kind: 'is-null', field: 'secret' }, allowed)).toThrow(
      /"secret" is not a field/,
    );
    // A name that would need quoting is refused even if someone put it in the list.
    const withBadName = new Set([...allowed, 'type) OR (1']);
    expect(() => formatCondition({ kind: 'is-null', field: 'type) OR (1' }, withBadName)).toThrow(
      /not a field/,
    );
    expect(() => formatCondition({ kind: 'and', conditions: [] }, allowed)).toThrow(/empty AND/);
  });
});

describe('formatOrder and formatSelect', () => {
  it('writes keys with DESC where asked, and needs at least one key', () => {
    expect(formatOrder(['last_updated', ':id'], allowed)).toBe('last_updated, :id');
    expect(formatOrder([{ field: 'date_time', descending: true }, { field: ':id' }], allowed)).toBe(
      'date_time DESC, :id',
    );
    expect(() => formatOrder([], allowed)).toThrow(/explicit \$order/);
    expect(() => formatOrder(['nope'], allowed)).toThrow(/not a field/);
  });

  it('allows the wildcards and listed fields only', () => {
    expect(formatSelect([':*', '*'], allowed)).toBe(':*, *');
    expect(formatSelect(['id', ':id'], allowed)).toBe('id, :id');
    expect(() => formatSelect(['count(*)'], allowed)).toThrow(/not a field/);
  });
});

describe('buildQuery and buildPageSearch', () => {
  it('builds a query from a definition and encodes a page of it', () => {
    const query = buildQuery(policeLog, {
      select: [':*', '*'],
      where: { kind: 'compare', field: 'location', operator: '=', value: "A & B's" },
      order: [':id'],
    });
    expect(query).toEqual({ select: ':*, *', where: "location = 'A & B''s'", order: ':id' });
    const search = buildPageSearch(query, { limit: 500, offset: 1000 });
    expect(search).toBe(
      "$select=%3A*%2C%20*&$where=location%20%3D%20'A%20%26%20B''s'&$order=%3Aid&$limit=500&$offset=1000",
    );
    const params = new URLSearchParams(search);
    expect(params.get('$where')).toBe(query.where);
    expect(params.get('$select')).toBe(':*, *');
  });

  it('refuses a page that is not a whole positive limit and offset', () => {
    expect(() => buildPageSearch({ order: ':id' }, { limit: 0, offset: 0 })).toThrow(/bad page/);
    expect(() => buildPageSearch({ order: ':id' }, { limit: 10, offset: -1 })).toThrow(/bad page/);
  });
});

describe('no string can break out of a literal', () => {
  it("parses back, with the fake server's SoQL parser, as one comparison with exactly that string", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary' }),
          fc.string({
            unit: fc.constantFrom(
              "'",
              '"',
              '\\',
              ')',
              '(',
              ' OR ',
              ' AND ',
              '--',
              ';',
              '`',
              '\n',
              'x',
            ),
          }),
        ),
        fc.constantFrom('=', '!=', '<', '<=', '>', '>=' as const),
        (value, operator) => {
          const where = formatCondition(
            { kind: 'compare', field: 'location', operator, value },
            allowed,
          );
          expect(parseWhere(where)).toEqual({
            type: 'compare',
            operator,
            left: { type: 'column', name: 'location' },
            right: { type: 'literal', value },
          });
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('also survives the trip through the URL', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (value) => {
        const query = buildQuery(policeLog, {
          where: { kind: 'compare', field: 'description', operator: '=', value },
          order: [':id'],
        });
        const where = new URLSearchParams(buildPageSearch(query, { limit: 1, offset: 0 })).get(
          '$where',
        )!;
        expect(parseWhere(where)).toMatchObject({
          type: 'compare',
          right: { type: 'literal', value },
        });
      }),
      { numRuns: 1_000 },
    );
  });
});
