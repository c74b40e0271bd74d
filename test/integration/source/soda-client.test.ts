import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createSodaClient,
  type SodaClientEvent,
  type SodaClientOptions,
  type SodaPage,
} from '../../../src/source/client.js';
import { compareFields } from '../../../src/source/dataset.js';
import { policeLog } from '../../../src/source/datasets/police-log.js';
import { SourceError } from '../../../src/source/errors.js';
import { incrementalQuery, keyListingQuery, windowQuery } from '../../../src/source/queries.js';
import {
  startFakeSoda,
  transientFaultKinds,
  type FakeSoda,
} from '../../support/fake-soda/index.js';
import { generatePoliceLog } from '../../support/police-log-generator.js';

const everything = windowQuery(policeLog, { from: '2000-01-01', to: '2100-01-01' });
const rowCount = 1_000;
const pageSize = 300;
const pagesNeeded = Math.ceil(rowCount / pageSize);

let fake: FakeSoda;
let expectedIds: string[];

beforeAll(async () => {
  fake = await startFakeSoda({ rows: generatePoliceLog({ seed: 3, rows: rowCount }) });
  expectedIds = fake
    .listRows()
    .map((row) => row[':id']!)
    .sort();
});
afterAll(async () => {
  await fake.close();
});
afterEach(() => {
  fake.clearFaults();
  fake.setFields(undefined);
  fake.requests.length = 0;
});

function clientFor(options: Partial<SodaClientOptions> = {}, events: SodaClientEvent[] = []) {
  return createSodaClient({
    baseUrl: fake.url,
    pageSize,
    timeoutMs: 2_000,
    maxAttempts: 4,
    retryBaseMs: 5,
    retryMaxMs: 20,
    onEvent: (event) => events.push(event),
    ...options,
  });
}

async function collect(
  client: Pick<ReturnType<typeof createSodaClient>, 'pages'>,
  query = everything,
): Promise<SodaPage[]> {
  const pages: SodaPage[] = [];
  for await (const page of client.pages(policeLog.id, query)) pages.push(page);
  return pages;
}

async function failure(promise: Promise<unknown>): Promise<SourceError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(SourceError);
  return error as SourceError;
}

describe('paging', () => {
  it('reads every row exactly once, page by page, and stops after the short page', async () => {
    const events: SodaClientEvent[] = [];
    const pages = await collect(clientFor({}, events));
    expect(pages.map((page) => page.offset)).toEqual([0, 300, 600, 900]);
    expect(pages.map((page) => page.rows.length)).toEqual([300, 300, 300, 100]);
    expect(pages.flatMap((page) => page.rows.map((row) => row[':id'])).sort()).toEqual(expectedIds);
    expect(fake.requests).toHaveLength(pagesNeeded);
    expect(fake.requests.map((request) => request.params)).toEqual(
      [0, 300, 600, 900].map((offset) => ({
        $select: ':*, *',
        $where: everything.where,
        $order: ':id',
        $limit: '300',
        $offset: String(offset),
      })),
    );
    expect(events.filter((event) => event.type === 'page')).toHaveLength(pagesNeeded);
  });

  it('asks once more after a full last page, and yields an empty first page', async () => {
    const pages = await collect(clientFor({ pageSize: 250 }));
    expect(pages.map((page) => page.rows.length)).toEqual([250, 250, 250, 250]);
    expect(fake.requests).toHaveLength(5);
    fake.requests.length = 0;
    const empty = await collect(
      clientFor(),
      windowQuery(policeLog, { from: '1990-01-01', to: '1990-02-01' }),
    );
    expect(empty).toEqual([expect.objectContaining({ offset: 0, rows: [] })]);
    expect(fake.requests).toHaveLength(1);
  });

  it('pages the incremental query in cursor order', async () => {
    const pages = await collect(clientFor(), incrementalQuery(policeLog, { since: '2025-06-01' }));
    const stamps = pages.flatMap((page) =>
      page.rows.map((row) => `${String(row.last_updated)} ${String(row[':id'])}`),
    );
    expect(stamps.length).toBeGreaterThan(0);
    expect(stamps).toEqual([...stamps].sort());
    expect(stamps.every((stamp) => stamp >= '2025-06-01')).toBe(true);
  });

  it('holds one page: the next is requested only when the consumer asks', async () => {
    const iterator = clientFor().pages(policeLog.id, everything);
    await iterator.next();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(fake.requests).toHaveLength(1);
    await iterator.next();
    expect(fake.requests).toHaveLength(2);
    await iterator.return?.(undefined);
  });
});

/** The rows of textPages, parsed back from their chunks. */
async function collectText(
  client: Pick<ReturnType<typeof createSodaClient>, 'textPages'>,
  query = everything,
): Promise<{ rows: Record<string, unknown>[]; pages: number }> {
  const rows: Record<string, unknown>[] = [];
  let pages = 0;
  for await (const page of client.textPages(policeLog.id, query)) {
    pages += 1;
    const inPage = page.chunks.flatMap(
      (chunk) => JSON.parse(chunk.json.toString('utf8')) as Record<string, unknown>[],
    );
    expect(inPage).toHaveLength(page.rows);
    rows.push(...inPage);
  }
  return { rows, pages };
}

