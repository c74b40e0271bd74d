import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, type Database } from '../../src/db/client.js';
import { queueNames } from '../../src/queue/names.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { adminJson, startTestApp, testAdminToken, type TestApp } from '../support/http-app.js';
import { startTestQueue, type TestQueue } from '../support/queue.js';
import type { FakeSoda } from '../support/fake-soda/index.js';

/** No source is ever reached here: nothing may be enqueued, and no worker runs. */
const noSource = { url: 'http://127.0.0.1:9' } as FakeSoda;
/** "Today" is 2026-01-15 in Cambridge, so the future starts at 2026-01-17 for `to`. */
const now = () => new Date('2026-01-15T17:00:00Z');

interface BadRequest {
  name: string;
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
  status: number;
  code: string;
  field?: string;
}

const json = (value: unknown) => JSON.stringify(value);
const range = { from: '2025-01-01', to: '2025-03-01' };

const badRequests: BadRequest[] = [
  {
    name: 'a month that does not exist',
    body: json({ ...range, from: '2025-13-01' }),
    status: 400,
    code: 'request.invalid',
    field: 'from',
  },
  {
    name: 'a day that does not exist',
    body: json({ ...range, to: '2025-02-30' }),
    status: 400,
    code: 'request.invalid',
    field: 'to',
  },
  {
    name: 'a date with a time',
    body: json({ ...range, from: '2025-01-01T00:00:00Z' }),
    status: 400,
    code: 'request.invalid',
    field: 'from',
  },
  {
    name: 'a date as a number',
    body: json({ ...range, from: 20250101 }),
    status: 400,
    code: 'request.invalid',
    field: 'from',
  },
  {
    name: 'no end',
    body: json({ from: '2025-01-01' }),
    status: 400,
    code: 'request.invalid',
    field: 'to',
  },
  {
    name: 'a reversed range',
    body: json({ from: '2025-03-01', to: '2025-01-01' }),
    status: 400,
    code: 'request.invalid',
    field: 'to',
  },
  {
    name: 'an empty range',
    body: json({ from: '2025-03-01', to: '2025-03-01' }),
    status: 400,
    code: 'request.invalid',
    field: 'to',
  },
  {
    name: 'a huge span',
    body: json({ from: '1990-01-01', to: '2025-01-01' }),
    status: 400,
    code: 'request.invalid',
    field: 'from',
  },
  {
    name: 'an end in the future',
    body: json({ from: '2026-01-01', to: '2026-02-01' }),
    status: 400,
    code: 'request.invalid',
    field: 'to',
  },
  {
    name: 'an unknown window',
    body: json({ ...range, window: 'year' }),
    status: 400,
    code: 'request.invalid',
    field: 'window',
  },
  {
    name: 'a window the API does not offer',
    body: json({ ...range, window: 'all' }),
    status: 400,
    code: 'request.invalid',
    field: 'window',
  },
  {
    name: 'a window as a number',
    body: json({ ...range, window: 7 }),
    status: 400,
    code: 'request.invalid',
    field: 'window',
  },
  {
    name: 'an extra field',
    body: json({ ...range, priority: 'high' }),
    status: 400,
    code: 'request.invalid',
    field: 'priority',
  },
  {
    name: 'an array for a body',
    body: json([range]),
    status: 400,
    code: 'request.invalid',
    field: 'body',
  },
  { name: 'an empty body', status: 400, code: 'request.invalid', field: 'from' },
  {
    name: 'bad JSON',
    body: '{"from": "2025-01-01",',
    status: 400,
    code: 'request.bad_json',
    field: 'body',
  },
  {
    name: 'a bare JSON string',
    body: '"2025-01-01"',
    status: 400,
    code: 'request.bad_json',
    field: 'body',
  },
  {
    name: 'an oversized body',
    body: json({ ...range, note: 'x'.repeat(20_000) }),
    status: 413,
    code: 'request.too_large',
  },
  {
    name: 'a body that is not JSON',
    headers: { authorization: `Bearer ${testAdminToken}`, 'content-type': 'text/plain' },
    body: json(range),
    status: 415,
    code: 'request.not_json',
    field: 'content-type',
  },
  {
    name: 'no token',
    headers: { 'content-type': 'application/json' },
    body: json(range),
    status: 401,
    code: 'auth.missing',
    field: 'authorization',
  },
  {
    name: 'a wrong token',
    headers: adminJson('not-the-admin-token-at-all'),
    body: json(range),
    status: 401,
    code: 'auth.invalid',
    field: 'authorization',
  },
  {
    name: 'basic auth on the API',
    headers: {
      authorization: `Basic ${Buffer.from(`admin:${testAdminToken}`).toString('base64')}`,
      'content-type': 'application/json',
    },
    body: json(range),
    status: 401,
    code: 'auth.missing',
    field: 'authorization',
  },
  {
    name: 'a sync with options',
    path: '/api/syncs',
    body: json({ lookbackHours: 1 }),
    status: 400,
    code: 'request.invalid',
    field: 'lookbackHours',
  },
  {
    name: 'a sync without a token',
    path: '/api/syncs',
    headers: {},
    status: 401,
    code: 'auth.missing',
    field: 'authorization',
  },
  {
    name: 'a retry of a bad run id',
    path: '/api/runs/abc/retry',
    status: 400,
    code: 'request.invalid',
    field: 'id',
  },
  {
    name: 'a retry of an unknown run',
    path: '/api/runs/999999/retry',
    status: 404,
    code: 'run.not_found',
  },
  {
    name: 'a bad run id',
    method: 'GET',
    path: '/api/runs/-1',
    headers: {},
    status: 400,
    code: 'request.invalid',
    field: 'id',
  },
  {
    name: 'a page too large',
    method: 'GET',
    path: '/api/runs?limit=500',
    headers: {},
    status: 400,
    code: 'request.invalid',
    field: 'limit',
  },
  {
    name: 'an unknown state',
    method: 'GET',
    path: '/api/runs?state=done',
    headers: {},
    status: 400,
    code: 'request.invalid',
    field: 'state',
  },
  {
    name: 'an unknown parameter',
    method: 'GET',
    path: '/api/runs?sort=asc',
    headers: {},
    status: 400,
    code: 'request.invalid',
    field: 'sort',
  },
  {
    name: 'a method a route does not take',
    method: 'DELETE',
    path: '/api/runs/1',
    status: 405,
    code: 'request.method_not_allowed',
  },
  {
    name: 'a route that does not exist',
    method: 'POST',
    path: '/api/backfill',
    body: json(range),
    status: 404,
    code: 'request.not_found',
  },
];

