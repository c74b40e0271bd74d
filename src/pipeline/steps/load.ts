import type pg from 'pg';
import { applyChanges, countedRowsSql, type AnalyticsSpec } from '../../analytics/rollups.js';
import { analyticsSpecOf } from '../../analytics/specs.js';
import type { StepCounts } from '../../db/schema/pipeline-steps.js';
import { addRunCounts, advanceCursor, completeStep, readValidateCounts } from '../ledger/index.js';
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
  windowRange,
} from './deletions.js';

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
  const changes = analytics ? loadChangesTable : undefined;

  return inTransaction(deps.pool, async (client) => {
    // No ANALYZE of the staged rows: the planner hashed the whole table even knowing how few they
    // were, so the join is chosen from their count instead (keyLookupsAreCheaper).
    await takeLoadTurn(client, source.id);
    // Index look-ups priced as what they are here, reads of a hot index rather than of a spinning
    // disk (the default assumes one); for this transaction only.
    await client.query(`set local random_page_cost = 1.1`);
    signal?.throwIfAborted();
    const staged = await countRows(client, clean);
    const range = spec.mode === 'window' ? windowRange(spec) : undefined;
    const served = range && servedKeysSql(pipeline, spec.runId, spec.windowIndex);
    let missing = 0;
    if (range && served) {
      const listedSince = await readListingStart(client, spec);
      missing = await findUnserved(client, target, served, range, listedSince);
      const where = `window ${spec.windowIndex} of run ${spec.runId} ([${range.start.slice(0, 10)}, ${range.end.slice(0, 10)}))`;
      await checkDeleteGuard(
        client,
        { target, served, range, missing, where },
        {
          share: deps.settings.deleteGuard ?? defaultDeleteGuard,
          allowDeletes: spec.allowDeletes === true,
        },
      );
    }
    const deferred = analytics !== undefined && (await rebuildIsCheaper(client, analytics, staged));
    const capture = deferred ? undefined : changes;
    if (capture && analytics) await createChangesTable(client, capture, analytics);
    const statements = buildLoadSql(target, clean, analytics?.columns, capture);
    const lookUpKeys = await keyLookupsAreCheaper(client, target.table, staged);
    if (lookUpKeys) await setKeyLookups(client, true);
    const update = await client.query<{
      updated: number;
      restored: number;
      removed: number;
      unchangedRestored: number;
    }>(statements.update, [spec.runId]);
    const { updated = 0, restored = 0, unchangedRestored = 0 } = update.rows[0] ?? {};
    const inserted = (await client.query(statements.insert, [spec.runId])).rowCount ?? 0;
    if (lookUpKeys) await setKeyLookups(client, false);
    let deleted = 0;
    if (missing > 0) {
      const marking = buildMarkDeletedSql(target, analytics?.columns, capture);
      deleted = (await client.query(marking, [spec.runId])).rowCount ?? 0;
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
 * Whether one rebuild of the rollups when the run ends is cheaper than this load's delta: always
 * when a rebuild is already due (an earlier load of the run, or another writer, left a mark), since
 * that rebuild reads the table anyway; and when the load is large against what the table holds (a
 * delta costs several times a rebuild's work per row: a million-row first load paid about three
 * rebuilds in deltas). So a run's first large load decides for the run. Loads of a few thousand
 * rows keep the delta unless a rebuild is due; the table's size comes from the rollups, not a count.
 */
async function rebuildIsCheaper(
  client: pg.ClientBase,
  analytics: AnalyticsSpec,
  staged: number,
): Promise<boolean> {
  const { rows } = await client.query<{ due: boolean; held: number | null }>(
    `select exists (select 1 from analytics.pending_changes where table_name = $1) as due,
            ${staged >= deltaAlwaysBelowRows ? `(${countedRowsSql(analytics)})` : 'null'}::bigint::float8 as held`,
    [analytics.table],
  );
  const { due = false, held = null } = rows[0] ?? {};
  return due || (held !== null && staged * 4 > held);
}

/**
 * Whether the load's UPDATE and INSERT should find the rows it holds through the key's index: when
 * it stages fewer rows than the table holds. The planner, pricing each probe as a read from disk,
 * otherwise hashed the whole table, once for each statement, so every monthly window of a backfill
 * re-read every month loaded before it: the UPDATE of a window of 85,000 rows took 1.5 s against
 * 425,000 rows hashed, and 0.09 s by look-ups against a million. The table's size is the
 * planner's own estimate, from the catalogue.
 */
async function keyLookupsAreCheaper(
  client: pg.ClientBase,
  table: string,
  staged: number,
): Promise<boolean> {
  const { rows } = await client.query<{ rows: number }>(
    `select case when c.relpages > 0 and c.reltuples >= 0
                 then c.reltuples / c.relpages * (pg_relation_size(c.oid) / current_setting('block_size')::float8)
                 -- never analysed: a row per ${assumedRowBytes} bytes
                 else pg_relation_size(c.oid) / ${assumedRowBytes}.0 end as rows
       from pg_class c where c.oid = to_regclass($1)`,
    [`public."${table}"`],
  );
  return staged < (rows[0]?.rows ?? 0);
}

/**
 * Hash and merge joins off (or back on) for the statements between: only the UPDATE and INSERT,
 * since the other statements join staged sets without an index, where a hash is the only good way.
 */
async function setKeyLookups(client: pg.ClientBase, force: boolean): Promise<void> {
  const value = force ? 'off' : 'default';
  await client.query(`set local enable_hashjoin to ${value}`);
  await client.query(`set local enable_mergejoin to ${value}`);
}

/** What a row of a never-analysed table is taken to occupy, to estimate its rows from its size. */
const assumedRowBytes = 400;

/** Loads staging fewer rows than this keep the analytics by delta unless a rebuild is due. */
const deltaAlwaysBelowRows = 10_000;

/**
 * The start of every load's transaction, after its own preparation: waits for the dataset's turn
 * (loads and rebuilds take turns on one advisory lock), gives it room to sort a large window in
 * memory rather than on disk (a million rows take 550 MB, and spilling them costs seconds; a
 * limit, not an allowance, and loads take turns), and sets aside the triggers that note other
 * writers' statements, since a load brings the analytics up to date itself. For this transaction
 * only.
 */
export async function takeLoadTurn(client: pg.ClientBase, datasetId: string): Promise<void> {
  await client.query('select pg_advisory_xact_lock(hashtext($1))', [loadLockName(datasetId)]);
  await client.query(`set local work_mem = '1GB'`);
  await client.query(`set local cpd.load_notes_changes = 'on'`);
}

/**
 * The temporary table a load records the versions it removed (sign −1) and added (+1) in, with
 * the columns the analytics read (dropped when the load commits).
 */
export async function createChangesTable(
  client: pg.ClientBase,
  changes: string,
  analytics: AnalyticsSpec,
): Promise<void> {
  await client.query(
    `create temp table ${changes} on commit drop as
     select 0::smallint as sign, ${analytics.columns.map((c) => `"${c}"`).join(', ')}
       from public."${analytics.table}" with no data`,
  );
}

/** The temporary table of a load's changes for the analytics. */
export const loadChangesTable = 'pg_temp.cpd_load_changes';

/** The advisory lock a dataset's loads (and analytics rebuilds) take turns on. */
export function loadLockName(datasetId: string): string {
  return `cpd:load:${datasetId}`;
}

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
