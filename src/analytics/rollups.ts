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
  /** Creates the temporary table of deltas for one rollup. */
  delta: string;
  /** Adds the delta to the rollup table. */
  upsert: string;
  /** Drops the rows the delta brought to zero (needed only when versions were removed). */
  prune: string;
}

/** Pure: the statements that add a `changes` relation (`sign` and the spec's columns) to each rollup. */
export function buildChangeStatements(spec: AnalyticsSpec, changes: string): ChangeStatements[] {
  const count = quote(spec.countColumn);
  return spec.rollups.map((rollup, index) => {
    const parent = parentOf(spec, rollup);
    const delta = deltaTable(index);
    const source = parent ? deltaTable(spec.rollups.indexOf(parent)) : changes;
    const measure = parent ? `sum(n)::int as n` : `sum(sign)::int as n`;
    const names = dimensionsOf(rollup).map((d) => quote(d.name));
    return {
      delta: `create temp table ${delta} on commit drop as ${aggregateSql(rollup, source, measure)} having ${parent ? 'sum(n)' : 'sum(sign)'} <> 0`,
      upsert: `insert into ${rollup.table} as t (${names.join(', ')}, ${count})
        select ${names.join(', ')}, n from ${delta}
        on conflict (${rollup.key.map((d) => quote(d.name)).join(', ')})
        do update set ${count} = t.${count} + excluded.${count}`,
      prune: `delete from ${rollup.table} as t using ${delta} as d
        where d.n < 0 and ${keyMatch(rollup, 't', 'd')} and t.${count} <= 0`,
    };
  });
}

const deltaTable = (index: number) => `pg_temp.cpd_rollup_delta_${index}`;

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
 * versions of rows not deleted belong there. `removed` says whether any row has sign −1.
 */
export async function applyChanges(
  client: pg.ClientBase,
  spec: AnalyticsSpec,
  changes: string,
  removed: boolean,
): Promise<void> {
  const statements = buildChangeStatements(spec, changes);
  for (const statement of statements) {
    await client.query(statement.delta);
    await client.query(statement.upsert);
    if (removed) await client.query(statement.prune);
  }
  await client.query(`drop table ${statements.map((_, index) => deltaTable(index)).join(', ')}`);
  await applyMaxima(client, spec, changes);
}

/** New versions move a maximum forward; removing the version that held it recomputes it. */
async function applyMaxima(client: pg.ClientBase, spec: AnalyticsSpec, changes: string) {
  const { extent } = spec;
  const { rows } = await client.query<Record<string, boolean | null>>(
    `select ${extent.maxima
      .map(
        (m, index) => `(max(${m.sql}) filter (where c.sign < 0) >= e.${quote(m.column)}
          and coalesce(max(${m.sql}) filter (where c.sign > 0) < e.${quote(m.column)}, true)) as stale_${index}`,
      )
      .join(', ')}
       from ${changes} as c cross join ${extent.table} as e group by e.singleton`,
  );
  const stale = rows[0] ?? {};
  const assignments = extent.maxima.map((m, index) =>
    stale[`stale_${index}`]
      ? `${quote(m.column)} = (${recomputeSql(spec, m, true)})`
      : `${quote(m.column)} = greatest(${quote(m.column)}, (select max(${m.sql}) from ${changes} where sign > 0))`,
  );
  await client.query(`update ${extent.table} set ${assignments.join(', ')}`);
}

/** Recomputes every rollup and maximum from the table; in the caller's transaction. */
export async function rebuildRollups(client: pg.ClientBase, spec: AnalyticsSpec): Promise<void> {
  for (const statement of buildRebuildStatements(spec)) await client.query(statement);
}
