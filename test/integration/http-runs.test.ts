import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  retryAccepted,
  runAccepted,
  runDetail,
  runList,
  type RunDetail,
} from '../../src/http/schemas.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startFakeSoda, type FakeSoda } from '../support/fake-soda/index.js';
import { adminJson, startTestApp, testAdminToken, type TestApp } from '../support/http-app.js';
import { generatePoliceLog } from '../support/police-log-generator.js';
import { startTestQueue, waitFor, type TestQueue } from '../support/queue.js';

const rows = [...generatePoliceLog({ seed: 61, rows: 3_000 })];
const firstHalf = { from: '2025-01-01', to: '2025-07-01', window: 'month' };
const expectedIds = new Set(
  rows
    .filter((row) => row.date_time! >= '2025-01-01' && row.date_time! < '2025-07-01')
    .map((row) => row.id),
).size;

describe('runs through the HTTP API, with workers', () => {
  let fake: FakeSoda;
  let database: TestDatabase;
  let queue: TestQueue;
  let app: TestApp;

  const post = (path: string, body?: unknown) =>
    fetch(`${app.url}${path}`, {
      method: 'POST',
      headers: adminJson(),
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
  const getRun = async (id: number): Promise<RunDetail> => {
    // As an admin: anonymous callers see errors only as a code and a generic sentence.
    const response = await fetch(`${app.url}/api/runs/${id}`, {
      headers: { authorization: `Bearer ${testAdminToken}` },
    });
    expect(response.status).toBe(200);
    // The response is what the OpenAPI document says it is.
    return runDetail.parse(await response.json());
  };
  const waitForState = async (id: number, states: string[]) => {
    let run: RunDetail | undefined;
    await waitFor(
      async () => states.includes((run = await getRun(id)).state),
      60_000,
      `run ${id} in ${states.join('/')}`,
    );
    return run!;
  };

  beforeAll(async () => {
    fake = await startFakeSoda({ rows });
    database = await createTestDatabase();
    queue = startTestQueue(database, fake);
    app = await startTestApp(database, queue.orchestrator);
  });
  afterEach(() => fake.clearFaults());
  afterAll(async () => {
    await app?.close();
    await queue?.close();
    await database?.drop();
    await fake?.close();
  });

  it('runs a backfill to completion and shows each step with its state and counts', async () => {
    const response = await post('/api/backfills', firstHalf);
    expect(response.status).toBe(202);
    const accepted = runAccepted.parse(await response.json());
    expect(accepted).toMatchObject({ created: true, windows: 6 });
    expect(response.headers.get('location')).toBe(`/api/runs/${accepted.runId}`);

    const run = await waitForState(accepted.runId, ['completed', 'failed']);
    expect(run.state).toBe('completed');
    expect(run.range).toEqual({ from: '2025-01-01', to: '2025-07-01', window: 'month' });
    expect(run.counts.inserted).toBe(expectedIds);
    expect(run).toMatchObject({ stepsCompleted: 24, stepsTotal: 24, trigger: 'api', error: null });
    expect(run.windows.map((window) => [window.index, window.start, window.state])).toEqual([
      [0, '2025-01-01T00:00:00', 'completed'],
      [1, '2025-02-01T00:00:00', 'completed'],
      [2, '2025-03-01T00:00:00', 'completed'],
      [3, '2025-04-01T00:00:00', 'completed'],
      [4, '2025-05-01T00:00:00', 'completed'],
      [5, '2025-06-01T00:00:00', 'completed'],
    ]);
    for (const window of run.windows) {
      expect(window.steps.map((step) => step.step)).toEqual([
        'extract',
        'validate',
        'transform',
        'load',
      ]);
      for (const step of window.steps) {
        expect(step).toMatchObject({ state: 'completed', attempts: 1 });
        expect(step.counts).not.toBeNull();
        expect(step.durationMs).not.toBeNull();
      }
    }
    const loaded = run.windows.reduce(
      (sum, window) => sum + (window.steps[3]!.counts?.inserted ?? 0),
      0,
    );
    expect(loaded).toBe(expectedIds);
    expect(run.rejected.total).toBe(run.counts.rejected);
  });

  it('returns the active run (200) for the same range instead of adding work', async () => {
    const range = { from: '2025-07-01', to: '2025-09-01' };
    const first = await post('/api/backfills', range);
    const second = await post('/api/backfills', { ...range, window: 'month' });
    expect(first.status).toBe(202);
    expect(second.status).toBe(200);
    const [a, b] = [runAccepted.parse(await first.json()), runAccepted.parse(await second.json())];
    expect(b).toMatchObject({ runId: a.runId, created: false });
    expect((await waitForState(a.runId, ['completed', 'failed'])).state).toBe('completed');
    const { rows: runs } = await database.pool.query<{ count: number }>(
      `select count(*)::int as count from pipeline_runs where range_from = '2025-07-01'`,
    );
    expect(runs[0]!.count).toBe(1);
  });

  it('fails the run when a window fails for good, and a retry through the API resumes it', async () => {
    // The source refuses October's query every time.
    fake.addFault({ kind: '400', whereIncludes: "date_time >= '2025-10-01T00:00:00.000'" });
    const response = await post('/api/backfills', { from: '2025-09-01', to: '2025-12-01' });
    const { runId } = runAccepted.parse(await response.json());
    await waitFor(
      async () => {
        const run = await getRun(runId);
        return (
          run.state === 'failed' &&
          run.windows.filter((window) => window.state === 'completed').length === 2
        );
      },
      60_000,
      'the other windows done and the run failed',
    );

    const failed = await getRun(runId);
    expect(failed.error).toMatch(/window 1, extract: .*400/);
    const october = failed.windows[1]!;
    expect(october).toMatchObject({ start: '2025-10-01T00:00:00', state: 'failed' });
    expect(october.steps[0]).toMatchObject({
      step: 'extract',
      state: 'failed',
      attempts: 1,
      error: expect.stringMatching(/400/) as string,
    });
    expect(october.steps.slice(1).every((step) => step.state === 'scheduled')).toBe(true);

    // Not failed: nothing to retry.
    const completedRun = (await fetch(`${app.url}/api/runs?state=completed&limit=1`).then((r) =>
      r.json(),
    )) as { runs: { id: number }[] };
    const conflict = await post(`/api/runs/${completedRun.runs[0]!.id}/retry`);
    expect(conflict.status).toBe(409);
    expect(((await conflict.json()) as { error: { code: string } }).error.code).toBe(
      'run.not_failed',
    );

    fake.clearFaults();
    const retry = await post(`/api/runs/${runId}/retry`);
    expect(retry.status).toBe(202);
    const retried = retryAccepted.parse(await retry.json());
    // The failed step; the workers retry its failed ancestors as each child completes.
    expect(retried).toMatchObject({
      runId,
      retried: [`run-${runId}-w1-extract`],
      state: 'pending',
    });

    const resumed = await waitForState(runId, ['completed', 'failed']);
    expect(resumed.state, resumed.error ?? '').toBe('completed');
    expect(resumed.windows[1]!.steps[0]).toMatchObject({ state: 'completed', attempts: 2 });
    // The windows that had completed were not run again.
    for (const index of [0, 2])
      expect(resumed.windows[index]!.steps.every((step) => step.attempts === 1)).toBe(true);
  });

  it('runs an incremental sync asked for through the API', async () => {
    const response = await post('/api/syncs');
    expect(response.status).toBe(202);
    const { runId, windows } = runAccepted.parse(await response.json());
    expect(windows).toBe(1);
    const run = await waitForState(runId, ['completed', 'failed']);
    expect(run).toMatchObject({ state: 'completed', mode: 'incremental', range: null });
  });

  it('lists runs newest first, page by page, and by state', async () => {
    const all = runList.parse(await (await fetch(`${app.url}/api/runs`)).json());
    expect(all.runs.length).toBe(4);
    expect(all.next).toBeNull();
    const ids = all.runs.map((run) => run.id);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));

    const seen: number[] = [];
    let next: string | null = '/api/runs?limit=3';
    while (next) {
      const page = runList.parse(await (await fetch(`${app.url}${next}`)).json());
      expect(page.runs.length).toBeLessThanOrEqual(3);
      seen.push(...page.runs.map((run) => run.id));
      next = page.next;
    }
    expect(seen).toEqual(ids);

    const incremental = runList.parse(
      await (await fetch(`${app.url}/api/runs?state=completed&limit=10`)).json(),
    );
    expect(incremental.runs.every((run) => run.state === 'completed')).toBe(true);
    expect(incremental.runs).toHaveLength(4);
    expect(
      runList.parse(await (await fetch(`${app.url}/api/runs?state=failed`)).json()).runs,
    ).toEqual([]);
  });

  it('reports queue counts, durations, rows and freshness in /metrics', async () => {
    const response = await fetch(`${app.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await response.text();
    const value = (pattern: RegExp) => Number(pattern.exec(text)?.[1]);
    expect(value(/^cpd_dependency_up\{dependency="redis"\} (\d+)$/m)).toBe(1);
    // 6 + 2 + 3 backfill windows and 1 incremental: 12 extract jobs completed.
    expect(value(/^cpd_queue_jobs\{queue="extract",state="completed"\} (\d+)$/m)).toBe(12);
    expect(value(/^cpd_queue_jobs\{queue="extract",state="failed"\} (\d+)$/m)).toBe(0);
    expect(value(/^cpd_runs\{dataset="3gki-wyrb",state="completed"\} (\d+)$/m)).toBe(4);
    expect(
      value(
        /^cpd_run_duration_seconds_count\{dataset="3gki-wyrb",mode="window",state="completed"\} (\d+)$/m,
      ),
    ).toBe(3);
    expect(
      value(
        /^cpd_run_duration_seconds_bucket\{dataset="3gki-wyrb",mode="window",state="completed",le="\+Inf"\} (\d+)$/m,
      ),
    ).toBe(3);
    // 12 + 4 windows of 4 steps completed, and October's first extract failed.
    expect(
      value(/^cpd_step_duration_seconds_count\{step="extract",state="completed"\} (\d+)$/m),
    ).toBe(12);
    expect(value(/^cpd_step_duration_seconds_count\{step="load",state="completed"\} (\d+)$/m)).toBe(
      12,
    );
    const { rows: totals } = await database.pool.query<{ inserted: number }>(
      'select sum(rows_inserted)::int as inserted from pipeline_runs',
    );
    expect(value(/^cpd_rows_loaded_total\{dataset="3gki-wyrb",change="inserted"\} (\d+)$/m)).toBe(
      totals[0]!.inserted,
    );
    expect(value(/^cpd_rows_rejected_total\{dataset="3gki-wyrb"\} (\d+)$/m)).toBeGreaterThanOrEqual(
      0,
    );
    const lastSync = value(
      /^cpd_last_successful_sync_timestamp_seconds\{dataset="3gki-wyrb"\} ([\d.e+]+)$/m,
    );
    expect(Math.abs(lastSync - Date.now() / 1000)).toBeLessThan(300);
    expect(
      value(/^cpd_last_successful_sync_age_seconds\{dataset="3gki-wyrb"\} ([\d.e+-]+)$/m),
    ).toBeGreaterThanOrEqual(0);
  });

  it('carries allowDeletes on the run, so the queue load marks what the guard refused', async () => {
    const january = { from: '2025-01-01', to: '2025-02-01', window: 'month' };
    const held = await database.pool.query<{ n: number }>(
      `select count(*)::int as n from incidents
        where occurred_local >= '2025-01-01' and occurred_local < '2025-02-01' and deleted_at is null`,
    );
    expect(held.rows[0]!.n).toBeGreaterThan(0);
    // The source now answers `[]` for January.
    fake.removeRows(
      rows.filter((row) => row.date_time!.startsWith('2025-01')).map((row) => row.id!),
    );

    const refused = runAccepted.parse(await (await post('/api/backfills', january)).json());
    const failed = await waitForState(refused.runId, ['completed', 'failed']);
    expect(failed.state).toBe('failed');
    expect(failed.error).toMatch(
      new RegExp(`answered no rows where we hold ${held.rows[0]!.n.toLocaleString('en-US')}`),
    );
    expect(failed.counts.deleted).toBe(0);

    const badFlag = await post('/api/backfills', { ...january, allowDeletes: 'yes' });
    expect(badFlag.status).toBe(400);
    const confirmed = await post('/api/backfills', { ...january, allowDeletes: true });
    expect(confirmed.status).toBe(202);
    const run = await waitForState(runAccepted.parse(await confirmed.json()).runId, [
      'completed',
      'failed',
    ]);
    expect(run.state).toBe('completed');
    expect(run.counts.deleted).toBe(held.rows[0]!.n);
    expect(run.windows[0]!.steps[3]!.counts?.deleted).toBe(held.rows[0]!.n);
  });
});
