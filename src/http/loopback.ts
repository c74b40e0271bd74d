import { isIP } from 'node:net';

/** Whether an address or host name stays on this machine. Pure. */

/** An IP address (as a socket reports it) on the loopback interface. */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const plain = address.startsWith('::ffff:') ? address.slice(7) : address;
  if (isIP(plain) === 4) return plain.startsWith('127.');
  return plain === '::1';
}

/** A host to listen on, or a Host/Origin header's host: loopback addresses and `localhost`. */
export function isLoopbackHost(host: string): boolean {
  const name = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return name === 'localhost' || name.endsWith('.localhost') || isLoopbackAddress(name);
}

/** The host part of a Host header (`127.0.0.1:3000`, `[::1]:3000`, `localhost`). */
export function hostOfHeader(header: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(header);
  if (bracketed) return bracketed[1]!;
  return header.replace(/:\d+$/, '');
}
