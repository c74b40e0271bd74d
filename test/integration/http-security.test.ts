import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import type { FakeSoda } from '../support/fake-soda/index.js';
import { adminJson, startTestApp, testAdminToken, type TestApp } from '../support/http-app.js';
import { startTestQueue, type TestQueue } from '../support/queue.js';

/**
 * What a security review of the HTTP side found (issue 17): no-token mode behind a proxy,
 * cross-site requests to Bull Board, token guessing, internal text in public answers, and
 * runaway backfills. No source is reached and no worker runs: refusals must enqueue nothing.
 */

const noSource = { url: 'http://127.0.0.1:9' } as FakeSoda;
const basic = (password: string) => `Basic ${Buffer.from(`ops:${password}`).toString('base64')}`;

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * One request with exactly the headers given (fetch will not send Host, nor choose the local
 * address): `from` is the loopback address the request leaves from, a client of its own.
 */
function send(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string; from?: string },
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      url,
      {
        method: options.method ?? 'GET',
        headers: {
          ...(options.method && options.method !== 'GET'
            ? { 'content-length': String(Buffer.byteLength(options.body ?? '')) }
            : {}),
          ...options.headers,
        },
        ...(options.from && { localAddress: options.from }),
      },
      (response) => {
        let body = '';
        response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body }),
        );
      },
    );
    outgoing.on('error', reject);
    outgoing.end(options.body ?? '');
  });
}

const codeOf = (answer: Answer) =>
  (JSON.parse(answer.body) as { error: { code: string } }).error.code;
const messageOf = (answer: Answer) =>
  (JSON.parse(answer.body) as { error: { message: string } }).error.message;

async function countRuns(database: TestDatabase): Promise<number> {
  const { rows } = await database.pool.query<{ count: number }>(
    'select count(*)::int as count from pipeline_runs',
  );
  return rows[0]!.count;
}

describe('without ADMIN_TOKEN, behind a proxy or reached by a browser', () => {
  let database: TestDatabase;
  let queue: TestQueue;
  let app: TestApp;

  beforeAll(async () => {
    database = await createTestDatabase();
    queue = startTestQueue(database, noSource, { workers: false });
    app = await startTestApp(database, queue.orchestrator, { config: { adminToken: undefined } });
  });
  afterAll(async () => {
    await app?.close();
    await queue?.close();
    await database?.drop();
  });

  it('refuses writes and Bull Board to a request a proxy relayed, saying which header showed it', async () => {
    const relayed: Record<string, string>[] = [
      { 'x-forwarded-for': '203.0.113.9' },
      { forwarded: 'for=203.0.113.9;proto=https' },
      { via: '1.1 nginx' },
      { 'x-forwarded-host': 'cpd.example.org' },
      { 'x-forwarded-proto': 'https' },
    ];
    for (const headers of relayed) {
      const header = Object.keys(headers)[0]!;
      for (const [method, path] of [
        ['POST', '/api/syncs'],
        ['GET', '/admin/queues/api/queues'],
        ['PUT', '/admin/queues/api/queues/extract/obliterate'],
      ] as const) {
        const answer = await send(`${app.url}${path}`, { method, headers });
        expect(answer.status, `${method} ${path} ${header}`).toBe(403);
        expect(codeOf(answer)).toBe('auth.local_only');
        expect(messageOf(answer)).toContain(`a proxy relayed it (${header})`);
        expect(messageOf(answer)).toMatch(/Set ADMIN_TOKEN to allow others/);
      }
    }
    expect(await countRuns(database)).toBe(0);
    expect(await queue.orchestrator.queues.extract.isPaused()).toBe(false);
  });

  it('refuses a Host that is not a loopback name, and a cross-site browser request, saying why', async () => {
    const port = new URL(app.url).port;
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ host: `rebound.example:${port}` }, /sent to the name "rebound\.example"/],
      [{ 'sec-fetch-site': 'cross-site' }, /another site \(Sec-Fetch-Site: cross-site\)/],
      [{ 'sec-fetch-site': 'same-site' }, /Sec-Fetch-Site: same-site/],
      [{ origin: 'http://evil.example' }, /another origin \(Origin: http:\/\/evil\.example/],
    ];
    for (const [headers, reason] of cases) {
      for (const [method, path] of [
        ['POST', '/api/syncs'],
        ['GET', '/admin/queues/api/queues'],
      ] as const) {
        const answer = await send(`${app.url}${path}`, { method, headers });
        expect(answer.status, `${method} ${path} ${JSON.stringify(headers)}`).toBe(403);
        expect(messageOf(answer)).toMatch(reason);
      }
    }
    expect(await countRuns(database)).toBe(0);
  });

  it('still takes a direct request from this machine, from its own pages too', async () => {
    const port = new URL(app.url).port;
    const sameOrigin = await send(`${app.url}/api/syncs`, {
      method: 'POST',
      headers: { origin: `http://127.0.0.1:${port}`, 'sec-fetch-site': 'same-origin' },
    });
    expect(sameOrigin.status, sameOrigin.body).toBe(202);
    const board = await send(`${app.url}/admin/queues/api/queues`, {
      headers: { 'sec-fetch-site': 'none' },
    });
    expect(board.status).toBe(200);
  });
});

