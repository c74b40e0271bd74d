import type pg from 'pg';
import type { StepCounts } from '../../db/schema/pipeline-steps.js';
import { addRunCounts, completeStep } from '../ledger.js';
import { dropStagingTables, stagingTable } from '../staging.js';
import type { TargetTable } from '../target.js';
import { inTransaction, type StepFunction } from './context.js';

/**
 * load: one transaction per window. Upserts the clean rows on the natural key, touching only rows
 * whose content changed (so a replay changes nothing), adds the counts to the run, advances the
 * incremental cursor, drops the window's staging tables and records the step: all of it commits
 * or none of it does.
 *
 * Loads of one dataset take turns (a transaction-scoped advisory lock): two windows that share ids
 * cannot deadlock, and the cursor only moves forward.
 */
export const loadWindow: StepFunction = async (deps, { spec, pipeline, signal }) => {
  const { target, source } = pipeline;
  const clean = stagingTable('clean', spec.runId, spec.windowIndex);

  return inTransaction(deps.pool, async (client) => {
    await client.query('select pg_advisory_xact_lock(hashtext($1))', [`cpd:load:${source.id}`]);
    signal?.throwIfAborted();
    const staged = await countRows(client, clean);
    const { inserted, updated } = await upsert(client, target, clean, spec.runId);
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

/** The upsert, built from the target's column lists (trusted names from code, not input). */
export function buildUpsertSql(target: TargetTable, clean: string): string {
  const quote = (name: string) => `"${name}"`;
  const stored = target.columns.filter((column) => column !== target.cursorColumn);
  const content = target.contentColumns.map(quote);
  return `
    with upserted as (
      insert into ${quote(target.table)} as target (${stored.map(quote).join(', ')}, first_seen_run_id, last_changed_run_id, loaded_at)
      select ${stored.map(quote).join(', ')}, $1::bigint, $1::bigint, now() from ${clean}
       -- in key order: the indexes are written in order, and concurrent loads lock alike
       order by ${quote(target.keyColumn)}
      on conflict (${quote(target.keyColumn)}) do update
        set ${content.map((column) => `${column} = excluded.${column}`).join(', ')},
            last_changed_run_id = excluded.last_changed_run_id,
            loaded_at = excluded.loaded_at
      where (${content.map((column) => `target.${column}`).join(', ')})
            is distinct from (${content.map((column) => `excluded.${column}`).join(', ')})
      returning (xmax = 0) as inserted
    )
    select count(*) filter (where inserted)::int as inserted,
           count(*) filter (where not inserted)::int as updated
      from upserted`;
}

async function upsert(
  client: pg.ClientBase,
  target: TargetTable,
  clean: string,
  runId: number,
): Promise<{ inserted: number; updated: number }> {
  const { rows } = await client.query<{ inserted: number; updated: number }>(
    buildUpsertSql(target, clean),
    [runId],
  );
  return rows[0] ?? { inserted: 0, updated: 0 };
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
