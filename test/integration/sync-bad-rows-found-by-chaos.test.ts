import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startFakeSoda, type FakeSoda, type SodaRow } from '../support/fake-soda/index.js';
import { generatePoliceLog } from '../support/police-log-generator.js';
import { incremental, stepDepsFor, syncInProcess } from '../support/pipeline.js';

/**
 * Rows the fault suite's bad-row corpus (test/chaos/bad-rows.ts) found that failed a whole run
 * instead of going to quarantine alone.
 */
const good = [...generatePoliceLog({ seed: 61, rows: 400 })];
const bad = {
  // Local mean time: the instant was written with an offset of odd seconds PostgreSQL refused.
  from1850: {
    date_time: '1850-06-15T14:30:00.000',
    id: '98000001',
    type: 'INCIDENT',
    last_updated: '2025-07-01T10:00:00.000',
  },
  // A NUL keeps the row whole; its lone surrogate then reached jsonb, which refused it.
  loneSurrogate: {
    date_time: '2025-06-15T14:30:00.000',
    id: '98000002',
    type: 'INCIDENT',
    description: 'nul \u0000 here',
    location: 'lone \ud800 there',
    last_updated: '2025-07-01T10:00:00.000',
  },
};

describe('bad rows that failed a run', () => {
  let database: TestDatabase;
  let fake: FakeSoda;
  beforeAll(async () => {
    database = await createTestDatabase();
    fake = await startFakeSoda({ rows: [...good, ...(Object.values(bad) as SodaRow[])] });
  });
  afterAll(async () => {
    await fake?.close();
    await database?.drop();
  });

  it('quarantines them with their reasons and loads the rest', async () => {
    const { run, error } = await syncInProcess(stepDepsFor(database, fake), incremental);
    expect(error).toBeUndefined();
    expect(run.state).toBe('completed');
    const { rows } = await database.pool.query<{
      sourceKey: string;
      reason: string;
      detail: string;
    }>(
      `select source_key as "sourceKey", reason, detail from rejected_records order by source_key`,
    );
    expect(rows.map(({ sourceKey, reason }) => ({ sourceKey, reason }))).toEqual([
      { sourceKey: '98000001', reason: 'bad_timestamp' },
      { sourceKey: '98000002', reason: 'nul_byte' },
    ]);
    expect(rows[0]!.detail).toMatch(/date_time is before 1900/);
    const { rows: stored } = await database.pool.query<{ location: string }>(
      `select payload->>'location' as location from rejected_records where source_key = '98000002'`,
    );
    expect(stored).toEqual([{ location: 'lone \uFFFD there' }]);
    expect(run.rowsInserted).toBe(new Set(good.map((row) => row.id)).size);
  });
});
