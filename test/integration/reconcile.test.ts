import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { incidentAnalytics } from '../../src/analytics/incidents.js';
import { rebuildAnalytics } from '../../src/db/refresh-analytics.js';
import { getDatasetPipeline } from '../../src/pipeline/datasets.js';
import { finishRun, planRun, type RunPlan } from '../../src/pipeline/flow.js';
import { createRun, readRunTotals, stepOrder } from '../../src/pipeline/ledger/index.js';
import { runStep } from '../../src/pipeline/run-step.js';
import { crimeReports } from '../../src/source/datasets/crime-reports.js';
import { pendingChanges, snapshotAnalytics } from '../support/analytics-snapshot.js';
import { generateCrimeReports } from '../support/crime-reports-generator.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import {
  fakeDatasetOf,
  startFakeSoda,
  type FakeSoda,
  type RecordedRequest,
  type SodaRow,
} from '../support/fake-soda/index.js';
import { stepDepsFor, syncInProcess } from '../support/pipeline.js';
import { generatePoliceLog } from '../support/police-log-generator.js';
import { runAccepted, runDetail } from '../../src/http/schemas.js';
import { jobOptionsFor } from '../../src/queue/catalogue.js';
import { jobNameOf } from '../../src/queue/names.js';
import { adminJson, startTestApp, type TestApp } from '../support/http-app.js';
import { startTestQueue, waitFor, waitForRun, type TestQueue } from '../support/queue.js';

/** One version per id, so "rows held" and "rows served" are the same numbers. */
function distinctRows(rows: Iterable<SodaRow>, key = 'id'): SodaRow[] {
  const byKey = new Map<string, SodaRow>();
  for (const row of rows) byKey.set(row[key]!, row);
  return [...byKey.values()];
}

const reconcile: RunPlan = { mode: 'reconcile' };
const year: RunPlan = { mode: 'window', from: '2025-01-01', to: '2026-01-01', windowSize: 'month' };

const sourceRows = distinctRows(
  generatePoliceLog({ seed: 61, rows: 12_400, from: '2025-01-01', to: '2026-01-01' }),
).slice(0, 12_000);

async function deletedIds(database: TestDatabase): Promise<string[]> {
  const { rows } = await database.pool.query<{ id: string }>(
    'select id::text from incidents where deleted_at is not null order by id',
  );
  return rows.map((row) => row.id);
}

async function deletionStamps(database: TestDatabase): Promise<string | null> {
  const { rows } = await database.pool.query<{ stamp: string | null }>(
    `select string_agg(id || ':' || deleted_at::text || ':' || deleted_run_id, ',' order by id) as stamp
       from incidents where deleted_at is not null`,
  );
  return rows[0]!.stamp;
}

/** The maintained analytics equal a rebuild from the table (which counts only rows not deleted). */
async function expectAnalyticsExact(database: TestDatabase): Promise<void> {
  expect(await pendingChanges(database.pool)).toBe(0);
  const kept = await snapshotAnalytics(database.pool);
  await rebuildAnalytics(database.pool, '3gki-wyrb', incidentAnalytics);
  expect(kept).toEqual(await snapshotAnalytics(database.pool));
}

const isCount = (request: RecordedRequest) => /count\(\*\)/.test(request.params.$select ?? '');
const isListing = (request: RecordedRequest) =>
  !isCount(request) && (request.params.$select ?? '').includes(':id');

/** Sorted ids, a share of them from every month (index % step). */
function spreadIds(rows: readonly SodaRow[], step: number, offset: number): string[] {
  return rows
    .filter((_, index) => index % step === offset)
    .map((row) => row.id!)
    .sort();
}

/**
 * A fresh database holding the year of source rows, loaded by a window sync, and the fake SODA
 * server serving them, for one describe block (closed after it); `use` receives both.
 */
