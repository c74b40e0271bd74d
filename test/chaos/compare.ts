import type pg from 'pg';
import { incidentsTarget } from '../../src/pipeline/targets/incidents.js';
import { accountIds, type HeldId } from './deletions.js';
import type { Truth } from './truth.js';

/**
 * The incidents table against the source's truth, in PostgreSQL so every column is compared as
 * the type it is stored as: the truth goes into a temporary copy of the table, cast column by
 * column from the transform's values, then the two are joined on the key. Which ids are lost,
 * unexpected, wrongly deleted or wrongly kept is counted from the table's ids (deletions.ts).
 */
export interface Comparison {
  /** Ids the source has (valid) that the table lacks. */
  lost: number;
  /** Ids the table holds more than once, or loads counted more than once (see `countDuplicates`). */
  duplicates: number;
  /** Ids whose stored content is not the latest valid version (marked deleted or not). */
  stale: number;
  /** Ids the table holds that the source does not and did not remove (an invalid row loaded, a phantom). */
  unexpected: number;
  /** Rows marked deleted that the source still serves, and removed rows physically gone. */
  wronglyDeleted: number;
  /** Rows the source removed before the last complete read of their window, not marked deleted. */
  wronglyKept: number;
  /** A few ids of each kind, for the report of a failure. */
  examples: string[];
}

const stored = incidentsTarget.columns.filter((column) => column !== incidentsTarget.cursorColumn);
const storedIndexes = stored.map((column) => incidentsTarget.columns.indexOf(column));

export async function compareWithTruth(
  pool: pg.Pool,
  truth: Truth,
  /** Ids the table held that the source has removed (see `accountIds`). */
  removed: ReadonlySet<string> = new Set(),
  /** Ids the table held that the source removed while the runs read it. */
  pending: ReadonlySet<string> = new Set(),
): Promise<Comparison> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    await client.query(
      'create temporary table chaos_truth (like incidents including defaults) on commit drop',
    );
    const { rows: types } = await client.query<{ name: string; type: string }>(
      `select attname as name, format_type(atttypid, atttypmod) as type
         from pg_attribute where attrelid = 'incidents'::regclass and attnum > 0 and not attisdropped`,
    );
    const typeOf = new Map(types.map((row) => [row.name, row.type]));
    const columns = stored.map((column) => `"${column}"`).join(', ');
    const casts = stored
      .map((column, index) => `$${index + 1}::text[]::${typeOf.get(column) ?? 'text'}[]`)
      .join(', ');
    const values = storedIndexes.map((index) =>
      [...truth.rows.values()].map((row) => {
        const value = row.values[index];
        return value === null || value === undefined ? null : String(value);
      }),
    );
    await client.query(
      `insert into chaos_truth (${columns}) select * from unnest(${casts})`,
      values,
    );
    const content = incidentsTarget.contentColumns.map((column) => `"${column}"`);
    const { rows } = await client.query<{
      duplicates: number;
      stale: number;
      staleExamples: string[] | null;
    }>(
      `with stale as (
              select i.id from incidents i join chaos_truth t on t.id = i.id
               where (${content.map((column) => `i.${column}`).join(', ')})
                     is distinct from (${content.map((column) => `t.${column}`).join(', ')}))
       select (select count(*)::int - count(distinct id)::int from incidents) as duplicates,
              (select count(*)::int from stale) as stale,
              array(select 'stale ' || id from (select id from stale order by id limit 3) s) as "staleExamples"`,
    );
    const { rows: held } = await client.query<HeldId>(
      'select id::text as id, deleted_at is not null as deleted from incidents',
    );
    await client.query('commit');
    const { duplicates, stale, staleExamples } = rows[0]!;
    const ids = accountIds(held, truth, removed, pending);
    return {
      ...ids,
      duplicates,
      stale,
      examples: [...ids.examples, ...(staleExamples ?? [])],
    };
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/**
 * Loads counted twice: every id is inserted once, so the inserts the runs of a trial recorded
 * cannot add up to more than the rows the table gained meanwhile (`heldBefore`: its rows then).
 */
export async function countDoubleInserts(
  pool: pg.Pool,
  runIds: readonly number[],
  heldBefore: number,
): Promise<number> {
  const { rows } = await pool.query<{ inserted: number; held: number }>(
    `select (select coalesce(sum(rows_inserted), 0)::int from pipeline_runs where id = any($1::bigint[])) as inserted,
            (select count(*)::int from incidents) as held`,
    [runIds],
  );
  const { inserted, held } = rows[0]!;
  return Math.max(0, inserted - (held - heldBefore));
}
