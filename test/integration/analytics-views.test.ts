import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refreshAnalytics } from '../../src/db/refresh-analytics.js';
import { buildAnalyticsFixture, fixtureAnchorDay } from '../support/analytics-fixture.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { buildIncident, insertIncidents } from '../support/incident-fixtures.js';

// Every expected value here was worked out by hand from test/support/analytics-fixture.ts:
// 56 incidents, INCIDENT 9, SP 3, TRAFFIC 11, ARREST 13, ASSIST 20, from 2025-03-08 to 2025-11-05.

type Row = Record<string, unknown>;

async function select(database: TestDatabase, sql: string): Promise<Row[]> {
  return (await database.pool.query<Row>(sql)).rows;
}

describe('analytics views over a hand-computed fixture', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase();
    await insertIncidents(database.pool, buildAnalyticsFixture());
    await refreshAnalytics(database.pool);
  });
  afterAll(async () => {
    await database.drop();
  });

  it('puts DST-day incidents on the local day and hour the source gave them', async () => {
    const rows = await select(
      database,
      `select day::text, hour, weekday, type, incidents from analytics.incident_rollup
        where day between '2025-03-08' and '2025-03-09' or day between '2025-11-02' and '2025-11-03'
        order by day, hour`,
    );
    expect(rows).toEqual([
      { day: '2025-03-08', hour: 21, weekday: 6, type: 'INCIDENT', incidents: 1 },
      { day: '2025-03-09', hour: 2, weekday: 7, type: 'INCIDENT', incidents: 1 },
      { day: '2025-11-02', hour: 1, weekday: 7, type: 'INCIDENT', incidents: 2 },
      { day: '2025-11-02', hour: 23, weekday: 7, type: 'INCIDENT', incidents: 1 },
    ]);
    // Not a coincidence of the session's time zone: in UTC three of them are on the next day.
    const utcDays = await select(
      database,
      `select (occurred_at at time zone 'UTC')::date::text as day, count(*)::int as n from incidents
        where local_date in ('2025-03-08', '2025-11-02') and local_hour in (21, 23)
        group by 1 order by 1`,
    );
    expect(utcDays).toEqual([
      { day: '2025-03-09', n: 1 },
      { day: '2025-11-03', n: 1 },
    ]);
  });

  it('daily_counts: every day from the first to the anchor, zero days included', async () => {
    const rows = await select(
      database,
      `select day::text, incidents, avg_7d::text, avg_28d::text from analytics.daily_counts order by day`,
    );
    expect(rows).toHaveLength(243); // 24 days of March, 30+31+30+31+31+30+31 for Apr–Oct, 5 of Nov
    expect(rows[0]).toMatchObject({ day: '2025-03-08', incidents: 1 });
    expect(rows.at(-1)).toMatchObject({ day: fixtureAnchorDay, incidents: 1 });
    expect(rows.reduce((total, row) => total + Number(row.incidents), 0)).toBe(56);
    const byDay = new Map(rows.map((row) => [row.day, row]));
    expect(byDay.get('2025-03-09')?.incidents).toBe(1);
    expect(byDay.get('2025-11-02')?.incidents).toBe(3);
    expect(byDay.get('2025-11-03')?.incidents).toBe(0);
    expect(byDay.get('2025-06-15')?.incidents).toBe(0);
  });

  it('daily_counts: trailing 7- and 28-day averages, null until a full window exists', async () => {
    const averages = await select(
      database,
      `select day::text, avg_7d::text, avg_28d::text from analytics.daily_counts
        where day in ('2025-03-13', '2025-03-14', '2025-03-15', '2025-03-21', '2025-04-03',
                      '2025-04-04', '2025-04-05', '2025-11-05')
        order by day`,
    );
    expect(averages).toEqual([
      { day: '2025-03-13', avg_7d: null, avg_28d: null },
      { day: '2025-03-14', avg_7d: '1.00', avg_28d: null }, // (1+1+2+0+0+0+3) / 7
      { day: '2025-03-15', avg_7d: '0.86', avg_28d: null }, // 6 / 7
      { day: '2025-03-21', avg_7d: '0.00', avg_28d: null },
      { day: '2025-04-03', avg_7d: '0.00', avg_28d: null },
      { day: '2025-04-04', avg_7d: '0.00', avg_28d: '0.25' }, // 7 / 28
      { day: '2025-04-05', avg_7d: '0.00', avg_28d: '0.21' }, // 6 / 28
      // 7 days: 16 (10-31) + 3 (11-02) + 1 = 20 → 2.857; 28 days: 1 + 10 + 16 + 3 + 1 = 31 → 1.107
      { day: '2025-11-05', avg_7d: '2.86', avg_28d: '1.11' },
    ]);
  });

  it('daily_series over a sub-range has the same averages as the full series', async () => {
    const rows = await select(
      database,
      `select s.day::text, s.incidents, s.avg_7d::text, s.avg_28d::text
         from analytics.daily_series('2025-10-30', '2025-11-02', 'ASSIST') s`,
    );
    // ASSIST only: 16 on 10-31 and 4 on 09-15 (which the 28-day window of 10-30 … 11-02 misses).
    expect(rows).toEqual([
      { day: '2025-10-30', incidents: 0, avg_7d: '0.00', avg_28d: '0.00' },
      { day: '2025-10-31', incidents: 16, avg_7d: '2.29', avg_28d: '0.57' },
      { day: '2025-11-01', incidents: 0, avg_7d: '2.29', avg_28d: '0.57' },
      { day: '2025-11-02', incidents: 0, avg_7d: '2.29', avg_28d: '0.57' },
    ]);
  });

  it('monthly_counts: every month from the first to the last, empty ones included', async () => {
    const rows = await select(
      database,
      `select month::text, incidents from analytics.monthly_counts order by month`,
    );
    expect(rows).toEqual([
      { month: '2025-03-01', incidents: 7 },
      { month: '2025-04-01', incidents: 0 },
      { month: '2025-05-01', incidents: 0 },
      { month: '2025-06-01', incidents: 0 },
      { month: '2025-07-01', incidents: 0 },
      { month: '2025-08-01', incidents: 0 },
      { month: '2025-09-01', incidents: 6 },
      { month: '2025-10-01', incidents: 39 },
      { month: '2025-11-01', incidents: 4 },
    ]);
  });

  it('type_counts: by type, offence and statute, with the last 30 days', async () => {
    const rows = await select(
      database,
      `select type, offense, statute, incidents, last_30_days from analytics.type_counts
        order by type, offense nulls last`,
    );
    expect(rows).toEqual([
      { type: 'ARREST', offense: 'WARRANT ARREST', statute: null, incidents: 13, last_30_days: 10 },
      {
        type: 'ASSIST',
        offense: 'ASSIST OTHER AGENCY',
        statute: null,
        incidents: 20,
        last_30_days: 16,
      },
      {
        type: 'INCIDENT',
        offense: 'LARCENY UNDER $1200',
        statute: 'C266 S30(1)',
        incidents: 8,
        last_30_days: 4,
      },
      { type: 'INCIDENT', offense: null, statute: null, incidents: 1, last_30_days: 0 },
      { type: 'SP', offense: 'SPECIAL PATROL', statute: null, incidents: 3, last_30_days: 0 },
      {
        type: 'TRAFFIC',
        offense: 'MOTOR VEHICLE CRASH',
        statute: null,
        incidents: 11,
        last_30_days: 9,
      },
    ]);
  });

  it('hour_counts: all 24 hours, DST incidents in their wall-clock hour', async () => {
    const rows = await select(
      database,
      `select hour, incidents, last_30_days from analytics.hour_counts order by hour`,
    );
    expect(rows).toHaveLength(24);
    const expected = new Map([
      [1, [2, 2]],
      [2, [1, 0]],
      [12, [51, 36]],
      [21, [1, 0]],
      [23, [1, 1]],
    ]);
    for (const row of rows) {
      const [incidents, last30] = expected.get(Number(row.hour)) ?? [0, 0];
      expect(row, `hour ${String(row.hour)}`).toEqual({
        hour: row.hour,
        incidents,
        last_30_days: last30,
      });
    }
  });

  it('hour_weekday_grid: all 168 cells', async () => {
    const rows = await select(
      database,
      `select weekday, hour, incidents from analytics.hour_weekday_grid order by weekday, hour`,
    );
    expect(rows).toHaveLength(168);
    const expected = new Map([
      ['1 12', 19], // Mondays: 2 (03-10) + 3 (10-06) + 10 (10-20) + 4 (09-15)
      ['2 12', 1],
      ['3 12', 10], // Wednesdays: 09-10, 10-01, 7 on 10-08, 11-05
      ['4 12', 2],
      ['5 12', 19], // Fridays: 3 (03-14) + 16 (10-31)
      ['6 21', 1],
      ['7 1', 2],
      ['7 2', 1],
      ['7 23', 1],
    ]);
    for (const row of rows) {
      const key = `${String(row.weekday)} ${String(row.hour)}`;
      expect(row.incidents, key).toBe(expected.get(key) ?? 0);
    }
  });

  it('top_locations: ranked, without incidents that have no location', async () => {
    const rows = await select(
      database,
      `select location, incidents, last_30_days, rank from analytics.top_locations order by rank`,
    );
    expect(rows).toEqual([
      { location: 'MAIN ST', incidents: 20, last_30_days: 16, rank: 1 },
      { location: 'MASSACHUSETTS AVE', incidents: 15, last_30_days: 10, rank: 2 },
      { location: 'BROADWAY', incidents: 5, last_30_days: 3, rank: 3 },
      { location: 'CAMBRIDGE ST & HAMPSHIRE ST', incidents: 3, last_30_days: 0, rank: 4 },
    ]);
  });

  it('significant_changes: z = 2(√current − √previous), flagged at |z| ≥ 3', async () => {
    const rows = await select(
      database,
      `select type, current_28d, previous_28d, z::text, significant from analytics.significant_changes`,
    );
    expect(rows).toEqual([
      { type: 'ASSIST', current_28d: 16, previous_28d: 4, z: '4.000', significant: true },
      { type: 'TRAFFIC', current_28d: 1, previous_28d: 9, z: '-4.000', significant: true },
      // 2 × (3.16228 − 1.73205) = 2.860: close to the bound, and under it.
      { type: 'ARREST', current_28d: 10, previous_28d: 3, z: '2.860', significant: false },
      { type: 'INCIDENT', current_28d: 4, previous_28d: 1, z: '2.000', significant: false },
      { type: 'SP', current_28d: 0, previous_28d: 0, z: '0.000', significant: false },
    ]);
  });

  it('freshness: one row, without and then with a successful sync', async () => {
    const query = `select latest_incident_at, latest_source_update_at, last_successful_sync_at,
                          anchor_day::text, incidents from analytics.freshness`;
    const before = await select(database, query);
    expect(before).toEqual([
      {
        latest_incident_at: new Date('2025-11-05T17:00:00Z'), // noon EST
        latest_source_update_at: new Date('2025-11-07T20:30:00Z'),
        last_successful_sync_at: null,
        anchor_day: fixtureAnchorDay,
        incidents: '56',
      },
    ]);
    await database.pool.query(
      `insert into sync_state (dataset, cursor, last_success_at) values
         ('3gki-wyrb', '2025-11-07T15:30:00.000', '2025-11-07T21:00:00Z'),
         ('other-set', null, '2025-11-01T00:00:00Z')`,
    );
    const after = await select(database, query);
    expect(after).toHaveLength(1);
    expect(after[0]?.last_successful_sync_at).toEqual(new Date('2025-11-07T21:00:00Z'));
    await database.pool.query(`delete from sync_state`);
  });

  it('run_health: newest first, with durations', async () => {
    await database.pool.query(
      `insert into pipeline_runs
         (dataset, mode, trigger, state, dedupe_key, created_at, started_at, ended_at,
          rows_extracted, rows_inserted, error)
       values
         ('3gki-wyrb', 'incremental', 'schedule', 'completed', 'a', '2025-11-07 10:00Z',
          '2025-11-07 10:00:00Z', '2025-11-07 10:00:12.5Z', 40, 12, null),
         ('3gki-wyrb', 'window', 'cli', 'failed', 'b', '2025-11-07 11:00Z',
          '2025-11-07 11:00:00Z', '2025-11-07 11:00:03Z', 0, 0, 'Socrata answered 503'),
         ('3gki-wyrb', 'incremental', 'api', 'running', 'c', '2025-11-07 12:00Z',
          '2025-11-07 12:00:00Z', null, 0, 0, null)`,
    );
    const rows = await select(
      database,
      `select mode, trigger, state, duration_seconds::text, rows_extracted, rows_inserted, error
         from analytics.run_health`,
    );
    expect(rows).toEqual([
      {
        mode: 'incremental',
        trigger: 'api',
        state: 'running',
        duration_seconds: null,
        rows_extracted: 0,
        rows_inserted: 0,
        error: null,
      },
      {
        mode: 'window',
        trigger: 'cli',
        state: 'failed',
        duration_seconds: '3.0',
        rows_extracted: 0,
        rows_inserted: 0,
        error: 'Socrata answered 503',
      },
      {
        mode: 'incremental',
        trigger: 'schedule',
        state: 'completed',
        duration_seconds: '12.5',
        rows_extracted: 40,
        rows_inserted: 12,
        error: null,
      },
    ]);
  });
});