describe('pages as JSON text', () => {
  it('serves exactly the rows pages() parses, in the same order', async () => {
    const parsed = (await collect(clientFor())).flatMap((page) => page.rows);
    fake.requests.length = 0;
    const text = await collectText(clientFor());
    expect(text.rows).toEqual(parsed);
    expect(text.pages).toBe(pagesNeeded);
  });

  it.each(transientFaultKinds)('recovers from %s and still reads every row once', async (kind) => {
    fake.addFault({ kind, every: 2, times: 1, delayMs: 2_500 });
    const { rows } = await collectText(clientFor());
    expect(rows.map((row) => row[':id']).sort()).toEqual(expectedIds);
    expect(fake.requests).toHaveLength(pagesNeeded + 1);
  });
});

describe('transient faults', () => {
  it.each(transientFaultKinds)('recovers from %s and still reads every row once', async (kind) => {
    fake.addFault({ kind, every: 2, times: 1, delayMs: 2_500 });
    const events: SodaClientEvent[] = [];
    const pages = await collect(clientFor({}, events));
    expect(pages.flatMap((page) => page.rows.map((row) => row[':id'])).sort()).toEqual(expectedIds);
    expect(fake.requests).toHaveLength(pagesNeeded + 1);
    expect(fake.requests[1]!.fault).toBe(kind);
    const retries = events.filter((event) => event.type === 'retry');
    expect(retries).toHaveLength(1);
    expect(retries[0]).toMatchObject({ offset: 300, attempt: 1 });
  });

  it('waits out a slow answer that comes within the timeout', async () => {
    fake.addFault({ kind: 'slow', times: 1, delayMs: 300 });
    const events: SodaClientEvent[] = [];
    await collect(clientFor({}, events));
    expect(events.filter((event) => event.type === 'retry')).toEqual([]);
    expect(fake.requests).toHaveLength(pagesNeeded);
  });

  it('gives reasons a person can read', async () => {
    const reasons: Record<string, RegExp> = {
      '429': /HTTP 429 too_many_requests: Too many requests/,
      '503': /HTTP 503/,
      '202': /HTTP 202/,
      slow: /no complete answer within 500 ms/,
      truncated: /a list cut off after \d+ complete rows/,
      html: /an HTML page titled "Scheduled maintenance" instead of JSON/,
      drop: /connection failed/,
    };
    for (const [kind, reason] of Object.entries(reasons)) {
      fake.clearFaults();
      fake.addFault({ kind: kind as 'slow', times: 1, delayMs: 2_000 });
      const events: SodaClientEvent[] = [];
      await collect(clientFor({ timeoutMs: 500 }, events));
      const retry = events.find((event) => event.type === 'retry');
      expect(retry, kind).toBeDefined();
      expect(retry!.type === 'retry' && retry!.reason, kind).toMatch(reason);
    }
  });

  it('honours Retry-After in seconds and as an HTTP date', async () => {
    // The backoff alone stays under 20 ms here (retryMaxMs), so longer waits come from the header.
    // An HTTP date has whole seconds, so the wait it asks for is somewhere in its last second.
    const cases: [string, number][] = [
      ['1', 1_000],
      [new Date(Date.now() + 3_000).toUTCString(), 500],
    ];
    for (const [retryAfter, atLeast] of cases) {
      fake.clearFaults();
      fake.addFault({ kind: '429-retry-after', times: 1, retryAfter });
      const events: SodaClientEvent[] = [];
      await collect(clientFor({}, events));
      const retry = events.find((event) => event.type === 'retry');
      expect(retry?.type === 'retry' && retry.delayMs).toBeGreaterThanOrEqual(atLeast);
    }
  });

  it('gives up on a source that keeps failing after exactly maxAttempts requests', async () => {
    fake.addFault({ kind: '503' });
    const error = await failure(collect(clientFor({ maxAttempts: 5 })));
    expect(fake.requests).toHaveLength(5);
    expect(error.retryable).toBe(true);
    expect(error.code).toBe('source.unavailable');
    expect(error.status).toBe(503);
    expect(error.message).toMatch(/gave up after 5 attempts; last: HTTP 503 service_unavailable/);
  });

  it('stops at once when the caller aborts, even while waiting to retry', async () => {
    fake.addFault({ kind: '503' });
    const controller = new AbortController();
    const client = clientFor({ retryBaseMs: 60_000, retryMaxMs: 60_000, random: () => 0.99 });
    const run = collect({ pages: (id, query) => client.pages(id, query, controller.signal) });
    setTimeout(() => controller.abort(), 100);
    const error = await run.then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(error).toMatchObject({ name: 'AbortError' });
    expect(fake.requests).toHaveLength(1);
  });
});

