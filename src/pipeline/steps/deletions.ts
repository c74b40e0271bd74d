import type pg from 'pg';
import { UserError } from '../../errors.js';
import type { WindowSpec } from '../ledger/index.js';
import { stagingTable } from '../staging.js';
import type { DatasetPipeline, TargetTable } from '../target.js';

/**
 * Rows the source no longer serves, found by a complete read (of a window, or of every key) and
 * marked deleted in the load's transaction: never a physical delete, and never more than
 * DELETE_GUARD of what we hold without the user's confirmation.
 *
 * The unserved rows are found once, before the load writes anything, into a temporary table: the
 * guard counts them, the marking joins them by key. The rows the load is about to write are served
 * ones, so finding them before or after it gives the same answer; before, a first load into an
 * empty range costs one index look-up instead of an anti-join over the rows it just inserted.
 */

/** Share of the rows held in a window that a window read may mark deleted without confirmation. */
export const defaultDeleteGuard = 0.05;

/** The range of the table a read covered: a window of the window column, or (undefined) all of it. */
export interface ReadRange {
  start: string;
  end: string;
}

/** The window a window-mode step read, when it has bounds. */
export function windowRange(spec: WindowSpec): ReadRange | undefined {
  return spec.start && spec.end ? { start: spec.start, end: spec.end } : undefined;
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

/** The temporary table of the keys a load is to mark deleted (dropped when the load commits). */
export const unservedTable = 'pg_temp.cpd_unserved';

/** Rows we hold (not deleted) in the range, given as parameter numbers; the whole table without one. */
function heldIn(target: TargetTable, range: ReadRange | undefined): string {
  const held = 't.deleted_at is null';
  return range
    ? `t."${target.windowColumn}" >= $1::timestamp and t."${target.windowColumn}" < $2::timestamp and ${held}`
    : held;
}

const rangeParameters = (range: ReadRange | undefined) => (range ? [range.start, range.end] : []);

/**
 * Notes in `unservedTable` the keys held in the range that the source did not serve; returns how
 * many. NOT EXISTS in a WHERE clause, so the planner hashes the served keys once (an anti-join)
 * against the range's rows, read through the window column's index.
 *
 * Only what the read could have seen is judged: a row written since the read began (`listedSince`:
 * by a sync running meanwhile, or another window of the run whose row moved into this range) is
 * not marked for being absent from it. This errs towards changing less; the next read judges it.
 */
export async function findUnserved(
  client: pg.ClientBase,
  target: TargetTable,
  served: string,
  range: ReadRange | undefined,
  listedSince: string,
): Promise<number> {
  const key = `"${target.keyColumn}"`;
  const parameters = [...rangeParameters(range), listedSince];
  const result = await client.query(
    `create temp table ${unservedTable} on commit drop as
     select t.${key} as key from public."${target.table}" as t
      where ${heldIn(target, range)} and t.loaded_at < $${parameters.length}::timestamptz
        and not exists (select 1 from (${served}) as s where s.key = t.${key}::text)`,
    parameters,
  );
  return result.rowCount ?? 0;
}

/** When a read (a window's, or a reconciliation's listing) began at the earliest: its extract's start. */
export async function readListingStart(
  client: pg.ClientBase,
  spec: Pick<WindowSpec, 'runId' | 'windowIndex'>,
): Promise<string> {
  const { rows } = await client.query<{ since: string | null }>(
    `select started_at::text as since from pipeline_steps
      where run_id = $1 and window_index = $2 and step = 'extract'`,
    [spec.runId, spec.windowIndex],
  );
  const since = rows[0]?.since;
  if (!since) throw new Error(`the extract of run ${spec.runId} has no start time`);
  return since;
}

/**
 * A source that answers empty pages, a truncated listing or another dataset's rows must not empty
 * a range: when the answer would mark more than the guard's share of the rows we hold there, or
 * is empty while we hold rows, the load fails and changes nothing, unless the run was confirmed.
 * Counts what it judges only when something is missing (a read that misses nothing costs nothing).
 */
export async function checkDeleteGuard(
  client: pg.ClientBase,
  subject: {
    target: TargetTable;
    served: string;
    range: ReadRange | undefined;
    missing: number;
    /** Says which read this is, for the message: "window 3 of run 12 ([2024-01-01, 2024-02-01))". */
    where: string;
    /** How to confirm, for the message; default: the window reads' options. */
    confirm?: string;
  },
  guard: { share: number; allowDeletes: boolean },
): Promise<void> {
  const { target, served, range, missing } = subject;
  if (missing === 0 || guard.allowDeletes) return;
  const { rows } = await client.query<{ held: number; served: number }>(
    `select (select count(*)::int from public."${target.table}" as t where ${heldIn(target, range)}) as held,
            (select count(*)::int from (${served}) as s) as served`,
    rangeParameters(range),
  );
  const { held = 0, served: servedRows = 0 } = rows[0] ?? {};
  const decision = judgeDeletions({ held, missing, served: servedRows, share: guard.share });
  if (decision === 'proceed') return;
  const confirm =
    subject.confirm ??
    'If the source really removed them, run again confirming it: cpd sync or cpd backfill with --allow-deletes, or POST /api/backfills with "allowDeletes": true';
  throw new UserError(
    'load.delete_guard',
    decision === 'empty'
      ? `${subject.where}: the source answered no rows where we hold ${formatCount(held)}; marking them all deleted looks like a fault at the source, so nothing was changed. ${confirm}`
      : `${subject.where}: the source no longer serves ${formatCount(missing)} of the ${formatCount(held)} rows we hold there (${percent(missing / held)}, more than DELETE_GUARD allows: ${percent(guard.share)}), so nothing was marked deleted or changed. ${confirm}`,
  );
}

/** Pure: whether a read's deletions may go ahead without the user's confirmation. */
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

const quote = (name: string) => `"${name}"`;

/**
 * Marks deleted the rows noted in `unservedTable`; parameter: the run id. With `capture` (the
 * columns the analytics read) and `changes` (a temporary table), records the versions it removed.
 */
export function buildMarkDeletedSql(
  target: TargetTable,
  capture?: readonly string[],
  changes?: string,
): string {
  const captured = (capture ?? []).map(quote);
  const key = quote(target.keyColumn);
  const mark = `
    update public.${quote(target.table)} as t set deleted_at = now(), deleted_run_id = $1::bigint
      from ${unservedTable} as u
     where t.${key} = u.key and t.deleted_at is null`;
  if (!changes || captured.length === 0) return mark;
  return `with marked as (${mark} returning ${captured.map((c) => `t.${c}`).join(', ')})
    insert into ${changes} (sign, ${captured.join(', ')}) select -1, ${captured.join(', ')} from marked`;
}