function useLoadedYear(use: (loaded: { database: TestDatabase; fake: FakeSoda }) => void): void {
  let loaded: { database: TestDatabase; fake: FakeSoda } | undefined;
  beforeAll(async () => {
    const database = await createTestDatabase();
    const fake = await startFakeSoda({ rows: sourceRows });
    loaded = { database, fake };
    const sync = await syncInProcess(stepDepsFor(database, fake), year, { concurrency: 2 });
    expect(sync.run.rowsInserted).toBe(12_000);
    use(loaded);
  });
  afterAll(async () => {
    await loaded?.fake.close();
    await loaded?.database.drop();
  });
}

describe('reconciliation over the whole Police Log, in-process', () => {
  let database: TestDatabase;
  let fake: FakeSoda;
  const gone = spreadIds(sourceRows, 200, 3);
  useLoadedYear((loaded) => ({ database, fake } = loaded));

  it('finds removals across every window with one listing request and one count', async () => {
    expect(gone).toHaveLength(60);
    const months = new Set(
      sourceRows.filter((row) => gone.includes(row.id!)).map((row) => row.date_time!.slice(0, 7)),
    );
    expect(months.size).toBe(12);
    fake.removeRows(gone);
    fake.requests.length = 0;
    const before = await snapshotAnalytics(database.pool);

    const outcome = await syncInProcess(stepDepsFor(database, fake), reconcile);
    expect(outcome.error).toBeUndefined();
    expect(outcome.run.state).toBe('completed');
    expect(outcome.run.windowCount).toBe(1);
    const { rowsExtracted, rowsInserted, rowsUpdated, rowsUnchanged, rowsDeleted, rowsRestored } =
      outcome.run;
    expect({
      rowsExtracted,
      rowsInserted,
      rowsUpdated,
      rowsUnchanged,
      rowsDeleted,
      rowsRestored,
    }).toEqual({
      rowsExtracted: 11_940,
      rowsInserted: 0,
      rowsUpdated: 0,
      rowsUnchanged: 11_940,
      rowsDeleted: 60,
      rowsRestored: 0,
    });
    expect(await deletedIds(database)).toEqual(gone);

    // The whole year in two requests: one page of keys, then the source's count.
    expect(fake.requests.filter(isListing)).toHaveLength(1);
    expect(fake.requests.filter(isCount)).toHaveLength(1);
    expect(fake.requests).toHaveLength(2);
    expect(fake.requests.at(-1)).toMatchObject({ params: { $select: 'count(*) as count' } });
    const listing = fake.requests.find(isListing)!;
    expect(listing.params).toMatchObject({ $select: 'id, :id', $order: ':id', $limit: '50000' });

    expect(await snapshotAnalytics(database.pool)).not.toEqual(before);
    await expectAnalyticsExact(database);
    const { rows: freshness } = await database.pool.query<{ counted: number; removed: number }>(
      'select incidents::int as counted, removed_incidents::int as removed from analytics.freshness',
    );
    expect(freshness[0]).toEqual({ counted: 11_940, removed: 60 });
    // A key listing is not a sync of content: the last successful sync stays the window run's.
    const { rows: state } = await database.pool.query<{ lastRunId: number }>(
      `select last_run_id::int as "lastRunId" from sync_state where dataset = '3gki-wyrb'`,
    );
    expect(state[0]!.lastRunId).not.toBe(outcome.run.id);
  });

  it('restores a row served again, and running again changes nothing', async () => {
    const back = sourceRows.find((row) => row.id === gone[0])!;
    fake.upsertRows([back]);
    const restored = await syncInProcess(stepDepsFor(database, fake), reconcile);
    expect(restored.run.state).toBe('completed');
    expect(restored.run.rowsRestored).toBe(1);
    expect(restored.run.rowsDeleted).toBe(0);
    expect(await deletedIds(database)).toEqual(gone.slice(1));
    await expectAnalyticsExact(database);

    const analytics = await snapshotAnalytics(database.pool);
    const stamps = await deletionStamps(database);
    const again = await syncInProcess(stepDepsFor(database, fake), reconcile);
    expect(again.run.state).toBe('completed');
    expect([again.run.rowsDeleted, again.run.rowsRestored]).toEqual([0, 0]);
    expect(await deletionStamps(database)).toBe(stamps);
    expect(await snapshotAnalytics(database.pool)).toEqual(analytics);
  });

  it('does not mark a row written after the listing began (a sync running beside it)', async () => {
    const late = sourceRows[5]!.id!;
    fake.removeRows([late]);
    // As if an incremental sync had loaded it while the listing ran.
    await database.pool.query(
      `update incidents set loaded_at = now() + interval '1 hour' where id = $1`,
      [late],
    );
    const outcome = await syncInProcess(stepDepsFor(database, fake), reconcile);
    expect(outcome.run.state).toBe('completed');
    expect(outcome.run.rowsDeleted).toBe(0);
    expect(await deletedIds(database)).not.toContain(late);
    await database.pool.query(`update incidents set loaded_at = now() where id = $1`, [late]);
    fake.upsertRows([sourceRows[5]!]);
  });

  it('lists again when its staged listing was lost before the load (a PostgreSQL crash)', async () => {
    const lost = [sourceRows[7]!.id!, sourceRows[8]!.id!];
    fake.removeRows(lost);
    const deps = stepDepsFor(database, fake);
    const request = await planRun(deps.pool, getDatasetPipeline('police-log'), reconcile, 'cli');
    const { run } = await createRun(deps.pool, request);
    for (const step of stepOrder.slice(0, 3))
      await runStep(step, deps, { runId: run.id, windowIndex: 0 });
    fake.requests.length = 0;
    // Unlogged staging is emptied by a crash; here both the listing and its keys are gone.
    await database.pool.query(
      `drop table staging."raw_r${run.id}_w0", staging."keys_r${run.id}_w0"`,
    );
    await runStep('load', deps, { runId: run.id, windowIndex: 0 });
    expect(await finishRun(deps, run.id)).toBe(true);
    expect((await readRunTotals(deps.pool, run.id)).rowsDeleted).toBe(2);
    expect(await deletedIds(database)).toEqual([...gone.slice(1), ...lost].sort());
    expect(fake.requests.filter(isListing)).toHaveLength(1);
    const { rows } = await database.pool.query<{ attempts: number }>(
      `select attempts from pipeline_steps where run_id = $1 and step = 'extract'`,
      [run.id],
    );
    expect(rows[0]!.attempts).toBe(2);
    await expectAnalyticsExact(database);
  });
});

