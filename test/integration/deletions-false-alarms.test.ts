import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunPlan } from '../../src/pipeline/flow.js';
import { readStepTotals } from '../../src/pipeline/ledger/index.js';
import { runStep } from '../../src/pipeline/run-step.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startFakeSoda, type FakeSoda, type SodaRow } from '../support/fake-soda/index.js';
import { generatePoliceLog } from '../support/police-log-generator.js';
import { stepDepsFor, syncInProcess } from '../support/pipeline.js';

/**
 * False alarms the fault suite's source-deletions scenario found: a window read cut short in a
 * way no page's framing shows, and a retry that judged the same faulty answer again.
 */

const month: Extract<RunPlan, { mode: 'window' }> = {
  mode: 'window',
  from: '2025-02-01',
  to: '2025-03-01',
  windowSize: 'all',
};

/** One version per id, `count` of them: rows held and rows served are the same numbers. */
function distinctRows(count: number): SodaRow[] {
  const byId = new Map<string, SodaRow>();
  for (const row of generatePoliceLog({
    seed: 77,
    rows: count + 200,
    from: month.from,
    to: month.to,
  }))
    if (!byId.has(row.id!)) byId.set(row.id!, row);
  return [...byId.values()].slice(0, count);
}

async function deletedIds(database: TestDatabase): Promise<string[]> {
  const { rows } = await database.pool.query<{ id: string }>(
    'select id::text from incidents where deleted_at is not null order by id',
  );
  return rows.map((row) => row.id);
}

describe('window reads that must not mark rows deleted', () => {
  let database: TestDatabase;
  let fake: FakeSoda;
  beforeEach(async () => {
    database = await createTestDatabase();
  });
  afterEach(async () => {
    await fake.close();
    await database.drop();
  });

  it('reads a window again when its last page is answered [] (a share under DELETE_GUARD)', async () => {
    // 500 + 500 + 30: the last page is 2.9% of the window, which the guard lets through.
    fake = await startFakeSoda({ rows: distinctRows(1_030) });
    const deps = stepDepsFor(database, fake, { pageSize: 500 });
    expect((await syncInProcess(deps, month)).run.rowsInserted).toBe(1_030);

    const before = fake.requests.length;
    fake.addFault({ kind: 'empty', every: 3, times: 1 });
    const second = await syncInProcess(deps, month);
    expect(second.error).toBeUndefined();
    expect(fake.requests.slice(before).filter((request) => request.fault === 'empty')).toHaveLength(
      1,
    );
    expect(second.run.rowsDeleted).toBe(0);
    expect(second.run.rowsExtracted).toBe(1_030);
    expect(await deletedIds(database)).toEqual([]);
  });

  it('still marks what the source removed when a page was answered [] on the way', async () => {
    const rows = distinctRows(1_030);
    fake = await startFakeSoda({ rows });
    const deps = stepDepsFor(database, fake, { pageSize: 500 });
    await syncInProcess(deps, month);
    const gone = rows.slice(0, 10).map((row) => row.id!);
    fake.removeRows(gone);
    fake.addFault({ kind: 'empty', every: 2, times: 1 });
    const second = await syncInProcess(deps, month);
    expect(second.error).toBeUndefined();
    expect(second.run.rowsDeleted).toBe(10);
    expect(await deletedIds(database)).toEqual(gone.map((id) => String(Number(id))).sort());
  });

  it('reads the window again when a load the guard refused is retried', async () => {
    const rows = distinctRows(1_000);
    fake = await startFakeSoda({ rows });
    const deps = stepDepsFor(database, fake);
    await syncInProcess(deps, month);
    // The source loses the window for a while: listing and count agree on nothing.
    fake.removeRows(rows.map((row) => row.id!));
    const refused = await syncInProcess(deps, month);
    expect(refused.run.state).toBe('failed');
    expect(refused.run.error).toMatch(/answered no rows where we hold 1,000/);

    fake.upsertRows(rows);
    const retried = await runStep('load', deps, { runId: refused.run.id, windowIndex: 0 });
    expect(retried.skipped).toBe(false);
    expect(retried.counts.deleted).toBe(0);
    expect(retried.counts.unchanged).toBe(1_000);
    expect(await deletedIds(database)).toEqual([]);
    const steps = await readStepTotals(database.pool, refused.run.id);
    expect(steps.find((step) => step.step === 'extract')?.rowsOut).toBe(1_000);
  });
});
