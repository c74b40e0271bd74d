import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startFakeSoda, type FakeSoda, type SodaRow } from '../support/fake-soda/index.js';
import { generatePoliceLog } from '../support/police-log-generator.js';
import { getDatasetPipeline } from '../../src/pipeline/datasets.js';
import { planRun } from '../../src/pipeline/flow.js';
import { createRun } from '../../src/pipeline/ledger/index.js';
import { runStep } from '../../src/pipeline/run-step.js';
import { incremental, stepDepsFor, syncInProcess, wholeRange } from '../support/pipeline.js';

const sourceRows = [...generatePoliceLog({ seed: 11, rows: 10_000 })];
const distinctIds = new Set(sourceRows.map((row) => row.id)).size;

async function incidentCount(database: TestDatabase): Promise<number> {
  const { rows } = await database.pool.query<{ count: number }>(
    'select count(*)::int as count from incidents',
  );
  return rows[0]!.count;
}

describe('a window sync of generated data', () => {
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

  it('loads exactly the distinct ids, resolving repeats to the latest stamp', async () => {
    expect(distinctIds).toBeLessThan(sourceRows.length); // the generator repeats some ids
    const { run, error } = await syncInProcess(
      stepDepsFor(database, fake, { pageSize: 3_000 }),
      wholeRange,
    );
    expect(error).toBeUndefined();
    expect(run.state).toBe('completed');
    expect(run.rowsExtracted).toBe(sourceRows.length);
    expect(run.rowsInserted).toBe(distinctIds);
    expect(run.rowsDuplicate).toBe(sourceRows.length - distinctIds);
    expect(await incidentCount(database)).toBe(distinctIds);

    // For every repeated id, the stored row is the version with the latest last_updated.
    const latest = new Map<string, SodaRow>();
    for (const row of sourceRows) {
      const seen = latest.get(row.id!);
      if (!seen || row.last_updated! >= seen.last_updated!) latest.set(row.id!, row);
    }
    const repeated = [...latest.keys()].filter(
      (id) => sourceRows.filter((row) => row.id === id).length > 1,
    );
    expect(repeated.length).toBeGreaterThan(0);
    const { rows } = await database.pool.query<{ id: string; stamp: string }>(
      `select id::text, to_char(source_updated_at at time zone 'America/New_York', 'YYYY-MM-DD"T"HH24:MI:SS.MS') as stamp
         from incidents where id = any($1::bigint[])`,
      [repeated],
    );
    for (const row of rows) expect(row.stamp).toBe(latest.get(row.id)!.last_updated);
  });

  it('changes nothing when run again, and leaves the analytics views alone', async () => {
    const analytics = async () =>
      (
        await database.pool.query<{ incidents: number; refreshed: string }>(
          `select incidents::int, analytics_refreshed_at::text as refreshed from analytics.freshness`,
        )
      ).rows[0]!;
    const before = await analytics();
    expect(before.incidents).toBe(distinctIds); // the first run's load noted its change
    const { run } = await syncInProcess(stepDepsFor(database, fake), wholeRange);
    expect(run.state).toBe('completed');
    expect(run.rowsInserted).toBe(0);
    expect(run.rowsUpdated).toBe(0);
    expect(run.rowsUnchanged).toBe(distinctIds);
    // A replay notes nothing, so the refresh after it has nothing to do.
    expect(await analytics()).toEqual(before);
  });

  it('leaves the cursor alone in window mode, and an incremental sync picks up exactly what changed', async () => {
    const before = await database.pool.query<{ cursor: string | null }>(
      'select cursor from sync_state where dataset = $1',
      ['3gki-wyrb'],
    );
    expect(before.rows[0]?.cursor ?? null).toBeNull();

    // First incremental run: no cursor yet, so it reads everything and changes nothing.
    const first = await syncInProcess(stepDepsFor(database, fake), incremental);
    expect(first.run).toMatchObject({ state: 'completed', rowsInserted: 0, rowsUpdated: 0 });
    const cursor = (await database.pool.query<{ cursor: string }>('select cursor from sync_state'))
      .rows[0]!.cursor;
    expect(cursor).toBe(
      [...sourceRows]
        .map((row) => row.last_updated!)
        .sort()
        .at(-1),
    );

    // Five rows corrected (new content, a later stamp) and three new ones, as a publish batch would.
    const later = '2026-06-01T15:00:07.000'; // after every stamp the generator makes
    expect(later > cursor).toBe(true);
    const changed = [...new Map(sourceRows.map((row) => [row.id!, row])).values()]
      .slice(100, 105)
      .map((row): SodaRow => ({
        ...row,
        description: `${row.description ?? ''} Corrected.`,
        last_updated: later,
      }));
    const added = [1, 2, 3].map((n) => ({
      date_time: `2026-01-2${n}T10:00:00.000`,
      id: `2609990${n}`,
      type: 'INCIDENT',
      subtype: 'LARCENY FROM BUILDING C266 S20',
      location: 'MASSACHUSETTS AVE',
      description: `New report ${n}.`,
      last_updated: later,
    }));
    fake.upsertRows([...changed, ...added]);

    const second = await syncInProcess(stepDepsFor(database, fake), incremental);
    expect(second.run).toMatchObject({ state: 'completed', rowsInserted: 3, rowsUpdated: 5 });
    expect(await incidentCount(database)).toBe(distinctIds + 3);
    const { rows } = await database.pool.query<{ description: string }>(
      'select description from incidents where id = any($1::bigint[])',
      [changed.map((row) => row.id)],
    );
    expect(rows.every((row) => row.description.endsWith('Corrected.'))).toBe(true);
    expect(
      (await database.pool.query<{ cursor: string }>('select cursor from sync_state')).rows[0]
        ?.cursor,
    ).toBe(later);
  });
});