describe('counts and key listings', () => {
  it('counts the rows, with a $where, without order or paging, through faults', async () => {
    const events: SodaClientEvent[] = [];
    const client = clientFor({}, events);
    fake.addFault({ kind: ['503', 'drop-mid-body', 'html'], times: 3 });
    expect(await client.count(policeLog.id, undefined)).toBe(rowCount);
    expect(events.filter((event) => event.type === 'retry')).toHaveLength(3);
    const september = "date_time >= '2025-09-01' AND date_time < '2025-10-01'";
    const expected = fake
      .listRows()
      .filter((row) => row.date_time! >= '2025-09-01' && row.date_time! < '2025-10-01').length;
    expect(await client.count(policeLog.id, september)).toBe(expected);
    const asked = fake.requests.filter((request) => request.fault === undefined);
    expect(asked.map((request) => request.params)).toEqual([
      { $select: 'count(*) as count' },
      { $select: 'count(*) as count', $where: september },
    ]);
  });

  it('lists every key once, with its :id, a page at a time', async () => {
    const keys: string[] = [];
    for await (const page of clientFor().pages(policeLog.id, keyListingQuery(policeLog))) {
      expect(page.fields).toEqual(['id', ':id']);
      for (const row of page.rows) {
        expect(Object.keys(row)).toEqual(['id', ':id']);
        keys.push(row[':id'] as string);
      }
    }
    expect(keys.sort()).toEqual(expectedIds);
    expect(fake.requests).toHaveLength(pagesNeeded);
  });
});

describe('refusals', () => {
  it.each([
    ['400', 'code', 'source.query-refused', /dataset's columns may have changed/],
    ['400', 'errorCode', 'source.query-refused', /dataset's columns may have changed/],
    ['401', 'code', 'source.unauthorized', /check SOCRATA_APP_TOKEN/],
    ['403', 'errorCode', 'source.unauthorized', /check SOCRATA_APP_TOKEN/],
    ['404', 'code', 'source.not-found', /check SOCRATA_DATASET/],
  ] as const)(
    "fails at once on %s (%s shape) with the source's message",
    async (kind, shape, code, advice) => {
      fake.addFault({ kind, shape, message: `the source's own words for ${kind}` });
      const error = await failure(collect(clientFor()));
      expect(fake.requests).toHaveLength(1);
      expect(error.retryable).toBe(false);
      expect(error.code).toBe(code);
      expect(error.status).toBe(Number(kind));
      expect(error.sourceCode).toBeTruthy();
      expect(error.message).toContain(`the source's own words for ${kind}`);
      expect(error.message).toContain('3gki-wyrb');
      expect(error.message).toMatch(advice);
    },
  );

  it("passes on the source's own refusal of a query and of an unknown dataset", async () => {
    const badColumn = await failure(
      collect(clientFor(), { select: ':*, *', where: "nope = 'x'", order: ':id' }),
    );
    expect(badColumn).toMatchObject({ status: 400, sourceCode: 'query.soql.no-such-column' });
    expect(badColumn.message).toContain('No such column: nope');
    const badSyntax = await failure(collect(clientFor(), { where: "type = 'x", order: ':id' }));
    expect(badSyntax).toMatchObject({ status: 400, sourceCode: 'query.compiler.malformed' });
    const unknown = await failure(
      (async () => {
        for await (const page of clientFor().pages('abcd-1234', everything))
          expect(page).toBeUndefined();
      })(),
    );
    expect(unknown).toMatchObject({ status: 404, code: 'source.not-found' });
    expect(unknown.message).toContain('abcd-1234');
  });
});

describe('the app token and the field list', () => {
  it('sends the app token as a header only, never in the URL', async () => {
    const token = 'app-token-that-must-not-leak';
    await collect(clientFor({ appToken: token }));
    expect(fake.requests).toHaveLength(pagesNeeded);
    for (const request of fake.requests) {
      expect(request.appTokenHeader).toBe(true);
      expect(request.appToken).toBe(token);
      expect(request.appTokenInUrl).toBe(false);
      expect(request.query).not.toContain(token);
      expect(request.path).not.toContain(token);
    }
    fake.requests.length = 0;
    await collect(clientFor());
    expect(fake.requests.every((request) => !request.appTokenHeader)).toBe(true);
  });

  it('reports the fields and types the source declares, so drift can be found', async () => {
    const [first] = await collect(clientFor());
    expect(first!.fields).toEqual([
      ':id',
      ':created_at',
      ':updated_at',
      ...policeLog.fields.map((field) => field.name),
    ]);
    expect(first!.types).toEqual([
      'meta_data',
      'meta_data',
      'meta_data',
      ...policeLog.fields.map((field) => field.type),
    ]);
    expect(compareFields(policeLog, first!.fields!)).toEqual({
      added: [],
      missing: [],
      missingRequired: [],
    });

    fake.setFields(['date_time', 'id', 'type', 'location', 'description', 'neighborhood']);
    const [drifted] = await collect(clientFor());
    expect(compareFields(policeLog, drifted!.fields!)).toEqual({
      added: ['neighborhood'],
      missing: ['subtype', 'last_updated'],
      missingRequired: ['last_updated'],
    });
  });
});
