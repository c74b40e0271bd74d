import type pg from 'pg';
import { rebuildRollups, type AnalyticsSpec } from '../analytics/rollups.js';
import { listAnalyticsSpecs } from '../analytics/specs.js';
import { loadLockName } from '../pipeline/steps/load.js';

/**
 * The analytics rollups follow each load's changes in the load's own transaction
 * (src/analytics/rollups.ts), so after the pipeline nothing is left to do here. What remains is
 * the fallback for everyone else: triggers on each dataset's table note any other writer's
 * statement in `analytics.pending_changes`, and this rebuilds that dataset's rollups from the
 * table. The pipeline calls it after each run; with nothing pending it is one small statement.
 */
export async function refreshAnalytics(pool: pg.Pool): Promise<void> {
  const { rows } = await pool.query<{ table: string }>(
    'select distinct table_name as table from analytics.pending_changes',
  );
  for (const { datasetId, spec } of listAnalyticsSpecs()) {
    if (rows.some((row) => row.table === spec.table)) await rebuildAnalytics(pool, datasetId, spec);
  }
}

/**
 * Recomputes a dataset's rollups from its table (`cpd analytics rebuild`): the same numbers the
 * loads' deltas keep. It takes the dataset's load lock, so it sees no load half applied and no
 * load applies a delta to a half-rebuilt rollup; readers keep seeing the previous numbers until it
 * commits (rows are replaced, not truncated). It consumes the dataset's pending marks in the same
 * transaction: a change committed after it read the table keeps its mark for the next call.
 * Returns how long it took, in milliseconds.
 */
export async function rebuildAnalytics(
  pool: pg.Pool,
  datasetId: string,
  spec: AnalyticsSpec,
): Promise<number> {
  const started = performance.now();
  const client = await pool.connect();
  try {
    await client.query('begin');
    await client.query('select pg_advisory_xact_lock(hashtext($1))', [loadLockName(datasetId)]);
    await client.query(`set local work_mem = '256MB'`);
    await client.query('delete from analytics.pending_changes where table_name = $1', [spec.table]);
    await rebuildRollups(client, spec);
    await client.query(
      'update analytics.refresh_state set refreshed_at = now(), rebuilds = rebuilds + 1',
    );
    await client.query('commit');
    client.release();
  } catch (error) {
    // Discarding the connection ends its session: the transaction rolls back (the marks stay for
    // the next call), whatever state the failure left it in.
    client.release(true);
    throw error;
  }
  return performance.now() - started;
}
