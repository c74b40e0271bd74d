import { Job } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAccepted, runList } from '../../src/http/schemas.js';
import { stepJobId } from '../../src/queue/names.js';
import { crimeReports } from '../../src/source/datasets/crime-reports.js';
import { generateCrimeReports } from '../support/crime-reports-generator.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { fakeDatasetOf, startFakeSoda, type FakeSoda } from '../support/fake-soda/index.js';
import { adminJson, startTestApp, type TestApp } from '../support/http-app.js';
import { generatePoliceLog } from '../support/police-log-generator.js';
import { startTestQueue, waitForRun, type TestQueue } from '../support/queue.js';

const policeRows = [...generatePoliceLog({ seed: 21, rows: 3_000 })];
const crimeRows = [...generateCrimeReports({ seed: 21, rows: 3_000 })];
const crimeFiles = new Set(crimeRows.map((row) => row.file_number)).size;

describe('two datasets through the HTTP API and the queue', () => {
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

  beforeAll(async () => {
    fake = await startFakeSoda({
      rows: policeRows,
      datasets: [fakeDatasetOf(crimeReports, crimeRows)],
    });
    database = await createTestDatabase();
    queue = startTestQueue(database, fake);
    app = await startTestApp(database, queue.orchestrator);
  });
  afterAll(async () => {
    await app?.close();
    await queue?.close();
    await database?.drop();
    await fake?.close();
  });

  it('runs backfills of both side by side, each into its own table, named apart on the queue', async () => {
    const [police, crime] = await Promise.all([
      post('/api/backfills', { from: '2025-01-01', to: '2025-04-01' }),
      post('/api/backfills', { dataset: 'crime-reports', from: '2024-01-01', to: '2025-01-01' }),
    ]);
    expect([police.status, crime.status]).toEqual([202, 202]);
    const policeRun = runAccepted.parse(await police.json());
    const crimeRun = runAccepted.parse(await crime.json());
    expect(crimeRun.windows).toBe(12);

    const job = await Job.fromId(
      queue.orchestrator.queues.extract,
      stepJobId(crimeRun.runId, 0, 'extract'),
    );
    expect(job?.name).toBe('extract crime-reports');

    const [policeTotals, crimeTotals] = await Promise.all([
      waitForRun(database.pool, policeRun.runId),
      waitForRun(database.pool, crimeRun.runId),
    ]);
    expect(policeTotals.state).toBe('completed');
    expect(crimeTotals).toMatchObject({ state: 'completed', rowsInserted: crimeFiles });
    const { rows } = await database.pool.query<{ count: number }>(
      'select count(*)::int as count from crime_reports',
    );
    expect(rows[0]!.count).toBe(crimeFiles);

    const listed = await fetch(`${app.url}/api/runs?dataset=crime-reports`);
    expect(listed.status).toBe(200);
    const list = runList.parse(await listed.json());
    expect(list.runs.map((run) => [run.id, run.dataset])).toEqual([
      [crimeRun.runId, crimeReports.id],
    ]);
    const byId = runList.parse(await (await fetch(`${app.url}/api/runs?dataset=3gki-wyrb`)).json());
    expect(byId.runs.map((run) => run.id)).toEqual([policeRun.runId]);
  });

  it('starts an incremental sync of the dataset named, and refuses one it does not know', async () => {
    const response = await post('/api/syncs', { dataset: 'xuad-73uj' });
    expect(response.status).toBe(202);
    const accepted = runAccepted.parse(await response.json());
    const totals = await waitForRun(database.pool, accepted.runId);
    expect(totals).toMatchObject({ state: 'completed', rowsInserted: 0 });
    const { rows } = await database.pool.query<{ dataset: string; mode: string }>(
      'select dataset, mode::text from pipeline_runs where id = $1',
      [accepted.runId],
    );
    expect(rows[0]).toEqual({ dataset: crimeReports.id, mode: 'incremental' });

    const unknown = await post('/api/syncs', { dataset: 'parking-tickets' });
    expect(unknown.status).toBe(400);
    expect(await unknown.text()).toMatch(/dataset.*crime-reports/);
    const badList = await fetch(`${app.url}/api/runs?dataset=nope`);
    expect(badList.status).toBe(400);
  });
});
