import { isDeepStrictEqual } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../support/cli.js';
import {
  everyNthRequestFails,
  startFakeSoda,
  transientFaultKinds,
  type FakeSoda,
} from '../../support/fake-soda/index.js';
import { generatePoliceLog } from '../../support/police-log-generator.js';

/** Small backoff so a run with a dozen retries stays quick; 1 s is the smallest timeout allowed. */
const fastRetries = {
  SOCRATA_RETRY_BASE_MS: '10',
  SOCRATA_RETRY_MAX_MS: '100',
  SOCRATA_TIMEOUT_MS: '1000',
  SOCRATA_MAX_ATTEMPTS: '4',
  LOG_LEVEL: 'warn',
};
const wholeRange = ['fetch', '--from', '2000-01-01', '--to', '2100-01-01'];

let fake: FakeSoda | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

function envFor(server: FakeSoda, extra: Record<string, string> = {}): Record<string, string> {
  return { SOCRATA_BASE_URL: server.url, ...fastRetries, ...extra };
}

function stderrLines(stderr: string): string[] {
  return stderr.trim().split('\n').filter(Boolean);
}

describe('cpd fetch', () => {
  it('returns every source row exactly once while every 5th request fails, cycling through the faults', async () => {
    fake = await startFakeSoda({ rows: generatePoliceLog({ seed: 11, rows: 10_000 }) });
    // The slow faults outlast the 1 s timeout, so they are retried too.
    fake.addFault({ ...everyNthRequestFails(5), delayMs: 1_500 });
    const result = await runCli(wholeRange, envFor(fake, { SOCRATA_PAGE_SIZE: '200' }), {
      timeoutMs: 120_000,
    });
    expect(result.code, result.stderr).toBe(0);

    const lines = result.stdout.trimEnd().split('\n');
    const fetched = lines.map((line) => JSON.parse(line) as Record<string, string>);
    const source = fake.listRows();
    expect(fetched).toHaveLength(10_000);
    expect(new Set(fetched.map((row) => row[':id'])).size).toBe(10_000);
    // Compared whole: ids repeat in this data by design, rows do not.
    const byId = new Map(source.map((row) => [row[':id'], row]));
    expect(fetched.filter((row) => !isDeepStrictEqual(row, byId.get(row[':id'])))).toEqual([]);

    // Every kind of fault happened, and each was got past.
    const faults = fake.requests.filter((request) => request.fault).map((request) => request.fault);
    expect(new Set(faults)).toEqual(new Set(transientFaultKinds));
    // 50 full pages and the empty one that ends the run, plus one request per retry (one per
    // fault, and more if a busy machine makes a normal answer miss the 1 s timeout).
    const retries = stderrLines(result.stderr).filter((line) => line.includes('retrying: '));
    expect(retries.length).toBeGreaterThanOrEqual(faults.length);
    expect(fake.requests).toHaveLength(51 + retries.length);
    expect(stderrLines(result.stderr)).toHaveLength(retries.length);
    expect(result.stderr).toMatch(/retrying: HTTP 429/);
  });

  it.each([
    [
      '400',
      'code',
      'query.compiler.malformed',
      'Could not parse SoQL query: unexpected token',
      /HTTP 400 query\.compiler\.malformed: Could not parse SoQL query: unexpected token\. .*dataset's columns/,
    ],
    [
      '400',
      'errorCode',
      'query.soql.no-such-column',
      'No such column: date_time',
      /HTTP 400 query\.soql\.no-such-column: No such column: date_time/,
    ],
    [
      '403',
      'code',
      'invalid_app_token',
      'Invalid app_token specified',
      /HTTP 403 invalid_app_token: Invalid app_token specified\. .*check SOCRATA_APP_TOKEN/,
    ],
    [
      '401',
      'errorCode',
      'authentication_required',
      'Authentication required',
      /HTTP 401 authentication_required: Authentication required\. .*check SOCRATA_APP_TOKEN/,
    ],
  ] as const)(
    "ends at once on a %s (%s shape) with the source's message",
    async (kind, shape, code, message, pattern) => {
      fake = await startFakeSoda({ rows: generatePoliceLog({ seed: 1, rows: 100 }) });
      fake.addFault({ kind, shape, code, message });
      const result = await runCli(wholeRange, envFor(fake, { SOCRATA_APP_TOKEN: 'some-token' }));
      expect(result.code).not.toBe(0);
      expect(result.stdout).toBe('');
      const lines = stderrLines(result.stderr);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^cpd fetch: Socrata dataset 3gki-wyrb answered /);
      expect(lines[0]).toMatch(pattern);
      expect(lines[0]).not.toContain('some-token');
      expect(fake.requests).toHaveLength(1);
    },
  );

  it('ends at once on a 404 for a dataset the source does not have', async () => {
    fake = await startFakeSoda({ datasetId: 'abcd-efgh', rows: [] });
    const result = await runCli(wholeRange, envFor(fake));
    expect(result.code).not.toBe(0);
    const lines = stderrLines(result.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /answered HTTP 404 not_found: Cannot find view 3gki-wyrb\. What to do: check SOCRATA_DATASET/,
    );
    expect(fake.requests).toHaveLength(1);
  });

  it('ends after the configured attempts when the source keeps failing with 5xx', async () => {
    fake = await startFakeSoda({ rows: generatePoliceLog({ seed: 1, rows: 100 }) });
    fake.addFault({ kind: '503' });
    const result = await runCli(wholeRange, envFor(fake, { SOCRATA_MAX_ATTEMPTS: '3' }));
    expect(result.code).not.toBe(0);
    expect(fake.requests).toHaveLength(3);
    const lines = stderrLines(result.stderr);
    expect(lines.at(-1)).toMatch(
      /^cpd fetch: Socrata dataset 3gki-wyrb: gave up after 3 attempts; last: HTTP 503/,
    );
    expect(lines.slice(0, -1).every((line) => line.includes('retrying: HTTP 503'))).toBe(true);
  });

  it('refuses bad dates and empty windows in one line, before asking the source', async () => {
    fake = await startFakeSoda({ rows: [] });
    for (const [args, message] of [
      [['--from', '2025-02-30', '--to', '2025-03-01'], /--from "2025-02-30" is not a date/],
      [['--from', '2025-03-01', '--to', 'tomorrow'], /--to "tomorrow" is not a date/],
      [['--from', '2025-03-01', '--to', '2025-03-01'], /not before --to/],
    ] as const) {
      const result = await runCli(['fetch', ...args], envFor(fake));
      expect(result.code).toBe(1);
      const lines = stderrLines(result.stderr);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(message);
    }
    expect(fake.requests).toHaveLength(0);
  });

  it("warns when the source's fields differ from the dataset definition, and still prints the rows", async () => {
    fake = await startFakeSoda({ rows: generatePoliceLog({ seed: 1, rows: 30 }) });
    fake.setFields([
      'date_time',
      'id',
      'type',
      'location',
      'description',
      'last_updated',
      'neighborhood',
    ]);
    const result = await runCli(
      ['fetch', '--from', '2025-01-01', '--to', '2027-01-01'],
      envFor(fake),
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trimEnd().split('\n')).toHaveLength(30);
    expect(result.stderr).toMatch(/new in the source: neighborhood; gone from the source: subtype/);
  });
});
