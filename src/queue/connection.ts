import { Redis, type RedisOptions } from 'ioredis';

/**
 * Redis connections for BullMQ. Workers block on Redis and must wait out an outage rather than
 * fail a command (`maxRetriesPerRequest: null`, as BullMQ requires). Producers serving an HTTP
 * request must instead fail fast when Redis is down, so the caller can answer 503 at once.
 */
export function createWorkerConnection(url: string, name = 'cpd-worker'): Redis {
  const connection = new Redis(url, { maxRetriesPerRequest: null, connectionName: name });
  // ioredis reports a lost connection as an 'error' event; without a listener Node would crash.
  connection.on('error', () => undefined);
  return connection;
}

export function createProducerConnection(
  url: string,
  name = 'cpd-producer',
  options: RedisOptions = {},
): Redis {
  const connection = new Redis(url, {
    connectionName: name,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 1_000,
    ...options,
  });
  connection.on('error', () => undefined);
  return connection;
}

/** Resolves once the connection is ready; false if it is not within the time given. */
export function waitUntilReady(connection: Redis, timeoutMs: number): Promise<boolean> {
  if (connection.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ready: boolean) => {
      clearTimeout(timer);
      connection.off('ready', onReady);
      resolve(ready);
    };
    const onReady = () => done(true);
    const timer = setTimeout(() => done(false), timeoutMs);
    connection.on('ready', onReady);
  });
}