describe('yoy_weekly', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase();
    // ISO week 45: 2024-11-04 … 11-10 and 2025-11-03 … 11-09 (both start on a Monday).
    const counts: [string, number][] = [
      ['2024-11-04', 2],
      ['2024-11-05', 1],
      ['2024-11-06', 1],
      ['2024-11-08', 5],
      ['2025-11-03', 4],
      ['2025-11-05', 2],
    ];
    let id = 1;
    await insertIncidents(
      database.pool,
      counts.flatMap(([day, count]) =>
        Array.from({ length: count }, () => buildIncident({ id: id++, local: `${day}T09:00` })),
      ),
    );
    await refreshAnalytics(database.pool);
  });
  afterAll(async () => {
    await database.drop();
  });

  it('compares each ISO week with the same days of that week a year earlier', async () => {
    const rows = await select(
      database,
      `select iso_year, iso_week, incidents, previous_year, change_pct::text, days
         from analytics.yoy_weekly order by iso_year, iso_week`,
    );
    // 2024 has 52 ISO weeks: W45 … W52, then 2025 W01 … W45.
    expect(rows).toHaveLength(53);
    expect(rows[0]).toEqual({
      iso_year: 2024,
      iso_week: 45,
      incidents: 9,
      previous_year: null,
      change_pct: null,
      days: 7,
    });
    // The anchor's week is partial (Monday to Wednesday) and is compared with the same three days.
    expect(rows.at(-1)).toEqual({
      iso_year: 2025,
      iso_week: 45,
      incidents: 6,
      previous_year: 4,
      change_pct: '50.0',
      days: 3,
    });
    // 2024 W44 is not in the data, so week 44 of 2025 has no comparison.
    expect(rows.find((row) => row.iso_year === 2025 && row.iso_week === 44)).toEqual({
      iso_year: 2025,
      iso_week: 44,
      incidents: 0,
      previous_year: null,
      change_pct: null,
      days: 7,
    });
  });
});
