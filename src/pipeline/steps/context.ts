import type pg from 'pg';
import type { StepName } from '../../db/schema/enums.js';
import type { StepCounts } from '../../db/schema/pipeline-steps.js';
import type { Logger } from '../../logger.js';
import type { SodaClient } from '../../source/client.js';
import type { DatasetPipeline } from '../target.js';
import type { WindowSpec } from '../ledger/index.js';

/** What every step is given. Nothing in it says whether a queue or the CLI runs the step. */
export interface StepDeps {
  pool: pg.Pool;
  source: SodaClient;
  settings: {
    /** Share of a window's rows that may be rejected before the run fails (0–1). */
    rejectThreshold: number;
    /**
     * Share of the rows held in a window that a complete read of it may mark deleted without the
     * run's confirmation (0–1; default 0.05). An empty answer always needs it.
     */
    deleteGuard?: number;
  };
  log: Logger;
}

export interface StepInput {
  spec: WindowSpec;
  pipeline: DatasetPipeline;
  /** Called now and then with the rows done so far, for progress bars. */
  onProgress?: (rows: number) => void;
  signal?: AbortSignal;
  /**
   * Run again although the ledger says the step completed: its staging output was lost (see
   * run-step.ts), and a later step needs it rebuilt.
   */
  redo?: boolean;
}

export interface StepOutcome {
  rowsIn: number;
  rowsOut: number;
  counts: StepCounts;
}

export type StepFunction = (deps: StepDeps, input: StepInput) => Promise<StepOutcome>;

export type { StepName };

/** Runs `work` in a transaction on its own connection. */
export async function inTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    const result = await work(client);
    await client.query('commit');
    return result;
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
