import { describe, expect, it } from 'vitest';
import { generatePoliceLog, type SodaRow } from '../support/police-log-generator.js';

function take(generator: Generator<SodaRow>, count: number): SodaRow[] {
  const rows: SodaRow[] = [];
  for (const row of generator) {
    rows.push(row);
    if (rows.length === count) break;
  }
  return rows;
}

const rows = [...generatePoliceLog({ seed: 7, rows: 20_000 })];
const share = (predicate: (row: SodaRow) => boolean) => rows.filter(predicate).length / rows.length;

describe('generatePoliceLog', () => {
  it('is deterministic per seed, and differs between seeds', () => {
    expect([...generatePoliceLog({ seed: 7, rows: 500 })]).toEqual([
      ...generatePoliceLog({ seed: 7, rows: 500 }),
    ]);
    expect([...generatePoliceLog({ seed: 8, rows: 500 })]).not.toEqual([
      ...generatePoliceLog({ seed: 7, rows: 500 }),
    ]);
  });

  it('streams: the first rows of a hundred million come at once', () => {
    const first = take(generatePoliceLog({ seed: 1, rows: 100_000_000 }), 3);
    expect(first).toHaveLength(3);
    expect(first[0]!.date_time! <= first[2]!.date_time!).toBe(true);
  });

  it('makes exactly the rows asked for, inside the range, shaped like SODA rows', () => {
    expect(rows).toHaveLength(20_000);
    expect([...generatePoliceLog({ seed: 1, rows: 0 })]).toEqual([]);
    const keys = ['date_time', 'id', 'type', 'subtype', 'location', 'description', 'last_updated'];
    const misshapen = rows.filter(
      (row) =>
        !/^(2025-\d{2}-\d{2}|2026-01-(0\d|1[0-5]))T\d{2}:\d{2}:00\.000$/.test(row.date_time!) ||
        !/^2[56]\d{6}$/.test(row.id!) ||
        row.id!.slice(0, 2) !== row.date_time!.slice(2, 4) ||
        !(row.last_updated! > row.date_time!) ||
        Object.values(row).some((value) => typeof value !== 'string') ||
        Object.keys(row).join() !== keys.filter((key) => key in row).join() ||
        !['date_time', 'id', 'type', 'location', 'last_updated'].every((key) => key in row),
    );
    expect(misshapen).toEqual([]);
    const custom = [
      ...generatePoliceLog({ seed: 3, rows: 1_000, from: '2024-06-01', to: '2024-07-01' }),
    ];
    expect(
      custom.every((row) => row.date_time! >= '2024-06-01' && row.date_time! < '2024-07-01'),
    ).toBe(true);
    expect(() => [...generatePoliceLog({ seed: 1, rows: 1, from: '2025-02-30' })]).toThrow(
      /from must be a date/,
    );
  });

  it('mixes types like the real log, with statutes in most subtypes', () => {
    expect(share((row) => row.type === 'INCIDENT')).toBeGreaterThan(0.93);
    expect(share((row) => row.type === 'INCIDENT')).toBeLessThan(0.97);
    expect(share((row) => row.type === 'ARREST')).toBeGreaterThan(0.02);
    expect(share((row) => row.type === 'ARREST')).toBeLessThan(0.05);
    expect(share((row) => row.type === 'TRAFFIC')).toBeGreaterThan(0.008);
    expect(new Set(rows.map((row) => row.type))).toEqual(
      new Set(['INCIDENT', 'ARREST', 'TRAFFIC', 'SP', 'ASSIST', 'INVESTIGATIONS']),
    );
    expect(share((row) => / C\d+ S[\w()]+$/.test(row.subtype ?? ''))).toBeGreaterThan(0.6);
    expect(
      share((row) => row.subtype !== undefined && !/ C\d+ S/.test(row.subtype)),
    ).toBeGreaterThan(0.05);
  });

  it('leaves subtypes rarely and descriptions sometimes absent; descriptions run a few hundred characters', () => {
    expect(share((row) => row.subtype === undefined)).toBeLessThan(0.003);
    expect(rows.some((row) => row.subtype === undefined)).toBe(true);
    expect(share((row) => row.description === undefined)).toBeGreaterThan(0.008);
    expect(share((row) => row.description === undefined)).toBeLessThan(0.02);
    const lengths = rows.flatMap((row) => (row.description ? [row.description.length] : []));
    const mean = lengths.reduce((sum, length) => sum + length, 0) / lengths.length;
    expect(mean).toBeGreaterThan(200);
    expect(mean).toBeLessThan(600);
    expect(Math.max(...lengths)).toBeLessThanOrEqual(1500);
    expect(Math.max(...lengths)).toBeGreaterThan(1000);
  });

  it('uses synthetic names only', () => {
    const named = rows.flatMap((row) => [
      ...(row.description ?? '').matchAll(/([A-Z][a-z]+) ([A-Z][a-z]+), \d+, of/g),
    ]);
    expect(named.length).toBeGreaterThan(0);
    for (const [, , last] of named)
      expect(['Doe', 'Roe', 'Poe', 'Coe', 'Loe', 'Moe', 'Noe', 'Voe', 'Yoe', 'Soe']).toContain(
        last,
      );
  });

  it('writes streets, squares and A & B intersections, some padded up to 670 characters', () => {
    const trimmed = rows.map((row) => row.location!.trimEnd());
    expect(
      trimmed.filter((location) => location.includes(' & ')).length / rows.length,
    ).toBeGreaterThan(0.15);
    expect(
      trimmed.filter((location) => / SQ$/.test(location)).length / rows.length,
    ).toBeGreaterThan(0.05);
    expect(trimmed.every((location) => /^[A-Z0-9 &]+[A-Z0-9]$/.test(location))).toBe(true);
    expect(share((row) => row.location!.endsWith(' '))).toBeGreaterThan(0.1);
    expect(share((row) => row.location!.endsWith(' '))).toBeLessThan(0.3);
    expect(rows.some((row) => row.location!.length === 670)).toBe(true);
    expect(Math.max(...rows.map((row) => row.location!.length))).toBe(670);
  });

  it('follows the hour-of-day shape: a trough before dawn, the peak in the afternoon', () => {
    const byHour = Array.from(
      { length: 24 },
      (_, hour) => rows.filter((row) => Number(row.date_time!.slice(11, 13)) === hour).length,
    );
    const peak = byHour.indexOf(Math.max(...byHour));
    expect(peak).toBeGreaterThanOrEqual(14);
    expect(peak).toBeLessThanOrEqual(17);
    for (const night of [3, 4, 5]) expect(byHour[night]! * 5).toBeLessThan(byHour[16]!);
  });

  it('repeats about 0.6% of ids, with other content and a later stamp', () => {
    const byId = new Map<string, SodaRow[]>();
    for (const row of rows) byId.set(row.id!, [...(byId.get(row.id!) ?? []), row]);
    const repeated = [...byId.values()].filter((versions) => versions.length > 1);
    expect(repeated.length / rows.length).toBeGreaterThan(0.003);
    expect(repeated.length / rows.length).toBeLessThan(0.01);
    for (const [first, second] of repeated) {
      expect(second).not.toEqual(first);
      expect(second!.date_time).toBe(first!.date_time);
      expect(second!.last_updated! > first!.last_updated!).toBe(true);
    }
  });

  it('stamps rows in publish batches, mostly 15:00–16:00 a few days later, with late re-stamps', () => {
    const stamps = new Map<string, number>();
    for (const row of rows) stamps.set(row.last_updated!, (stamps.get(row.last_updated!) ?? 0) + 1);
    // Shared: far fewer stamps than rows.
    expect(stamps.size).toBeLessThan(rows.length / 20);
    expect(share((row) => /T15:/.test(row.last_updated!))).toBeGreaterThan(0.7);
    const lagDays = (row: SodaRow) =>
      (Date.parse(`${row.last_updated!.slice(0, 10)}Z`) -
        Date.parse(`${row.date_time!.slice(0, 10)}Z`)) /
      86_400_000;
    expect(share((row) => lagDays(row) >= 1 && lagDays(row) <= 5)).toBeGreaterThan(0.9);
    expect(share((row) => lagDays(row) >= 14)).toBeGreaterThan(0.01);
    expect(share((row) => lagDays(row) >= 14)).toBeLessThan(0.06);
  });

  it('has rows at the DST edges: a time that does not exist and one that happens twice', () => {
    const times = new Set(rows.map((row) => row.date_time));
    expect(times.has('2025-03-09T02:30:00.000')).toBe(true);
    expect(times.has('2025-11-02T01:30:00.000')).toBe(true);
    // The spring gap holds only the planted row.
    expect(rows.filter((row) => row.date_time!.startsWith('2025-03-09T02:'))).toHaveLength(1);
    const small = [...generatePoliceLog({ seed: 99, rows: 50 })].map((row) => row.date_time);
    expect(small).toContain('2025-03-09T02:30:00.000');
    expect(small).toContain('2025-11-02T01:30:00.000');
  });
});