describe('a key listing cut short', () => {
  let database: TestDatabase;
  let fake: FakeSoda;
  const gone = spreadIds(sourceRows, 300, 11);
  useLoadedYear((loaded) => {
    ({ database, fake } = loaded);
    fake.removeRows(gone);
  });
  beforeEach(() => {
    fake.clearFaults();
    fake.requests.length = 0;
  });

  it('fails, marking nothing, when its pages keep coming back empty', async () => {
    // Pages of 5,000 keys: the second and third answer `[]`, as if the listing had ended.
    fake.addFault({ kind: 'empty', selectIncludes: ':id', offsetAtLeast: 4_000 });
    const before = await snapshotAnalytics(database.pool);
    const outcome = await syncInProcess(
      stepDepsFor(database, fake, { pageSize: 5_000 }),
      reconcile,
    );
    expect(outcome.run.state).toBe('failed');
    expect(String(outcome.error)).toMatch(
      /key listing of 3gki-wyrb was not exact in 3 tries \(last: the page from row 4,999 came back empty after a full one \(cut short\)\)/,
    );
    expect(String(outcome.error)).toMatch(/nothing was marked deleted/);
    expect(outcome.run.error).toMatch(/window 0, extract: the key listing/);
    expect(outcome.run.rowsDeleted).toBe(0);
    expect(await deletedIds(database)).toEqual([]);
    expect(await snapshotAnalytics(database.pool)).toEqual(before);
    expect(fake.requests.filter(isListing)).toHaveLength(3 * 2);
  });

  it('retries throttling, dropped connections and an empty page, and ends exact', async () => {
    fake.addFault({ kind: 'empty', selectIncludes: ':id', offsetAtLeast: 4_000, times: 1 });
    fake.addFault({ kind: 'drop-mid-body', selectIncludes: ':id', offsetAtLeast: 4_000, times: 1 });
    fake.addFault({ kind: ['429', '429-retry-after', 'drop'], every: 2, times: 3 });
    const outcome = await syncInProcess(
      stepDepsFor(database, fake, { pageSize: 5_000 }),
      reconcile,
    );
    expect(outcome.error).toBeUndefined();
    expect(outcome.run.state).toBe('completed');
    expect(outcome.run.rowsDeleted).toBe(40);
    expect(await deletedIds(database)).toEqual(gone);
    await expectAnalyticsExact(database);
    const faulted = fake.requests.filter((request) => request.fault !== undefined);
    expect(faulted.map((request) => request.fault).sort()).toEqual(
      ['429', '429-retry-after', 'drop', 'drop-mid-body', 'empty'].sort(),
    );
    // The first listing came back short (the empty page) and was asked again from its start.
    const firstPages = fake.requests.filter(
      (request) => isListing(request) && request.params.$offset === '0' && request.status === 200,
    );
    expect(firstPages).toHaveLength(2);
  });
});

