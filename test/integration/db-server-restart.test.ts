import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDatabaseUnavailable, waitForDatabase } from '../../src/db/availability.js';
import { createDatabase } from '../../src/db/client.js';
import { startPrivatePostgres, type PrivatePostgres } from '../support/private-postgres.js';

/**
 * Found by the fault suite (postgres-restart): a PostgreSQL restart while a worker held a
 * connection in a transaction (an extract waiting on the source) killed the worker process: the
 * pool only listens for errors on idle connections. A private cluster, so the shared one is never
 * restarted.
 */
describe('a database restart under a checked-out connection', () => {
  let postgres: PrivatePostgres;
  beforeAll(async () => {
    postgres = await startPrivatePostgres();
  }, 120_000);
  afterAll(async () => {
    await postgres?.close();
  });

  it.each(['fast', 'immediate'] as const)(
    'survives a %s shutdown: the holder gets an error, the pool a fresh connection',
    { timeout: 120_000 },
    async (mode) => {
      const database = createDatabase(await postgres.createDatabase(`restart_${mode}`));
      try {
        const client = await database.pool.connect();
        await client.query('begin');
        await postgres.stop(mode);
        // The server's goodbye reaches the idle, checked-out connection meanwhile.
        await sleep(300);
        await postgres.start();
        await expect(client.query('select 1')).rejects.toThrow();
        client.release();
        const { rows } = await database.pool.query<{ one: number }>('select 1 as one');
        expect(rows).toEqual([{ one: 1 }]);
      } finally {
        await database.close();
      }
    },
  );

  it(
    'tells an unavailable database from a bad query, and waits a restart out',
    { timeout: 120_000 },
    async () => {
      const database = createDatabase(await postgres.createDatabase('restart_wait'));
      try {
        const bad = await database.pool.query('select nope').catch((error: unknown) => error);
        expect(isDatabaseUnavailable(bad)).toBe(false);

        const client = await database.pool.connect();
        await postgres.stop('fast');
        // The server's goodbye to a connection it had (57P01), then no server at all.
        const goodbye = await client.query('select 1').catch((error: unknown) => error);
        client.release();
        expect(isDatabaseUnavailable(goodbye)).toBe(true);
        const refused = await database.pool.query('select 1').catch((error: unknown) => error);
        expect(isDatabaseUnavailable(refused)).toBe(true);
        expect(await waitForDatabase(database.pool, { timeoutMs: 600, intervalMs: 100 })).toBe(
          false,
        );

        const restarted = sleep(1_000).then(() => postgres.start());
        const started = Date.now();
        expect(await waitForDatabase(database.pool, { timeoutMs: 60_000, intervalMs: 100 })).toBe(
          true,
        );
        expect(Date.now() - started).toBeGreaterThanOrEqual(900);
        await restarted;
      } finally {
        await database.close();
      }
    },
  );
});
