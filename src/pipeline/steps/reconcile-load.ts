import type pg from 'pg';
import { applyChanges } from '../../analytics/rollups.js';
import { analyticsSpecOf } from '../../analytics/specs.js';
import type { StepCounts } from '../../db/schema/pipeline-steps.js';
import { addRunCounts, completeStep, readValidateCounts } from '../ledger/index.js';
import { dropStagingTables, stagingTable } from '../staging.js';
import type { TargetTable } from '../target.js';
import { inTransaction, type StepFunction } from './context.js';
import {
  buildMarkDeletedSql,
  checkDeleteGuard,
  defaultDeleteGuard,
  findUnserved,
  readListingStart,
  servedKeysSql,
} from './deletions.js';
import { createChangesTable, loadChangesTable, takeLoadTurn } from './load.js';

/**
 * load, for a reconciliation: the whole table is the window. In one transaction, under the
 * dataset's load lock: the rows we hold that the key listing lacks are found (deletions.ts, with
 * no range), the delete guard judges them against every row not deleted, they are marked deleted
 * (`deleted_at`, `deleted_run_id`, as a window read does; never a physical delete), and rows
 * marked deleted whose key the listing has are restored; the analytics follow both (the version
 * held leaves the counts, or comes back to them), and the counts go to the run. Nothing is
 * inserted or updated: a listing has keys, not content.
 *
 * Only what the listing could have seen is judged: a row written after the listing began (by a
 * sync running meanwhile) is not marked for being absent from it, and a row marked deleted after
 * it began (by a window read newer than the listing) is not restored by it. The extract step's
 * start bounds the listing from below, so this errs towards changing less.
 *
 * A restored row comes back with the content we held; if the source changed it too, its new
 * update stamp brings the new version with the next sync.
 */
export const loadReconciliation: StepFunction = async (deps, { spec, pipeline, signal }) => {
  const { target, source } = pipeline;
  const keys = stagingTable('keys', spec.runId, spec.windowIndex);
  const served = servedKeysSql(pipeline, spec.runId, spec.windowIndex);
  const analytics = analyticsSpecOf(source.id);
  const changes = analytics ? loadChangesTable : undefined;

  return inTransaction(deps.pool, async (client) => {
    await client.query(`analyze ${keys}`);
    await takeLoadTurn(client, source.id);
    signal?.throwIfAborted();
    const listedSince = await readListingStart(client, spec);
    const missing = await findUnserved(client, target, served, undefined, listedSince);
    await checkDeleteGuard(
      client,
      {
        target,
        served,
        range: undefined,
        missing,
        where: `reconciliation run ${spec.runId} of ${spec.dataset} (every row we hold)`,
        confirm:
          'If the source really removed them, run it again confirming it: cpd reconcile --allow-deletes, or POST /api/reconciliations with "allowDeletes": true',
      },
      {
        share: deps.settings.deleteGuard ?? defaultDeleteGuard,
        allowDeletes: spec.allowDeletes === true,
      },
    );
    if (changes && analytics) await createChangesTable(client, changes, analytics);
    const deleted =
      missing > 0
        ? ((
            await client.query(buildMarkDeletedSql(target, analytics?.columns, changes), [
              spec.runId,
            ])
          ).rowCount ?? 0)
        : 0;
    const restore = buildRestoreSql(target, served, analytics?.columns, changes);
    const restored = (await client.query(restore, [listedSince])).rowCount ?? 0;
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

const quote = (name: string) => `"${name}"`;

const listed = (target: TargetTable, served: string) =>
  `exists (select 1 from (${served}) as s where s.key = t.${quote(target.keyColumn)}::text)`;

/**
 * Clears `deleted_at` on rows marked before the listing began (parameter) whose key it has. With
 * `capture` and `changes`, records the versions it puts back into the counts for the analytics.
 */
export function buildRestoreSql(
  target: TargetTable,
  served: string,
  capture?: readonly string[],
  changes?: string,
): string {
  const captured = (capture ?? []).map(quote);
  // loaded_at moves: the row's state is written now (and a later listing judges it by that).
  const restore = `
    update public.${quote(target.table)} as t set deleted_at = null, deleted_run_id = null, loaded_at = now()
     where t.deleted_at < $1::timestamptz and ${listed(target, served)}`;
  if (!changes || captured.length === 0) return restore;
  return `with restored as (${restore} returning ${captured.map((c) => `t.${c}`).join(', ')})
    insert into ${changes} (sign, ${captured.join(', ')}) select 1, ${captured.join(', ')} from restored`;
}

/** Rows we hold, not deleted, whose key the listing has: after marking, the rows it confirmed. */
async function countPresent(
  client: pg.ClientBase,
  target: TargetTable,
  served: string,
): Promise<number> {
  const { rows } = await client.query<{ present: number }>(
    `select count(*)::int as present from public.${quote(target.table)} as t
      where t.deleted_at is null and ${listed(target, served)}`,
  );
  return rows[0]?.present ?? 0;
}
