import type pg from 'pg';
import { applyChanges } from '../../analytics/rollups.js';
import { analyticsSpecOf } from '../../analytics/specs.js';
import type { StepCounts } from '../../db/schema/pipeline-steps.js';
import { UserError } from '../../errors.js';
import type { WindowSpec } from '../ledger/index.js';
import { addRunCounts, advanceCursor, completeStep, readValidateCounts } from '../ledger/index.js';
import { dropStagingTables, stagingTable } from '../staging.js';
import type { DatasetPipeline, TargetTable } from '../target.js';
import { inTransaction, type StepFunction } from './context.js';

/**
 * load: one transaction per window. Updates the rows whose content changed, inserts the new ones
 * (so a replay changes nothing), restores rows the source serves again after it had removed them,
 * and, after a complete window read, marks deleted the rows we hold in the window that the source
 * no longer served. In the same transaction: the analytics rollups follow every version it added
 * or removed (src/analytics/rollups.ts), the counts go to the run, the incremental cursor
 * advances, the window's staging tables are dropped and the step is recorded: all of it commits
 * or none of it does.
 *
 * Loads of one dataset take turns (a transaction-scoped advisory lock): two windows that share ids
 * cannot deadlock or insert the same id twice, the cursor only moves forward, and the rollups see
 * one load's changes at a time. That is also why this is an UPDATE and an INSERT rather than
 * INSERT … ON CONFLICT: with loads serialised, the plain statements do the same work in about two
 * thirds of the time on a million rows.
 */
export const loadWindow: StepFunction = async (deps, { spec, pipeline, signal }) => {
  const { target, source } = pipeline;
  const clean = stagingTable('clean', spec.runId, spec.windowIndex);
  const analytics = analyticsSpecOf(source.id);
  const changes = analytics ? 'pg_temp.cpd_load_changes' : undefined;

  return inTransaction(deps.pool, async (client) => {
    // The planner must know how many rows the fresh staging table holds: guessing, it hashes the
    // whole target table for every window (half a second per window at 300,000 incidents,
    // growing with the table) where a few thousand index look-ups do. The key's statistics
    // suffice, and take a moment; done before waiting for the lock, which loads share.
    await client.query(`analyze ${clean} ("${target.keyColumn}")`);
    await client.query('select pg_advisory_xact_lock(hashtext($1))', [loadLockName(source.id)]);
    // Room to sort a large window in memory rather than on disk (a million rows take 550 MB, and
    // spilling them costs seconds); a limit, not an allowance, and loads take turns. Index
    // look-ups priced as what they are here, reads of a hot index rather than of a spinning disk
    // (the default assumes one). This load brings the analytics up to date itself (below), so the
    // triggers that note other writers' statements stand aside. All for this transaction only.
    await client.query(`set local work_mem = '1GB'`);
    await client.query(`set local random_page_cost = 1.1`);
    await client.query(`set local cpd.load_notes_changes = 'on'`);
    signal?.throwIfAborted();
    const staged = await countRows(client, clean);
    const window = spec.mode === 'window' ? windowBounds(spec) : undefined;
    const served = window && servedKeysSql(pipeline, spec.runId, spec.windowIndex);
    if (window && served) {
      await checkDeleteGuard(client, target, window, served, spec, {
        share: deps.settings.deleteGuard ?? defaultDeleteGuard,
      });
    }
    const deferred = analytics !== undefined && (await changesMuchOfTable(client, target, staged));
    const capture = deferred ? undefined : changes;
    if (capture && analytics) {
      await client.query(
        `create temp table ${capture} on commit drop as
         select 0::smallint as sign, ${analytics.columns.map((c) => `"${c}"`).join(', ')}
           from public."${target.table}" with no data`,
      );
    }
    const statements = buildLoadSql(target, clean, analytics?.columns, capture);
    const update = await client.query<{
      updated: number;
      restored: number;
      removed: number;
      unchangedRestored: number;
    }>(statements.update, [spec.runId]);
    const { updated = 0, restored = 0, unchangedRestored = 0 } = update.rows[0] ?? {};
    const inserted = (await client.query(statements.insert, [spec.runId])).rowCount ?? 0;
    let deleted = 0;
    if (window && served) {
      const marking = buildMarkDeletedSql(target, served, analytics?.columns, capture);
      deleted = (await client.query(marking, [spec.runId, window.start, window.end])).rowCount ?? 0;
    }
    const changed = inserted + updated + restored + deleted > 0;
    if (capture && analytics && changed) {
      await applyChanges(client, analytics, capture);
      await client.query('update analytics.refresh_state set refreshed_at = now()');
    } else if (deferred && changed) {
      // Left to one rebuild when the run ends (refreshAnalytics), exact either way.
      await client.query(
        `insert into analytics.pending_changes (operation, table_name) values ('load', $1)`,
        [target.table],
      );
    }
    const validated = await readValidateCounts(client, spec.runId, spec.windowIndex);
    const counts: StepCounts = {
      extracted: validated.extracted ?? staged,
      rejected: validated.rejected ?? 0,
      duplicate: validated.duplicate ?? 0,
      inserted,
      updated,
      unchanged: staged - inserted - updated - unchangedRestored,
      deleted,
      restored,
    };
    await addRunCounts(client, spec.runId, counts);
    if (spec.mode === 'incremental')
      await advanceCursor(client, source.id, spec.runId, clean, target.cursorColumn);
    await dropStagingTables(client, spec.runId, spec.windowIndex);
    const outcome = { rowsIn: staged, rowsOut: inserted + updated + restored + deleted, counts };
    await completeStep(client, spec.runId, spec.windowIndex, 'load', outcome);
    return outcome;
  });
};

