import type pg from 'pg';
import type { StepCounts } from '../../db/schema/pipeline-steps.js';
import { addRunCounts, completeStep } from '../ledger.js';
import { dropStagingTables, stagingTable } from '../staging.js';
import type { TargetTable } from '../target.js';
import { inTransaction, type StepFunction } from './context.js';

/**
 * load: one transaction per window. Updates the rows whose content changed, inserts the new ones
 * (so a replay changes nothing), adds the counts to the run, advances the incremental cursor,
 * drops the window's staging tables and records the step: all of it commits or none of it does.
 *
 * Loads of one dataset take turns (a transaction-scoped advisory lock): two windows that share ids
 * cannot deadlock or insert the same id twice, and the cursor only moves forward. That is also
 * why this is an UPDATE and an INSERT rather than INSERT … ON CONFLICT: with loads serialised, the
 * plain statements do the same work in about two thirds of the time on a million rows.
 */
export const loadWindow: StepFunction = async (deps, { spec, pipeline, signal }) => {
  const { target, source } = pipeline;
  const clean = stagingTable('clean', spec.runId, spec.windowIndex);

  return inTransaction(deps.pool, async (client) => {
    // The planner must know how many rows the fresh staging table holds: guessing, it hashes the
    // whole target table for every window (half a second per window at 300,000 incidents,
    // growing with the table) where a few thousand index look-ups do. The key's statistics
    // suffice, and take a moment; done before waiting for the lock, which loads share.
    await client.query(`analyze ${clean} ("${target.keyColumn}")`);
    await client.query('select pg_advisory_xact_lock(hashtext($1))', [`cpd:load:${source.id}`]);
    // Room to sort a large window in memory rather than on disk (a million rows take 550 MB, and
    // spilling them costs seconds); a limit, not an allowance, and loads take turns. Index
    // look-ups priced as what they are here, reads of a hot index rather than of a spinning disk
    // (the default assumes one). This load notes its own changes (below), so the triggers that
    // note other writers' statements stand aside. All for this transaction only.
    await client.query(`set local work_mem = '1GB'`);
    await client.query(`set local random_page_cost = 1.1`);
    await client.query(`set local cpd.load_notes_changes = 'on'`);
    signal?.throwIfAborted();
    const staged = await countRows(client, clean);
    const statements = buildLoadSql(target, clean);
    const updated = (await client.query(statements.update, [spec.runId])).rowCount ?? 0;
    const inserted = (await client.query(statements.insert, [spec.runId])).rowCount ?? 0;
    const validated = await readValidateCounts(client, spec.runId, spec.windowIndex);
    const counts: StepCounts = {
      extracted: validated.extracted ?? staged,
      rejected: validated.rejected ?? 0,
      duplicate: validated.duplicate ?? 0,
      inserted,
      updated,
      unchanged: staged - inserted - updated,
    };
    await addRunCounts(client, spec.runId, counts);
    // For the analytics refresh; a replayed window changes nothing and leaves no mark.
    if (inserted + updated > 0)
      await client.query(`insert into analytics.pending_changes (operation) values ('load')`);
    if (spec.mode === 'incremental')
      await advanceCursor(client, source.id, spec.runId, clean, target.cursorColumn);
    await dropStagingTables(client, spec.runId, spec.windowIndex);
    const outcome = { rowsIn: staged, rowsOut: inserted + updated, counts };
    await completeStep(client, spec.runId, spec.windowIndex, 'load', outcome);
    return outcome;
  });
};

async function countRows(client: pg.ClientBase, table: string): Promise<number> {
  const { rows } = await client.query<{ count: number }>(
    `select count(*)::int as count from ${table}`,
  );
  return rows[0]?.count ?? 0;
}

/** The load's two statements, built from the target's column lists (names from code, not input). */
export function buildLoadSql(
  target: TargetTable,
  clean: string,
): { update: string; insert: string } {
  const quote = (name: string) => `"${name}"`;
  const table = quote(target.table);
  const key = quote(target.keyColumn);
  const stored = target.columns.filter((column) => column !== target.cursorColumn).map(quote);
  const content = target.contentColumns.map(quote);
  const version = quote(target.versionColumn);
  return {
    update: `
      update ${table} as target
         set ${content.map((column) => `${column} = staged.${column}`).join(', ')},
             last_changed_run_id = $1::bigint, loaded_at = now()
        from ${clean} as staged
       where target.${key} = staged.${key}
         and (${content.map((column) => `target.${column}`).join(', ')})
             is distinct from (${content.map((column) => `staged.${column}`).join(', ')})
         -- an older version (read before a correction, loaded after it) counts as unchanged
         and not coalesce(target.${version} > staged.${version}, false)`,
    insert: `
      insert into ${table} (${stored.join(', ')}, first_seen_run_id, last_changed_run_id, loaded_at)
      select ${stored.map((column) => `staged.${column}`).join(', ')}, $1::bigint, $1::bigint, now()
        from ${clean} as staged
       where not exists (select 1 from ${table} as target where target.${key} = staged.${key})
       -- in key order: the indexes are then written in order, several times faster
       order by staged.${key}`,
  };
}

async function readValidateCounts(
  client: pg.ClientBase,
  runId: number,
  windowIndex: number,
): Promise<StepCounts> {
  const { rows } = await client.query<{ counts: StepCounts | null }>(
    `select counts from pipeline_steps where run_id = $1 and window_index = $2 and step = 'validate'`,
    [runId, windowIndex],
  );
  return rows[0]?.counts ?? {};
}

/** Moves the dataset's cursor to the highest stamp this window loaded; never backwards. */
async function advanceCursor(
  client: pg.ClientBase,
  dataset: string,
  runId: number,
  clean: string,
  cursorColumn: string,
): Promise<void> {
  await client.query(
    `insert into sync_state (dataset, cursor, last_run_id, updated_at)
     select $1, max("${cursorColumn}"), $2, now() from ${clean} having max("${cursorColumn}") is not null
     on conflict (dataset) do update
       set cursor = greatest(sync_state.cursor, excluded.cursor), last_run_id = excluded.last_run_id, updated_at = now()`,
    [dataset, runId],
  );
  await client.query(
    `update pipeline_runs set cursor_to = greatest(cursor_to, (select max("${cursorColumn}") from ${clean})) where id = $1`,
    [runId],
  );
}
