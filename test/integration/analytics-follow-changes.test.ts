import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { incidentAnalytics } from '../../src/analytics/incidents.js';
import { rebuildAnalytics } from '../../src/db/refresh-analytics.js';
import type { RunPlan } from '../../src/pipeline/flow.js';
import { rebuildCount, snapshotAnalytics } from '../support/analytics-snapshot.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startFakeSoda, type FakeSoda, type SodaRow } from '../support/fake-soda/index.js';
import { createRandom, generatePoliceLog } from '../support/police-log-generator.js';
import { incremental, stepDepsFor, syncInProcess } from '../support/pipeline.js';

/**
 * The rollups each load keeps from its own changes give exactly what a rebuild from the table
 * gives: random updates (moving rows across days, types and locations), new rows, removals and
 * rows served again, through real loads from the fake SODA server, window and incremental.
 */
const from = '2025-01-01';
const to = '2025-05-01';
const monthWindows: RunPlan = { mode: 'window', from, to, windowSize: 'month' };
/** A field the source leaves out is null. */
function setField(row: SodaRow, name: string, value: string | null): void {
  if (value === null) delete row[name];
  else row[name] = value;
}

const sourceRows = [...generatePoliceLog({ seed: 23, rows: 3_000, from, to })];

describe('analytics that follow the changes', () => {
  let database: TestDatabase;
  let fake: FakeSoda;
  beforeAll(async () => {
    database = await createTestDatabase();
    fake = await startFakeSoda({ rows: sourceRows });
  });
  afterAll(async () => {
    await fake.close();
    await database.drop();
  });

  it('equal a full rebuild after every load, whatever the loads changed', async () => {
    const random = createRandom(5);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const served = new Map<string, SodaRow>();
    for (const row of sourceRows) {
      const seen = served.get(row.id!);
      if (!seen || row.last_updated! >= seen.last_updated!) served.set(row.id!, row);
    }
    const removed = new Map<string, SodaRow>();
    const types = [...new Set(sourceRows.map((row) => row.type!))];
    const subtypes = [...new Set(sourceRows.map((row) => row.subtype ?? null))];
    const locations = [...new Set(sourceRows.map((row) => row.location ?? null)), null, '  '];
    const randomDay = () => {
      const day = new Date(
        Date.parse(`${from}T00:00:00Z`) + Math.floor(random() * 119) * 86_400_000,
      );
      const hour = String(Math.floor(random() * 24)).padStart(2, '0');
      return `${day.toISOString().slice(0, 10)}T${hour}:${String(Math.floor(random() * 60)).padStart(2, '0')}:00.000`;
    };
    let nextId = 90_000_000;

    const check = async (plan: RunPlan, label: string) => {
      const rebuildsBefore = await rebuildCount(database.pool);
      const { run, error } = await syncInProcess(stepDepsFor(database, fake), plan);
      expect(error, label).toBeUndefined();
      expect(run.state, label).toBe('completed');
      // The loads kept the analytics themselves: nothing fell back to a rebuild (loads of a few
      // thousand rows always keep them by delta).
      expect(await rebuildCount(database.pool), label).toBe(rebuildsBefore);
      const kept = await snapshotAnalytics(database.pool);
      await rebuildAnalytics(database.pool, '3gki-wyrb', incidentAnalytics);
      expect(await rebuildCount(database.pool), label).toBe(rebuildsBefore + 1);
      expect(kept, label).toEqual(await snapshotAnalytics(database.pool));
      const { rows } = await database.pool.query<{ held: number; counted: number }>(
        `select (select count(*)::int from incidents where deleted_at is null) as held,
                (select incidents::int from analytics.freshness) as counted`,
      );
      expect(rows[0]!.counted, label).toBe(rows[0]!.held);
      return run;
    };

    const first = await check(monthWindows, 'first load');
    expect(first.rowsInserted).toBe(served.size);

    for (let round = 1; round <= 4; round += 1) {
      const stamp = `2026-03-0${round}T12:00:00.000`;
      const changed: SodaRow[] = [];
      const ids = [...served.keys()];
      for (let i = 0; i < 30; i += 1) {
        const row: SodaRow = { ...served.get(pick(ids))!, last_updated: stamp };
        const what = Math.floor(random() * 4);
        if (what === 0) row.type = pick(types);
        else if (what === 1) setField(row, 'subtype', pick(subtypes));
        else if (what === 2) setField(row, 'location', pick(locations));
        else row.date_time = randomDay();
        changed.push(row);
      }
      for (let i = 0; i < 20; i += 1) {
        changed.push({
          ...served.get(pick(ids))!,
          id: String(nextId++),
          date_time: randomDay(),
          last_updated: stamp,
        });
      }
      const back: SodaRow[] = [...removed.values()]
        .slice(0, 3)
        .map((row) => ({ ...row, last_updated: stamp }));
      for (const row of back) removed.delete(row.id!);
      changed.push(...back);
      fake.upsertRows(changed);
      for (const row of changed) served.set(row.id!, row);

      // Incremental syncs cannot see removals; window reads can.
      const windowRound = round % 2 === 1;
      if (windowRound) {
        const gone = new Set<string>();
        while (gone.size < 15) gone.add(pick([...served.keys()]));
        fake.removeRows([...gone]);
        for (const id of gone) {
          removed.set(id, served.get(id)!);
          served.delete(id);
        }
      }
      const run = await check(windowRound ? monthWindows : incremental, `round ${round}`);
      expect(run.rowsInserted, `round ${round}`).toBe(20);
      // A row the source moved to a later window is not served in the window it was in: marked
      // there, then restored by the window it moved to, in the same run.
      if (windowRound) expect(run.rowsDeleted, `round ${round}`).toBeGreaterThanOrEqual(15);
      if (round > 1) expect(run.rowsRestored, `round ${round}`).toBeGreaterThan(0);
      const { rows: marked } = await database.pool.query<{ id: string }>(
        'select id::text from incidents where deleted_at is not null order by id',
      );
      expect(
        marked.map((row) => row.id),
        `round ${round}`,
      ).toEqual([...removed.keys()].sort());
    }

    // A replay changes nothing, in the tables or in the analytics.
    const before = await snapshotAnalytics(database.pool);
    const replay = await check(monthWindows, 'replay');
    expect(
      replay.rowsInserted + replay.rowsUpdated + replay.rowsDeleted + replay.rowsRestored,
    ).toBe(0);
    expect(await snapshotAnalytics(database.pool)).toEqual(before);
  });
});