/**
 * Whether a load of `staged` rows would change a large share of the table: then one rebuild of the
 * rollups after the run is cheaper than this load's delta (a delta costs several times a
 * rebuild's work per row: a million-row first load paid about three rebuilds in deltas). Loads
 * of a few thousand rows never ask; a larger one counts the table, which costs less than its load.
 */
async function changesMuchOfTable(
  client: pg.ClientBase,
  target: TargetTable,
  staged: number,
): Promise<boolean> {
  if (staged < deltaAlwaysBelowRows) return false;
  const { rows } = await client.query<{ held: number }>(
    `select count(*)::int as held from public."${target.table}"`,
  );
  return staged * 4 > (rows[0]?.held ?? 0);
}

/** Loads staging fewer rows than this always keep the analytics by delta. */
const deltaAlwaysBelowRows = 10_000;

/** Share of the rows held in a window that a window read may mark deleted without confirmation. */
export const defaultDeleteGuard = 0.05;

/** The advisory lock a dataset's loads (and analytics rebuilds) take turns on. */
export function loadLockName(datasetId: string): string {
  return `cpd:load:${datasetId}`;
}

/**
 * The keys the source served in a window's complete read, as a query with one text column `key`.
 * Every row extract staged counts, rejected and superseded ones too: the source still has them.
 */
export function servedKeysSql(
  pipeline: DatasetPipeline,
  runId: number,
  windowIndex: number,
): string {
  const keys = stagingTable('keys', runId, windowIndex);
  const { source } = pipeline;
  const field = source.fields.find((candidate) => candidate.name === source.naturalKey);
  // A whole-number key as the stored number prints it: `0098` served is incident 98.
  const key =
    field?.format === 'integer' || field?.type === 'number'
      ? `case when k.key ~ '^[0-9]+$' then coalesce(nullif(ltrim(k.key, '0'), ''), '0') else k.key end`
      : 'k.key';
  return `select ${key} as key from ${keys} as k where k.key is not null`;
}

interface WindowBounds {
  start: string;
  end: string;
}

function windowBounds(spec: WindowSpec): WindowBounds | undefined {
  return spec.start && spec.end ? { start: spec.start, end: spec.end } : undefined;
}

