import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refreshAnalytics } from '../../src/db/refresh-analytics.js';
import { metabaseSpec } from '../../src/metabase/spec.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { substituteDateFilter, type DateRange } from '../support/fake-metabase/field-filter.js';
import { generateCrimeReports, insertCrimeReports } from '../support/crime-report-fixtures.js';
import { buildIncident, insertIncidents } from '../support/incident-fixtures.js';

/**
 * Every Metabase card's SQL, run on the real PostgreSQL with the analytics views, with the date
 * filter unset and set, replaced as Metabase replaces a field filter.
 */

const march: DateRange = { from: '2024-03-01', to: '2024-04-01' };

// A spread over three months, with both DST changes of 2024 in it: 02:30 on 10 March does not
// exist in New York, 01:30 on 3 November happens twice.
const fixture = [
  { local: '2024-01-20T09:15', type: 'INCIDENT', location: 'MASSACHUSETTS AVE' },
  { local: '2024-02-02T23:50', type: 'ARREST', location: 'MAIN ST & VASSAR ST' },
  { local: '2024-02-28T14:00', type: 'INCIDENT', location: 'MASSACHUSETTS AVE' },
  { local: '2024-03-01T00:05', type: 'TRAFFIC', location: 'CAMBRIDGE ST' },
  { local: '2024-03-10T02:30', type: 'INCIDENT', location: 'MASSACHUSETTS AVE' },
  { local: '2024-03-10T03:10', type: 'INCIDENT', location: 'BROADWAY' },
  { local: '2024-03-31T23:59', type: 'ARREST', location: 'CAMBRIDGE ST' },
  { local: '2024-04-01T00:00', type: 'INCIDENT', location: 'BROADWAY' },
  { local: '2024-04-15T16:40', type: 'INCIDENT', location: 'MASSACHUSETTS AVE' },
  { local: '2024-11-03T01:30', type: 'INCIDENT', location: 'HAMPSHIRE ST', occurrence: 'earlier' },
  { local: '2024-11-03T01:30', type: 'TRAFFIC', location: 'HAMPSHIRE ST', occurrence: 'later' },
  { local: '2024-11-20T08:00', type: 'INCIDENT', location: 'MASSACHUSETTS AVE' },
] as const;

