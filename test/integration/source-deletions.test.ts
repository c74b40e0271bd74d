import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { incidentAnalytics } from '../../src/analytics/incidents.js';
import { rebuildAnalytics } from '../../src/db/refresh-analytics.js';
import type { RunPlan } from '../../src/pipeline/flow.js';
import { pendingChanges, snapshotAnalytics } from '../support/analytics-snapshot.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startFakeSoda, type FakeSoda, type SodaRow } from '../support/fake-soda/index.js';
import { generatePoliceLog } from '../support/police-log-generator.js';
import { stepDepsFor, syncInProcess } from '../support/pipeline.js';

/** One version per id, so "rows held" and "rows served" are the same numbers. */
function distinctRows(rows: Iterable<SodaRow>): SodaRow[] {
  const byId = new Map<string, SodaRow>();
  for (const row of rows) {
    const seen = byId.get(row.id!);
    if (!seen || row.last_updated! >= seen.last_updated!) byId.set(row.id!, row);
  }
  return [...byId.values()];
}

async function deletedIds(database: TestDatabase): Promise<string[]> {
  const { rows } = await database.pool.query<{ id: string }>(
    'select id::text from incidents where deleted_at is not null order by id',
  );
  return rows.map((row) => row.id);
}

async function counts(database: TestDatabase) {
  const { rows } = await database.pool.query<{
    held: number;
    counted: number;
    removed: number;
    audited: number;
    lastRemovedAt: string | null;
  }>(
    `select (select count(*)::int from incidents) as held,
            incidents::int as counted, removed_incidents::int as removed,
            last_removed_at::text as "lastRemovedAt",
            (select count(*)::int from analytics.deleted_incidents) as audited
       from analytics.freshness`,
  );
  return rows[0]!;
}

/** The maintained analytics equal a rebuild from the table (which counts only rows not deleted). */
async function expectAnalyticsExact(database: TestDatabase): Promise<void> {
  expect(await pendingChanges(database.pool)).toBe(0);
  const kept = await snapshotAnalytics(database.pool);
  await rebuildAnalytics(database.pool, '3gki-wyrb', incidentAnalytics);
  expect(kept).toEqual(await snapshotAnalytics(database.pool));
}

describe('rows the source deletes, after a complete window read', () => {
  const range: RunPlan = {
    mode: 'window',
    from: '2025-01-01',
    to: '2025-04-01',
    windowSize: 'month',
  };
  const sourceRows = distinctRows(
    generatePoliceLog({ seed: 41, rows: 2_400, from: '2025-01-01', to: '2025-04-01' }),
  );
  const gone = sourceRows.filter((_, index) => index % 50 === 7).slice(0, 40);
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

  it('marks exactly the rows no longer served, drops none, and leaves them out of the analytics', async () => {
    expect(gone).toHaveLength(40);
    const deps = stepDepsFor(database, fake);
    const first = await syncInProcess(deps, range);
    expect(first.run.state).toBe('completed');
    expect(first.run.rowsInserted).toBe(sourceRows.length);
    expect(first.run.rowsDeleted).toBe(0);

    fake.removeRows(gone.map((row) => row.id!));
    const second = await syncInProcess(deps, range);
    expect(second.error).toBeUndefined();
    expect(second.run.rowsDeleted).toBe(40);
    expect(second.run.rowsRestored).toBe(0);
    expect(second.run.rowsUnchanged).toBe(sourceRows.length - 40);
    expect(await deletedIds(database)).toEqual(gone.map((row) => row.id!).sort());
    const load = second.steps.find((step) => step.step === 'load')!;
    expect(load.windows).toBe(3);

    const after = await counts(database);
    expect(after.held).toBe(sourceRows.length); // none dropped
    expect(after.counted).toBe(sourceRows.length - 40);
    expect(after.removed).toBe(40);
    expect(after.audited).toBe(40);
    expect(after.lastRemovedAt).not.toBeNull();
    await expectAnalyticsExact(database);

    // The run ledger and the step rows carry the counts.
    const { rows: ledger } = await database.pool.query<{ deleted: number; steps: number }>(
      `select r.rows_deleted as deleted,
              (select sum((s.counts->>'deleted')::int)::int from pipeline_steps s
                where s.run_id = r.id and s.step = 'load') as steps
         from pipeline_runs r where r.id = $1`,
      [second.run.id],
    );
    expect(ledger[0]).toEqual({ deleted: 40, steps: 40 });
  });

  it('restores a row served again, and a repeated read changes nothing', async () => {
    const back = gone[0]!;
    fake.upsertRows([back]);
    const deps = stepDepsFor(database, fake);
    const third = await syncInProcess(deps, range);
    expect(third.run.rowsRestored).toBe(1);
    expect(third.run.rowsDeleted).toBe(0);
    expect(third.run.rowsUpdated).toBe(0);
    expect(third.run.rowsUnchanged).toBe(sourceRows.length - 40);
    expect(await deletedIds(database)).toEqual(
      gone
        .slice(1)
        .map((row) => row.id!)
        .sort(),
    );
    expect((await counts(database)).counted).toBe(sourceRows.length - 39);
    await expectAnalyticsExact(database);

    const before = await snapshotAnalytics(database.pool);
    const { rows: stamps } = await database.pool.query<{ stamp: string }>(
      `select string_agg(id || ':' || deleted_at::text, ',' order by id) as stamp from incidents where deleted_at is not null`,
    );
    const fourth = await syncInProcess(deps, range);
    expect(fourth.run.state).toBe('completed');
    const { rowsInserted, rowsUpdated, rowsDeleted, rowsRestored } = fourth.run;
    expect({ rowsInserted, rowsUpdated, rowsDeleted, rowsRestored }).toEqual({
      rowsInserted: 0,
      rowsUpdated: 0,
      rowsDeleted: 0,
      rowsRestored: 0,
    });
    expect(await snapshotAnalytics(database.pool)).toEqual(before);
    const { rows: again } = await database.pool.query<{ stamp: string }>(
      `select string_agg(id || ':' || deleted_at::text, ',' order by id) as stamp from incidents where deleted_at is not null`,
    );
    expect(again).toEqual(stamps);
  });

  it('does not mark a row written into the window after its read began (a sync running meanwhile)', async () => {
    const deps = stepDepsFor(database, fake);
    // The window's count, asked after its listing, is slow: the read is under way for a while.
    fake.addFault({ kind: 'slow', selectIncludes: 'count(', delayMs: 1_500, times: 1 });
    try {
      const syncing = syncInProcess(deps, range);
      // Another writer (an incremental sync) stores a row in January while January is being read.
      await waitFor(async () => {
        const { rows } = await database.pool.query<{ reading: boolean }>(
          `select exists (select 1 from pipeline_steps where window_index = 0 and step = 'extract'
                             and state = 'running') as reading`,
        );
        return rows[0]!.reading;
      });
      await database.pool.query(
        `insert into incidents (id, occurred_at, occurred_local, local_date, local_hour, local_weekday, type, source_updated_at)
         values (77000001, '2025-01-15T10:00:00-05:00', '2025-01-15T10:00:00', '2025-01-15', 10, 3, 'INCIDENT', now())`,
      );
      const outcome = await syncing;
      expect(outcome.error).toBeUndefined();
      const { rows } = await database.pool.query<{ deleted: boolean }>(
        'select deleted_at is not null as deleted from incidents where id = 77000001',
      );
      expect(rows[0]).toEqual({ deleted: false });
      // The next read, which began after it was written, judges it: the source never had it.
      const next = await syncInProcess(deps, range);
      expect(next.run.rowsDeleted).toBe(1);
      expect(await deletedIds(database)).toContain('77000001');
    } finally {
      fake.clearFaults();
    }
  });
});

