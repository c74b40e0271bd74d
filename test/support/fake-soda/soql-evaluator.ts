import type { Expr, Literal, OrderTerm } from './soql-parser.js';
import type { SodaRow } from './types.js';

/**
 * Evaluates parsed SoQL over rows of strings, typed by the dataset's columns as Socrata does:
 * floating timestamps compare as times (so `'2025-03-01'` equals `2025-03-01T00:00:00.000`),
 * absent values are NULL with SQL's three-valued logic, and a type mismatch or an unknown column
 * is refused with Socrata's error code.
 */

export type ColumnType =
  | 'text'
  | 'number'
  | 'floating_timestamp'
  | 'fixed_timestamp'
  | 'checkbox'
  | 'point'
  | 'location'
  | 'url'
  | 'meta_data';
export type Schema = ReadonlyMap<string, ColumnType>;

/** A query Socrata would refuse (HTTP 400), with its error code and body shape. */
export class SoqlQueryError extends Error {
  constructor(
    readonly sourceCode: string,
    message: string,
  ) {
    super(message);
  }
}

type ValueType = 'text' | 'number' | 'boolean' | 'floating_timestamp' | 'fixed_timestamp' | 'null';
type Scalar = string | number | boolean | null;

interface Compiled {
  type: ValueType;
  /** Set for literals: a string literal takes the type of what it is compared with. */
  literal?: Literal;
  evaluate: (row: SodaRow) => Scalar;
}

// Written apart from src/source/queries.ts on purpose: the fake is the oracle the client is tested
// against, so it must not share the client's parsing.
const floatingPattern = /^(\d{4}-\d{2}-\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?)?$/;

function toFloating(text: string): string | undefined {
  const match = floatingPattern.exec(text);
  if (!match) return undefined;
  const [, date, hour = '00', minute = '00', second = '00', fraction = ''] = match;
  return `${date}T${hour}:${minute}:${second}.${fraction.padEnd(3, '0')}`;
}

function column(name: string, schema: Schema): Compiled {
  const type = schema.get(name);
  if (type === undefined)
    throw new SoqlQueryError('query.soql.no-such-column', `No such column: ${name}`);
  switch (type) {
    case 'number':
      return {
        type: 'number',
        evaluate: (row) => (row[name] === undefined ? null : Number(row[name])),
      };
    case 'floating_timestamp':
      return {
        type: 'floating_timestamp',
        evaluate: (row) => {
          const value = row[name];
          if (value === undefined) return null;
          return value.length === 23 ? value : (toFloating(value) ?? value);
        },
      };
    case 'fixed_timestamp':
      return {
        type: 'fixed_timestamp',
        evaluate: (row) => (row[name] === undefined ? null : Date.parse(row[name])),
      };
    case 'checkbox':
      return {
        type: 'boolean',
        // SODA serves a checkbox as a JSON boolean; rows written as text say 'true'.
        evaluate: (row) =>
          row[name] === undefined ? null : (row[name] as unknown) === true || row[name] === 'true',
      };
    default:
      return { type: 'text', evaluate: (row) => row[name] ?? null };
  }
}

function literal(value: Literal): Compiled {
  const type: ValueType =
    value === null
      ? 'null'
      : typeof value === 'string'
        ? 'text'
        : typeof value === 'number'
          ? 'number'
          : 'boolean';
  return { type, literal: value, evaluate: () => value };
}

/** A string literal read as the type it meets, as Socrata coerces `date_time >= '2025-01-01'`. */
function coerce(side: Compiled, type: ValueType): Compiled {
  if (
    side.type !== 'text' ||
    typeof side.literal !== 'string' ||
    type === 'text' ||
    type === 'null'
  )
    return side;
  const text = side.literal;
  let value: Scalar | undefined;
  if (type === 'floating_timestamp') value = toFloating(text);
  else if (type === 'fixed_timestamp')
    value = Number.isNaN(Date.parse(text)) ? undefined : Date.parse(text);
  else if (type === 'number') value = /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : undefined;
  else if (type === 'boolean')
    value = text === 'true' ? true : text === 'false' ? false : undefined;
  if (value === undefined) {
    throw new SoqlQueryError('query.soql.type-mismatch', `Cannot coerce '${text}' to ${type}`);
  }
  const fixed = value;
  return { type, literal: side.literal, evaluate: () => fixed };
}

function unify(left: Compiled, right: Compiled, what: string): [Compiled, Compiled] {
  const a = coerce(left, right.type);
  const b = coerce(right, a.type);
  if (a.type !== b.type && a.type !== 'null' && b.type !== 'null') {
    throw new SoqlQueryError(
      'query.soql.type-mismatch',
      `Type mismatch for ${what}: ${a.type}, ${b.type}`,
    );
  }
  return [a, b];
}

export function compareScalars(a: string | number | boolean, b: string | number | boolean): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compileLike(pattern: string): RegExp {
  const body = [...pattern]
    .map((char) =>
      char === '%' ? '.*' : char === '_' ? '.' : char.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
    )
    .join('');
  return new RegExp(`^${body}$`, 's');
}

function boolean(evaluate: (row: SodaRow) => boolean | null): Compiled {
  return { type: 'boolean', evaluate };
}

