import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addDays,
  parseDashboardQuery,
  resolveFilter,
  splitWholeMonths,
  type DayRange,
  type Extent,
} from '../../src/dashboard/filter.js';

describe('parseDashboardQuery', () => {
  it('accepts dates and a type, and treats empty values as absent', () => {
    expect(parseDashboardQuery({ from: '2025-01-01', to: '2025-12-31', type: 'ARREST' })).toEqual({
      ok: true,
      query: { from: '2025-01-01', to: '2025-12-31', type: 'ARREST' },
    });
    expect(parseDashboardQuery({ from: '', to: '', type: '' })).toEqual({ ok: true, query: {} });
  });

  it.each([
    [{ from: '2025-1-1' }, 'from', 'from: expected a date as YYYY-MM-DD'],
    [{ to: '2025-02-29' }, 'to', 'to: expected a date that exists on the calendar'],
    [{ from: '2025-03-02', to: '2025-03-01' }, 'from', 'from: must not be after to'],
    [{ type: ['A', 'B'] }, 'type', 'type: expected one incident type'],
    [
      { type: 'X'.repeat(101) },
      'type',
      'type: expected an incident type of at most 100 characters',
    ],
    [{ days: '30' }, 'days', 'days: unknown parameter; expected from, to or type'],
  ])('rejects %o, naming %s', (raw, parameter, message) => {
    expect(parseDashboardQuery(raw)).toEqual({ ok: false, parameter, message });
  });

  it('accepts a leap day that exists', () => {
    expect(parseDashboardQuery({ from: '2024-02-29' }).ok).toBe(true);
  });
});

describe('resolveFilter', () => {
  const extent: Extent = { firstDay: '2024-01-05', anchorDay: '2026-01-15' };

  it('defaults to the whole history, and counts 30 days back from the anchor day', () => {
    expect(resolveFilter({}, extent)).toEqual({
      type: null,
      range: { from: '2024-01-05', to: '2026-01-15' },
      past30Days: { from: '2025-12-17', to: '2026-01-15' },
      allHistory: { from: '2024-01-05', to: '2026-01-15' },
    });
  });

  it('clips the range to the data, keeping a range that misses it empty', () => {
    expect(resolveFilter({ from: '2000-01-01', to: '2030-01-01' }, extent).range).toEqual({
      from: '2024-01-05',
      to: '2026-01-15',
    });
    const after = resolveFilter({ from: '2027-01-01' }, extent).range;
    expect(after.from > after.to).toBe(true);
  });

  it('starts the past 30 days at the first day when the data is younger', () => {
    const young = { firstDay: '2026-01-10', anchorDay: '2026-01-15' };
    expect(resolveFilter({ type: 'SP' }, young).past30Days).toEqual({
      from: '2026-01-10',
      to: '2026-01-15',
    });
  });
});

describe('splitWholeMonths', () => {
  const extent: Extent = { firstDay: '2024-01-05', anchorDay: '2026-01-15' };

  it.each([
    // Whole history: the first and last months hold no data outside it, so they count as whole.
    [{ from: '2024-01-05', to: '2026-01-15' }, { from: '2024-01-01', to: '2026-01-01' }, []],
    [
      { from: '2024-03-17', to: '2025-09-12' },
      { from: '2024-04-01', to: '2025-08-01' },
      [
        { from: '2024-03-17', to: '2024-03-31' },
        { from: '2025-09-01', to: '2025-09-12' },
      ],
    ],
    [{ from: '2024-03-01', to: '2024-03-31' }, { from: '2024-03-01', to: '2024-03-01' }, []],
    [{ from: '2024-03-02', to: '2024-03-30' }, null, [{ from: '2024-03-02', to: '2024-03-30' }]],
    // Two partial months and none whole: one stretch of days.
    [{ from: '2024-03-02', to: '2024-04-10' }, null, [{ from: '2024-03-02', to: '2024-04-10' }]],
    [{ from: '2027-01-01', to: '2027-02-01' }, null, []],
  ])('splits %o', (range, months, edges) => {
    expect(splitWholeMonths(range, extent)).toEqual({ months, edges });
  });

  it('covers exactly the days of the range that can hold data, each once', () => {
    const dayIn = (from: string, span: number) =>
      fc.integer({ min: 0, max: span }).map((offset) => addDays(from, offset));
    const extentArb = fc
      .tuple(dayIn('2023-11-01', 500), fc.integer({ min: 0, max: 500 }))
      .map(([firstDay, length]) => ({ firstDay, anchorDay: addDays(firstDay, length) }));
    fc.assert(
      fc.property(extentArb, dayIn('2023-09-01', 1200), dayIn('2023-09-01', 1200), (ext, a, b) => {
        const range: DayRange = { from: a < b ? a : b, to: a < b ? b : a };
        const { months, edges } = splitWholeMonths(range, ext);
        const covered: string[] = [];
        if (months) {
          for (
            let month = months.from;
            month <= months.to;
            month = addDays(month, 32).slice(0, 8) + '01'
          ) {
            for (let day = month; day.slice(0, 7) === month.slice(0, 7); day = addDays(day, 1)) {
              if (day >= ext.firstDay && day <= ext.anchorDay) covered.push(day);
            }
          }
        }
        for (const edge of edges) {
          for (let day = edge.from; day <= edge.to; day = addDays(day, 1)) covered.push(day);
        }
        const expected: string[] = [];
        const from = range.from > ext.firstDay ? range.from : ext.firstDay;
        const to = range.to < ext.anchorDay ? range.to : ext.anchorDay;
        for (let day = from; day <= to; day = addDays(day, 1)) expected.push(day);
        expect(covered.sort()).toEqual(expected);
        expect(edges.length).toBeLessThanOrEqual(2);
      }),
      { numRuns: 300 },
    );
  });
});
