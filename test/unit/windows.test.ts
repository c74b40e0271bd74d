import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import {
  assertWindowCount,
  checkWindowCount,
  lookBackFrom,
  normalizeStamp,
  parseDateRange,
  planDateWindows,
} from '../../src/pipeline/windows.js';

const starts = (from: string, to: string, size: 'day' | 'week' | 'month' | 'all') =>
  planDateWindows(from, to, size).map(
    (window) => `${window.start.slice(0, 10)}..${window.end.slice(0, 10)}`,
  );

describe('planDateWindows', () => {
  it('cuts at month starts, with partial ends', () => {
    expect(starts('2025-01-15', '2025-04-10', 'month')).toEqual([
      '2025-01-15..2025-02-01',
      '2025-02-01..2025-03-01',
      '2025-03-01..2025-04-01',
      '2025-04-01..2025-04-10',
    ]);
    expect(planDateWindows('2025-01-01', '2026-01-01', 'month')).toHaveLength(12);
  });

  it('cuts weeks on Mondays and days at midnight', () => {
    expect(starts('2025-01-01', '2025-01-15', 'week')).toEqual([
      '2025-01-01..2025-01-06',
      '2025-01-06..2025-01-13',
      '2025-01-13..2025-01-15',
    ]);
    expect(planDateWindows('2024-02-27', '2024-03-02', 'day')).toHaveLength(4);
  });

  it('makes one window for all, numbered from 0, contiguous', () => {
    expect(planDateWindows('2025-01-01', '2026-01-01', 'all')).toEqual([
      { index: 0, start: '2025-01-01T00:00:00.000', end: '2026-01-01T00:00:00.000' },
    ]);
    const windows = planDateWindows('2023-05-17', '2025-02-03', 'week');
    windows.forEach((window, index) => {
      expect(window.index).toBe(index);
      if (index > 0) expect(window.start).toBe(windows[index - 1]!.end);
    });
  });
});

describe('parseDateRange', () => {
  it('refuses bad dates and reversed ranges with a clear message', () => {
    expect(() => parseDateRange('2025-02-30', '2025-03-01')).toThrow(/--from must be a date like/);
    expect(() => parseDateRange('2025-03-01', '2025-03-01')).toThrow(UserError);
    expect(() => parseDateRange('2025-03-02', '2025-03-01')).toThrow(/must be before --to/);
    expect(parseDateRange('2025-01-01', '2025-02-01')).toEqual({
      from: '2025-01-01',
      to: '2025-02-01',
    });
  });
});

describe('cursor helpers', () => {
  it('look back on the wall clock', () => {
    expect(lookBackFrom('2025-03-11T09:35:52.000', 72)).toBe('2025-03-08T09:35:52.000');
    expect(lookBackFrom(null, 72)).toBeUndefined();
  });

  it('give every stamp one comparable shape', () => {
    expect(normalizeStamp('2025-03-11T09:35:52')).toBe('2025-03-11T09:35:52.000');
    expect(normalizeStamp('2025-03-11T09:35:52.5')).toBe('2025-03-11T09:35:52.500');
  });
});

describe('checkWindowCount', () => {
  it('lets a run have up to the limit of windows', () => {
    expect(checkWindowCount({ from: '2024-12-01', to: '2026-01-05', size: 'day' }, 400)).toBe(
      undefined,
    );
  });

  it('says past it how many, the limit, and which larger windows fit', () => {
    expect(checkWindowCount({ from: '2024-12-01', to: '2026-01-06', size: 'day' }, 400)).toBe(
      '[2024-12-01, 2026-01-06) makes 401 day windows, and one run may have at most 400 (BACKFILL_MAX_WINDOWS): choose a larger window (week or month or all), or split the range into several runs',
    );
    expect(
      checkWindowCount({ from: '2000-01-01', to: '2026-01-01', size: 'week' }, 100, [
        'day',
        'week',
        'month',
      ]),
    ).toMatch(/makes 1,358 week windows, .*: choose a larger window, or split/);
  });

  it('is a UserError naming --window on the command line', () => {
    expect(() =>
      assertWindowCount({ from: '2016-01-01', to: '2026-01-01', size: 'day' }, 400),
    ).toThrow(
      expect.objectContaining({
        code: 'input.too_many_windows',
        message: expect.stringMatching(/^--window day: .* makes 3,653 day windows/) as string,
      }),
    );
  });
});