describe('bad requests to the real app', () => {
  let database: TestDatabase;
  let queue: TestQueue;
  let app: TestApp;

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

  it('has at least 20 of them', () => {
    expect(badRequests.length).toBeGreaterThanOrEqual(20);
  });

  it.each(badRequests)('$name: $status $code', async (request) => {
    const response = await fetch(`${app.url}${request.path ?? '/api/backfills'}`, {
      method: request.method ?? 'POST',
      headers: request.headers ?? adminJson(),
      ...(request.body !== undefined && { body: request.body }),
    });
    const text = await response.text();
    expect(response.status, text).toBe(request.status);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const { error } = JSON.parse(text) as {
      error: { code: string; message: string; fields: { field: string; message: string }[] };
    };
    expect(error.code).toBe(request.code);
    expect(error.message.length).toBeGreaterThan(20);
    if (request.field) {
      expect(error.fields.map((problem) => problem.field)).toContain(request.field);
      expect(error.fields.every((problem) => problem.message.length > 0)).toBe(true);
      if (request.code === 'request.invalid') expect(error.message).toContain(`${request.field}:`);
    }
    // Never a stack trace, a file path or a connection string.
    expect(text).not.toMatch(/\bat \S+ \(|node_modules|\.ts:\d+|postgres:\/\/|redis:\/\//);
  });

  it('enqueued nothing and recorded no run for any of them', async () => {
    for (const name of queueNames) {
      const counts = await queue.orchestrator.queues[name].getJobCounts();
      expect(
        Object.values(counts).every((count) => count === 0),
        `${name}: ${JSON.stringify(counts)}`,
      ).toBe(true);
    }
    const { rows } = await database.pool.query<{ count: number }>(
      'select count(*)::int as count from pipeline_runs',
    );
    expect(rows[0]!.count).toBe(0);
  });

  it('takes a valid backfill with the same headers, so the refusals above were for their reasons', async () => {
    const response = await fetch(`${app.url}/api/backfills`, {
      method: 'POST',
      headers: adminJson(),
      body: json(range),
    });
    expect(response.status).toBe(202);
    expect(await response.json()).toMatchObject({ created: true, windows: 2, state: 'pending' });
  });

  it('serves the OpenAPI document of what it validates', async () => {
    const response = await fetch(`${app.url}/api/openapi.json`);
    expect(response.status).toBe(200);
    const document = (await response.json()) as {
      openapi: string;
      components: { schemas: Record<string, { additionalProperties?: boolean }> };
    };
    expect(document.openapi).toBe('3.1.0');
    expect(document.components.schemas.BackfillRequest?.additionalProperties).toBe(false);
  });

  it('sends security headers, and no X-Powered-By', async () => {
    const response = await fetch(`${app.url}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('x-powered-by')).toBeNull();
  });
});

describe('rate limiting of writes', () => {
  let database: TestDatabase;
  let queue: TestQueue;
  let app: TestApp;

  beforeAll(async () => {
    database = await createTestDatabase();
    queue = startTestQueue(database, noSource, { workers: false });
    app = await startTestApp(database, queue.orchestrator, { config: { writeRateLimit: 3 } });
  });
  afterAll(async () => {
    await app?.close();
    await queue?.close();
    await database?.drop();
  });

  it('answers 429 past the budget, and leaves reads alone', async () => {
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 5; attempt++) {
      const response = await fetch(`${app.url}/api/backfills`, {
        method: 'POST',
        headers: adminJson(),
        body: json({ from: 'nope' }),
      });
      statuses.push(response.status);
      if (response.status === 429) {
        expect(((await response.json()) as { error: { code: string } }).error.code).toBe(
          'request.rate_limited',
        );
        expect(response.headers.get('retry-after')).toBeTruthy();
      }
    }
    expect(statuses).toEqual([400, 400, 400, 429, 429]);
    expect((await fetch(`${app.url}/api/runs`)).status).toBe(200);
  });
});

describe('without ADMIN_TOKEN', () => {
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

  it('takes writes and opens Bull Board to local requests without a token', async () => {
    const sync = await fetch(`${app.url}/api/syncs`, { method: 'POST' });
    expect(sync.status).toBe(202);
    expect((await fetch(`${app.url}/admin/queues/api/queues`)).status).toBe(200);
  });

  it('refuses writes from web pages of other sites, and under names other than loopback', async () => {
    const port = new URL(app.url).port;
    const foreign: Record<string, string>[] = [
      { origin: 'http://evil.example' },
      { host: `rebound.example:${port}` },
      { origin: 'null' },
    ];
    for (const headers of foreign) {
      const response = await postWithHeaders(`${app.url}/api/syncs`, headers);
      expect(response.status, JSON.stringify(headers)).toBe(403);
      expect((JSON.parse(response.body) as { error: { code: string } }).error.code).toBe(
        'auth.local_only',
      );
    }
    const local = await fetch(`${app.url}/api/syncs`, {
      method: 'POST',
      // Its own origin: the Host it was sent to (localhost would be another origin).
      headers: { origin: `http://127.0.0.1:${port}` },
    });
    expect(local.status).toBe(200); // the run asked for above, still active
  });
});

/** A POST with headers fetch will not send as given (Host). */
function postWithHeaders(
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      url,
      { method: 'POST', headers: { 'content-length': '0', ...headers } },
      (response) => {
        let body = '';
        response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      },
    );
    outgoing.on('error', reject);
    outgoing.end();
  });
}