describe('the delete guard', () => {
  const month: RunPlan = {
    mode: 'window',
    from: '2025-02-01',
    to: '2025-03-01',
    windowSize: 'all',
  };
  const sourceRows = distinctRows(
    generatePoliceLog({ seed: 43, rows: 7_400, from: '2025-02-01', to: '2025-03-01' }),
  ).slice(0, 7_000);
  let database: TestDatabase;
  let full: FakeSoda;
  let empty: FakeSoda;
  beforeEach(async () => {
    database = await createTestDatabase();
    full = await startFakeSoda({ rows: sourceRows });
    // A source that answers `[]` for the window (a fault upstream, or a wrong dataset).
    empty = await startFakeSoda({ rows: [] });
    const loaded = await syncInProcess(stepDepsFor(database, full), month);
    expect(loaded.run.rowsInserted).toBe(7_000);
  });
  afterEach(async () => {
    await full.close();
    await empty.close();
    await database.drop();
  });

  it('fails a window answered empty while we hold rows there, marking nothing, until confirmed', async () => {
    const before = await snapshotAnalytics(database.pool);
    const refused = await syncInProcess(stepDepsFor(database, empty), month);
    expect(refused.run.state).toBe('failed');
    expect(String(refused.error)).toMatch(/answered no rows where we hold 7,000/);
    expect(String(refused.error)).toMatch(/--allow-deletes/);
    expect(String(refused.error)).toMatch(/"allowDeletes": true/);
    expect(refused.run.error).toMatch(/answered no rows where we hold 7,000/);
    expect(refused.run.rowsDeleted).toBe(0);
    expect(await deletedIds(database)).toEqual([]);
    expect(await snapshotAnalytics(database.pool)).toEqual(before);

    const confirmed = await syncInProcess(stepDepsFor(database, empty), {
      ...month,
      allowDeletes: true,
    });
    expect(confirmed.error).toBeUndefined();
    expect(confirmed.run.rowsDeleted).toBe(7_000);
    expect((await counts(database)).counted).toBe(0);
    expect((await counts(database)).held).toBe(7_000);
    await expectAnalyticsExact(database);
  });

  it('fails a window whose answer would delete more than DELETE_GUARD of it', async () => {
    full.removeRows(sourceRows.slice(0, 400).map((row) => row.id!));
    const refused = await syncInProcess(stepDepsFor(database, full), month);
    expect(refused.run.state).toBe('failed');
    expect(String(refused.error)).toMatch(
      /no longer serves 400 of the 7,000 rows we hold there \(5\.7%, more than DELETE_GUARD allows: 5\.0%\)/,
    );
    expect(await deletedIds(database)).toEqual([]);

    const lenient = await syncInProcess(
      { ...stepDepsFor(database, full), settings: { rejectThreshold: 0.05, deleteGuard: 0.1 } },
      month,
    );
    expect(lenient.error).toBeUndefined();
    expect(lenient.run.rowsDeleted).toBe(400);
  });
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the condition');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
