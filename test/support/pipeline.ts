import { createLogger } from '../../src/logger.js';
import { getDatasetPipeline } from '../../src/pipeline/datasets.js';
import {
  claimInProcessRun,
  planRun,
  releaseInProcessRun,
  runInProcess,
  type RunPlan,
} from '../../src/pipeline/flow.js';
import {
  readRunTotals,
  readStepTotals,
  type RunTotals,
  type StepTotals,
} from '../../src/pipeline/ledger/index.js';
import type { StepDeps } from '../../src/pipeline/steps/context.js';
import { createSodaClient } from '../../src/source/client.js';
import type { TestDatabase } from './database.js';
import type { FakeSoda } from './fake-soda/index.js';

export const silentLog = createLogger('silent');

/** Step dependencies against a test database and a fake SODA server, with quick retries. */
export function stepDepsFor(
  database: TestDatabase,
  fake: FakeSoda,
  options: { rejectThreshold?: number; pageSize?: number } = {},
): StepDeps {
  return {
    pool: database.pool,
    source: createSodaClient({
      baseUrl: fake.url,
      pageSize: options.pageSize ?? 50_000,
      retryBaseMs: 5,
      retryMaxMs: 50,
      maxAttempts: 4,
      timeoutMs: 10_000,
    }),
    settings: { rejectThreshold: options.rejectThreshold ?? 0.05 },
    log: silentLog,
  };
}

export interface SyncOutcome {
  run: RunTotals;
  steps: StepTotals[];
  error?: unknown;
}

/** What `cpd sync` does, in this process: plan, claim, run, report (the Police Log by default). */
export async function syncInProcess(
  deps: StepDeps,
  plan: RunPlan,
  options: { concurrency?: number; dataset?: string } = {},
): Promise<SyncOutcome> {
  const request = await planRun(
    deps.pool,
    getDatasetPipeline(options.dataset ?? '3gki-wyrb'),
    plan,
    'cli',
  );
  const { run, lock } = await claimInProcessRun(deps.pool, request);
  let error: unknown;
  try {
    await runInProcess(deps, run, {}, options.concurrency ?? 1);
  } catch (caught) {
    error = caught;
  } finally {
    await releaseInProcessRun(lock, run.id);
  }
  return {
    run: await readRunTotals(deps.pool, run.id),
    steps: await readStepTotals(deps.pool, run.id),
    ...(error !== undefined && { error }),
  };
}

export const wholeRange: Extract<RunPlan, { mode: 'window' }> = {
  mode: 'window',
  from: '2020-01-01',
  to: '2030-01-01',
  windowSize: 'all',
};
export const incremental: RunPlan = { mode: 'incremental', lookbackHours: 72 };