describe('a source that changes between two pages of the listing', () => {
  let database: TestDatabase;
  let fake: FakeSoda;
  useLoadedYear((loaded) => ({ database, fake } = loaded));

  it('is noticed by the pages’ overlap, though the counts add up, and listed again', async () => {
    const byRowId = [...fake.listRows()].sort((a, b) => (a[':id']! < b[':id']! ? -1 : 1));
    const removed = byRowId[10]!.id!;
    // Would be skipped by plain offset paging: the first row of the second page, once one row
    // before it is gone.
    const shifted = byRowId[5_000]!.id!;
    const deps = stepDepsFor(database, fake, { pageSize: 5_000 });
    let pagesServed = 0;
    const source = {
      ...deps.source,
      page: async (...args: Parameters<typeof deps.source.page>) => {
        const page = await deps.source.page(...args);
        if (++pagesServed === 1) {
          // One row removed before the next page, one added after it: the count stays 12,000.
          fake.removeRows([removed]);
          fake.upsertRows([{ ...sourceRows[0]!, id: '29999999', ':id': 'row-zzzz.zzzz_zzzz' }]);
        }
        return page;
      },
    };
    fake.requests.length = 0;
    const outcome = await syncInProcess({ ...deps, source }, reconcile);
    expect(outcome.error).toBeUndefined();
    expect(outcome.run.rowsDeleted).toBe(1);
    expect(await deletedIds(database)).toEqual([removed]);
    expect(await deletedIds(database)).not.toContain(shifted);
    const firstPages = fake.requests.filter(
      (request) => isListing(request) && request.params.$offset === '0',
    );
    expect(firstPages).toHaveLength(2);
  });
});

describe('the delete guard of a reconciliation', () => {
  let database: TestDatabase;
  let fake: FakeSoda;
  const many = spreadIds(sourceRows, 10, 4);
  useLoadedYear((loaded) => ({ database, fake } = loaded));

  it('refuses to mark more than DELETE_GUARD of what we hold, until confirmed', async () => {
    fake.removeRows(many);
    const before = await snapshotAnalytics(database.pool);
    const refused = await syncInProcess(stepDepsFor(database, fake), reconcile);
    expect(refused.run.state).toBe('failed');
    expect(String(refused.error)).toMatch(
      /reconciliation run \d+ of 3gki-wyrb \(every row we hold\): the source no longer serves 1,200 of the 12,000 rows we hold there \(10%, more than DELETE_GUARD allows: 5\.0%\)/,
    );
    expect(String(refused.error)).toMatch(/cpd reconcile --allow-deletes/);
    expect(String(refused.error)).toMatch(/POST \/api\/reconciliations with "allowDeletes": true/);
    expect(refused.run.rowsDeleted).toBe(0);
    expect(await deletedIds(database)).toEqual([]);
    expect(await snapshotAnalytics(database.pool)).toEqual(before);

    const confirmed = await syncInProcess(stepDepsFor(database, fake), {
      ...reconcile,
      allowDeletes: true,
    });
    expect(confirmed.error).toBeUndefined();
    expect(confirmed.run.rowsDeleted).toBe(1_200);
    expect(await deletedIds(database)).toEqual(many);
    await expectAnalyticsExact(database);
  });

  it('refuses a source that lists no keys at all while we hold rows', async () => {
    const empty = await startFakeSoda({ rows: [] });
    try {
      const refused = await syncInProcess(stepDepsFor(database, empty), reconcile);
      expect(refused.run.state).toBe('failed');
      expect(String(refused.error)).toMatch(
        /the source answered no rows where we hold 10,800; .* nothing was changed\. If the source really removed them, run it again confirming it: cpd reconcile --allow-deletes/,
      );
      expect(await deletedIds(database)).toEqual(many);
    } finally {
      await empty.close();
    }
  });
});

