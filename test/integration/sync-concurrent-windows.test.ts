import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startFakeSoda, type FakeSoda } from '../support/fake-soda/index.js';
import { generatePoliceLog } from '../support/police-log-generator.js';
import { stepDepsFor, syncInProcess } from '../support/pipeline.js';

const sourceRows = [
  ...generatePoliceLog({ seed: 21, rows: 6_000, from: '2025-01-01', to: '2025-07-01' }),
];
const distinctIds = new Set(sourceRows.map((row) => row.id)).size;
const sixMonths = {
  mode: 'window',
  from: '2025-01-01',
  to: '2025-07-01',
  windowSize: 'month',
} as const;

describe('an in-process sync of several windows at once', () => {
  let database: TestDatabase;
  let fake: FakeSoda;
  beforeAll(async () => {
    database = await createTestDatabase();
    fake = await startFakeSoda({ rows: sourceRows });
  });
  afterAll(async () => {
    await fake.close();
    await database.drop();
  });

  it('runs windows side by side and loads exactly what one at a time would', async () => {
    const { run, error } = await syncInProcess(stepDepsFor(database, fake), sixMonths, {
      concurrency: 3,
    });
    expect(error).toBeUndefined();
    expect(run.state).toBe('completed');
    expect(run.rowsExtracted).toBe(sourceRows.length);
    expect(run.rowsInserted).toBe(distinctIds);
    // Three lanes start three extracts before any window's step ends.
    const { rows } = await database.pool.query<{ overlapping: number }>(
      `select count(*)::int as overlapping from pipeline_steps
        where run_id = $1 and step = 'extract'
          and started_at < (select min(ended_at) from pipeline_steps where run_id = $1)`,
      [run.id],
    );
    expect(rows[0]!.overlapping).toBe(3);
  });

  it('starts no step after one fails, and fails the run saying where', async () => {
    fake.addFault({ kind: '400', whereIncludes: ">= '2025-03-01" });
    try {
      const { run, error } = await syncInProcess(
        stepDepsFor(database, fake),
        { ...sixMonths, from: '2025-01-01', to: '2025-07-01' },
        { concurrency: 2 },
      );
      expect(error).toBeDefined();
      expect(run.state).toBe('failed');
      expect(run.error).toMatch(/window 2, extract/);
      const { rows } = await database.pool.query<{ late: number }>(
        `select count(*)::int as late from pipeline_steps
          where run_id = $1 and started_at > (
            select ended_at from pipeline_steps where run_id = $1 and state = 'failed')`,
        [run.id],
      );
      expect(rows[0]!.late).toBe(0);
    } finally {
      fake.clearFaults();
    }
  });
});
