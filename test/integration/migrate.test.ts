import { afterEach, describe, expect, it } from 'vitest';
import { countMigrationFiles, migrateDatabase } from '../../src/db/migrate.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

const expectedTables = [
  'public.crime_reports',
  'public.incidents',
  'public.pipeline_runs',
  'public.pipeline_steps',
  'public.rejected_records',
  'public.sync_state',
];

/** Everything a migration could change, as one comparable text. */
async function schemaFingerprint(database: TestDatabase): Promise<string> {
  const { rows } = await database.pool.query<{ line: string }>(`
    select format('%s.%s %s %s %s', table_schema, table_name, column_name, data_type, is_nullable) as line
      from information_schema.columns where table_schema in ('public', 'staging', 'analytics')
    union all
    select format('%s %s', schemaname, indexdef) from pg_indexes where schemaname in ('public', 'staging', 'analytics')
    union all
    select format('view %s.%s', table_schema, table_name) from information_schema.views
     where table_schema = 'analytics'
    order by 1`);
  return rows.map((row) => row.line).join('\n');
}

describe('migrateDatabase', () => {
  let database: TestDatabase | undefined;
  afterEach(async () => {
    await database?.drop();
    database = undefined;
  });

  it('creates every table on an empty database, then changes nothing on a second run', async () => {
    database = await createTestDatabase({ migrate: false });
    const first = await migrateDatabase(database.pool);
    expect(first.applied).toBe(countMigrationFiles());

    const { rows } = await database.pool.query<{ name: string }>(
      `select table_schema || '.' || table_name as name from information_schema.tables
        where table_schema in ('public', 'staging') and table_type = 'BASE TABLE' order by 1`,
    );
    expect(rows.map((row) => row.name)).toEqual(expect.arrayContaining(expectedTables));
    const analytics = await database.pool.query(
      `select 1 from information_schema.schemata where schema_name = 'analytics'`,
    );
    expect(analytics.rowCount).toBe(1);

    const before = await schemaFingerprint(database);
    const second = await migrateDatabase(database.pool);
    expect(second).toEqual({ applied: 0, total: first.total });
    expect(await schemaFingerprint(database)).toBe(before);
  });

  it('lets two processes migrate at once: both succeed, the work is done once', async () => {
    database = await createTestDatabase({ migrate: false });
    const results = await Promise.all([
      migrateDatabase(database.pool),
      migrateDatabase(database.pool),
      migrateDatabase(database.pool),
    ]);
    expect(results.map((result) => result.applied).sort()).toEqual([0, 0, countMigrationFiles()]);
  });

  it('keeps the natural key and the one-active-run-per-request rule', async () => {
    database = await createTestDatabase();
    const key = await database.pool.query(
      `select 1 from pg_constraint where conrelid = 'incidents'::regclass and contype = 'p'`,
    );
    expect(key.rowCount).toBe(1);

    const insertRun = (state: string) =>
      database!.pool.query(
        `insert into pipeline_runs (dataset, mode, trigger, state, dedupe_key)
         values ('3gki-wyrb', 'window', 'api', $1, 'backfill:2025-01-01:2026-01-01:month')`,
        [state],
      );
    await insertRun('completed');
    await insertRun('running');
    await expect(insertRun('scheduled')).rejects.toThrow(/pipeline_runs_one_active_per_key/);
  });
});