describe('reconciliation on the queue', () => {
  let database: TestDatabase;
  let fake: FakeSoda;
  let queue: TestQueue;
  const gone = spreadIds(sourceRows, 250, 17);
  useLoadedYear((loaded) => ({ database, fake } = loaded));
  beforeAll(() => {
    queue = startTestQueue(database, fake);
  });
  afterAll(async () => {
    await queue.close();
  });

  it('runs as one chain of four jobs, dedupes a second request, and marks what is gone', async () => {
    fake.removeRows(gone);
    fake.requests.length = 0;
    const first = await queue.orchestrator.requestRun(reconcile, 'api');
    const second = await queue.orchestrator.requestRun(reconcile, 'schedule');
    expect(first.created).toBe(true);
    expect(second.created).toBe(false);
    expect(second.run.id).toBe(first.run.id);
    const totals = await waitForRun(database.pool, first.run.id);
    expect(totals.state).toBe('completed');
    expect(totals.rowsDeleted).toBe(48);
    expect(await deletedIds(database)).toEqual(gone);
    expect(fake.requests.filter(isListing)).toHaveLength(1);
    await expectAnalyticsExact(database);

    const { rows: steps } = await database.pool.query<{ step: string; jobId: string }>(
      `select step, job_id as "jobId" from pipeline_steps where run_id = $1 order by id`,
      [first.run.id],
    );
    expect(steps.map((step) => step.step)).toEqual(['extract', 'validate', 'transform', 'load']);
    expect(steps.every((step) => step.jobId === `run-${first.run.id}-w0-${step.step}`)).toBe(true);

    const again = await queue.orchestrator.requestRun(reconcile, 'api');
    expect(again.created).toBe(true);
    const repeated = await waitForRun(database.pool, again.run.id);
    expect([repeated.state, repeated.rowsDeleted, repeated.rowsRestored]).toEqual([
      'completed',
      0,
      0,
    ]);
  });

  it('retries a listing that stayed broken through its first extract attempt', async () => {
    const back = sourceRows.find((row) => row.id === gone[0])!;
    fake.upsertRows([back]);
    // Every listing of the first extract attempt (three tries) comes back empty; then none.
    fake.addFault({ kind: 'empty', selectIncludes: ':id', times: 3 });
    const { run } = await queue.orchestrator.requestRun(reconcile, 'api');
    const totals = await waitForRun(database.pool, run.id);
    expect(totals.state).toBe('completed');
    expect([totals.rowsDeleted, totals.rowsRestored]).toEqual([0, 1]);
    const { rows } = await database.pool.query<{ attempts: number }>(
      `select attempts from pipeline_steps where run_id = $1 and step = 'extract'`,
      [run.id],
    );
    expect(rows[0]!.attempts).toBe(2);
  });
});