/** Twenty malformed rows of different kinds. */
function malformedRows(stamp = '2025-06-03T15:00:00.000'): Record<string, unknown>[] {
  const good = {
    date_time: '2025-06-01T12:00:00.000',
    type: 'INCIDENT',
    subtype: 'LARCENY FROM BUILDING C266 S20',
    location: 'MAIN ST',
    description: 'Police responded.',
    last_updated: stamp,
  };
  const id = (n: number) => `2590${String(n).padStart(4, '0')}`;
  return [
    { ...good, id: id(1), date_time: undefined },
    { ...good, id: id(2), date_time: '2025-13-01T00:00:00.000' },
    { ...good, id: id(3), date_time: '2025-02-29T10:00:00.000' },
    { ...good, id: id(4), date_time: 'yesterday' },
    { ...good, id: '25A00005' },
    { ...good, id: '' },
    { ...good, id: undefined },
    { ...good, id: id(8), description: 'x'.repeat(20_000) },
    { ...good, id: id(9), location: 'y'.repeat(2_000) },
    { ...good, id: id(10), subtype: 'z'.repeat(600) },
    { ...good, id: id(11), description: 'before\u0000after' },
    { ...good, id: id(12), type: 'INCI\u0000DENT' },
    { ...good, id: id(13), type: 7 },
    { ...good, id: id(14), type: { name: 'INCIDENT' } },
    { ...good, id: id(15), type: '   ' },
    { ...good, id: id(16), type: undefined },
    { ...good, id: id(17), last_updated: undefined },
    { ...good, id: id(18), last_updated: '2025-06-03 15:00' },
    { ...good, id: id(19), location: ['MAIN ST'] },
    { ...good, id: id(20), description: true },
  ].map((row) =>
    Object.fromEntries(Object.entries(row).filter(([, value]) => value !== undefined)),
  );
}

