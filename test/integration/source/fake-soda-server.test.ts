import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import {
  everyNthRequestFails,
  startFakeSoda,
  transientFaultKinds,
  type FakeSoda,
  type RecordedRequest,
} from '../../support/fake-soda/index.js';
import { generatePoliceLog } from '../../support/police-log-generator.js';

let fake: FakeSoda;

beforeAll(async () => {
  fake = await startFakeSoda({ rows: generatePoliceLog({ seed: 5, rows: 200 }) });
});
afterAll(async () => {
  await fake.close();
});
afterEach(async () => {
  await fetch(`${fake.url}/__fake/faults`, { method: 'DELETE' });
  fake.setFields(undefined);
});

async function get(path: string): Promise<{ status: number; body: unknown; headers: Headers }> {
  const response = await fetch(`${fake.url}${path}`);
  const text = await response.text();
  return {
    status: response.status,
    body: text ? JSON.parse(text) : undefined,
    headers: response.headers,
  };
}

function post(path: string, body: unknown, method = 'POST'): Promise<Response> {
  return fetch(`${fake.url}${path}`, {
    method,
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
  });
}

const resource = '/resource/3gki-wyrb.json';

describe('the fake SODA server', () => {
  it('answers $select forms as Socrata does', async () => {
    const plain = await get(`${resource}?$order=:id&$limit=2`);
    expect(plain.status).toBe(200);
    const rows = plain.body as Record<string, string>[];
    expect(rows).toHaveLength(2);
    expect(Object.keys(rows[0]!).some((key) => key.startsWith(':'))).toBe(false);
    expect(JSON.parse(plain.headers.get('x-soda2-fields')!)).toEqual([
      'date_time',
      'id',
      'type',
      'subtype',
      'location',
      'description',
      'last_updated',
    ]);

    const system = (await get(`${resource}?$select=:*,*&$order=:id&$limit=2`)).body as Record<
      string,
      string
    >[];
    expect(Object.keys(system[0]!).slice(0, 3)).toEqual([':id', ':created_at', ':updated_at']);
    expect(system[0]![':updated_at']).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(system[0]!.id).toBe(rows[0]!.id);

    const picked = await get(`${resource}?$select=id,type&$order=:id&$limit=2`);
    expect(Object.keys((picked.body as object[])[0]!)).toEqual(['id', 'type']);
    expect(await get(`${resource}?$select=count(*)`)).toMatchObject({ body: [{ count: '200' }] });
    // Socrata's default page is 1,000 rows.
    expect(((await get(`${resource}?$order=:id`)).body as unknown[]).length).toBe(200);
  });

  it("refuses unknown parameters, bad paging and bad queries with Socrata's two error shapes", async () => {
    expect(await get(`${resource}?$frobnicate=1`)).toMatchObject({
      status: 400,
      body: {
        code: 'query.compiler.malformed',
        error: true,
        message: 'Unrecognized arguments [$frobnicate]',
      },
    });
    expect((await get(`${resource}?$limit=ten`)).status).toBe(400);
    expect(await get(`${resource}?$where=${encodeURIComponent("nope = 'x'")}`)).toMatchObject({
      status: 400,
      body: { errorCode: 'query.soql.no-such-column', message: 'No such column: nope' },
    });
    expect(await get('/resource/abcd-1234.json')).toMatchObject({
      status: 404,
      body: { code: 'not_found', error: true },
    });
  });

  it('is controlled over HTTP: faults, rows, fields, recorded requests', async () => {
    await fetch(`${fake.url}/__fake/requests`, { method: 'DELETE' });
    expect(
      (
        await post('/__fake/faults', [
          { kind: '503', times: 1 },
          { kind: '404', whereIncludes: '2099' },
        ])
      ).status,
    ).toBe(200);
    expect((await get(`${resource}?$limit=1`)).status).toBe(503);
    expect((await get(`${resource}?$limit=1`)).status).toBe(200);
    expect(
      (await get(`${resource}?$where=${encodeURIComponent("date_time > '2099-01-01'")}`)).status,
    ).toBe(404);
    expect(
      (await get(`${resource}?$where=${encodeURIComponent("date_time > '2099-01-01'")}`)).status,
    ).toBe(404);
    expect((await post('/__fake/faults', { kind: 'teapot' })).status).toBe(400);

    const requests = (await get('/__fake/requests')).body as RecordedRequest[];
    expect(requests.map((request) => [request.status, request.fault ?? null])).toEqual([
      [503, '503'],
      [200, null],
      [404, '404'],
      [404, '404'],
    ]);

    const [first] = (await get(`${resource}?$select=:*,*&$where=id='${fake.listRows()[0]!.id}'`))
      .body as Record<string, string>[];
    const upserted = await post('/__fake/rows', [
      {
        ...first,
        ':id': undefined,
        ':created_at': undefined,
        ':updated_at': undefined,
        type: 'ARREST',
      },
      {
        date_time: '2025-06-01T12:00:00.000',
        id: '25999999',
        type: 'TRAFFIC',
        location: 'MAIN ST',
        last_updated: '2025-06-02T15:00:00.000',
      },
    ]);
    expect(await upserted.json()).toEqual({ inserted: 1, updated: 1 });
    const [changed] = (await get(`${resource}?$select=:*,*&$where=id='${first!.id}'&$order=:id`))
      .body as Record<string, string>[];
    expect(changed).toMatchObject({
      ':id': first![':id'],
      ':created_at': first![':created_at'],
      type: 'ARREST',
    });
    expect(changed![':updated_at']! > first![':updated_at']!).toBe(true);
    expect(await get(`${resource}?$select=count(*)`)).toMatchObject({ body: [{ count: '201' }] });

    expect(await (await post('/__fake/rows', { ids: ['25999999'] }, 'DELETE')).json()).toEqual({
      removed: 1,
    });
    expect(await get(`${resource}?$select=count(*)`)).toMatchObject({ body: [{ count: '200' }] });

    expect((await post('/__fake/fields', { fields: ['id', 'zone'] })).status).toBe(200);
    expect(JSON.parse((await get(`${resource}?$limit=1`)).headers.get('x-soda2-fields')!)).toEqual([
      'id',
      'zone',
    ]);
    await post('/__fake/fields', { fields: null });
    expect(
      JSON.parse((await get(`${resource}?$limit=1`)).headers.get('x-soda2-fields')!),
    ).toContain('subtype');
  });

  it('cycles through the faults on every Nth request with one rule', async () => {
    fake.requests.length = 0;
    fake.addFault(everyNthRequestFails(3));
    for (let i = 0; i < 3 * transientFaultKinds.length; i += 1) {
      await fetch(`${fake.url}${resource}?$order=:id&$limit=1`)
        .then((response) => response.arrayBuffer())
        .catch(() => undefined);
    }
    expect(
      fake.requests.filter((request) => request.fault).map((request) => request.fault),
    ).toEqual(transientFaultKinds);
    expect(
      fake.requests.filter((_, index) => index % 3 !== 2).every((request) => !request.fault),
    ).toBe(true);
  });

  it('runs standalone from the command line and prints its URL', async () => {
    const main = fileURLToPath(new URL('../../support/fake-soda/main.ts', import.meta.url));
    const folder = await mkdtemp(join(tmpdir(), 'cpd-fake-soda-'));
    const file = join(folder, 'rows.json');
    await writeFile(file, JSON.stringify([...generatePoliceLog({ seed: 9, rows: 20 })]));
    const runs: [string[], number][] = [
      [['--rows', '50', '--seed', '2'], 50],
      [['--file', file], 20],
    ];
    onTestFinished(() => rm(folder, { recursive: true, force: true }));
    for (const [args, rows] of runs) {
      const child = spawn(process.execPath, ['--import', 'tsx', main, ...args, '--port', '0'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      try {
        const url = await new Promise<string>((resolve, reject) => {
          child.once('exit', (code) => reject(new Error(`exited with ${code}`)));
          createInterface({ input: child.stdout }).once('line', resolve);
        });
        expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
        const response = await fetch(`${url}${resource}?$select=count(*)`);
        expect(await response.json()).toEqual([{ count: String(rows) }]);
      } finally {
        child.kill('SIGTERM');
      }
    }
  });
});
