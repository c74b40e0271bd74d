import type pg from 'pg';
import { applyChanges } from '../../analytics/rollups.js';
import { analyticsSpecOf } from '../../analytics/specs.js';
import type { StepCounts } from '../../db/schema/pipeline-steps.js';
import { UserError } from '../../errors.js';
import type { WindowSpec } from '../ledger/index.js';
import { addRunCounts, completeStep, readValidateCounts } from '../ledger/index.js';
import { dropStagingTables, stagingTable } from '../staging.js';
import type { TargetTable } from '../target.js';
import { inTransaction, type StepFunction } from './context.js';
import { defaultDeleteGuard, judgeDeletions, loadLockName, servedKeysSql } from './load.js';

/**
 * load, for a reconciliation: the whole table is the window. In one transaction, under the
 * dataset's load lock: the delete guard (held = every row not deleted), then the rows we hold that
 * the key listing lacks are marked deleted (`deleted_at`, `deleted_run_id`, as a window read
 * does; never a physical delete), and rows marked deleted whose key the listing has are restored;
 * the analytics follow both (the version held leaves the counts, or comes back to them), and the
 * counts go to the run. Nothing is inserted or updated: a listing has keys, not content.
 *
 * Only what the listing could have seen is judged: a row loaded after the listing began (an
 * incremental sync running meanwhile) is not marked for being absent from it, and a row marked
 * deleted after it began (by a window read newer than the listing) is not restored by it. The
 * extract step's start bounds the listing from below, so this errs towards changing less.
 *
 * A restored row comes back with the content we held; if the source changed it too, its new
 * update stamp brings the new version with the next sync.
 */
export const loadReconciliation: StepFunction = async (deps, { spec, pipeline, signal }) => {
  const { target, source } = pipeline;
  const keys = stagingTable('keys', spec.runId, spec.windowIndex);
  const served = servedKeysSql(pipeline, spec.runId, spec.windowIndex);
  const analytics = analyticsSpecOf(source.id);
  const changes = analytics ? 'pg_temp.cpd_load_changes' : undefined;

  return inTransaction(deps.pool, async (client) => {
    await client.query(`analyze ${keys}`);
    await client.query('select pg_advisory_xact_lock(hashtext($1))', [loadLockName(source.id)]);
    await client.query(`set local work_mem = '1GB'`);
    // This load brings the analytics up to date itself: the triggers that note other writers'
    // statements stand aside (as in load.ts).
    await client.query(`set local cpd.load_notes_changes = 'on'`);
    signal?.throwIfAborted();
    const listedSince = await readListingStart(client, spec);
    await checkReconcileGuard(client, target, served, listedSince, spec, {
      share: deps.settings.deleteGuard ?? defaultDeleteGuard,
    });
    if (changes && analytics) {
      await client.query(
        `create temp table ${changes} on commit drop as
         select 0::smallint as sign, ${analytics.columns.map((c) => `"${c}"`).join(', ')}
           from public."${target.table}" with no data`,
      );
    }
    const statements = buildReconcileSql(target, served, analytics?.columns, changes);
    const deleted = (await client.query(statements.mark, [spec.runId, listedSince])).rowCount ?? 0;
    const restored = (await client.query(statements.restore, [listedSince])).rowCount ?? 0;
    if (changes && analytics && deleted + restored > 0) {
      await applyChanges(client, analytics, changes);
      await client.query('update analytics.refresh_state set refreshed_at = now()');
    }
    const present = await countPresent(client, target, served);
    const validated = await readValidateCounts(client, spec.runId, spec.windowIndex);
    const counts: StepCounts = {
      extracted: validated.extracted ?? 0,
      rejected: 0,
      duplicate: validated.duplicate ?? 0,
      inserted: 0,
      updated: 0,
      unchanged: present - restored,
      deleted,
      restored,
    };
    await addRunCounts(client, spec.runId, counts);
    await dropStagingTables(client, spec.runId, spec.windowIndex);
    const outcome = { rowsIn: validated.extracted ?? 0, rowsOut: deleted + restored, counts };
    await completeStep(client, spec.runId, spec.windowIndex, 'load', outcome);
    return outcome;
  });
};

/** When the listing began at the earliest: its extract step's (last) start, as exact text. */
async function readListingStart(client: pg.ClientBase, spec: WindowSpec): Promise<string> {
  const { rows } = await client.query<{ since: string | null }>(
    `select started_at::text as since from pipeline_steps
      where run_id = $1 and window_index = $2 and step = 'extract'`,
    [spec.runId, spec.windowIndex],
  );
  const since = rows[0]?.since;
  if (!since) throw new Error(`the extract of run ${spec.runId} has no start time`);
  return since;
}

