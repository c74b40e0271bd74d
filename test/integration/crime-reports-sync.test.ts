import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crimeReports } from '../../src/source/datasets/crime-reports.js';
import { generateCrimeReports } from '../support/crime-reports-generator.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import {
  fakeDatasetOf,
  startFakeSoda,
  type FakeSoda,
  type SodaRow,
} from '../support/fake-soda/index.js';
import { incremental, stepDepsFor, syncInProcess } from '../support/pipeline.js';
import { generatePoliceLog } from '../support/police-log-generator.js';

const crimeRows = [...generateCrimeReports({ seed: 15, rows: 6_000 })];
const latestByFile = new Map<string, SodaRow>();
for (const row of crimeRows) {
  const seen = latestByFile.get(row.file_number!);
  if (!seen || row[':updated_at']! >= seen[':updated_at']!) latestByFile.set(row.file_number!, row);
}
const policeRows = [...generatePoliceLog({ seed: 3, rows: 2_000 })];
const year2024 = {
  mode: 'window',
  from: '2024-01-01',
  to: '2025-01-01',
  windowSize: 'month',
} as const;

/** Everything the Police Log's sync left: its rows, its cursor, its analytics figures. */
async function policeLogFigures(database: TestDatabase) {
  const { rows } = await database.pool.query<Record<string, unknown>>(
    `select (select md5(string_agg(i::text, '|' order by id)) from (
              select id, occurred_at, type, subtype, location, description, source_updated_at, last_changed_run_id
                from incidents) i) as digest,
            (select count(*)::int from incidents) as incidents,
            (select cursor from sync_state where dataset = '3gki-wyrb') as cursor,
            (select md5(string_agg(d::text, '|' order by d::text)) from analytics.incident_daily d) as daily`,
  );
  return rows[0];
}

describe('Crime Reports beside the Police Log, on one SODA server', () => {
  let database: TestDatabase;
  let fake: FakeSoda;
  beforeAll(async () => {
    database = await createTestDatabase();
    fake = await startFakeSoda({
      rows: policeRows,
      datasets: [fakeDatasetOf(crimeReports, crimeRows)],
    });
  });
  afterAll(async () => {
    await fake.close();
    await database.drop();
  });

  it('a window sync cuts by date_of_report and keeps the latest :updated_at of each file number', async () => {
    const police = await syncInProcess(stepDepsFor(database, fake), {
      mode: 'window',
      from: '2025-01-01',
      to: '2026-02-01',
      windowSize: 'all',
    });
    expect(police.run.state).toBe('completed');
    const before = await policeLogFigures(database);

    const { run, error } = await syncInProcess(
      stepDepsFor(database, fake, { pageSize: 1_000 }),
      year2024,
      { dataset: 'crime-reports' },
    );
    expect(error).toBeUndefined();
    expect(run).toMatchObject({ state: 'completed', windowCount: 12 });
    expect(run.rowsExtracted).toBe(crimeRows.length);
    expect(run.rowsRejected).toBe(0);
    expect(run.rowsInserted).toBe(latestByFile.size);
    expect(run.rowsDuplicate).toBe(crimeRows.length - latestByFile.size);
    expect(crimeRows.length - latestByFile.size).toBeGreaterThan(0);

    const windowQueries = fake.requests.filter((request) => request.path.includes(crimeReports.id));
    expect(windowQueries[0]?.params).toMatchObject({
      $select: ':*, *',
      $where:
        "date_of_report >= '2024-01-01T00:00:00.000' AND date_of_report < '2024-02-01T00:00:00.000'",
      $order: ':id',
    });

    const { rows } = await database.pool.query<{
      file_number: string;
      crime: string;
      stamp: string;
    }>(
      `select file_number, crime, to_char(source_updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as stamp
         from crime_reports`,
    );
    expect(rows).toHaveLength(latestByFile.size);
    for (const row of rows) {
      const latest = latestByFile.get(row.file_number)!;
      expect({ crime: row.crime, stamp: row.stamp }).toEqual({
        crime: latest.crime,
        stamp: latest[':updated_at'],
      });
    }
    // Every form of crime_date_time loaded; those without a time have no instants.
    const forms = await database.pool.query<{ form: string; count: number; without: number }>(
      `select occurrence_form as form, count(*)::int as count,
              count(*) filter (where occurred_from is null or occurred_to is null)::int as without
         from crime_reports group by 1 order by 1`,
    );
    expect(forms.rows.map((row) => row.form)).toEqual([
      'instant',
      'same_day_range',
      'range',
      'date_only',
      'missing',
      'unreadable',
    ]);
    for (const row of forms.rows) {
      const timeless = ['date_only', 'missing', 'unreadable'].includes(row.form);
      expect(row.without).toBe(timeless ? row.count : 0);
    }
    // The planted DST edges (2024: spring forward on March 10, fall back on November 3).
    const edges = await database.pool.query<Record<string, string>>(
      `select crime_date_time, occurred_time_kind::text as kind,
              to_char(occurred_from at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI"Z"') as "from",
              to_char(occurred_to at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI"Z"') as "to"
         from crime_reports where crime_date_time in ('03/10/2024 02:30', '11/03/2024 01:30 - 01:45')
        order by 1`,
    );
    expect(edges.rows).toEqual([
      {
        crime_date_time: '03/10/2024 02:30',
        kind: 'nonexistent',
        from: '2024-03-10T07:30Z',
        to: '2024-03-10T07:30Z',
      },
      {
        crime_date_time: '11/03/2024 01:30 - 01:45',
        kind: 'ambiguous',
        from: '2024-11-03T05:30Z',
        to: '2024-11-03T05:45Z',
      },
    ]);
    // The report instant and its local parts.
    const sample = latestByFile.values().next().value!;
    const stored = await database.pool.query<Record<string, string>>(
      `select to_char(reported_local, 'YYYY-MM-DD"T"HH24:MI:SS.MS') as local, reported_date::text as date
         from crime_reports where file_number = $1`,
      [sample.file_number],
    );
    expect(stored.rows[0]).toEqual({
      local: sample.date_of_report,
      date: sample.date_of_report!.slice(0, 10),
    });

    expect(await policeLogFigures(database)).toEqual(before);
    // A window sync leaves the cursor alone.
    const cursor = await database.pool.query<{ cursor: string }>(
      `select cursor from sync_state where dataset = $1`,
      [crimeReports.id],
    );
    expect(cursor.rows[0]?.cursor ?? null).toBeNull();
  });
});