describe('reconciliation asked for through the API, and on its schedule', () => {
  let database: TestDatabase;
  let fake: FakeSoda;
  let queue: TestQueue;
  let app: TestApp;
  const small = distinctRows(generatePoliceLog({ seed: 67, rows: 1_000 }));
  beforeAll(async () => {
    database = await createTestDatabase();
    fake = await startFakeSoda({ rows: small });
    const loaded = await syncInProcess(stepDepsFor(database, fake), {
      mode: 'window',
      from: '2020-01-01',
      to: '2030-01-01',
      windowSize: 'all',
    });
    expect(loaded.run.rowsInserted).toBe(small.length);
    queue = startTestQueue(database, fake);
    app = await startTestApp(database, queue.orchestrator);
  });
  afterAll(async () => {
    await app.close();
    await queue.close();
    await fake.close();
    await database.drop();
  });
  const post = (body?: unknown) =>
    fetch(`${app.url}/api/reconciliations`, {
      method: 'POST',
      headers: adminJson(),
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });

  it('POST /api/reconciliations enqueues one, refusing bad fields', async () => {
    const bad = await post({ allowDeletes: 'yes', window: 'month' });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toMatch(/allowDeletes/);

    fake.removeRows([small[0]!.id!, small[1]!.id!]);
    const response = await post();
    expect(response.status).toBe(202);
    const accepted = runAccepted.parse(await response.json());
    expect(accepted).toMatchObject({ created: true, windows: 1 });
    expect(response.headers.get('location')).toBe(`/api/runs/${accepted.runId}`);
    expect((await waitForRun(database.pool, accepted.runId)).state).toBe('completed');
    const detail = runDetail.parse(
      await (await fetch(`${app.url}/api/runs/${accepted.runId}`)).json(),
    );
    expect(detail).toMatchObject({ mode: 'reconcile', trigger: 'api', range: null });
    expect(detail.counts).toMatchObject({ deleted: 2, restored: 0, inserted: 0 });
    expect(detail.windows[0]!.steps.map((step) => step.step)).toEqual([
      'extract',
      'validate',
      'transform',
      'load',
    ]);
  });

  it('its scheduled trigger job plans a reconciliation of the dataset', async () => {
    fake.upsertRows([small[0]!]);
    await queue.orchestrator.queues.flows.add(
      jobNameOf('reconcile-trigger', 'police-log'),
      { dataset: '3gki-wyrb' },
      jobOptionsFor('reconcile-trigger', 0.001),
    );
    let runId = 0;
    await waitFor(async () => {
      const { rows } = await database.pool.query<{ id: number }>(
        `select id::int from pipeline_runs where mode = 'reconcile' and trigger = 'schedule'`,
      );
      runId = rows[0]?.id ?? 0;
      return runId > 0;
    });
    const totals = await waitForRun(database.pool, runId);
    expect([totals.state, totals.rowsRestored, totals.rowsDeleted]).toEqual(['completed', 1, 0]);
  });
});

describe('reconciliation of Crime Reports (key file_number, beside :id)', () => {
  const crimeRows = distinctRows(generateCrimeReports({ seed: 23, rows: 3_000 }), 'file_number');
  let database: TestDatabase;
  let fake: FakeSoda;
  beforeAll(async () => {
    database = await createTestDatabase();
    fake = await startFakeSoda({ rows: [], datasets: [fakeDatasetOf(crimeReports, crimeRows)] });
  });
  afterAll(async () => {
    await fake.close();
    await database.drop();
  });

  it('lists file numbers and marks the removed ones', async () => {
    const deps = stepDepsFor(database, fake);
    const loaded = await syncInProcess(
      deps,
      { mode: 'window', from: '2000-01-01', to: '2030-01-01', windowSize: 'all' },
      { dataset: 'crime-reports' },
    );
    expect(loaded.run.state).toBe('completed');
    const held = loaded.run.rowsInserted;
    const gone = crimeRows
      .filter((_, index) => index % 100 === 9)
      .map((row) => row.file_number!)
      .sort();
    fake.dataset(crimeReports.id).removeRows(gone);
    fake.requests.length = 0;
    const outcome = await syncInProcess(deps, reconcile, { dataset: 'crime-reports' });
    expect(outcome.error).toBeUndefined();
    expect(outcome.run.rowsDeleted).toBe(gone.length);
    expect(outcome.run.rowsUnchanged).toBe(held - gone.length);
    const listing = fake.requests.find(isListing)!;
    expect(listing.path).toBe('/resource/xuad-73uj.json');
    expect(listing.params.$select).toBe('file_number, :id');
    const { rows } = await database.pool.query<{ fileNumber: string }>(
      `select file_number as "fileNumber" from crime_reports where deleted_at is not null order by file_number`,
    );
    expect(rows.map((row) => row.fileNumber)).toEqual(gone);
  });
});
