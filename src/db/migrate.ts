import { fileURLToPath } from 'node:url';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import type pg from 'pg';

export const migrationsFolder = fileURLToPath(new URL('../../drizzle', import.meta.url));

/** Any constant will do, as long as nothing else in the database uses it for another lock. */
const migrationLockKey = 4_243_117_001;

export interface MigrationReport {
  /** Migrations applied by this call. */
  applied: number;
  /** Migrations the database has in all after this call. */
  total: number;
}

/**
 * Applies the committed migrations. Safe to run twice (Drizzle skips applied ones) and from several
 * processes at once: a session-level advisory lock makes the second wait for the first, then find
 * nothing to do.
 */
export async function migrateDatabase(pool: pg.Pool): Promise<MigrationReport> {
  const client = await pool.connect();
  try {
    await client.query('select pg_advisory_lock($1)', [migrationLockKey]);
    try {
      const before = await countAppliedMigrations(client);
      await migrate(drizzle({ client }), { migrationsFolder });
      const after = await countAppliedMigrations(client);
      return { applied: after - before, total: after };
    } finally {
      await client.query('select pg_advisory_unlock($1)', [migrationLockKey]);
    }
  } finally {
    client.release();
  }
}

/** How many migrations the repository holds. */
export function countMigrationFiles(): number {
  return readMigrationFiles({ migrationsFolder }).length;
}

async function countAppliedMigrations(client: pg.PoolClient): Promise<number> {
  const { rows } = await client.query<{ present: boolean }>(
    `select to_regclass('drizzle.__drizzle_migrations') is not null as present`,
  );
  if (!rows[0]?.present) return 0;
  const count = await client.query<{ applied: string }>(
    'select count(*) as applied from drizzle.__drizzle_migrations',
  );
  return Number(count.rows[0]?.applied ?? 0);
}
