import { Job } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRunTotals } from '../../src/pipeline/ledger/index.js';
import { stepJobId } from '../../src/queue/names.js';
import { registerSchedulers } from '../../src/queue/schedulers.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startFakeSoda, type FakeSoda } from '../support/fake-soda/index.js';
import { startTestApp, testAdminToken, type TestApp } from '../support/http-app.js';
import { generatePoliceLog } from '../support/police-log-generator.js';
import { startTestQueue, waitFor, waitForRun, type TestQueue } from '../support/queue.js';

const bearer = { authorization: `Bearer ${testAdminToken}` };
const basic = (password: string) => ({
  authorization: `Basic ${Buffer.from(`ops:${password}`).toString('base64')}`,
});

describe('Bull Board', () => {
  let fake: FakeSoda;
  let database: TestDatabase;
  let queue: TestQueue;
  let board: TestApp;
  let readOnlyBoard: TestApp;
  let runId: number;

  beforeAll(async () => {
    fake = await startFakeSoda({ rows: generatePoliceLog({ seed: 71, rows: 1_000 }) });
    database = await createTestDatabase();
    queue = startTestQueue(database, fake);
    board = await startTestApp(database, queue.orchestrator);
    readOnlyBoard = await startTestApp(database, queue.orchestrator, {
      config: { bullBoardReadOnly: true },
    });
    // A run whose February extract fails for good: a failed job to look at and retry.
    fake.addFault({ kind: '400', whereIncludes: "date_time >= '2025-02-01T00:00:00.000'" });
    ({
      run: { id: runId },
    } = await queue.orchestrator.requestRun(
      { mode: 'window', from: '2025-01-01', to: '2025-03-01', windowSize: 'month' },
      'api',
    ));
    expect((await waitForRun(database.pool, runId, ['failed', 'completed'])).state).toBe('failed');
    fake.clearFaults();
  });
  afterAll(async () => {
    await readOnlyBoard?.close();
    await board?.close();
    await queue?.close();
    await database?.drop();
    await fake?.close();
  });

  it('answers 401 without the token, or with a wrong one, with a basic-auth challenge', async () => {
    for (const headers of [
      {},
      { authorization: 'Bearer wrong-token-wrong-token' },
      basic('wrong-token-wrong-token'),
    ]) {
      for (const path of ['/admin/queues', '/admin/queues/api/queues']) {
        const response = await fetch(`${board.url}${path}`, { headers });
        expect(response.status, `${path} ${JSON.stringify(headers)}`).toBe(401);
        expect(response.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
        expect(await response.text()).not.toMatch(/flows|extract/);
      }
    }
  });

  it('lists the queues, with their counts, given the token as bearer or as basic-auth password', async () => {
    for (const headers of [bearer, basic(testAdminToken)]) {
      const response = await fetch(`${board.url}/admin/queues/api/queues`, { headers });
      expect(response.status).toBe(200);
      const { queues } = (await response.json()) as {
        queues: { name: string; counts: Record<string, number>; readOnlyMode: boolean }[];
      };
      expect(queues.map((listed) => listed.name).sort()).toEqual([
        'extract',
        'flows',
        'load',
        'transform',
        'validate',
      ]);
      expect(queues.find((listed) => listed.name === 'extract')).toMatchObject({
        counts: { failed: 1, completed: 1 },
        readOnlyMode: false,
      });
    }
    const page = await fetch(`${board.url}/admin/queues`, { headers: basic(testAdminToken) });
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<div id="root">/);
  });

  it('shows a run as a flow: the run, its chains and their steps', async () => {
    const response = await fetch(`${board.url}/admin/queues/api/queues/flows/run-${runId}/flow`, {
      headers: bearer,
    });
    expect(response.status).toBe(200);
    expect(JSON.stringify(await response.json())).toContain(stepJobId(runId, 1, 'extract'));
  });

  it('shows the sync schedule', async () => {
    await registerSchedulers(queue.orchestrator.queues.flows, {
      SYNC_CRON: '20 * * * *',
      SOCRATA_DATASET: '3gki-wyrb',
      STEP_BACKOFF_SCALE: 1,
    });
    const response = await fetch(`${board.url}/admin/queues/api/job-schedulers`, {
      headers: bearer,
    });
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).toContain('incremental-sync-3gki-wyrb');
    expect(text).toContain('20 * * * *');
  });

  it('in read-only mode lists the queues, and refuses a retry with 405, leaving the job failed', async () => {
    const listed = await fetch(`${readOnlyBoard.url}/admin/queues/api/queues`, { headers: bearer });
    expect(listed.status).toBe(200);
    const { queues } = (await listed.json()) as { queues: { readOnlyMode: boolean }[] };
    expect(queues.every((listedQueue) => listedQueue.readOnlyMode)).toBe(true);

    const jobId = stepJobId(runId, 1, 'extract');
    for (const path of [
      `/api/queues/extract/${jobId}/retry`,
      '/api/queues/extract/retry/failed',
      `/api/queues/extract/${jobId}/clean`,
      '/api/queues/pause',
    ]) {
      const refused = await fetch(`${readOnlyBoard.url}/admin/queues${path}`, {
        method: 'PUT',
        headers: bearer,
      });
      expect(refused.status, path).toBe(405);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe(
        'bull_board.read_only',
      );
    }
    const job = await Job.fromId(queue.orchestrator.queues.extract, jobId);
    expect(await job?.isFailed()).toBe(true);
  });

  it('retries the failed step when it is not read-only, and the run resumes to completion', async () => {
    const jobId = stepJobId(runId, 1, 'extract');
    const retried = await fetch(`${board.url}/admin/queues/api/queues/extract/${jobId}/retry`, {
      method: 'PUT',
      headers: basic(testAdminToken),
    });
    expect(retried.status).toBe(204);
    await waitFor(
      async () => (await readRunTotals(database.pool, runId)).state === 'completed',
      60_000,
      'the run completed',
    );
    const { rows } = await database.pool.query<{ state: string }>(
      'select distinct state::text from pipeline_steps where run_id = $1',
      [runId],
    );
    expect(rows).toEqual([{ state: 'completed' }]);
  });
});