describe('with ADMIN_TOKEN', () => {
  let database: TestDatabase;
  let queue: TestQueue;
  let app: TestApp;

  beforeAll(async () => {
    database = await createTestDatabase();
    queue = startTestQueue(database, noSource, { workers: false });
    app = await startTestApp(database, queue.orchestrator, {
      config: { writeRateLimit: 3, authFailureLimit: 10 },
    });
  });
  afterAll(async () => {
    await app?.close();
    await queue?.close();
    await database?.drop();
  });

  it('refuses a cross-site POST to Bull Board even with valid basic auth, and takes a same-origin one', async () => {
    const extract = queue.orchestrator.queues.extract;
    const pause = `${app.url}/admin/queues/api/queues/extract/pause`;
    const crossSite: Record<string, string>[] = [
      { origin: 'https://evil.example' },
      { origin: 'null' },
      { 'sec-fetch-site': 'cross-site' },
    ];
    for (const headers of crossSite) {
      const answer = await send(pause, {
        method: 'PUT',
        headers: { authorization: basic(testAdminToken), ...headers },
      });
      expect(answer.status, JSON.stringify(headers)).toBe(403);
      expect(codeOf(answer)).toBe('request.cross_site');
    }
    expect(await extract.isPaused()).toBe(false);

    // The same on the API, with the bearer token.
    const api = await send(`${app.url}/api/syncs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${testAdminToken}`, origin: 'https://evil.example' },
    });
    expect(api.status).toBe(403);
    expect(codeOf(api)).toBe('request.cross_site');
    expect(await countRuns(database)).toBe(0);

    const port = new URL(app.url).port;
    const own = await send(pause, {
      method: 'PUT',
      headers: {
        authorization: basic(testAdminToken),
        origin: `http://127.0.0.1:${port}`,
        'sec-fetch-site': 'same-origin',
      },
    });
    expect(own.status, own.body).toBeLessThan(300);
    expect(await extract.isPaused()).toBe(true);
    await extract.resume();
  });

  it('answers 429 to the 11th wrong token in a minute from one client, while the right token works from another', async () => {
    const attacker = '127.0.0.2';
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 11; attempt++) {
      // Guesses on the API and on Bull Board count together.
      const answer =
        attempt % 2 === 0
          ? await send(`${app.url}/api/syncs`, {
              method: 'POST',
              from: attacker,
              headers: { authorization: `Bearer guess-${attempt}-guess-guess` },
            })
          : await send(`${app.url}/admin/queues/api/queues`, {
              from: attacker,
              headers: { authorization: basic(`guess-${attempt}-guess-guess`) },
            });
      statuses.push(answer.status);
      if (answer.status === 429) {
        expect(codeOf(answer)).toBe('auth.rate_limited');
        expect(Number(answer.headers['retry-after'])).toBeGreaterThan(0);
      }
    }
    expect(statuses).toEqual([...Array<number>(10).fill(401), 429]);
    // Locked out: even the right token waits out the minute from there.
    const locked = await send(`${app.url}/admin/queues/api/queues`, {
      from: attacker,
      headers: { authorization: basic(testAdminToken) },
    });
    expect(locked.status).toBe(429);

    const admin = await send(`${app.url}/admin/queues/api/queues`, {
      from: '127.0.0.3',
      headers: { authorization: basic(testAdminToken) },
    });
    expect(admin.status).toBe(200);
  });

  it("does not spend an admin's write budget on anonymous 401s", async () => {
    const client = '127.0.0.4';
    for (let attempt = 0; attempt < 5; attempt++) {
      const anonymous = await send(`${app.url}/api/backfills`, {
        method: 'POST',
        from: client,
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      expect(anonymous.status).toBe(401);
    }
    // The budget is 3 writes a minute: all three are still the admin's.
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 4; attempt++) {
      const answer = await send(`${app.url}/api/backfills`, {
        method: 'POST',
        from: client,
        headers: adminJson(),
        body: JSON.stringify({ from: 'nope' }),
      });
      statuses.push(answer.status);
    }
    expect(statuses).toEqual([400, 400, 400, 429]);
  });
});