describe('bad rows', () => {
  let database: TestDatabase;
  afterAll(async () => {
    await database?.drop();
  });

  it('are quarantined with their reasons while the rest loads', async () => {
    database = await createTestDatabase();
    const good = [...generatePoliceLog({ seed: 5, rows: 1_000 })];
    const bad = malformedRows();
    const fake = await startFakeSoda({ rows: [...good, ...(bad as SodaRow[])] });
    try {
      const { run, error } = await syncInProcess(stepDepsFor(database, fake), incremental);
      expect(error).toBeUndefined();
      expect(run.state).toBe('completed');
      expect(run.rowsRejected).toBe(20);
      expect(await incidentCount(database)).toBe(new Set(good.map((row) => row.id)).size);

      const { rows } = await database.pool.query<{ reason: string; count: number }>(
        'select reason, count(*)::int as count from rejected_records group by reason order by reason',
      );
      expect(Object.fromEntries(rows.map((row) => [row.reason, row.count]))).toEqual({
        bad_timestamp: 4,
        missing_field: 6,
        nul_byte: 2,
        non_numeric_id: 1,
        text_too_long: 3,
        wrong_type: 4,
      });
      // The payload is kept whole (NULs shown as U+FFFD, and said so).
      const nul = await database.pool.query<{ payload: { description: string }; detail: string }>(
        `select payload, detail from rejected_records where source_key = '25900011'`,
      );
      expect(nul.rows[0]!.payload.description).toBe('before\uFFFDafter');
      expect(nul.rows[0]!.detail).toMatch(/NUL/);
      const long = await database.pool.query<{ length: number }>(
        `select length(payload->>'description')::int as length from rejected_records where source_key = '25900008'`,
      );
      expect(long.rows[0]!.length).toBe(20_000);
    } finally {
      await fake.close();
    }
  });

  it('fail the run past the threshold, naming the share, and leave the table as it was', async () => {
    const before = await database.pool.query(
      'select id, source_updated_at from incidents order by id',
    );
    // Stamped after the cursor the first sync left, so the incremental run reads them all.
    const stamp = '2027-03-01T15:00:00.000';
    const good = [...generatePoliceLog({ seed: 6, rows: 100 })].map((row) => ({
      ...row,
      last_updated: stamp,
    }));
    const fake = await startFakeSoda({ rows: [...good, ...(malformedRows(stamp) as SodaRow[])] });
    try {
      const { run, error } = await syncInProcess(
        stepDepsFor(database, fake, { rejectThreshold: 0.05 }),
        incremental,
      );
      expect(run.state).toBe('failed');
      // The two rows without a usable last_updated are not in an incremental pull (the source's
      // own filter leaves them out), so 18 of the 20 are in: 18 of 118 rows.
      expect(String(error)).toMatch(/15\.3% of the window's rows were rejected \(18 of 118/);
      expect(run.error).toMatch(/validate: 15\.3%/);
      const after = await database.pool.query(
        'select id, source_updated_at from incidents order by id',
      );
      expect(after.rows).toEqual(before.rows);
      // The quarantine of the failed run is kept, for reading the reasons.
      const kept = await database.pool.query<{ count: number }>(
        'select count(*)::int as count from rejected_records where run_id = $1',
        [run.id],
      );
      expect(kept.rows[0]!.count).toBe(18);
    } finally {
      await fake.close();
    }
  });
});

describe('schema drift', () => {
  let database: TestDatabase;
  let fake: FakeSoda;
  beforeAll(async () => {
    database = await createTestDatabase();
    fake = await startFakeSoda({ rows: [...generatePoliceLog({ seed: 3, rows: 200 })] });
  });
  afterAll(async () => {
    await fake.close();
    await database.drop();
  });

  it('records a new source field on the run and loads', async () => {
    fake.setFields([
      'date_time',
      'id',
      'type',
      'subtype',
      'location',
      'description',
      'last_updated',
      'neighborhood',
    ]);
    const { run } = await syncInProcess(stepDepsFor(database, fake), wholeRange);
    expect(run.state).toBe('completed');
    expect(run.sourceFieldsAdded).toEqual(['neighborhood']);
  });

  it('fails the run when a required field disappears from the source', async () => {
    fake.setFields(['id', 'type', 'subtype', 'location', 'description', 'last_updated']);
    const { run, error } = await syncInProcess(stepDepsFor(database, fake), {
      ...wholeRange,
      from: '2020-01-02',
    });
    expect(run.state).toBe('failed');
    expect(String(error)).toMatch(/no longer has the required field date_time/);
  });
});

describe('steps out of order', () => {
  it('refuses a step whose previous step has not completed, saying which to retry', async () => {
    const database = await createTestDatabase();
    const fake = await startFakeSoda({ rows: [...generatePoliceLog({ seed: 4, rows: 50 })] });
    try {
      const deps = stepDepsFor(database, fake);
      const request = await planRun(
        database.pool,
        getDatasetPipeline('3gki-wyrb'),
        wholeRange,
        'api',
      );
      const { run } = await createRun(database.pool, request);
      await runStep('extract', deps, { runId: run.id, windowIndex: 0 });
      await expect(runStep('transform', deps, { runId: run.id, windowIndex: 0 })).rejects.toThrow(
        /transform of window 0 of run \d+ cannot run before validate, which is scheduled; retry the failed validate/,
      );
      const { rows } = await database.pool.query<{ step: string; state: string }>(
        `select step, state from pipeline_steps where run_id = $1 order by step`,
        [run.id],
      );
      expect(rows.find((row) => row.step === 'transform')?.state).toBe('scheduled');
    } finally {
      await fake.close();
      await database.drop();
    }
  });
});

describe('staging lost between steps (as a PostgreSQL crash empties unlogged tables)', () => {
  it('is rebuilt from the source before the next step reads it, and the load is exact', async () => {
    const database = await createTestDatabase();
    const rows = [...generatePoliceLog({ seed: 12, rows: 800 })];
    const fake = await startFakeSoda({ rows });
    try {
      const deps = stepDepsFor(database, fake);
      const request = await planRun(
        database.pool,
        getDatasetPipeline('3gki-wyrb'),
        wholeRange,
        'api',
      );
      const { run } = await createRun(database.pool, request);
      const step = (name: 'extract' | 'validate' | 'transform' | 'load') =>
        runStep(name, deps, { runId: run.id, windowIndex: 0 });
      await step('extract');
      await step('validate');
      await step('transform');
      // Every staging table of the window emptied, as crash recovery does to unlogged tables.
      await database.pool.query(
        `truncate staging."raw_r${run.id}_w0", staging."skip_r${run.id}_w0", staging."clean_r${run.id}_w0"`,
      );
      const load = await step('load');
      const distinct = new Set(rows.map((row) => row.id)).size;
      expect(load.counts).toMatchObject({ inserted: distinct, extracted: rows.length });
      const { rows: attempts } = await database.pool.query<{
        step: string;
        attempts: number;
        state: string;
      }>('select step, attempts, state from pipeline_steps where run_id = $1 order by step', [
        run.id,
      ]);
      expect(
        Object.fromEntries(attempts.map((row) => [row.step, [row.state, row.attempts]])),
      ).toEqual({
        extract: ['completed', 2],
        validate: ['completed', 2],
        transform: ['completed', 2],
        load: ['completed', 1],
      });
      const { rows: counted } = await database.pool.query<{ count: number }>(
        'select count(*)::int as count from incidents',
      );
      expect(counted[0]!.count).toBe(distinct);
    } finally {
      await fake.close();
      await database.drop();
    }
  });
});

describe('repeated ids', () => {
  it('keep the latest version, whichever way it was staged, and the later row on equal stamps', async () => {
    const database = await createTestDatabase();
    const base = { date_time: '2025-05-01T10:00:00.000', type: 'INCIDENT', location: 'MAIN ST' };
    const rows = [
      { ...base, id: '25000001', description: 'first', last_updated: '2025-05-02T15:00:00.000' },
      // Later stamp, and a null the columns cannot hold: staged whole as JSON.
      {
        ...base,
        id: '25000001',
        description: 'second',
        subtype: null,
        last_updated: '2025-05-09T15:00:00.000',
      },
      { ...base, id: '25000001', description: 'older', last_updated: '2025-05-03T15:00:00.000' },
      { ...base, id: '25000002', description: 'tie one', last_updated: '2025-05-02T15:00:00.000' },
      { ...base, id: '25000002', description: 'tie two', last_updated: '2025-05-02T15:00:00.000' },
    ];
    const fake = await startFakeSoda({ rows: rows as unknown as SodaRow[] });
    try {
      const { run } = await syncInProcess(stepDepsFor(database, fake), wholeRange);
      expect(run).toMatchObject({
        state: 'completed',
        rowsInserted: 2,
        rowsDuplicate: 3,
        rowsRejected: 0,
      });
      const { rows: stored } = await database.pool.query<{ id: string; description: string }>(
        'select id::text, description from incidents order by id',
      );
      // A window is read in :id order, as Socrata pages; the tie goes to the row served later.
      const served = fake
        .listRows()
        .filter((row) => row.id === '25000002')
        .sort((a, b) => (a[':id']! < b[':id']! ? -1 : 1))
        .map((row) => row.description);
      expect(stored).toEqual([
        { id: '25000001', description: 'second' },
        { id: '25000002', description: served.at(-1) },
      ]);
    } finally {
      await fake.close();
      await database.drop();
    }
  });
});
