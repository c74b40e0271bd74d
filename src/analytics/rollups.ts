import type pg from 'pg';

/**
 * Analytics that follow the changes. A dataset's rollups are described as data (a spec in SQL
 * over its table's columns); this module keeps them, two ways that give the same numbers:
 *
 * - `applyChanges`: the load hands over every version it added (sign +1) or removed (sign −1) in
 *   a `changes` relation. Each base rollup's delta is aggregated from it once; coarser rollups are
 *   aggregated from their finer rollup's delta (never from the table, and never from the changes
 *   again); each delta is added to its table in one upsert. The cost is that of the change: a
 *   hundred changed rows touch a few hundred rollup rows, however large the table.
 * - `rebuildRollups`: every rollup recomputed from the table (`cpd analytics rebuild`, and the
 *   fallback after a writer other than the pipeline changed the table).
 *
 * What is not a sum (the latest stamps) is kept as a maximum that only moves forward as versions
 * arrive, and is recomputed, narrowly where the spec knows how, only when a removed version held it.
 * Whatever depends on "now" (last 30 days before the anchor day, top-N) is left to plain views
 * over the maintained tables, which read them by index.
 *
 * Rows marked deleted (`deleted_at`) count nowhere: the load removes their version when it marks
 * them and adds it back when it restores them.
 */

/** A grouped column: its name in the rollup table, its SQL type, and the expression that makes it. */
export interface Dimension {
  name: string;
  type: string;
  /** Over the dataset table's columns (base rollups) or over the finer rollup's (`from`). */
  sql: string;
}

export interface Rollup {
  /** Qualified table name, e.g. `analytics.incident_daily`. */
  table: string;
  /** The table's unique key; the upsert's conflict target. */
  key: readonly Dimension[];
  /** Further grouped columns the key determines (a day's weekday); not part of the key. */
  attributes?: readonly Dimension[];
  /** A coarser rollup: made from this finer one (listed before it). */
  from?: string;
  /** Base rollups only: which rows of the table count here (SQL over its columns). */
  where?: string;
  /** The key holds nullable columns (its unique index is NULLS NOT DISTINCT). */
  nullableKey?: boolean;
}

/** The greatest value of an expression over the rows not deleted. */
export interface Maximum {
  column: string;
  sql: string;
  /**
   * A predicate over the table that the row holding the maximum satisfies, and that an index can
   * serve, evaluated after the rollups are brought up to date; narrows a recompute.
   */
  recomputeWhere?: string;
}

export interface AnalyticsSpec {
  /** The dataset's table (public schema). */
  table: string;
  /** The table's columns the rollups and maxima read: the load keeps them of every version it adds or removes. */
  columns: readonly string[];
  /** Name of the count column in every rollup table. */
  countColumn: string;
  /** Finer ones first. */
  rollups: readonly Rollup[];
  /** A one-row table (`singleton` true) of the maxima. */
  extent: { table: string; maxima: readonly Maximum[] };
}

/**
 * A query for how many rows of the table count (are not deleted), read from a rollup that counts
 * every one of them (a base rollup without a filter): tens of thousands of rollup rows rather than
 * the table. Exact while the rollups are up to date; the table itself when no rollup counts all.
 */
export function countedRowsSql(spec: AnalyticsSpec): string {
  const whole = spec.rollups.find((rollup) => !rollup.from && !rollup.where);
  return whole
    ? `select coalesce(sum("${spec.countColumn}"), 0) from ${whole.table}`
    : `select count(*) from public."${spec.table}" where deleted_at is null`;
}

const dimensionsOf = (rollup: Rollup) => [...rollup.key, ...(rollup.attributes ?? [])];
const quote = (name: string) => `"${name}"`;

function parentOf(spec: AnalyticsSpec, rollup: Rollup): Rollup | undefined {
  if (!rollup.from) return undefined;
  const parent = spec.rollups.find((candidate) => candidate.table === rollup.from);
  if (!parent || spec.rollups.indexOf(parent) > spec.rollups.indexOf(rollup))
    throw new Error(
      `rollup ${rollup.table} is made from ${rollup.from}, which must come before it`,
    );
  return parent;
}

/** `select <dims>, <measure> from <source> [where] group by <dims>`, as the rollup's columns. */
function aggregateSql(
  rollup: Rollup,
  source: string,
  measure: string,
  filters: readonly string[] = [],
): string {
  const dimensions = dimensionsOf(rollup);
  const where = [...filters, ...(rollup.where && !rollup.from ? [`(${rollup.where})`] : [])];
  return `select ${dimensions.map((d) => `(${d.sql})::${d.type} as ${quote(d.name)}`).join(', ')}, ${measure}
    from ${source}${where.length > 0 ? ` where ${where.join(' and ')}` : ''}
   group by ${dimensions.map((_, index) => index + 1).join(', ')}`;
}

function keyMatch(rollup: Rollup, left: string, right: string): string {
  const equals = rollup.nullableKey ? 'is not distinct from' : '=';
  return rollup.key
    .map((d) => `${left}.${quote(d.name)} ${equals} ${right}.${quote(d.name)}`)
    .join(' and ');
}

export interface ChangeStatements {
  /**
   * One statement: each rollup's delta (a CTE, from the changes or from its finer rollup's delta)
   * added to its table. Returns `zeros`: per rollup index, the keys the delta brought to zero.
   */
  apply: string;
  /** Deletes those keys' rows (parameter: the `zeros` object); needed only when there are some. */
  prune: (indexes: readonly number[]) => string;
  /** Moves the maxima forward, or recomputes one whose holder was removed. */
  maxima: string;
}