/** Rows we hold (not deleted) whose window column is in [$start, $end), given as parameter numbers. */
const heldInWindow = (target: TargetTable, start: number, end: number) =>
  `t."${target.windowColumn}" >= $${start}::timestamp and t."${target.windowColumn}" < $${end}::timestamp and t.deleted_at is null`;
const notServed = (target: TargetTable, served: string) =>
  `not exists (select 1 from (${served}) as s where s.key = t."${target.keyColumn}"::text)`;

/**
 * A source that answers empty pages, a truncated listing or another dataset's rows must not empty
 * a window: when the answer would mark more than the guard's share of the rows we hold there, or
 * is empty while we hold rows, the load fails and changes nothing, unless the run was confirmed.
 */
async function checkDeleteGuard(
  client: pg.ClientBase,
  target: TargetTable,
  window: WindowBounds,
  served: string,
  spec: WindowSpec,
  guard: { share: number },
): Promise<void> {
  // NOT EXISTS in a WHERE clause, so the planner hashes the served keys once (an anti-join).
  const { rows } = await client.query<{ held: number; missing: number; served: number }>(
    `with held as materialized (
       select t."${target.keyColumn}" from public."${target.table}" as t where ${heldInWindow(target, 1, 2)}
     )
     select (select count(*)::int from held) as held,
            (select count(*)::int from held as t where ${notServed(target, served)}) as missing,
            (select count(*)::int from (${served}) as s) as served`,
    [window.start, window.end],
  );
  const { held = 0, missing = 0, served: servedRows = 0 } = rows[0] ?? {};
  const decision = judgeDeletions({ held, missing, served: servedRows, share: guard.share });
  if (decision === 'proceed' || spec.allowDeletes) return;
  const where = `window ${spec.windowIndex} of run ${spec.runId} ([${window.start.slice(0, 10)}, ${window.end.slice(0, 10)}))`;
  const confirm =
    'If the source really removed them, run again confirming it: cpd sync or cpd backfill with --allow-deletes, or POST /api/backfills with "allowDeletes": true';
  throw new UserError(
    'load.delete_guard',
    decision === 'empty'
      ? `${where}: the source answered no rows where we hold ${formatCount(held)}; marking them all deleted looks like a fault at the source, so nothing was changed. ${confirm}`
      : `${where}: the source no longer serves ${formatCount(missing)} of the ${formatCount(held)} rows we hold there (${percent(missing / held)}, more than DELETE_GUARD allows: ${percent(guard.share)}), so nothing was marked deleted or changed. ${confirm}`,
  );
}

/** Pure: whether a window read's deletions may go ahead without the user's confirmation. */
export function judgeDeletions(counts: {
  held: number;
  missing: number;
  served: number;
  share: number;
}): 'proceed' | 'empty' | 'too_many' {
  if (counts.missing === 0) return 'proceed';
  if (counts.served === 0) return 'empty';
  return counts.missing > counts.share * counts.held ? 'too_many' : 'proceed';
}

const formatCount = (value: number) => value.toLocaleString('en-US');
const percent = (share: number) => `${(share * 100).toFixed(share < 0.1 ? 1 : 0)}%`;

async function countRows(client: pg.ClientBase, table: string): Promise<number> {
  const { rows } = await client.query<{ count: number }>(
    `select count(*)::int as count from ${table}`,
  );
  return rows[0]?.count ?? 0;
}

const quote = (name: string) => `"${name}"`;

/**
 * The load's two statements, built from the target's column lists (names from code, not input).
 * With `capture` (the columns the analytics read) and `changes` (a temporary table), each also
 * records the versions it removed and added there.
 *
 * The update's result row: `updated` (content changed), `restored` (was deleted, served again),
 * `removed` (old versions of rows that counted), `unchangedRestored` (restored, content as held).
 */
