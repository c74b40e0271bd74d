import { createServer } from 'node:net';
import type { AppConfig } from '../../src/http/app.js';
import { createApp } from '../../src/http/app.js';
import { createRedisCheck } from '../../src/http/redis-check.js';
import { startServer } from '../../src/http/server.js';
import type { Orchestrator } from '../../src/queue/orchestrator.js';
import type { TestDatabase } from './database.js';
import { silentLog } from './pipeline.js';
import { testRedisUrl } from './queue.js';

export const testAdminToken = 'test-admin-token-0123456789';

export interface TestApp {
  url: string;
  close(): Promise<void>;
}

/** The real app (createApp) on a free port of 127.0.0.1, against a test database and queue. */
export async function startTestApp(
  database: TestDatabase,
  orchestrator: Orchestrator,
  options: { config?: Partial<AppConfig>; redisUrl?: string; now?: () => Date } = {},
): Promise<TestApp> {
  const redis = createRedisCheck(options.redisUrl ?? testRedisUrl);
  const app = createApp({
    pool: database.pool,
    orchestrator,
    checkRedis: (timeoutMs) => redis.check(timeoutMs),
    config: {
      adminToken: testAdminToken,
      bullBoardReadOnly: false,
      writeRateLimit: 10_000,
      authFailureLimit: 10,
      backfillMaxDays: 3_660,
      backfillMaxWindows: 400,
      lookbackHours: 72,
      timeZone: 'America/New_York',
      trustProxyHops: 0,
      version: '0.0.0-test',
      ...options.config,
    },
    log: silentLog,
    ...(options.now && { now: options.now }),
  });
  const server = await startServer(app, { host: '127.0.0.1', port: 0 });
  return {
    url: server.url,
    async close() {
      await server.close(1_000);
      redis.close();
    },
  };
}

/** Headers for an admin write with a JSON body. */
export function adminJson(token = testAdminToken): Record<string, string> {
  return { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
}

/** A port the OS says is free right now (redis-server cannot be given port 0). */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}
