import { readFileSync } from 'node:fs';
import type { Config } from '../config.js';
import { createDatabase } from '../db/client.js';
import { migrateDatabase } from '../db/migrate.js';
import { openDatabase } from '../db/open.js';
import { UserError } from '../errors.js';
import { createApp } from '../http/app.js';
import { planListenAddress } from '../http/listen-address.js';
import { createRedisCheck } from '../http/redis-check.js';
import { startServer, type RunningServer } from '../http/server.js';
import { createLogger } from '../logger.js';
import { getDatasetPipeline } from '../pipeline/datasets.js';
import { startQueueService } from '../queue/service.js';
import { runUntilSignalled } from './lifecycle.js';

/**
 * What `cpd server` and `cpd up` share: check where to listen (before anything starts), open and
 * migrate the database, start the queue side, serve until SIGTERM/SIGINT, then stop in order: no
 * new connections, requests in flight and running jobs finish (within SHUTDOWN_GRACE_MS), then
 * the queue connections and the database close.
 */
export async function serveHttp(
  config: Config,
  command: 'server' | 'up',
  options: { workers: boolean },
): Promise<number> {
  const listen = planListenAddress(config);
  const log = createLogger(config.LOG_LEVEL, { command });
  const pipeline = getDatasetPipeline(config.SOCRATA_DATASET);
  const database = await openDatabase(config, {
    log: (message) => log.debug(message),
    max: 10 + (options.workers ? config.WORKER_CONCURRENCY * 5 + 4 : 0),
  });
  // With workers in this process, the HTTP server gets a small pool of its own, so a flood of
  // dashboard or API requests waits for its own connections and never takes the workers'.
  const http = options.workers
    ? createDatabase(database.pool.options.connectionString ?? '', {
        max: config.HTTP_DB_POOL_SIZE,
        applicationName: 'cpd http',
      })
    : database;
  const redis = createRedisCheck(config.REDIS_URL);
  try {
    await migrateDatabase(database.pool);
    const service = startQueueService(
      config,
      { pool: database.pool, log },
      { workers: options.workers, scheduler: options.workers },
    );
    let server: RunningServer;
    try {
      const app = createApp({
        pool: http.pool,
        orchestrator: service.orchestrator,
        checkRedis: (timeoutMs) => redis.check(timeoutMs),
        config: {
          adminToken: config.ADMIN_TOKEN,
          bullBoardReadOnly: config.BULL_BOARD_READONLY,
          writeRateLimit: config.WRITE_RATE_LIMIT,
          authFailureLimit: config.AUTH_FAILURE_LIMIT,
          backfillMaxDays: config.BACKFILL_MAX_DAYS,
          backfillMaxWindows: config.BACKFILL_MAX_WINDOWS,
          lookbackHours: config.SYNC_LOOKBACK_HOURS,
          timeZone: pipeline.source.timeZone,
          trustProxyHops: config.TRUST_PROXY_HOPS,
          metabasePublicUrl: config.METABASE_PUBLIC_URL ?? config.METABASE_URL,
          version: readVersion(),
        },
        log,
      });
      server = await startServer(app, { host: listen.host, port: config.PORT }).catch(
        (error: unknown) => {
          throw describeListenError(error, listen.host, config.PORT);
        },
      );
    } catch (error) {
      await service.close(0);
      throw error;
    }
    // Signals are handled from before the first line that says the server is up.
    const stopped = runUntilSignalled(log, async () => {
      await Promise.all([
        server.close(config.SHUTDOWN_GRACE_MS),
        service.workers?.close(config.SHUTDOWN_GRACE_MS),
      ]);
      await service.orchestrator.close();
    });
    log.info(
      {
        url: server.url,
        database: database.label,
        prefix: config.QUEUE_PREFIX,
        workers: options.workers,
        bullBoardReadOnly: config.BULL_BOARD_READONLY,
      },
      `listening on ${server.url} (dashboard /, API /api, Bull Board /admin/queues)`,
    );
    if (listen.warning) log.warn(listen.warning);
    void redis.check(2_000).then((status) => {
      if (!status.ok)
        log.warn(
          `Redis is not reachable yet (${status.reason}): writes answer 503 and /readyz says so until it is`,
        );
    });
    return await stopped;
  } finally {
    redis.close();
    if (http !== database) await http.close();
    await database.close();
  }
}

function describeListenError(error: unknown, host: string, port: number): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'EADDRINUSE')
    return new UserError(
      'server.port_in_use',
      `port ${port} on ${host} is already in use; stop what uses it or set PORT`,
      { cause: error },
    );
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EACCES') {
    return new UserError(
      'server.cannot_listen',
      `cannot listen on ${host}:${port} (${String(code)}); check HOST and PORT`,
      { cause: error },
    );
  }
  return error;
}

function readVersion(): string {
  const file = new URL('../../package.json', import.meta.url);
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}