const quote = (name: string) => `"${name}"`;

/** Rows held (not deleted), given as SQL over the target table aliased `t`. */
const notDeleted = 't.deleted_at is null';
const listed = (target: TargetTable, served: string) =>
  `exists (select 1 from (${served}) as s where s.key = t.${quote(target.keyColumn)}::text)`;

/**
 * The reconciliation's two statements, over the whole table. `mark` (parameters: run id, listing
 * start) sets `deleted_at` on held rows loaded before the listing whose key it lacks; `restore`
 * (parameter: listing start) clears it on rows marked before the listing whose key it has. With `capture` and `changes`, each
 * records the versions it took out of the counts (-1) or put back (+1) for the analytics.
 */
export function buildReconcileSql(
  target: TargetTable,
  served: string,
  capture?: readonly string[],
  changes?: string,
): { mark: string; restore: string } {
  const table = `public.${quote(target.table)}`;
  const captured = (capture ?? []).map(quote);
  const mark = `
    update ${table} as t set deleted_at = now(), deleted_run_id = $1::bigint
     where ${notDeleted} and t.loaded_at < $2::timestamptz and not ${listed(target, served)}`;
  // loaded_at moves: the row's state was written now (and a later listing judges it by that).
  const restore = `
    update ${table} as t set deleted_at = null, deleted_run_id = null, loaded_at = now()
     where t.deleted_at < $1::timestamptz and ${listed(target, served)}`;
  if (!changes || captured.length === 0) return { mark, restore };
  const recording = (statement: string, sign: number) =>
    `with written as (${statement} returning ${captured.map((c) => `t.${c}`).join(', ')})
     insert into ${changes} (sign, ${captured.join(', ')}) select ${sign}, ${captured.join(', ')} from written`;
  return { mark: recording(mark, -1), restore: recording(restore, 1) };
}

/** Rows we hold, not deleted, whose key the listing has: after marking, the rows it confirmed. */
async function countPresent(
  client: pg.ClientBase,
  target: TargetTable,
  served: string,
): Promise<number> {
  const { rows } = await client.query<{ present: number }>(
    `select count(*)::int as present from public.${quote(target.table)} as t
      where ${notDeleted} and ${listed(target, served)}`,
  );
  return rows[0]?.present ?? 0;
}

/**
 * The delete guard over the whole table: a listing that would mark more than DELETE_GUARD of the
 * rows we hold deleted, or that has no keys while we hold rows, fails the load and changes
 * nothing, unless the run was confirmed (`--allow-deletes`).
 */
async function checkReconcileGuard(
  client: pg.ClientBase,
  target: TargetTable,
  served: string,
  listedSince: string,
  spec: WindowSpec,
  guard: { share: number },
): Promise<void> {
  const table = `public.${quote(target.table)}`;
  const { rows } = await client.query<{ held: number; missing: number; served: number }>(
    `select (select count(*)::int from ${table} as t where ${notDeleted}) as held,
            (select count(*)::int from ${table} as t
              where ${notDeleted} and t.loaded_at < $1::timestamptz and not ${listed(target, served)}) as missing,
            (select count(*)::int from (${served}) as s) as served`,
    [listedSince],
  );
  const { held = 0, missing = 0, served: servedRows = 0 } = rows[0] ?? {};
  const decision = judgeDeletions({ held, missing, served: servedRows, share: guard.share });
  if (decision === 'proceed' || spec.allowDeletes) return;
  const where = `reconciliation run ${spec.runId} of ${spec.dataset}`;
  const confirm =
    'If the source really removed them, run it again confirming it: cpd reconcile --allow-deletes, or POST /api/reconciliations with "allowDeletes": true';
  throw new UserError(
    'load.delete_guard',
    decision === 'empty'
      ? `${where}: the source listed no keys while we hold ${formatCount(held)} rows; marking them all deleted looks like a fault at the source, so nothing was changed. ${confirm}`
      : `${where}: the source's key listing lacks ${formatCount(missing)} of the ${formatCount(held)} rows we hold (${percent(missing / held)}, more than DELETE_GUARD allows: ${percent(guard.share)}), so nothing was marked deleted or changed. ${confirm}`,
  );
}

const formatCount = (value: number) => value.toLocaleString('en-US');
const percent = (share: number) => `${(share * 100).toFixed(share < 0.1 ? 1 : 0)}%`;
