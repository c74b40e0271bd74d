import { describe, expect, it } from 'vitest';
import { readCredential, tokensMatch } from '../../src/http/auth.js';
import { planListenAddress } from '../../src/http/listen-address.js';
import { hostOfHeader, isLoopbackAddress, isLoopbackHost } from '../../src/http/loopback.js';

const token = 'a-long-enough-admin-token';

describe('tokens', () => {
  it('match only when equal, whatever the lengths', () => {
    expect(tokensMatch(token, token)).toBe(true);
    expect(tokensMatch(`${token}x`, token)).toBe(false);
    expect(tokensMatch('', token)).toBe(false);
    expect(tokensMatch(token.toUpperCase(), token)).toBe(false);
  });

  it('are read from a bearer header, and from basic auth only where allowed', () => {
    const basic = `Basic ${Buffer.from(`anyone:${token}`).toString('base64')}`;
    expect(readCredential(`Bearer ${token}`, { basic: false })).toBe(token);
    expect(readCredential(`bearer ${token}`, { basic: false })).toBe(token);
    expect(readCredential(basic, { basic: true })).toBe(token);
    expect(readCredential(basic, { basic: false })).toBeUndefined();
    expect(
      readCredential(`Basic ${Buffer.from('no-colon').toString('base64')}`, { basic: true }),
    ).toBeUndefined();
    expect(readCredential(token, { basic: true })).toBeUndefined();
    expect(readCredential(undefined, { basic: true })).toBeUndefined();
  });
});

describe('loopback', () => {
  it('knows loopback addresses and names', () => {
    for (const address of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1'])
      expect(isLoopbackAddress(address)).toBe(true);
    for (const address of ['10.0.0.1', '0.0.0.0', '::', '::ffff:10.0.0.1', undefined])
      expect(isLoopbackAddress(address)).toBe(false);
    for (const host of ['localhost', 'LOCALHOST', 'app.localhost', '[::1]', '127.0.0.1'])
      expect(isLoopbackHost(host)).toBe(true);
    for (const host of ['0.0.0.0', 'example.com', 'localhost.example.com', '192.168.1.2'])
      expect(isLoopbackHost(host)).toBe(false);
  });

  it('reads the host of a Host header', () => {
    expect(hostOfHeader('127.0.0.1:3000')).toBe('127.0.0.1');
    expect(hostOfHeader('[::1]:3000')).toBe('::1');
    expect(hostOfHeader('localhost')).toBe('localhost');
  });
});

describe('where the server listens', () => {
  it('is loopback by default, with a warning when writes are open', () => {
    expect(planListenAddress({})).toEqual({
      host: '127.0.0.1',
      warning: expect.stringMatching(/no ADMIN_TOKEN: listening on 127\.0\.0\.1 only/) as string,
    });
    expect(planListenAddress({ ADMIN_TOKEN: token })).toEqual({ host: '127.0.0.1' });
    expect(planListenAddress({ HOST: '::1' }).host).toBe('::1');
  });

  it('is anywhere HOST says once there is a token', () => {
    expect(planListenAddress({ HOST: '0.0.0.0', ADMIN_TOKEN: token })).toEqual({ host: '0.0.0.0' });
  });

  it('refuses a non-loopback HOST without a token, saying to set ADMIN_TOKEN', () => {
    for (const HOST of ['0.0.0.0', '::', 'example.com']) {
      expect(() => planListenAddress({ HOST })).toThrow(
        expect.objectContaining({
          code: 'server.no_token',
          message: expect.stringMatching(/set ADMIN_TOKEN/) as string,
        }),
      );
    }
  });
});
