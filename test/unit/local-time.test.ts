import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  formatWallTime,
  isFloatingTimestamp,
  resolveFloatingTimestamp,
} from '../../src/pipeline/local-time.js';

const zone = 'America/New_York';

describe('isFloatingTimestamp', () => {
  it.each([
    ['2025-03-06T01:07:00.000', true],
    ['2025-03-06T01:07:00', true],
    ['2025-03-06T01:07:00.5', true],
    ['2024-02-29T00:00:00.000', true],
    ['2025-02-29T00:00:00.000', false],
    ['2025-13-01T00:00:00.000', false],
    ['2025-04-31T00:00:00.000', false],
    ['2025-03-06T24:00:00.000', false],
    ['2025-03-06 01:07:00.000', false],
    ['2025-03-06T01:07:00.000Z', false],
    ['2025-03-06', false],
    ['', false],
  ])('%s → %s', (text, valid) => {
    expect(isFloatingTimestamp(text)).toBe(valid);
  });
});

describe('resolveFloatingTimestamp', () => {
  it('reads standard and daylight time with their offsets', () => {
    expect(resolveFloatingTimestamp('2025-01-15T09:00:00.000', zone)).toEqual({
      instant: '2025-01-15T09:00:00.000-05:00',
      kind: 'regular',
      localDate: '2025-01-15',
      localHour: 9,
      localWeekday: 3,
    });
    expect(resolveFloatingTimestamp('2025-07-04T21:30:00.000', zone).instant).toBe(
      '2025-07-04T21:30:00.000-04:00',
    );
  });

  it('reads a spring-forward gap time with the offset before the jump, flagged nonexistent', () => {
    const gap = resolveFloatingTimestamp('2025-03-09T02:30:00.000', zone);
    expect(gap).toMatchObject({
      kind: 'nonexistent',
      localHour: 2,
      localDate: '2025-03-09',
      localWeekday: 7,
    });
    expect(new Date(gap.instant).toISOString()).toBe('2025-03-09T07:30:00.000Z');
  });

  it('takes the first occurrence of a fall-back time, flagged ambiguous', () => {
    const overlap = resolveFloatingTimestamp('2025-11-02T01:30:00.000', zone);
    expect(overlap.kind).toBe('ambiguous');
    expect(new Date(overlap.instant).toISOString()).toBe('2025-11-02T05:30:00.000Z');
  });

  it('treats the minutes around each transition as regular', () => {
    for (const text of [
      '2025-03-09T01:59:59.000',
      '2025-03-09T03:00:00.000',
      '2025-11-02T00:59:59.000',
      '2025-11-02T02:00:00.000',
    ]) {
      expect(resolveFloatingTimestamp(text, zone).kind).toBe('regular');
    }
  });

  it('round-trips every regular wall time exactly (property, 2000–2040)', () => {
    const wallTimes = fc
      .date({
        min: new Date('2000-01-01T00:00:00Z'),
        max: new Date('2040-12-31T23:59:59Z'),
        noInvalidDate: true,
      })
      .map((date) => new Date(Math.floor(date.getTime() / 1000) * 1000).toISOString().slice(0, 23));
    fc.assert(
      fc.property(wallTimes, (text) => {
        const resolved = resolveFloatingTimestamp(text, zone);
        if (resolved.kind === 'nonexistent') return /T02:/.test(text);
        return formatWallTime(Date.parse(resolved.instant), zone) === text;
      }),
      { numRuns: 5_000 },
    );
  });

  it('gives local parts of the wall time as published', () => {
    expect(resolveFloatingTimestamp('2026-01-04T23:08:00.000', zone)).toMatchObject({
      localDate: '2026-01-04',
      localHour: 23,
      localWeekday: 7,
    });
  });

  it('writes local mean time offsets (before 1883) in whole seconds PostgreSQL reads', () => {
    // Found by the fault suite: `-04:56.0333` failed a whole window.
    expect(resolveFloatingTimestamp('1850-01-01T00:00:00.000', zone).instant).toBe(
      '1850-01-01T00:00:00.000-04:56:02',
    );
  });
});
