import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getDatasetPipeline } from '../../src/pipeline/datasets.js';
import { planRun, runInProcess } from '../../src/pipeline/flow.js';
import { createRun, stepOrder } from '../../src/pipeline/ledger/index.js';
import { runStep } from '../../src/pipeline/run-step.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startFakeSoda, type FakeSoda } from '../support/fake-soda/index.js';
import { generatePoliceLog } from '../support/police-log-generator.js';
import { stepDepsFor } from '../support/pipeline.js';

/**
 * Found by the fault suite (overlapping-windows): two runs over the same rows, one of which read
 * the source before a correction and loads after the other. The load's upsert replaces any row
 * whose content differs, whatever its `last_updated`, so the older version wins and the incident
 * stays stale until a later run reads it again. The fix belongs in the upsert
 * (src/pipeline/steps/load.ts): update only when the incoming version is not older.
 */
describe('a load that commits after a newer one', () => {
  let database: TestDatabase;
  let fake: FakeSoda;
  const rows = [
    ...generatePoliceLog({ seed: 91, rows: 300, from: '2025-01-01', to: '2025-02-01' }),
  ];
  const corrected = rows[10]!;
  beforeAll(async () => {
    database = await createTestDatabase();
    fake = await startFakeSoda({ rows });
  });
  afterAll(async () => {
    await fake?.close();
    await database?.drop();
  });

  it('keeps the newest version of each row', async () => {
    const deps = stepDepsFor(database, fake);
    const pipeline = getDatasetPipeline('3gki-wyrb');
    const range = { mode: 'window', from: '2025-01-01', to: '2025-02-01' } as const;
    // Run A reads the source...
    const early = await createRun(
      database.pool,
      await planRun(database.pool, pipeline, { ...range, windowSize: 'month' }, 'api'),
    );
    await runStep('extract', deps, { runId: early.run.id, windowIndex: 0 });
    // ...the source publishes a correction, run B reads and loads it...
    fake.upsertRows([
      {
        ...corrected,
        description: 'Corrected narrative.',
        last_updated: '2026-02-01T08:00:00.000',
      },
    ]);
    const late = await createRun(
      database.pool,
      await planRun(database.pool, pipeline, { ...range, windowSize: 'week' }, 'api'),
    );
    await runInProcess(deps, late.run);
    // ...then run A finishes with what it read before.
    for (const step of stepOrder.slice(1))
      await runStep(step, deps, { runId: early.run.id, windowIndex: 0 });

    const { rows: stored } = await database.pool.query<{ description: string }>(
      'select description from incidents where id = $1',
      [corrected.id],
    );
    expect(stored).toEqual([{ description: 'Corrected narrative.' }]);
  });
});