describe('failures inside the app', () => {
  let database: TestDatabase;
  let queue: TestQueue;
  let app: TestApp;
  let unreachable: Database;
  let noPostgres: TestApp;

  beforeAll(async () => {
    database = await createTestDatabase();
    queue = startTestQueue(database, noSource, { workers: false });
    app = await startTestApp(database, queue.orchestrator);
    // A PostgreSQL that is not there: port 1 refuses connections.
    unreachable = createDatabase('postgres://cpd:secret-password@127.0.0.1:1/cpd', {
      connectTimeoutMs: 500,
    });
    noPostgres = await startTestApp({ ...database, pool: unreachable.pool }, queue.orchestrator);
  });
  afterAll(async () => {
    await noPostgres?.close();
    await unreachable?.close();
    await app?.close();
    await queue?.close();
    await database?.drop();
  });

  it('answers an unexpected error with a 500 that names a request id, and nothing of the cause', async () => {
    const { run } = await queue.orchestrator.requestRun(
      { mode: 'incremental', lookbackHours: 1 },
      'api',
    );
    await database.pool.query('alter table rejected_records rename to rejected_records_gone');
    const response = await fetch(`${app.url}/api/runs/${run.id}`);
    expect(response.status).toBe(500);
    const text = await response.text();
    const { error } = JSON.parse(text) as { error: { code: string; message: string } };
    expect(error.code).toBe('internal');
    expect(error.message).toContain(response.headers.get('x-request-id')!);
    expect(text).not.toMatch(/rejected_records|relation|\bat \S+ \(|\.ts:\d+/);
  });

  it('answers 503 when PostgreSQL cannot be reached, and /readyz names it, without its address', async () => {
    const response = await fetch(`${noPostgres.url}/api/runs`);
    expect(response.status).toBe(503);
    const text = await response.text();
    expect((JSON.parse(text) as { error: { code: string } }).error.code).toBe(
      'postgres.unavailable',
    );
    const ready = await fetch(`${noPostgres.url}/readyz`);
    expect(ready.status).toBe(503);
    const body = await ready.text();
    expect(JSON.parse(body)).toMatchObject({
      ready: false,
      postgres: expect.stringMatching(/^down: /) as string,
      redis: 'ok',
    });
    for (const answer of [text, body])
      expect(answer).not.toMatch(/secret-password|127\.0\.0\.1:1\b|postgres:\/\//);
  });
});
