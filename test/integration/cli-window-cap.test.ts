import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { createTestPrefix, deletePrefix, testRedisUrl } from '../support/queue.js';

/** A run over a date range may have at most BACKFILL_MAX_WINDOWS windows, from the CLI too. */
describe('the window cap on the command line', () => {
  let database: TestDatabase;
  let prefix: string;
  const env = () => ({
    DATABASE_URL: database.url,
    REDIS_URL: testRedisUrl,
    QUEUE_PREFIX: prefix,
    SOCRATA_BASE_URL: 'http://127.0.0.1:9',
  });

  beforeAll(async () => {
    database = await createTestDatabase();
    prefix = createTestPrefix();
  });
  afterAll(async () => {
    await deletePrefix(prefix);
    await database?.drop();
  });

  it('refuses a backfill or sync of ten years by day, saying to choose a larger window', async () => {
    for (const command of ['backfill', 'sync']) {
      const result = await runCli(
        [command, '--from', '2016-01-01', '--to', '2026-01-01', '--window', 'day'],
        env(),
        { timeoutMs: 30_000 },
      );
      expect(result.code, `${command}: ${result.stderr}`).toBe(1);
      expect(result.stderr).toMatch(
        new RegExp(
          `^cpd ${command}: --window day: \\[2016-01-01, 2026-01-01\\) makes 3,653 day windows, and one run may have at most 400 \\(BACKFILL_MAX_WINDOWS\\): choose a larger window \\(month( or all)?\\)`,
          'm',
        ),
      );
    }
    const { rows } = await database.pool.query<{ count: number }>(
      'select count(*)::int as count from pipeline_runs',
    );
    expect(rows[0]!.count).toBe(0);
  });

  it('takes the limit from BACKFILL_MAX_WINDOWS', async () => {
    const result = await runCli(
      ['sync', '--from', '2025-01-01', '--to', '2025-01-04', '--window', 'day'],
      { ...env(), BACKFILL_MAX_WINDOWS: '2' },
      { timeoutMs: 30_000 },
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/makes 3 day windows, and one run may have at most 2/);
  });
});
