import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { incidentAnalytics } from '../../src/analytics/incidents.js';
import { refreshAnalytics } from '../../src/db/refresh-analytics.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { buildIncident, insertIncidents, type IncidentRow } from '../support/incident-fixtures.js';

async function pendingChanges(database: TestDatabase): Promise<number> {
  const { rows } = await database.pool.query<{ n: number }>(
    'select count(*)::int as n from analytics.pending_changes',
  );
  return rows[0]!.n;
}

async function refreshedAt(database: TestDatabase): Promise<string> {
  const { rows } = await database.pool.query<{ at: string }>(
    `select refreshed_at::text as at from analytics.refresh_state`,
  );
  return rows[0]!.at;
}

async function rollupTotal(database: TestDatabase): Promise<number> {
  const { rows } = await database.pool.query<{ n: number }>(
    'select coalesce(sum(incidents), 0)::int as n from analytics.incident_daily',
  );
  return rows[0]!.n;
}

/** An upsert by some other writer than the pipeline (the load notes its own changes). */
async function upsert(database: TestDatabase, rows: IncidentRow[]): Promise<void> {
  await database.pool.query(
    `insert into incidents (id, occurred_at, occurred_local, local_date, local_hour, local_weekday,
                            type, subtype, location, source_updated_at)
     select id, occurred_at, occurred_local, local_date, local_hour, local_weekday, type, subtype,
            location, source_updated_at
       from json_populate_recordset(null::incidents, $1::json)
     on conflict (id) do update set type = excluded.type, subtype = excluded.subtype,
                                    location = excluded.location
      where (incidents.type, incidents.subtype, incidents.location)
            is distinct from (excluded.type, excluded.subtype, excluded.location)`,
    [JSON.stringify(rows)],
  );
}

const rowsOn = (day: string, count: number, firstId: number, type = 'INCIDENT') =>
  Array.from({ length: count }, (_, i) =>
    buildIncident({ id: firstId + i, local: `${day}T10:00`, type }),
  );

