import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { HttpError } from './errors.js';
import type { AuthFailureLimiter } from './auth-failures.js';
import { describeCrossSite, describeNonLocal, isSafeMethod } from './request-origin.js';

/**
 * Who may write. With ADMIN_TOKEN set: whoever sends it, as `Authorization: Bearer <token>` (and,
 * for Bull Board, as the password of basic auth, so a browser can prompt for it), with failed
 * attempts limited per client. Without it the server listens on loopback only, and writes are
 * taken from this machine only.
 */

/** Constant time whatever the lengths: both sides are hashed to 32 bytes first. */
export function tokensMatch(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/** The credential in an Authorization header: a bearer token, or a basic-auth password. */
export function readCredential(
  header: string | undefined,
  options: { basic: boolean },
): string | undefined {
  if (!header) return undefined;
  const bearer = /^Bearer +(\S+) *$/i.exec(header);
  if (bearer) return bearer[1];
  const basic = /^Basic +([A-Za-z0-9+/=]+) *$/i.exec(header);
  if (basic && options.basic) {
    const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon >= 0 ? decoded.slice(colon + 1) : undefined;
  }
  return undefined;
}

export interface AdminOptions {
  token: string | undefined;
  /** Also accept basic auth, and challenge with it (Bull Board in a browser). */
  basic?: boolean;
  /** Failed authentications, counted per client; shared by every route that takes the token. */
  failures: AuthFailureLimiter;
}

/** Who a request is for the limits: its address (the proxy's client once TRUST_PROXY_HOPS says). */
export function clientOf(req: Request): string {
  return req.ip ?? req.socket.remoteAddress ?? 'unknown';
}

export function requireAdmin(options: AdminOptions): RequestHandler {
  return (req, _res, next) => {
    if (options.token === undefined) {
      checkLocalRequest(req);
      next();
      return;
    }
    authenticate(req, options, options.token);
    next();
  };
}

/**
 * Whether a request that may be anonymous (a read) comes from an admin: it sends the right token
 * (a wrong one is a failed authentication: 401, and counted), or, without ADMIN_TOKEN, it passes
 * the checks that writes from this machine pass.
 */
export function isAdminRequest(req: Request, options: AdminOptions): boolean {
  if (options.token === undefined)
    return describeNonLocal(req.headers, req.socket.remoteAddress) === undefined;
  if (readCredential(req.headers.authorization, { basic: options.basic === true }) === undefined)
    return false;
  authenticate(req, options, options.token);
  return true;
}

/** Passes with the right token; throws 401 (missing, wrong) or 429 (too many failures). */
function authenticate(req: Request, options: AdminOptions, token: string): void {
  const challenge = options.basic
    ? 'Basic realm="cpd admin", charset="UTF-8"'
    : 'Bearer realm="cpd"';
  const client = clientOf(req);
  options.failures.check(client);
  const given = readCredential(req.headers.authorization, { basic: options.basic === true });
  if (given === undefined) {
    throw new HttpError(
      401,
      'auth.missing',
      `this needs the admin token: send Authorization: Bearer <ADMIN_TOKEN>${options.basic ? ' (or basic auth with the token as password)' : ''}`,
      [{ field: 'authorization', message: 'missing' }],
      { 'WWW-Authenticate': challenge },
    );
  }
  if (!tokensMatch(given, token)) {
    options.failures.record(client);
    throw new HttpError(
      401,
      'auth.invalid',
      'the admin token is wrong; send the value of ADMIN_TOKEN',
      [{ field: 'authorization', message: 'wrong token' }],
      { 'WWW-Authenticate': challenge },
    );
  }
}

/**
 * Without a token the server listens on loopback, and trusts requests from this machine. What
 * else could reach it is refused, each with its reason: a reverse proxy on this host (every
 * client it relays looks local), a DNS-rebinding page (a name of its own resolving to
 * 127.0.0.1), and a web page of another site in a local browser.
 */
function checkLocalRequest(req: Request): void {
  const reason = describeNonLocal(req.headers, req.socket.remoteAddress);
  if (reason !== undefined) {
    throw new HttpError(
      403,
      'auth.local_only',
      `without ADMIN_TOKEN this server takes writes and opens Bull Board only to requests made on this machine, directly, and not from web pages of other sites; this one was refused because ${reason}. Set ADMIN_TOKEN to allow others`,
    );
  }
}

/**
 * Every state-changing request to the API and Bull Board, whatever the auth mode: a browser
 * resends basic-auth credentials by itself, so a page of another site could submit a form to
 * Bull Board's API. Same-origin requests and requests without browser headers pass.
 */
export const refuseCrossSiteWrites: RequestHandler = (req, _res, next) => {
  if (!isSafeMethod(req.method)) {
    const reason = describeCrossSite(req.headers);
    if (reason !== undefined)
      throw new HttpError(
        403,
        'request.cross_site',
        `writes are taken only from this server's own pages or from outside a browser (curl, scripts); this one was refused because ${reason}`,
      );
  }
  next();
};
