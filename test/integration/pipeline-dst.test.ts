import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startFakeSoda, type FakeSoda, type SodaRow } from '../support/fake-soda/index.js';
import { stepDepsFor, syncInProcess, wholeRange } from '../support/pipeline.js';

/** A row every 37 minutes through 2025 (every hour and minute pattern, both DST changes), plus
 *  the two times a clock in Cambridge shows either never or twice. */
function rowsThroughTheYear(): SodaRow[] {
  const rows: SodaRow[] = [];
  let sequence = 1;
  const row = (dateTime: string): SodaRow => ({
    date_time: dateTime,
    id: `25${String(sequence++).padStart(6, '0')}`,
    type: 'INCIDENT',
    location: 'MAIN ST',
    last_updated: '2026-01-02T15:00:07.000',
  });
  for (let t = Date.UTC(2025, 0, 1); t < Date.UTC(2026, 0, 1); t += 37 * 60_000) {
    rows.push(row(new Date(t).toISOString().slice(0, 23)));
  }
  rows.push(row('2025-03-09T02:30:00.000'), row('2025-11-02T01:30:00.000'));
  return rows;
}

describe('local times across daylight saving', () => {
  let database: TestDatabase;
  let fake: FakeSoda;
  const rows = rowsThroughTheYear();
  beforeAll(async () => {
    database = await createTestDatabase();
    fake = await startFakeSoda({ rows });
    const { run } = await syncInProcess(stepDepsFor(database, fake), wholeRange);
    expect(run.state).toBe('completed');
  });
  afterAll(async () => {
    await fake.close();
    await database.drop();
  });

  it('loads the spring-forward gap and the fall-back overlap, flagged, on the documented instants', async () => {
    const { rows: flagged } = await database.pool.query<{
      local: string;
      kind: string;
      instant: string;
      hour: number;
      day: string;
    }>(
      `select to_char(occurred_local, 'YYYY-MM-DD"T"HH24:MI') as local, local_time_kind as kind,
              to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI"Z"') as instant,
              local_hour as hour, local_date::text as day
         from incidents where local_time_kind <> 'regular' order by occurred_local`,
    );
    // Every generated time that falls in the gap (02:00–02:59 on 9 March) or the overlap
    // (01:00–01:59 on 2 November) is flagged, and only those.
    expect(
      flagged.every((row) =>
        (row.kind === 'nonexistent' ? /^2025-03-09T02:/ : /^2025-11-02T01:/).test(row.local),
      ),
    ).toBe(true);
    const expected = rows.filter((row) =>
      /^2025-03-09T02:|^2025-11-02T01:/.test(row.date_time!),
    ).length;
    expect(flagged).toHaveLength(expected);
    // The documented choices: the gap is read with EST (−05:00), the overlap's first occurrence (EDT, −04:00).
    expect(flagged).toContainEqual({
      local: '2025-03-09T02:30',
      kind: 'nonexistent',
      instant: '2025-03-09T07:30Z',
      hour: 2,
      day: '2025-03-09',
    });
    expect(flagged).toContainEqual({
      local: '2025-11-02T01:30',
      kind: 'ambiguous',
      instant: '2025-11-02T05:30Z',
      hour: 1,
      day: '2025-11-02',
    });
  });

  it('round-trips every other local time exactly, by PostgreSQL’s own time zone rules', async () => {
    const { rows: mismatches } = await database.pool.query(
      `select id, occurred_local, occurred_at from incidents
        where local_time_kind = 'regular'
          and (occurred_at at time zone 'America/New_York' <> occurred_local
               or local_date <> occurred_local::date
               or local_hour <> extract(hour from occurred_local)
               or local_weekday <> extract(isodow from occurred_local))`,
    );
    expect(mismatches).toEqual([]);
    const { rows: counted } = await database.pool.query<{ count: number }>(
      'select count(*)::int as count from incidents',
    );
    expect(counted[0]!.count).toBe(rows.length);
  });
});