describe('errors in public answers', () => {
  let database: TestDatabase;
  let queue: TestQueue;
  let app: TestApp;
  let runId: number;
  const internal = [
    'db-primary.internal.example',
    '10.20.30.40',
    'redis.internal.example',
    '6379',
    '5432',
  ];

  beforeAll(async () => {
    database = await createTestDatabase();
    queue = startTestQueue(database, noSource, { workers: false });
    app = await startTestApp(database, queue.orchestrator);
    // A run that failed as the ledger records it, with what PostgreSQL and the source said.
    const { rows } = await database.pool.query<{ id: number }>(
      `insert into pipeline_runs (dataset, mode, trigger, state, dedupe_key, window_count, error, started_at, ended_at)
       values ('3gki-wyrb', 'incremental', 'api', 'failed', 'test', 1,
               'window 0, extract: Socrata dataset 3gki-wyrb could not be reached (connect ECONNREFUSED 10.20.30.40:443 via db-primary.internal.example)',
               now(), now())
       returning id::int as id`,
    );
    runId = rows[0]!.id;
    await database.pool.query(
      `insert into pipeline_steps (run_id, window_index, step, state, attempts, error)
       values ($1, 0, 'extract', 'failed', 1, 'connect ECONNREFUSED 10.20.30.40:5432 (db-primary.internal.example)'),
              ($1, 0, 'validate', 'failed', 1, 'Redis at redis.internal.example:6379: Connection is closed')`,
      [runId],
    );
  });
  afterAll(async () => {
    await app?.close();
    await queue?.close();
    await database?.drop();
  });

  it('shows anonymous callers of /api/runs a code and a generic sentence, and admins the full text', async () => {
    for (const path of ['/api/runs', `/api/runs/${runId}`]) {
      const anonymous = await fetch(`${app.url}${path}`);
      expect(anonymous.status).toBe(200);
      const text = await anonymous.text();
      for (const secret of internal) expect(text, `${path} shows ${secret}`).not.toContain(secret);
      expect(text).toContain('source.failed: window 0, extract: reading the source');
    }
    const detail = (await fetch(`${app.url}/api/runs/${runId}`).then((r) => r.json())) as {
      windows: { steps: { error: string | null }[] }[];
    };
    expect(detail.windows[0]!.steps.map((step) => step.error?.split(':')[0])).toEqual([
      'connection.failed',
      'queue.failed',
    ]);

    const admin = (await fetch(`${app.url}/api/runs/${runId}`, {
      headers: { authorization: `Bearer ${testAdminToken}` },
    }).then((r) => r.json())) as { error: string; windows: { steps: { error: string }[] }[] };
    expect(admin.error).toContain('ECONNREFUSED 10.20.30.40:443 via db-primary.internal.example');
    expect(admin.windows[0]!.steps[1]!.error).toContain('redis.internal.example:6379');
    const list = (await fetch(`${app.url}/api/runs`, {
      headers: { authorization: `Bearer ${testAdminToken}` },
    }).then((r) => r.json())) as { runs: { error: string }[] };
    expect(list.runs[0]!.error).toContain('db-primary.internal.example');

    // A wrong token is not anonymous: it is a failed authentication.
    const wrong = await fetch(`${app.url}/api/runs`, {
      headers: { authorization: 'Bearer not-the-token-not-the-token' },
    });
    expect(wrong.status).toBe(401);
  });

  it("keeps internal text out of the dashboard's runs table", async () => {
    for (const path of ['/', '/dashboard/data']) {
      const response = await fetch(`${app.url}${path}`);
      expect(response.status).toBe(200);
      const text = await response.text();
      for (const secret of internal) expect(text, `${path} shows ${secret}`).not.toContain(secret);
      expect(text).toContain('source.failed');
    }
  });
});

describe('runaway backfills', () => {
  let database: TestDatabase;
  let queue: TestQueue;
  let app: TestApp;
  const now = () => new Date('2026-01-15T17:00:00Z');

  beforeAll(async () => {
    database = await createTestDatabase();
    queue = startTestQueue(database, noSource, { workers: false });
    app = await startTestApp(database, queue.orchestrator, { now });
  });
  afterAll(async () => {
    await app?.close();
    await queue?.close();
    await database?.drop();
  });

  const backfill = (body: unknown) =>
    fetch(`${app.url}/api/backfills`, {
      method: 'POST',
      headers: adminJson(),
      body: JSON.stringify(body),
    });

  it('refuses more windows than one run may have with a 400 that says to choose a larger window', async () => {
    for (const [body, windows, larger] of [
      [{ from: '2016-01-17', to: '2026-01-16', window: 'day' }, '3,652', 'month'],
      [{ from: '2024-12-01', to: '2026-01-06', window: 'day' }, '401', 'week or month'],
    ] as const) {
      const response = await backfill(body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      const { error } = (await response.json()) as {
        error: { code: string; fields: { field: string; message: string }[] };
      };
      expect(error.code).toBe('request.invalid');
      expect(error.fields).toEqual([
        {
          field: 'window',
          message: expect.stringContaining(
            `makes ${windows} day windows, and one run may have at most 400 (BACKFILL_MAX_WINDOWS): choose a larger window (${larger})`,
          ) as string,
        },
      ]);
    }
    expect(await countRuns(database)).toBe(0);

    // 400 windows are fine; so are the same ten years by month.
    expect((await backfill({ from: '2024-12-01', to: '2026-01-06', window: 'week' })).status).toBe(
      202,
    );
    expect((await backfill({ from: '2024-12-01', to: '2026-01-05', window: 'day' })).status).toBe(
      202,
    );
    expect((await backfill({ from: '2016-01-17', to: '2026-01-16', window: 'month' })).status).toBe(
      202,
    );
  });
});
