import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import type pg from 'pg';
import { readRunTotals, type RunTotals } from '../../src/pipeline/ledger/index.js';
import { createOrchestrator, type Orchestrator } from '../../src/queue/orchestrator.js';
import { createProcessors } from '../../src/queue/processors.js';
import { startWorkers, type RunningWorkers } from '../../src/queue/workers.js';
import { createSodaClient } from '../../src/source/client.js';
import type { TestDatabase } from './database.js';
import type { FakeSoda } from './fake-soda/index.js';
import { silentLog } from './pipeline.js';

export const testRedisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A queue prefix of its own (hash-tagged like production's), so tests never share keys. */
export function createTestPrefix(): string {
  return `{cpdtest-${randomBytes(4).toString('hex')}}`;
}

/** Deletes every key under a prefix. */
export async function deletePrefix(prefix: string, redisUrl = testRedisUrl): Promise<void> {
  const redis = new Redis(redisUrl);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

export interface TestQueue {
  prefix: string;
  orchestrator: Orchestrator;
  workers: RunningWorkers | undefined;
  close(): Promise<void>;
}

/** Orchestrator and (optionally) in-process workers on a test database and fake source. */
export function startTestQueue(
  database: TestDatabase,
  fake: FakeSoda,
  options: { prefix?: string; workers?: boolean; concurrency?: number } = {},
): TestQueue {
  const prefix = options.prefix ?? createTestPrefix();
  const orchestrator = createOrchestrator({
    pool: database.pool,
    redisUrl: testRedisUrl,
    prefix,
    datasetId: '3gki-wyrb',
    backoffScale: 0.001,
  });
  const workers =
    options.workers === false
      ? undefined
      : startWorkers(
          { redisUrl: testRedisUrl, prefix, concurrency: options.concurrency ?? 2 },
          createProcessors({
            pool: database.pool,
            source: createSodaClient({
              baseUrl: fake.url,
              retryBaseMs: 5,
              retryMaxMs: 50,
              maxAttempts: 3,
              timeoutMs: 10_000,
            }),
            settings: { rejectThreshold: 0.05 },
            log: silentLog,
            orchestrator,
            lookbackHours: 72,
          }),
          { pool: database.pool, log: silentLog },
        );
  return {
    prefix,
    orchestrator,
    workers,
    async close() {
      await workers?.close(5_000);
      await orchestrator.close();
      await deletePrefix(prefix);
    },
  };
}

/** Waits until a run reaches one of the states. */
export async function waitForRun(
  pool: pg.Pool,
  runId: number,
  states: readonly string[] = ['completed', 'failed', 'crashed'],
  timeoutMs = 60_000,
): Promise<RunTotals> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const totals = await readRunTotals(pool, runId);
    if (states.includes(totals.state)) return totals;
    if (Date.now() > deadline)
      throw new Error(`run ${runId} is still ${totals.state} after ${timeoutMs} ms`);
    await sleep(100);
  }
}

/** Polls a condition until it holds. */
export async function waitFor(
  condition: () => Promise<boolean>,
  timeoutMs = 60_000,
  what = 'the condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what} did not hold within ${timeoutMs} ms`);
    await sleep(100);
  }
}
