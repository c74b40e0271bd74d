import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';

/** How long a failed step or run waits for an unavailable database before it gives up waiting. */
export const databaseWaitMs = 120_000;

/** Socket errors that mean the server went away or is not there yet (or its name not found). */
const socketCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
]);

/** What node-postgres says of a connection it lost (it has no code for these). */
const lostConnection = [
  'Connection terminated',
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
  'timeout exceeded when trying to connect',
];

/**
 * Whether an error means the database server is unreachable, shutting down or starting up (a
 * restart, a failover) rather than that the work itself is wrong: workers wait for it, the HTTP
 * API and the dashboard answer 503. The one such check. Pure.
 * SQLSTATE class 08 is a connection exception; class 57P is the server ending or refusing
 * connections (57P01–57P03: admin shutdown, crash shutdown, "the database system is starting up").
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as Error & { code?: unknown }).code;
  if (typeof code === 'string') {
    if (socketCodes.has(code)) return true;
    if (code.startsWith('08') || code.startsWith('57P')) return true;
  }
  return lostConnection.some((text) => error.message.startsWith(text));
}

/**
 * Waits until the database answers again, asking every `intervalMs`; false when it still does
 * not after `timeoutMs`, or when `signal` aborts (a worker shutting down).
 */
export async function waitForDatabase(
  pool: pg.Pool,
  options: { timeoutMs: number; intervalMs?: number; signal?: AbortSignal },
): Promise<boolean> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    try {
      await pool.query('select 1');
      return true;
    } catch (error) {
      if (!isDatabaseUnavailable(error)) return true;
    }
    if (Date.now() >= deadline || options.signal?.aborted) return false;
    try {
      await sleep(options.intervalMs ?? 500, undefined, { signal: options.signal });
    } catch {
      return false;
    }
  }
}
