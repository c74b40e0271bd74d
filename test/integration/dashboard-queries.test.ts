import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refreshAnalytics } from '../../src/db/refresh-analytics.js';
import { addDays, type Extent } from '../../src/dashboard/filter.js';
import {
  queryDailyCounts,
  queryExtent,
  queryHourCounts,
  queryHourWeekdayGrid,
  queryIncidentTypes,
  queryMonthlyCounts,
  queryTopLocations,
  queryTotal,
  queryTypeCounts,
  type ChartFilter,
} from '../../src/dashboard/queries.js';
import { buildAnalyticsFixture, fixtureAnchorDay } from '../support/analytics-fixture.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { insertIncidents } from '../support/incident-fixtures.js';

// The chart queries read rollups; each answer here is checked against a plain count over
// `incidents`, for filters that cut through months, DST days and the data's own ends.

const firstDay = '2025-03-08';
const extent: Extent = { firstDay, anchorDay: fixtureAnchorDay };

const filters: ChartFilter[] = [
  { from: firstDay, to: fixtureAnchorDay, type: null },
  { from: '2020-01-01', to: '2030-12-31', type: null },
  { from: '2025-03-09', to: '2025-03-09', type: null },
  { from: '2025-03-09', to: '2025-10-07', type: null },
  { from: '2025-09-11', to: '2025-11-02', type: 'TRAFFIC' },
  { from: '2025-10-01', to: '2025-10-31', type: null },
  { from: '2025-10-02', to: '2025-11-04', type: 'INCIDENT' },
  { from: '2025-11-03', to: '2025-11-04', type: null },
  { from: firstDay, to: fixtureAnchorDay, type: 'NO SUCH TYPE' },
];

describe('dashboard queries', () => {
  let database: TestDatabase;

  async function count(sql: string, filter: ChartFilter): Promise<Record<string, number>> {
    const { rows } = await database.pool.query<{ key: string; n: number }>(
      `select ${sql} as key, count(*)::int as n from incidents
        where local_date between $1 and $2 and ($3::text is null or type = $3)
        group by 1`,
      [filter.from, filter.to, filter.type],
    );
    return Object.fromEntries(rows.map((row) => [row.key, row.n]));
  }

  beforeAll(async () => {
    database = await createTestDatabase();
    await insertIncidents(database.pool, buildAnalyticsFixture());
    await refreshAnalytics(database.pool);
  });
  afterAll(async () => {
    await database.drop();
  });

  it('finds the extent and the types', async () => {
    expect(await queryExtent(database.pool)).toEqual(extent);
    expect(await queryIncidentTypes(database.pool)).toEqual([
      'ARREST',
      'ASSIST',
      'INCIDENT',
      'SP',
      'TRAFFIC',
    ]);
  });

  it('has no extent on an empty database', async () => {
    const empty = await createTestDatabase();
    try {
      expect(await queryExtent(empty.pool)).toBeNull();
    } finally {
      await empty.drop();
    }
  });

  it.each(filters)('counts as incidents does: %o', async (filter) => {
    const total = Object.values(await count(`'all'`, filter)).reduce((a, b) => a + b, 0);
    expect(await queryTotal(database.pool, filter)).toBe(total);

    const types = await queryTypeCounts(database.pool, filter);
    expect(Object.fromEntries(types.map((t) => [t.type, t.incidents]))).toEqual(
      await count('type', filter),
    );

    const hours = await queryHourCounts(database.pool, filter, extent);
    expect(hours.map((h) => h.hour)).toEqual([...Array(24).keys()]);
    const byHour = await count('local_hour::text', filter);
    for (const h of hours) expect(h.incidents, `hour ${h.hour}`).toBe(byHour[h.hour] ?? 0);

    const grid = await queryHourWeekdayGrid(database.pool, filter, extent);
    expect(grid).toHaveLength(168);
    const byCell = await count(`local_weekday || ' ' || local_hour`, filter);
    for (const cell of grid) {
      expect(cell.incidents).toBe(byCell[`${cell.weekday} ${cell.hour}`] ?? 0);
    }

    const days = await queryDailyCounts(database.pool, filter);
    const byDay = await count('local_date::text', filter);
    const from = filter.from < firstDay ? firstDay : filter.from;
    const to = filter.to > fixtureAnchorDay ? fixtureAnchorDay : filter.to;
    expect(days[0]?.day).toBe(from);
    expect(days.at(-1)?.day).toBe(to);
    days.forEach((day, index) => {
      expect(day.day).toBe(addDays(from, index));
      expect(day.incidents).toBe(byDay[day.day] ?? 0);
    });

    const months = await queryMonthlyCounts(database.pool, filter);
    const byMonth = await count(`to_char(local_date, 'YYYY-MM-01')`, filter);
    for (const month of months) expect(month.incidents).toBe(byMonth[month.month] ?? 0);
    expect(months.reduce((sum, m) => sum + m.incidents, 0)).toBe(total);

    const locations = await queryTopLocations(database.pool, filter, extent, 100);
    const byLocation = await count('location', filter);
    delete byLocation.null; // incidents without a location are not ranked
    expect(Object.fromEntries(locations.map((l) => [l.location, l.incidents]))).toEqual(byLocation);
  });

  it('reads whole months plus edge days correctly for any range', async () => {
    const day = fc.integer({ min: -20, max: 260 }).map((offset) => addDays(firstDay, offset));
    await fc.assert(
      fc.asyncProperty(
        day,
        day,
        fc.constantFrom(null, 'INCIDENT', 'ASSIST'),
        async (a, b, type) => {
          const filter = { from: a < b ? a : b, to: a < b ? b : a, type };
          const locations = await queryTopLocations(database.pool, filter, extent, 100);
          const byLocation = await count('location', filter);
          delete byLocation.null;
          expect(Object.fromEntries(locations.map((l) => [l.location, l.incidents]))).toEqual(
            byLocation,
          );
          const grid = await queryHourWeekdayGrid(database.pool, filter, extent);
          const byCell = await count(`local_weekday || ' ' || local_hour`, filter);
          const nonZero = grid.filter((cell) => cell.incidents > 0);
          expect(
            Object.fromEntries(
              nonZero.map((cell) => [`${cell.weekday} ${cell.hour}`, cell.incidents]),
            ),
          ).toEqual(byCell);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('orders top locations by count, then name, and honours the limit', async () => {
    const top = await queryTopLocations(
      database.pool,
      { from: firstDay, to: fixtureAnchorDay, type: null },
      extent,
      2,
    );
    expect(top).toEqual([
      { location: 'MAIN ST', incidents: 20 },
      { location: 'MASSACHUSETTS AVE', incidents: 15 },
    ]);
  });
});
