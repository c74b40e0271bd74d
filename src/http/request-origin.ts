import type { IncomingHttpHeaders } from 'node:http';
import { hostOfHeader, isLoopbackAddress, isLoopbackHost } from './loopback.js';

/**
 * Where a request comes from, read from its headers: whether a proxy relayed it, and whether a
 * browser sent it from a page of another site. Pure: the headers and the socket's address in,
 * a reason to refuse (or none) out.
 */

/** Headers a proxy adds when it relays a request (RFC 7239, the de-facto X-Forwarded-*, Via). */
export function listForwardingHeaders(headers: IncomingHttpHeaders): string[] {
  return Object.keys(headers)
    .filter((name) => name === 'forwarded' || name === 'via' || name.startsWith('x-forwarded-'))
    .sort();
}

function hostOfOrigin(origin: string): string | undefined {
  try {
    const url = new URL(origin);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.host : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Why a browser request is cross-site, or undefined when it is same-origin or carries no browser
 * headers (curl, scripts). Browsers send `Sec-Fetch-Site` and, on writes, `Origin`; a page of
 * another site can make a browser send a form with the credentials it holds (basic auth, which
 * browsers resend by themselves), so either header saying "elsewhere" is enough to refuse.
 * Same origin compares the Origin's host and port with the Host the request was sent to; the
 * scheme is left out, because behind a TLS-terminating proxy the app sees http either way.
 */
export function describeCrossSite(headers: IncomingHttpHeaders): string | undefined {
  const fetchSite = headers['sec-fetch-site'];
  if (fetchSite !== undefined && fetchSite !== 'same-origin' && fetchSite !== 'none')
    return `the browser says it was sent from a page of another site (Sec-Fetch-Site: ${fetchSite})`;
  const origin = headers.origin;
  if (origin === undefined) return undefined;
  const originHost = hostOfOrigin(origin);
  const host = headers.host?.toLowerCase();
  if (originHost === undefined || host === undefined || originHost.toLowerCase() !== host)
    return `it was sent from a page of another origin (Origin: ${origin.slice(0, 100)}, not this server's ${host ?? 'host'})`;
  return undefined;
}

/**
 * Why a request may not use the no-token mode's trust in "this machine", or undefined when it
 * may: it came over loopback, straight (no proxy relayed it: a proxy on this host would make
 * every remote client look local), under a loopback name (not a DNS-rebinding name that
 * resolves to 127.0.0.1), and not from a web page of another site.
 */
export function describeNonLocal(
  headers: IncomingHttpHeaders,
  remoteAddress: string | undefined,
): string | undefined {
  if (!isLoopbackAddress(remoteAddress))
    return `it came from ${remoteAddress ?? 'an unknown address'}, not from this machine`;
  const forwarded = listForwardingHeaders(headers);
  if (forwarded.length > 0)
    return `a proxy relayed it (${forwarded.join(', ')}), so it may come from anywhere`;
  const host = hostOfHeader(headers.host ?? '');
  if (!isLoopbackHost(host))
    return `it was sent to the name ${JSON.stringify(host.slice(0, 100))}, not to a loopback name such as localhost or 127.0.0.1`;
  // An Origin that passes is this server's own host, which was just found to be loopback.
  return describeCrossSite(headers);
}

/** Methods that change nothing; everything else must pass the cross-site check. */
export function isSafeMethod(method: string): boolean {
  return method === 'GET' || method === 'HEAD' || method === 'OPTIONS';
}
