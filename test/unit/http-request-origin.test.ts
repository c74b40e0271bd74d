import { describe, expect, it } from 'vitest';
import { createAuthFailureLimiter } from '../../src/http/auth-failures.js';
import {
  describeCrossSite,
  describeNonLocal,
  listForwardingHeaders,
} from '../../src/http/request-origin.js';

const host = '127.0.0.1:3000';

describe('where a request comes from', () => {
  it('finds the headers a proxy adds', () => {
    expect(
      listForwardingHeaders({
        host,
        'x-forwarded-for': '1.2.3.4',
        via: '1.1 proxy',
        forwarded: 'for=1.2.3.4',
        'x-real-ip': '1.2.3.4',
        'x-forwarded-proto': 'https',
      }),
    ).toEqual(['forwarded', 'via', 'x-forwarded-for', 'x-forwarded-proto']);
    expect(listForwardingHeaders({ host, 'user-agent': 'curl' })).toEqual([]);
  });

  it('passes same-origin browser requests and requests without browser headers', () => {
    expect(describeCrossSite({ host })).toBeUndefined();
    expect(describeCrossSite({ host, origin: 'http://127.0.0.1:3000' })).toBeUndefined();
    expect(describeCrossSite({ host, origin: 'https://127.0.0.1:3000' })).toBeUndefined();
    expect(describeCrossSite({ host: 'CPD.example.org', origin: 'https://cpd.example.org' })).toBe(
      undefined,
    );
    expect(describeCrossSite({ host, 'sec-fetch-site': 'same-origin' })).toBeUndefined();
    expect(describeCrossSite({ host, 'sec-fetch-site': 'none' })).toBeUndefined();
  });

  it('says why a browser request is cross-site', () => {
    expect(describeCrossSite({ host, origin: 'http://evil.example' })).toMatch(/another origin/);
    expect(describeCrossSite({ host, origin: 'http://127.0.0.1:3001' })).toMatch(/another origin/);
    expect(describeCrossSite({ host, origin: 'http://localhost:3000' })).toMatch(/another origin/);
    expect(describeCrossSite({ host, origin: 'null' })).toMatch(/Origin: null/);
    expect(describeCrossSite({ host, origin: 'file:///tmp/x.html' })).toMatch(/another origin/);
    expect(describeCrossSite({ host, 'sec-fetch-site': 'cross-site' })).toMatch(/cross-site/);
    expect(describeCrossSite({ host, 'sec-fetch-site': 'same-site' })).toMatch(/same-site/);
    expect(describeCrossSite({ origin: 'http://127.0.0.1:3000' })).toMatch(/another origin/);
  });

  it("trusts only direct requests of this machine's own, under loopback names", () => {
    expect(describeNonLocal({ host }, '127.0.0.1')).toBeUndefined();
    expect(describeNonLocal({ host: 'localhost:3000' }, '::1')).toBeUndefined();
    expect(describeNonLocal({ host }, '192.168.1.5')).toMatch(/came from 192\.168\.1\.5/);
    expect(describeNonLocal({ host }, undefined)).toMatch(/not from this machine/);
    expect(describeNonLocal({ host, 'x-forwarded-for': '8.8.8.8' }, '127.0.0.1')).toMatch(
      /a proxy relayed it \(x-forwarded-for\)/,
    );
    expect(describeNonLocal({ host: 'cpd.example.org' }, '127.0.0.1')).toMatch(
      /sent to the name "cpd\.example\.org"/,
    );
    expect(describeNonLocal({ host, origin: 'http://evil.example' }, '127.0.0.1')).toMatch(
      /another origin/,
    );
  });
});

describe('failed authentications', () => {
  it('lock a client out past the limit until its minute is over, others not', () => {
    let now = 1_000_000;
    const limiter = createAuthFailureLimiter({ perMinute: 3, now: () => now });
    for (let failure = 0; failure < 3; failure++) {
      expect(() => limiter.check('a')).not.toThrow();
      limiter.record('a');
    }
    expect(() => limiter.check('a')).toThrow(
      expect.objectContaining({
        status: 429,
        code: 'auth.rate_limited',
        headers: { 'Retry-After': '60' },
      }),
    );
    expect(() => limiter.check('b')).not.toThrow();
    now += 45_000;
    expect(() => limiter.check('a')).toThrow(
      expect.objectContaining({ headers: { 'Retry-After': '15' } }),
    );
    now += 15_000;
    expect(() => limiter.check('a')).not.toThrow();
    limiter.record('a');
    expect(() => limiter.check('a')).not.toThrow();
  });

  it('remember a bounded number of clients, forgetting the oldest first', () => {
    const limiter = createAuthFailureLimiter({ perMinute: 1, maxClients: 2, now: () => 0 });
    limiter.record('a');
    limiter.record('b');
    limiter.record('c');
    expect(() => limiter.check('a')).not.toThrow();
    expect(() => limiter.check('b')).toThrow();
    expect(() => limiter.check('c')).toThrow();
  });
});
