import { dateTagName, type CardSpec } from '../../../src/metabase/spec.js';

/** A date range for a field filter: `from` inclusive, `to` exclusive, both `YYYY-MM-DD`. */
export interface DateRange {
  from: string;
  to: string;
}

/**
 * A card's SQL as Metabase runs it: the date field filter replaced by a condition on the fully
 * qualified column (which is why the SQL must name that view unaliased), or by `1 = 1` when the
 * filter is empty.
 */
export function substituteDateFilter(
  card: Pick<CardSpec, 'sql' | 'dateFilter'>,
  range?: DateRange,
): string {
  if (!card.dateFilter) return card.sql;
  const { schema, table, column } = card.dateFilter;
  const qualified = `"${schema}"."${table}"."${column}"`;
  const condition = range
    ? `(${qualified} >= date '${range.from}' and ${qualified} < date '${range.to}')`
    : '1 = 1';
  return card.sql.replaceAll(`{{${dateTagName}}}`, condition);
}