describe('Metabase cards on the real PostgreSQL', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase();
    await insertIncidents(
      database.pool,
      fixture.map((row, index) => buildIncident({ id: 1_000 + index, ...row })),
    );
    await database.pool.query(
      `insert into pipeline_runs (dataset, mode, trigger, state, dedupe_key, started_at, ended_at)
       values ('3gki-wyrb', 'incremental', 'cli', 'completed', 'test', now() - interval '5 seconds', now())`,
    );
    await refreshAnalytics(database.pool);
    // Crime Reports for their dashboard's cards, over the same March.
    await insertCrimeReports(
      database.pool,
      generateCrimeReports({ seed: 4, rows: 600, from: '2024-01-01', to: '2024-06-01' }),
    );
  });
  afterAll(async () => {
    await database?.drop();
  });

  async function run(key: string, range?: DateRange): Promise<Record<string, unknown>[]> {
    const card = metabaseSpec.cards.find((candidate) => candidate.key === key);
    if (!card) throw new Error(`no card ${key}`);
    return (await database.pool.query<Record<string, unknown>>(substituteDateFilter(card, range)))
      .rows;
  }

  async function countIncidents(range?: DateRange): Promise<number> {
    const { rows } = await database.pool.query<{ n: number }>(
      `select count(*)::int as n from incidents
        where $1::date is null or (local_date >= $1::date and local_date < $2::date)`,
      [range?.from ?? null, range?.to ?? null],
    );
    return rows[0]!.n;
  }

  it.each(metabaseSpec.cards.map((card) => [card.key, card] as const))(
    '%s runs and returns rows, filter unset and set',
    async (key, card) => {
      expect(substituteDateFilter(card)).not.toContain('{{');
      const unfiltered = await run(key);
      expect(unfiltered.length).toBeGreaterThan(0);
      if (card.dateFilter) {
        const filtered = await run(key, march);
        expect(filtered.length).toBeGreaterThan(0);
        expect(substituteDateFilter(card, march)).toContain(
          `"${card.dateFilter.table}"."${card.dateFilter.column}"`,
        );
      }
    },
  );

  it('counts by type and by hour add up to the incidents in the range', async () => {
    for (const range of [undefined, march]) {
      const total = await countIncidents(range);
      const byType = await run('history-by-type', range);
      expect(byType.reduce((sum, row) => sum + Number(row.Incidents), 0)).toBe(total);
      const byHour = await run('history-by-hour', range);
      expect(byHour).toHaveLength(24);
      expect(byHour.reduce((sum, row) => sum + Number(row.Incidents), 0)).toBe(total);
    }
    expect(await run('history-by-type', march)).toEqual([
      { Type: 'ARREST', Incidents: 1 },
      { Type: 'INCIDENT', Incidents: 2 },
      { Type: 'TRAFFIC', Incidents: 1 },
    ]);
  });

  it('places DST incidents at the wall-clock hour and weekday the source gave', async () => {
    const grid = await run('hour-weekday-grid', march);
    expect(grid).toHaveLength(24);
    const cell = (hour: number, day: string) =>
      Number(grid.find((row) => row.Hour === hour)?.[day]);
    // 10 March 2024 is a Sunday: 02:30 (nonexistent) and 03:10 each count once, at their own hours.
    expect(cell(2, 'Sun')).toBe(1);
    expect(cell(3, 'Sun')).toBe(1);
    // 1 March 2024 (Friday) 00:05 and 31 March (Sunday) 23:59.
    expect(cell(0, 'Fri')).toBe(1);
    expect(cell(23, 'Sun')).toBe(1);
    const sum = grid.reduce(
      (total, row) =>
        total +
        ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'].reduce((s, d) => s + Number(row[d]), 0),
      0,
    );
    expect(sum).toBe(await countIncidents(march));

    // 3 November 2024 01:30 happened twice: two incidents in the 01:00 hour of that Sunday.
    const november = await run('hour-weekday-grid', { from: '2024-11-03', to: '2024-11-04' });
    expect(Number(november.find((row) => row.Hour === 1)?.Sun)).toBe(2);
  });

  it('limits the month and daily series to the range', async () => {
    const months = await run('history-by-month', march);
    // pg reads a date as local midnight, so its local parts are the date.
    const monthOf = (value: unknown) =>
      `${(value as Date).getFullYear()}-${String((value as Date).getMonth() + 1).padStart(2, '0')}`;
    expect(months.map((row) => monthOf(row.Month))).toEqual(['2024-03']);
    expect(months[0]!.Incidents).toBe(4);

    const days = await run('daily-rolling-averages', march);
    expect(days).toHaveLength(31);
    expect(days.reduce((sum, row) => sum + Number(row.Incidents), 0)).toBe(4);
    const all = await run('daily-rolling-averages');
    expect(all.length).toBeGreaterThan(days.length);
  });

  it('counts the past 30 days back from the latest incident', async () => {
    const byDay = await run('past-30-days-by-day');
    expect(byDay).toHaveLength(30);
    // The anchor is 2024-11-20: the 30 days from 22 October hold the three November incidents.
    expect(byDay.reduce((sum, row) => sum + Number(row.Incidents), 0)).toBe(3);
    const byType = await run('past-30-days-by-type');
    expect(byType).toEqual([
      { Type: 'INCIDENT', Incidents: 2 },
      { Type: 'TRAFFIC', Incidents: 1 },
    ]);
  });
});

describe('Crime Reports cards on the real PostgreSQL', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase();
    await insertCrimeReports(
      database.pool,
      generateCrimeReports({ seed: 4, rows: 600, from: '2024-01-01', to: '2024-06-01' }),
    );
  });
  afterAll(async () => {
    await database?.drop();
  });

  async function run(key: string, range?: DateRange): Promise<Record<string, unknown>[]> {
    const card = metabaseSpec.cards.find((candidate) => candidate.key === key)!;
    return (await database.pool.query<Record<string, unknown>>(substituteDateFilter(card, range)))
      .rows;
  }

  it('counts only the reports the source still serves, in the date range', async () => {
    const { rows } = await database.pool.query<{ all: number; march: number; deleted: number }>(
      `select count(*) filter (where deleted_at is null)::int as all,
              count(*) filter (where deleted_at is null and reported_date >= '2024-03-01'
                                 and reported_date < '2024-04-01')::int as march,
              count(*) filter (where deleted_at is not null)::int as deleted
         from crime_reports`,
    );
    const counts = rows[0]!;
    expect(counts.deleted).toBeGreaterThan(0);
    const sum = (result: Record<string, unknown>[]) =>
      result.reduce((total, row) => total + Number(row.Reports), 0);
    expect(sum(await run('crime-by-type'))).toBe(counts.all);
    expect(sum(await run('crime-by-type', march))).toBe(counts.march);
    expect(sum(await run('crime-by-month'))).toBe(counts.all);
    expect(await run('crime-by-month', march)).toHaveLength(1);
    expect(sum(await run('crime-area-map', march))).toBeLessThanOrEqual(counts.march);
    const hours = await run('crime-by-hour', march);
    expect(hours).toHaveLength(24);
    expect(await run('crime-by-weekday')).toHaveLength(7);
    expect(await run('crime-report-delays')).toHaveLength(9);
    const [freshness] = await run('crime-freshness');
    expect(freshness).toMatchObject({
      Reports: String(counts.all),
      'No longer served': String(counts.deleted),
    });
  });
});
