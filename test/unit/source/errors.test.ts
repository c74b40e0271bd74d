import { describe, expect, it } from 'vitest';
import { UserError } from '../../../src/errors.js';
import {
  createExhaustedError,
  createRefusalError,
  createTransientError,
  readErrorBody,
  SourceError,
} from '../../../src/source/errors.js';

describe('readErrorBody', () => {
  it("reads both of Socrata's error shapes", () => {
    expect(
      readErrorBody(
        '{"code":"query.compiler.malformed","error":true,"message":"Could not parse SoQL query","data":{"query":"x"}}',
      ),
    ).toEqual({ sourceCode: 'query.compiler.malformed', message: 'Could not parse SoQL query' });
    expect(
      readErrorBody(
        '{"errorCode":"query.soql.no-such-column","message":"No such column: foo","data":{}}',
      ),
    ).toEqual({
      sourceCode: 'query.soql.no-such-column',
      message: 'No such column: foo',
    });
  });

  it('names an HTML page by its title, keeps plain text to one line, and survives empty bodies', () => {
    expect(readErrorBody('<html><head><title>502 Bad Gateway</title></head></html>')).toEqual({
      message: 'an HTML page titled "502 Bad Gateway"',
    });
    expect(readErrorBody('upstream\n  timed out\n')).toEqual({ message: 'upstream timed out' });
    expect(readErrorBody('')).toEqual({});
    expect(readErrorBody('{"unexpected": 1}')).toEqual({});
    expect(readErrorBody(`{"message":"${'x'.repeat(2000)}"}`).message!.length).toBeLessThanOrEqual(
      400,
    );
  });
});

describe('createRefusalError', () => {
  it("names the dataset, the status, the source's words, and what to do", () => {
    const cases: [number, RegExp, string][] = [
      [400, /dataset's columns may have changed/, 'source.query-refused'],
      [401, /check SOCRATA_APP_TOKEN/, 'source.unauthorized'],
      [403, /check SOCRATA_APP_TOKEN/, 'source.unauthorized'],
      [404, /check SOCRATA_DATASET and SOCRATA_BASE_URL/, 'source.not-found'],
      [410, /check SOCRATA_BASE_URL/, 'source.refused'],
    ];
    for (const [status, advice, code] of cases) {
      const error = createRefusalError('3gki-wyrb', status, {
        sourceCode: 'some.code',
        message: 'the source says no',
      });
      expect(error).toBeInstanceOf(SourceError);
      expect(error).toBeInstanceOf(UserError);
      expect(error.code).toBe(code);
      expect(error.status).toBe(status);
      expect(error.retryable).toBe(false);
      expect(error.sourceCode).toBe('some.code');
      expect(error.message).toMatch(
        `Socrata dataset 3gki-wyrb answered HTTP ${status} some.code: the source says no.`,
      );
      expect(error.message).toMatch(advice);
      expect(error.message).not.toContain('\n');
    }
  });
});

describe('createExhaustedError', () => {
  it('says how many attempts were made, what failed last, and stays retryable', () => {
    const last = createTransientError('3gki-wyrb', 'HTTP 503 service_unavailable: down', {
      status: 503,
      body: { sourceCode: 'service_unavailable' },
    });
    const error = createExhaustedError('3gki-wyrb', 6, last);
    expect(error.code).toBe('source.unavailable');
    expect(error.retryable).toBe(true);
    expect(error.status).toBe(503);
    expect(error.sourceCode).toBe('service_unavailable');
    expect(error.message).toBe(
      'Socrata dataset 3gki-wyrb: gave up after 6 attempts; last: HTTP 503 service_unavailable: down. ' +
        'What to do: the source may be down or throttling us; try again later, or raise SOCRATA_MAX_ATTEMPTS or SOCRATA_TIMEOUT_MS.',
    );
  });
});