/** Pure: the statements that add a `changes` relation (`sign` and the spec's columns) to the analytics. */
export function buildChangeStatements(spec: AnalyticsSpec, changes: string): ChangeStatements {
  const count = quote(spec.countColumn);
  const parts: string[] = [];
  spec.rollups.forEach((rollup, index) => {
    const parent = parentOf(spec, rollup);
    const source = parent ? `d${spec.rollups.indexOf(parent)}` : changes;
    const measure = parent ? 'n' : 'sign';
    const names = dimensionsOf(rollup).map((d) => quote(d.name));
    const keys = rollup.key.map((d) => quote(d.name));
    const keyed = (alias: string) => keys.map((key) => `${alias}.${key}`).join(', ');
    // Loads take turns, so an update of the keys held and an insert of the others (both seeing
    // the same snapshot) do what INSERT … ON CONFLICT would, in half the time on a first load.
    parts.push(
      `d${index} as materialized (${aggregateSql(rollup, source, `sum(${measure})::int as n`)} having sum(${measure}) <> 0)`,
      `e${index} as (update ${rollup.table} as t set ${count} = t.${count} + d.n from d${index} as d
        where ${keyMatch(rollup, 't', 'd')} returning ${keyed('t')}, t.${count})`,
      // In key order: the index is then written in order, several times faster on a first load.
      `i${index} as (insert into ${rollup.table} (${names.join(', ')}, ${count})
        select ${names.map((name) => `d.${name}`).join(', ')}, d.n from d${index} as d
         where not exists (select 1 from ${rollup.table} as t where ${keyMatch(rollup, 't', 'd')})
         order by ${keyed('d')})`,
    );
  });
  const zeros = spec.rollups
    .map(
      (rollup, index) =>
        `'${index}', (select jsonb_agg(to_jsonb(e${index})) from e${index} where e${index}.${count} <= 0)`,
    )
    .join(', ');
  const apply = `with ${parts.join(',\n')}
    select jsonb_strip_nulls(jsonb_build_object(${zeros})) as zeros`;
  const prune = (indexes: readonly number[]) =>
    `with ${indexes
      .map((index) => {
        const rollup = spec.rollups[index]!;
        return `p${index} as (delete from ${rollup.table} as t
          using jsonb_populate_recordset(null::${rollup.table}, $1::jsonb -> '${index}') as d
          where ${keyMatch(rollup, 't', 'd')} and t.${count} <= 0)`;
      })
      .join(', ')} select 1`;
  const { extent } = spec;
  const seen = extent.maxima
    .map(
      (m, index) =>
        `max(${m.sql}) filter (where sign > 0) as added_${index}, max(${m.sql}) filter (where sign < 0) as removed_${index}`,
    )
    .join(', ');
  // The recompute is an uncorrelated subquery: PostgreSQL runs it only if its branch is taken.
  const maxima = `update ${extent.table} as e set ${extent.maxima
    .map(
      (m, index) => `${quote(m.column)} = case
        when c.removed_${index} >= e.${quote(m.column)} and coalesce(c.added_${index} < e.${quote(m.column)}, true)
        then (${recomputeSql(spec, m, true)})
        else greatest(e.${quote(m.column)}, c.added_${index}) end`,
    )
    .join(', ')}
    from (select ${seen} from ${changes}) as c`;
  return { apply, prune, maxima };
}

/** Pure: the statements that recompute every rollup from the table, finer ones first. */
export function buildRebuildStatements(spec: AnalyticsSpec): string[] {
  const count = quote(spec.countColumn);
  const statements = spec.rollups.map((rollup) => `delete from ${rollup.table}`);
  for (const rollup of spec.rollups) {
    const names = dimensionsOf(rollup).map((d) => quote(d.name));
    const select = rollup.from
      ? aggregateSql(rollup, rollup.from, `sum(${count})::int`)
      : aggregateSql(rollup, `public.${quote(spec.table)}`, 'count(*)::int', [
          'deleted_at is null',
        ]);
    statements.push(`insert into ${rollup.table} (${names.join(', ')}, ${count}) ${select}`);
  }
  const { extent } = spec;
  statements.push(
    `update ${extent.table} set ${extent.maxima
      .map((m) => `${quote(m.column)} = (${recomputeSql(spec, m, false)})`)
      .join(', ')}`,
  );
  return statements;
}

function recomputeSql(spec: AnalyticsSpec, maximum: Maximum, narrow: boolean): string {
  const where = [
    'deleted_at is null',
    ...(narrow && maximum.recomputeWhere ? [`(${maximum.recomputeWhere})`] : []),
  ];
  return `select max(${maximum.sql}) from public.${quote(spec.table)} where ${where.join(' and ')}`;
}

/**
 * Adds what a load changed to the rollups and the maxima, in the load's transaction. `changes`
 * holds one row per version added (`sign` 1) or removed (−1), with the spec's columns; only
 * versions of rows not deleted belong there. Three statements at most, whatever the change.
 */
export async function applyChanges(
  client: pg.ClientBase,
  spec: AnalyticsSpec,
  changes: string,
): Promise<void> {
  const statements = buildChangeStatements(spec, changes);
  const { rows } = await client.query<{ zeros: Record<string, unknown[]> }>(statements.apply);
  const zeros = rows[0]?.zeros ?? {};
  const indexes = Object.keys(zeros).map(Number);
  if (indexes.length > 0) await client.query(statements.prune(indexes), [JSON.stringify(zeros)]);
  await client.query(statements.maxima);
}

/** Recomputes every rollup and maximum from the table; in the caller's transaction. */
export async function rebuildRollups(client: pg.ClientBase, spec: AnalyticsSpec): Promise<void> {
  for (const statement of buildRebuildStatements(spec)) await client.query(statement);
}
