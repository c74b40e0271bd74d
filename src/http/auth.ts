import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { HttpError } from './errors.js';
import { hostOfHeader, isLoopbackAddress, isLoopbackHost } from './loopback.js';

/**
 * Who may write. With ADMIN_TOKEN set: whoever sends it, as `Authorization: Bearer <token>` (and,
 * for Bull Board, as the password of basic auth, so a browser can prompt for it). Without it the
 * server listens on loopback only, and writes are taken from this machine only.
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
}

export function requireAdmin(options: AdminOptions): RequestHandler {
  const challenge = options.basic
    ? 'Basic realm="cpd admin", charset="UTF-8"'
    : 'Bearer realm="cpd"';
  return (req, _res, next) => {
    if (options.token === undefined) {
      checkLocalRequest(req);
      next();
      return;
    }
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
    if (!tokensMatch(given, options.token)) {
      throw new HttpError(
        401,
        'auth.invalid',
        'the admin token is wrong; send the value of ADMIN_TOKEN',
        [{ field: 'authorization', message: 'wrong token' }],
        {
          'WWW-Authenticate': challenge,
        },
      );
    }
    next();
  };
}

/**
 * Without a token the server listens on loopback, but a web page in a local browser could still
 * send it requests: a cross-site form post, or a DNS-rebinding page that reaches 127.0.0.1 under
 * its own name. Only requests whose connection, Host and Origin are all local pass.
 */
function checkLocalRequest(req: Request): void {
  const origin = req.headers.origin;
  const originHost = origin === undefined ? undefined : safeHostOfOrigin(origin);
  const local =
    isLoopbackAddress(req.socket.remoteAddress) &&
    isLoopbackHost(hostOfHeader(req.headers.host ?? '')) &&
    (origin === undefined || (originHost !== undefined && isLoopbackHost(originHost)));
  if (!local) {
    throw new HttpError(
      403,
      'auth.local_only',
      'without ADMIN_TOKEN this server takes writes only from this machine (and not from web pages of other sites); set ADMIN_TOKEN to allow others',
    );
  }
}

function safeHostOfOrigin(origin: string): string | undefined {
  try {
    return new URL(origin).hostname;
  } catch {
    return undefined;
  }
}
