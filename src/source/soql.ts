import { UserError } from '../errors.js';
import { fieldNames, type DatasetDefinition } from './dataset.js';

/**
 * The SoQL builder: pure, and the only place a query string is written. Field names come from an
 * allow-list (the dataset definition plus Socrata's system fields) and values are formatted here,
 * so nothing a caller passes can change the shape of the query.
 */

/** Socrata's system fields: returned with `$select=:*, *`, usable in `$where` and `$order`. */
export const systemFields = [':id', ':created_at', ':updated_at'] as const;

/** A query as the client sends it, without paging (the client adds `$limit` and `$offset`). */
export interface SodaQuery {
  select?: string;
  where?: string;
  order: string;
}

export type SoqlValue = string | number | boolean;
export type ComparisonOperator = '=' | '!=' | '<' | '<=' | '>' | '>=';

export type SoqlCondition =
  | { kind: 'compare'; field: string; operator: ComparisonOperator; value: SoqlValue }
  | { kind: 'between'; field: string; low: SoqlValue; high: SoqlValue }
  | { kind: 'is-null'; field: string; negated?: boolean }
  | { kind: 'and' | 'or'; conditions: readonly SoqlCondition[] }
  | { kind: 'not'; condition: SoqlCondition };

export interface OrderKey {
  field: string;
  descending?: boolean;
}

/** `*` (the dataset's fields) and `:*` (the system fields) may be selected besides field names. */
export type SelectItem = '*' | ':*' | (string & {});

export interface QuerySpec {
  select?: readonly SelectItem[];
  where?: SoqlCondition;
  order: readonly (OrderKey | string)[];
}

export type FieldAllowList = ReadonlySet<string>;

export function listAllowedFields(definition: DatasetDefinition): FieldAllowList {
  return new Set([...fieldNames(definition), ...systemFields]);
}

// Socrata column names are lower-case identifiers; system fields start with a colon. Anything else
// would need quoting, which we never do: a definition with such a name is refused outright.
const identifier = /^:?[a-z_][a-z0-9_]*$/;

function checkField(field: string, allowed: FieldAllowList): string {
  if (!allowed.has(field) || !identifier.test(field)) {
    throw new UserError(
      'soql.unknown-field',
      `SoQL: "${field}" is not a field of this dataset (known: ${[...allowed].join(', ')}); fix the dataset definition or the query`,
    );
  }
  return field;
}

/** A value as a SoQL literal: strings single-quoted with inner quotes doubled. */
export function formatLiteral(value: SoqlValue): string {
  if (typeof value === 'string') return `'${value.replaceAll("'", "''")}'`;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  const text = String(value);
  // Exponent forms and non-finite numbers have no exact SoQL spelling.
  if (!Number.isFinite(value) || /e/i.test(text)) {
    throw new UserError(
      'soql.bad-value',
      `SoQL: the number ${text} cannot be written as a SoQL literal; pass it as a string`,
    );
  }
  return text;
}

export function formatCondition(condition: SoqlCondition, allowed: FieldAllowList): string {
  switch (condition.kind) {
    case 'compare':
      return `${checkField(condition.field, allowed)} ${condition.operator} ${formatLiteral(condition.value)}`;
    case 'between':
      return `${checkField(condition.field, allowed)} BETWEEN ${formatLiteral(condition.low)} AND ${formatLiteral(condition.high)}`;
    case 'is-null':
      return `${checkField(condition.field, allowed)} IS ${condition.negated ? 'NOT ' : ''}NULL`;
    case 'not':
      return `NOT (${formatCondition(condition.condition, allowed)})`;
    case 'and':
    case 'or': {
      if (condition.conditions.length === 0) {
        throw new UserError(
          'soql.empty',
          `SoQL: an empty ${condition.kind.toUpperCase()} has no meaning`,
        );
      }
      return condition.conditions
        .map((part) => {
          const text = formatCondition(part, allowed);
          return part.kind === 'and' || part.kind === 'or' ? `(${text})` : text;
        })
        .join(` ${condition.kind.toUpperCase()} `);
    }
  }
}

export function formatOrder(keys: readonly (OrderKey | string)[], allowed: FieldAllowList): string {
  if (keys.length === 0) {
    // Offset paging without an order returns duplicates and gaps on Socrata.
    throw new UserError('soql.no-order', 'SoQL: paging needs an explicit $order (at least :id)');
  }
  return keys
    .map((key) => (typeof key === 'string' ? { field: key } : key))
    .map((key) => `${checkField(key.field, allowed)}${key.descending ? ' DESC' : ''}`)
    .join(', ');
}

export function formatSelect(items: readonly SelectItem[], allowed: FieldAllowList): string {
  if (items.length === 0)
    throw new UserError('soql.empty', 'SoQL: $select needs at least one item');
  return items
    .map((item) => (item === '*' || item === ':*' ? item : checkField(item, allowed)))
    .join(', ');
}

/** A whole query for a dataset, every name checked against its definition. */
export function buildQuery(definition: DatasetDefinition, spec: QuerySpec): SodaQuery {
  const allowed = listAllowedFields(definition);
  const query: SodaQuery = { order: formatOrder(spec.order, allowed) };
  if (spec.select) query.select = formatSelect(spec.select, allowed);
  if (spec.where) query.where = formatCondition(spec.where, allowed);
  return query;
}

/** The query string for one page. Parameter values are percent-encoded, spaces as %20. */
export function buildPageSearch(query: SodaQuery, page: { limit: number; offset: number }): string {
  if (
    !Number.isSafeInteger(page.limit) ||
    page.limit < 1 ||
    !Number.isSafeInteger(page.offset) ||
    page.offset < 0
  ) {
    throw new UserError(
      'soql.bad-page',
      `SoQL: bad page (limit ${page.limit}, offset ${page.offset})`,
    );
  }
  const parts: string[] = [];
  if (query.select !== undefined) parts.push(`$select=${encodeURIComponent(query.select)}`);
  if (query.where !== undefined) parts.push(`$where=${encodeURIComponent(query.where)}`);
  parts.push(`$order=${encodeURIComponent(query.order)}`);
  parts.push(`$limit=${page.limit}`, `$offset=${page.offset}`);
  return parts.join('&');
}