function compile(expr: Expr, schema: Schema): Compiled {
  switch (expr.type) {
    case 'column':
      return column(expr.name, schema);
    case 'literal':
      return literal(expr.value);
    case 'compare': {
      const [left, right] = unify(
        compile(expr.left, schema),
        compile(expr.right, schema),
        expr.operator,
      );
      const test = {
        '=': (c: number) => c === 0,
        '!=': (c: number) => c !== 0,
        '<': (c: number) => c < 0,
        '<=': (c: number) => c <= 0,
        '>': (c: number) => c > 0,
        '>=': (c: number) => c >= 0,
      }[expr.operator];
      return boolean((row) => {
        const a = left.evaluate(row);
        const b = right.evaluate(row);
        return a === null || b === null ? null : test(compareScalars(a, b));
      });
    }
    case 'and':
    case 'or': {
      const left = requireBoolean(compile(expr.left, schema), expr.type.toUpperCase());
      const right = requireBoolean(compile(expr.right, schema), expr.type.toUpperCase());
      const decisive = expr.type === 'or';
      return boolean((row) => {
        const a = left.evaluate(row);
        if (a === decisive) return decisive;
        const b = right.evaluate(row);
        if (b === decisive) return decisive;
        return a === null || b === null ? null : !decisive;
      });
    }
    case 'not': {
      const operand = requireBoolean(compile(expr.operand, schema), 'NOT');
      return boolean((row) => {
        const value = operand.evaluate(row);
        return value === null ? null : !value;
      });
    }
    case 'is-null': {
      const operand = compile(expr.operand, schema);
      return boolean((row) => (operand.evaluate(row) === null) !== expr.negated);
    }
    case 'between': {
      const operand = compile(expr.operand, schema);
      const [, low] = unify(operand, compile(expr.low, schema), 'BETWEEN');
      const [, high] = unify(operand, compile(expr.high, schema), 'BETWEEN');
      return boolean((row) => {
        const value = operand.evaluate(row);
        const a = low.evaluate(row);
        const b = high.evaluate(row);
        if (value === null || a === null || b === null) return null;
        return (compareScalars(value, a) >= 0 && compareScalars(value, b) <= 0) !== expr.negated;
      });
    }
    case 'in': {
      const operand = compile(expr.operand, schema);
      const values = expr.values.map((value) => unify(operand, compile(value, schema), 'IN')[1]);
      return boolean((row) => {
        const value = operand.evaluate(row);
        if (value === null) return null;
        return values.some((candidate) => candidate.evaluate(row) === value) !== expr.negated;
      });
    }
    case 'like': {
      const operand = compile(expr.operand, schema);
      const pattern = compile(expr.pattern, schema);
      if (operand.type !== 'text' || typeof pattern.literal !== 'string') {
        throw new SoqlQueryError(
          'query.soql.type-mismatch',
          'LIKE needs a text column and a string pattern',
        );
      }
      const regex = compileLike(pattern.literal);
      return boolean((row) => {
        const value = operand.evaluate(row);
        return value === null ? null : regex.test(String(value)) !== expr.negated;
      });
    }
    case 'call':
      return compileCall(expr.name, expr.args, schema);
  }
}

function compileCall(name: string, args: Expr[], schema: Schema): Compiled {
  const compiled = args.map((arg) => compile(arg, schema));
  const [first, second] = compiled;
  if (
    (name === 'upper' || name === 'lower' || name === 'trim') &&
    compiled.length === 1 &&
    first?.type === 'text'
  ) {
    const apply =
      name === 'upper'
        ? (s: string) => s.toUpperCase()
        : name === 'lower'
          ? (s: string) => s.toLowerCase()
          : (s: string) => s.trim();
    return {
      type: 'text',
      evaluate: (row) => {
        const value = first.evaluate(row);
        return value === null ? null : apply(String(value));
      },
    };
  }
  if (
    name === 'starts_with' &&
    compiled.length === 2 &&
    first?.type === 'text' &&
    second?.type === 'text'
  ) {
    return boolean((row) => {
      const value = first.evaluate(row);
      const prefix = second.evaluate(row);
      return value === null || prefix === null ? null : String(value).startsWith(String(prefix));
    });
  }
  throw new SoqlQueryError(
    'query.soql.no-such-function',
    `No such function '${name}'/${args.length}`,
  );
}

function requireBoolean(compiled: Compiled, what: string): Compiled {
  if (compiled.type !== 'boolean' && compiled.type !== 'null') {
    throw new SoqlQueryError(
      'query.soql.type-mismatch',
      `Type mismatch for ${what}, is ${compiled.type}`,
    );
  }
  return compiled;
}

/** A row filter: true only when the condition is true (false and NULL both filter out). */
export function compileWhere(expr: Expr, schema: Schema): (row: SodaRow) => boolean {
  const compiled = requireBoolean(compile(expr, schema), '$where');
  return (row) => compiled.evaluate(row) === true;
}

export interface OrderKeyReader {
  read: (row: SodaRow) => string | number | boolean | null;
  descending: boolean;
  nullsFirst: boolean;
}

/** One reader per `$order` term; the store computes each term's keys once and sorts on them. */
export function compileOrder(terms: OrderTerm[], schema: Schema): OrderKeyReader[] {
  return terms.map((term) => {
    const compiled = compile(term.expr, schema);
    return { read: compiled.evaluate, descending: term.descending, nullsFirst: term.nullsFirst };
  });
}

/** The column a `$select` term names; anything else is refused as unsupported. */
export function selectedColumn(expr: Expr, schema: Schema): string {
  if (expr.type !== 'column') {
    throw new SoqlQueryError(
      'query.soql.not-supported',
      'The fake SODA server selects plain columns, *, :* and count(*) only',
    );
  }
  column(expr.name, schema);
  return expr.name;
}