export function buildLoadSql(
  target: TargetTable,
  clean: string,
  capture?: readonly string[],
  changes?: string,
): { update: string; insert: string } {
  const table = quote(target.table);
  const key = quote(target.keyColumn);
  const stored = target.columns.filter((column) => column !== target.cursorColumn).map(quote);
  const content = target.contentColumns.map(quote);
  const version = quote(target.versionColumn);
  const captured = (capture ?? []).map(quote);
  const record = changes && captured.length > 0;
  const changed = `(${content.map((column) => `held.${column}`).join(', ')})
             is distinct from (${content.map((column) => `staged.${column}`).join(', ')})
         -- an older version (read before a correction, loaded after it) counts as unchanged
         and not coalesce(held.${version} > staged.${version}, false)`;
  const keep = (column: string, value: string) =>
    `${column} = case when c.content_changed then ${value} else target.${column} end`;
  const update = `
    with candidates as materialized (
      select staged.${key}, ${content.map((column) => `staged.${column}`).join(', ')},
             (${changed}) as content_changed,
             held.deleted_at is not null as was_deleted
             ${captured.map((column) => `, held.${column} as "old_${column.slice(1, -1)}"`).join('')}
        from ${clean} as staged join ${table} as held on held.${key} = staged.${key}
       where (${changed}) or held.deleted_at is not null
    ), written as (
      update ${table} as target
         set ${content.map((column) => keep(column, `c.${column}`)).join(', ')},
             ${keep('last_changed_run_id', '$1::bigint')},
             -- a restored row's state is written now, content changed or not (reconciliation
             -- judges a row by when it was last written: reconcile-load.ts)
             loaded_at = case when c.content_changed or c.was_deleted then now() else target.loaded_at end,
             deleted_at = null, deleted_run_id = null
        from candidates as c
       where target.${key} = c.${key}
      returning c.content_changed, c.was_deleted
                ${captured.map((column) => `, c."old_${column.slice(1, -1)}", target.${column}`).join('')}
    )${
      record
        ? `, recorded as (
      insert into ${changes} (sign, ${captured.join(', ')})
      select -1, ${captured.map((column) => `"old_${column.slice(1, -1)}"`).join(', ')} from written where not was_deleted
      union all
      select 1, ${captured.join(', ')} from written
    )`
        : ''
    }
    select count(*) filter (where content_changed)::int as updated,
           count(*) filter (where was_deleted)::int as restored,
           count(*) filter (where not was_deleted)::int as removed,
           count(*) filter (where was_deleted and not content_changed)::int as "unchangedRestored"
      from written`;
  const insertRows = `
      insert into ${table} (${stored.join(', ')}, first_seen_run_id, last_changed_run_id, loaded_at)
      select ${stored.map((column) => `staged.${column}`).join(', ')}, $1::bigint, $1::bigint, now()
        from ${clean} as staged
       where not exists (select 1 from ${table} as target where target.${key} = staged.${key})
       -- in key order: the indexes are then written in order, several times faster
       order by staged.${key}`;
  const insert = record
    ? `with inserted as (${insertRows}
       returning ${captured.join(', ')})
       insert into ${changes} (sign, ${captured.join(', ')}) select 1, ${captured.join(', ')} from inserted`
    : insertRows;
  return { update, insert };
}

/**
 * Marks deleted the rows held in the window (`$2`, `$3`) whose key the source did not serve;
 * never a physical delete. Parameters: run id, window start, window end.
 */
export function buildMarkDeletedSql(
  target: TargetTable,
  served: string,
  capture?: readonly string[],
  changes?: string,
): string {
  const captured = (capture ?? []).map(quote);
  const mark = `
    update public.${quote(target.table)} as t set deleted_at = now(), deleted_run_id = $1::bigint
     where ${heldInWindow(target, 2, 3)}
       and ${notServed(target, served)}`;
  if (!changes || captured.length === 0) return mark;
  return `with marked as (${mark} returning ${captured.map((c) => `t.${c}`).join(', ')})
    insert into ${changes} (sign, ${captured.join(', ')}) select -1, ${captured.join(', ')} from marked`;
}