describe('refreshAnalytics', () => {
  let database: TestDatabase;
  beforeEach(async () => {
    database = await createTestDatabase();
  });
  afterEach(async () => {
    await database.drop();
  });

  it('keeps every rollup of the spec as a table with a unique key, and no materialised view', async () => {
    const { rows } = await database.pool.query<{ name: string; unique_indexes: number }>(
      `select format('%s.%s', t.schemaname, t.tablename) as name,
              (select count(*)::int from pg_index i
                where i.indrelid = format('%I.%I', t.schemaname, t.tablename)::regclass
                  and i.indisunique and i.indpred is null) as unique_indexes
         from pg_tables t where t.schemaname = 'analytics'
          and format('%s.%s', t.schemaname, t.tablename) = any($1) order by 1`,
      [incidentAnalytics.rollups.map((rollup) => rollup.table)],
    );
    expect(rows.map((row) => row.name)).toEqual(
      incidentAnalytics.rollups.map((rollup) => rollup.table).sort(),
    );
    for (const row of rows) expect(row.unique_indexes, row.name).toBeGreaterThan(0);
    const matviews = await database.pool.query(
      `select 1 from pg_matviews where schemaname = 'analytics'`,
    );
    expect(matviews.rowCount).toBe(0);
  });

  it('brings the views up to date after a change, and does nothing when nothing changed', async () => {
    await insertIncidents(database.pool, rowsOn('2025-06-01', 5, 1));
    expect(await pendingChanges(database)).toBe(1);
    expect(await rollupTotal(database)).toBe(0);

    await refreshAnalytics(database.pool);
    expect(await rollupTotal(database)).toBe(5);
    expect(await pendingChanges(database)).toBe(0);

    const stamp = await refreshedAt(database);
    await refreshAnalytics(database.pool);
    expect(await refreshedAt(database)).toBe(stamp);
  });

  it("notes other writers' statements as they run, and deletes only when they removed rows", async () => {
    const rows = rowsOn('2025-06-01', 3, 1);
    await upsert(database, rows);
    await refreshAnalytics(database.pool);

    // Without a transition table a statement trigger cannot tell whether rows changed: inserts
    // and updates are noted regardless (at worst one needless refresh). The pipeline's load notes
    // its own changes instead (test/integration/pipeline-sync.test.ts: a replay notes nothing).
    await database.pool.query(`update incidents set type = 'X' where false`);
    expect(await pendingChanges(database)).toBe(1);
    await database.pool.query(`delete from incidents where id < 0`);
    expect(await pendingChanges(database)).toBe(1);

    // INSERT … ON CONFLICT DO UPDATE fires the insert and the update statement triggers.
    await upsert(database, [{ ...rows[0]!, type: 'ARREST' }]);
    expect(await pendingChanges(database)).toBe(3);
    await refreshAnalytics(database.pool);
    const { rows: types } = await database.pool.query(
      `select type, incidents from analytics.incident_daily order by type`,
    );
    expect(types).toEqual([
      { type: 'ARREST', incidents: 1 },
      { type: 'INCIDENT', incidents: 2 },
    ]);

    await database.pool.query(`delete from incidents where type = 'ARREST'`);
    await database.pool.query(`truncate incidents`);
    expect(await pendingChanges(database)).toBe(2);
  });

  it('stands the triggers aside in a transaction that notes its own changes, as the load does', async () => {
    const client = await database.pool.connect();
    try {
      await client.query('begin');
      await client.query(`set local cpd.load_notes_changes = 'on'`);
      await client.query(
        `insert into incidents (${Object.keys(rowsOn('2025-06-01', 1, 1)[0]!).join(', ')})
         select ${Object.keys(rowsOn('2025-06-01', 1, 1)[0]!).join(', ')}
           from json_populate_recordset(null::incidents, $1::json)`,
        [JSON.stringify(rowsOn('2025-06-01', 2, 1))],
      );
      await client.query(`update incidents set type = 'ARREST' where id = 1`);
      await client.query('commit');
    } finally {
      client.release();
    }
    expect(await pendingChanges(database)).toBe(0);
    // The setting was local to that transaction: the next writer is noted again.
    await database.pool.query(`update incidents set type = 'INCIDENT' where id = 1`);
    expect(await pendingChanges(database)).toBe(1);
  });

  it('keeps the mark of a change that commits while a refresh runs, for the next refresh', async () => {
    await insertIncidents(database.pool, rowsOn('2025-06-01', 2, 1));
    const loader = await database.pool.connect();
    try {
      await loader.query('begin');
      const late = rowsOn('2025-06-02', 4, 100);
      await loader.query(
        `insert into incidents (${Object.keys(late[0]!).join(', ')})
         select ${Object.keys(late[0]!).join(', ')}
           from json_populate_recordset(null::incidents, $1::json)`,
        [JSON.stringify(late)],
      );
      // The load has not committed: the refresh sees the first two rows only.
      await refreshAnalytics(database.pool);
      expect(await rollupTotal(database)).toBe(2);
      await loader.query('commit');
    } finally {
      loader.release();
    }
    expect(await pendingChanges(database)).toBe(1);
    await refreshAnalytics(database.pool);
    expect(await rollupTotal(database)).toBe(6);
  });

  it('is safe when several processes refresh at once while loads go on', async () => {
    const loads: Promise<void>[] = [];
    const refreshes: Promise<void>[] = [];
    for (let round = 0; round < 4; round += 1) {
      loads.push(
        insertIncidents(database.pool, rowsOn(`2025-06-1${round}`, 3, 1000 * (round + 1))),
      );
      refreshes.push(refreshAnalytics(database.pool), refreshAnalytics(database.pool));
    }
    await Promise.all([...loads, ...refreshes]);
    await refreshAnalytics(database.pool);
    expect(await rollupTotal(database)).toBe(12);
    expect(await pendingChanges(database)).toBe(0);
  });
});