describe('incremental Crime Reports syncs follow :updated_at', () => {
  let database: TestDatabase;
  let fake: FakeSoda;
  beforeAll(async () => {
    database = await createTestDatabase();
    fake = await startFakeSoda({
      rows: policeRows,
      datasets: [fakeDatasetOf(crimeReports, crimeRows)],
    });
  });
  afterAll(async () => {
    await fake.close();
    await database.drop();
  });

  it('reads everything first, then only what was re-published, and updates those 50 rows', async () => {
    const police = await syncInProcess(stepDepsFor(database, fake), incremental);
    expect(police.run.state).toBe('completed');
    const before = await policeLogFigures(database);

    const first = await syncInProcess(stepDepsFor(database, fake), incremental, {
      dataset: 'xuad-73uj',
    });
    expect(first.error).toBeUndefined();
    expect(first.run).toMatchObject({ state: 'completed' });
    expect(first.run.rowsInserted).toBe(latestByFile.size);
    const maxStamp = [...crimeRows]
      .map((row) => row[':updated_at']!)
      .sort()
      .at(-1)!;
    const state = await database.pool.query<{ cursor: string }>(
      'select cursor from sync_state where dataset = $1',
      [crimeReports.id],
    );
    expect(state.rows[0]?.cursor).toBe(maxStamp);

    // 50 reports published again later, with new content and a later :updated_at.
    const republishedAt = new Date(Date.parse(maxStamp) + 7 * 86_400_000).toISOString();
    const chosen = [...latestByFile.values()].slice(100, 150);
    const revised = chosen.map((row) => ({
      ...row,
      ':updated_at': republishedAt,
      crime: `${row.crime} (revised)`,
      neighborhood: 'Cambridgeport',
    }));
    fake.dataset(crimeReports.id).upsertRows(revised);
    fake.requests.length = 0;

    const second = await syncInProcess(stepDepsFor(database, fake), incremental, {
      dataset: 'crime-reports',
    });
    expect(second.error).toBeUndefined();
    expect(second.run).toMatchObject({ rowsInserted: 0, rowsUpdated: 50 });
    const query = fake.requests.find((request) => request.path.includes(crimeReports.id))!;
    const lookBack = new Date(Date.parse(maxStamp) - 72 * 3_600_000).toISOString();
    expect(query.params).toMatchObject({
      $select: ':*, *',
      $where: `:updated_at >= '${lookBack}'`,
      $order: ':updated_at, :id',
    });
    const { rows } = await database.pool.query<{ count: number }>(
      `select count(*)::int as count from crime_reports
        where crime like '% (revised)' and last_changed_run_id = $1`,
      [second.run.id],
    );
    expect(rows[0]!.count).toBe(50);
    const cursor = await database.pool.query<{ cursor: string }>(
      'select cursor from sync_state where dataset = $1',
      [crimeReports.id],
    );
    expect(cursor.rows[0]?.cursor).toBe(republishedAt);

    // Nothing new: the next run changes nothing.
    const third = await syncInProcess(stepDepsFor(database, fake), incremental, {
      dataset: 'crime-reports',
    });
    expect(third.run).toMatchObject({ state: 'completed', rowsInserted: 0, rowsUpdated: 0 });
    expect(await policeLogFigures(database)).toEqual(before);
  });
});
