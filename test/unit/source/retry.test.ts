import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRefusalError, createTransientError } from '../../../src/source/errors.js';
import {
  classifyError,
  classifyStatus,
  computeBackoffMs,
  defaultRetryAfterCapMs,
  parseRetryAfter,
  planRetry,
} from '../../../src/source/retry.js';

describe('classifyStatus', () => {
  it('retries what may pass and refuses what will not', () => {
    expect(classifyStatus(200)).toBe('ok');
    expect(classifyStatus(202)).toBe('retry');
    for (const status of [408, 429, 500, 502, 503, 504])
      expect(classifyStatus(status), String(status)).toBe('retry');
    for (const status of [400, 401, 403, 404, 405, 410, 422])
      expect(classifyStatus(status), String(status)).toBe('refuse');
  });
});

function withCode(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

describe('classifyError', () => {
  it('retries timeouts and connection failures, however deep the cause', () => {
    expect(classifyError(new DOMException('signal timed out', 'TimeoutError'))).toEqual({
      retryable: true,
      reason: 'timed out',
    });
    expect(
      classifyError(
        new TypeError('fetch failed', { cause: withCode('read ECONNRESET', 'ECONNRESET') }),
      ),
    ).toEqual({
      retryable: true,
      reason: 'connection failed (ECONNRESET)',
    });
    expect(
      classifyError(
        new TypeError('fetch failed', { cause: withCode('other side closed', 'UND_ERR_SOCKET') }),
      ).retryable,
    ).toBe(true);
    expect(classifyError(new TypeError('terminated'))).toEqual({
      retryable: true,
      reason: 'connection failed (terminated)',
    });
  });

  it("does not retry the caller's own abort, or bugs", () => {
    expect(
      classifyError(new DOMException('This operation was aborted', 'AbortError')).retryable,
    ).toBe(false);
    expect(classifyError(new RangeError('bad')).retryable).toBe(false);
    expect(classifyError('a string').retryable).toBe(false);
  });

  it("takes a SourceError's own verdict", () => {
    expect(
      classifyError(createTransientError('3gki-wyrb', 'answered an HTML page')).retryable,
    ).toBe(true);
    expect(classifyError(createRefusalError('3gki-wyrb', 400, {})).retryable).toBe(false);
  });
});

describe('computeBackoffMs', () => {
  const policy = { baseMs: 1000, maxMs: 60_000 };

  it('uses full jitter below a ceiling that doubles per attempt and is capped', () => {
    expect(computeBackoffMs(1, policy, () => 0)).toBe(0);
    expect(computeBackoffMs(1, policy, () => 0.999999)).toBe(999);
    expect(computeBackoffMs(2, policy, () => 0.5)).toBe(1000);
    expect(computeBackoffMs(4, policy, () => 0.5)).toBe(4000);
    expect(computeBackoffMs(20, policy, () => 0.999999)).toBe(59_999);
  });

  it('stays within [0, min(max, base · 2^(n−1))) for any attempt and any random value', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        fc.integer({ min: 0, max: 10_000 }),
        fc.integer({ min: 0, max: 600_000 }),
        (attempt, r, baseMs, maxMs) => {
          const delay = computeBackoffMs(attempt, { baseMs, maxMs }, () => r);
          const ceiling = Math.min(maxMs, baseMs * 2 ** (attempt - 1));
          expect(delay).toBeGreaterThanOrEqual(0);
          if (ceiling === 0) expect(delay).toBe(0);
          else expect(delay).toBeLessThan(ceiling);
        },
      ),
    );
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-01-16T15:00:00Z');

  it('reads delta-seconds and HTTP dates', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('Fri, 16 Jan 2026 15:00:30 GMT', now)).toBe(30_000);
    // A date in the past means: now.
    expect(parseRetryAfter('Fri, 16 Jan 2026 14:00:00 GMT', now)).toBe(0);
  });

  it('ignores what it cannot read', () => {
    for (const value of [null, undefined, '', 'soon', '-5', '1.5', '12 monkeys']) {
      expect(parseRetryAfter(value, now), String(value)).toBeUndefined();
    }
  });
});

describe('planRetry', () => {
  const policy = { baseMs: 100, maxMs: 1000 };

  it('never retries a refusal, and stops at maxAttempts', () => {
    expect(planRetry({ attempt: 1, maxAttempts: 6, retryable: false, policy })).toEqual({
      retry: false,
    });
    expect(
      planRetry({ attempt: 5, maxAttempts: 6, retryable: true, policy, random: () => 0.5 }),
    ).toEqual({ retry: true, delayMs: 500 });
    expect(planRetry({ attempt: 6, maxAttempts: 6, retryable: true, policy })).toEqual({
      retry: false,
    });
    expect(planRetry({ attempt: 1, maxAttempts: 1, retryable: true, policy })).toEqual({
      retry: false,
    });
  });

  it('waits at least as long as Retry-After says, up to a cap', () => {
    expect(
      planRetry({
        attempt: 1,
        maxAttempts: 6,
        retryable: true,
        retryAfterMs: 5_000,
        policy,
        random: () => 0.5,
      }),
    ).toEqual({
      retry: true,
      delayMs: 5_000,
    });
    // The backoff wins when it is longer.
    expect(
      planRetry({
        attempt: 4,
        maxAttempts: 6,
        retryable: true,
        retryAfterMs: 10,
        policy,
        random: () => 0.5,
      }),
    ).toEqual({
      retry: true,
      delayMs: 400,
    });
    expect(
      planRetry({ attempt: 1, maxAttempts: 6, retryable: true, retryAfterMs: 86_400_000, policy }),
    ).toEqual({
      retry: true,
      delayMs: defaultRetryAfterCapMs,
    });
  });

  it('gives a permanently failing source exactly maxAttempts attempts', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), (maxAttempts) => {
        let attempts = 1;
        while (
          planRetry({ attempt: attempts, maxAttempts, retryable: true, policy, random: () => 0 })
            .retry
        )
          attempts += 1;
        expect(attempts).toBe(maxAttempts);
      }),
    );
  });
});
