import { createProducerConnection, waitUntilReady } from '../queue/connection.js';
import { describeConnectionError, probeWithin, type DependencyStatus } from './dependency.js';

export interface RedisCheck {
  check(timeoutMs: number): Promise<DependencyStatus>;
  close(): void;
}

/**
 * A connection of its own that only answers "is Redis there?", within the time given: it never
 * queues a command while disconnected, and reconnects by itself, so the answer follows Redis
 * going and coming back without a restart.
 */
export function createRedisCheck(redisUrl: string): RedisCheck {
  const connection = createProducerConnection(redisUrl, 'cpd-http-check');
  let lastError: string | undefined;
  connection.on('error', (error: unknown) => (lastError = describeConnectionError(error)));
  connection.on('ready', () => (lastError = undefined));
  return {
    async check(timeoutMs) {
      // Not connected yet (starting, or reconnecting after an outage): give it the time allowed.
      if (!(await waitUntilReady(connection, timeoutMs)))
        return { ok: false, reason: `not connected (${lastError ?? connection.status})` };
      return probeWithin(() => connection.ping(), timeoutMs);
    },
    close: () => connection.disconnect(),
  };
}
