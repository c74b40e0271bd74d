import { z } from 'zod';
import type { DatasetDefinition, SodaFieldType, SourceField } from '../source/dataset.js';
import { isFloatingTimestamp } from './local-time.js';

/**
 * Row validation, built from the dataset definition: a zod schema per row whose failures map to
 * stable reason codes. A rejected row is quarantined with its reason; it never stops a run alone.
 */

export const rejectReasons = [
  'malformed_json',
  'not_an_object',
  'missing_field',
  'wrong_type',
  'nul_byte',
  'bad_timestamp',
  'non_numeric_id',
  'not_an_integer',
  'text_too_long',
  'not_a_number',
] as const;
export type RejectReason = (typeof rejectReasons)[number];

/**
 * A row that passed: the definition's fields, absent (or null) when the source left them out.
 * Text, numbers and timestamps are strings, as SODA sends them; the other types are what their
 * SODA JSON is (sourceValue types below). A mapping reads its own fields' types from its definition.
 */
export type ValidRow = Record<string, SourceValue | null | undefined>;

/** The row of a dataset whose fields are all text-like (strings): the Police Log's. */
export type TextRow = Record<string, string | null | undefined>;

type ValueOfType<T extends SodaFieldType> = T extends 'checkbox'
  ? boolean
  : T extends 'point'
    ? SodaPoint
    : T extends 'location'
      ? SodaLocation
      : T extends 'url'
        ? SodaUrl
        : string;

/** A valid row typed from a definition written `as const`: required fields present, the others optional. */
export type RowOf<D extends DatasetDefinition> = {
  [F in D['fields'][number] as F['name']]: F['required'] extends true
    ? ValueOfType<F['type']>
    : ValueOfType<F['type']> | null | undefined;
};

export type SourceValue = string | boolean | SodaPoint | SodaLocation | SodaUrl;
/** GeoJSON, longitude first. */
export interface SodaPoint {
  type: 'Point';
  coordinates: [number, number];
}
/** `human_address` is itself JSON text (`{"address": …, "city": …}`). */
export interface SodaLocation {
  latitude?: string | undefined;
  longitude?: string | undefined;
  human_address?: string | undefined;
}
export interface SodaUrl {
  url: string;
  description?: string | undefined;
}

export type RowVerdict =
  { ok: true; row: ValidRow } | { ok: false; reason: RejectReason; detail: string };

/**
 * Floating timestamps before this year are refused: before 1883 the zones kept local mean time,
 * offsets of odd seconds no instant in the pipeline is written with (a row from 1850 failed its
 * whole window), PostgreSQL has no year 0, and no police log reaches that far back.
 */
const earliestYear = 1900;

/** The checks a text field gets, in the order they are reported: first failure wins. */
function fieldChecks(
  field: SourceField,
  definition: DatasetDefinition,
): Array<[RejectReason, string, (value: string) => boolean]> {
  const checks: Array<[RejectReason, string, (value: string) => boolean]> = [
    ['nul_byte', 'contains a NUL character', (value) => !value.includes('\u0000')],
  ];
  if (field.required) checks.push(['missing_field', 'is empty', (value) => value.trim() !== '']);
  if (field.type === 'fixed_timestamp') {
    checks.push([
      'bad_timestamp',
      'is not a UTC timestamp like 2025-03-06T01:07:00.000Z',
      isFixedTimestamp,
    ]);
  }
  if (field.type === 'number') {
    checks.push(['not_a_number', 'is not a number', (value) => numberPattern.test(value)]);
  }
  if (field.type === 'floating_timestamp' || field.type === 'calendar_date') {
    checks.push([
      'bad_timestamp',
      'is not a timestamp like 2025-03-06T01:07:00.000',
      isFloatingTimestamp,
    ]);
    checks.push([
      'bad_timestamp',
      `is before ${earliestYear}`,
      (value) => value.slice(0, 4) >= String(earliestYear),
    ]);
  }
  if (field.format === 'integer') {
    const reason = field.name === definition.naturalKey ? 'non_numeric_id' : 'not_an_integer';
    checks.push([reason, 'is not a whole number', (value) => /^\d+$/.test(value)]);
  }
  const max = field.maxLength;
  if (max !== undefined)
    checks.push([
      'text_too_long',
      `is longer than ${max} characters`,
      (value) => value.length <= max,
    ]);
  return checks;
}

const numberPattern = /^-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/;

/** `YYYY-MM-DDTHH:mm:ss[.SSS]Z`, a real calendar time: how SODA writes a fixed timestamp. */
export function isFixedTimestamp(value: string): boolean {
  return value.endsWith('Z') && isFloatingTimestamp(value.slice(0, -1));
}

const finite = z.number().refine(Number.isFinite);
const soda = {
  // A checkbox is a JSON boolean; `"true"`/`"false"` as text are read too (CSV-minded sources).
  checkbox: z.union([z.boolean(), z.enum(['true', 'false']).transform((text) => text === 'true')]),
  point: z.object({ type: z.literal('Point'), coordinates: z.tuple([finite, finite]) }),
  location: z.object({
    latitude: z.string().optional(),
    longitude: z.string().optional(),
    human_address: z.string().optional(),
  }),
  url: z.object({ url: z.string(), description: z.string().optional() }),
};

function fieldSchema(field: SourceField, definition: DatasetDefinition) {
  if (
    field.type === 'checkbox' ||
    field.type === 'point' ||
    field.type === 'location' ||
    field.type === 'url'
  ) {
    const schema = soda[field.type];
    return field.required ? schema : schema.nullish();
  }
  const checks = fieldChecks(field, definition);
  // One check function per field rather than a chain of refinements: this runs on every row of
  // million-row extracts, and a single pass is several times cheaper.
  const schema = z.string().check((context) => {
    for (const [reason, message, passes] of checks) {
      if (!passes(context.value)) {
        context.issues.push({ code: 'custom', message, input: context.value, params: { reason } });
        return;
      }
    }
  });
  // Socrata leaves null fields out; a null is read the same way (no zod transform to undefined:
  // it would double the cost of a row).
  return field.required ? schema : schema.nullish();
}

/** Builds the validator for a dataset once; call it per row. */
export function createRowValidator(definition: DatasetDefinition): (row: unknown) => RowVerdict {
  const shape = Object.fromEntries(
    definition.fields.map((field) => [field.name, fieldSchema(field, definition)]),
  );
  const schema = z.object(shape);
  return (row) => {
    const result = schema.safeParse(row);
    if (result.success) return { ok: true, row: result.data };
    const issues = result.error.issues;
    const first = issues[0]!;
    return {
      ok: false,
      reason: reasonOf(first, row),
      detail: issues.map((issue) => describeIssue(issue, row)).join('; '),
    };
  };
}

type Issue = z.core.$ZodIssue;

function reasonOf(issue: Issue, row: unknown): RejectReason {
  if (issue.path.length === 0) return 'not_an_object';
  if (issue.code === 'custom') {
    const reason = (issue.params as { reason?: RejectReason } | undefined)?.reason;
    if (reason) return reason;
  }
  if (issue.code === 'invalid_type') {
    const value = valueAt(row, issue.path);
    return value === undefined || value === null ? 'missing_field' : 'wrong_type';
  }
  return 'wrong_type';
}

function describeIssue(issue: Issue, row: unknown): string {
  if (issue.path.length === 0) return `the row is ${describeValue(row)}, not an object`;
  const field = issue.path.join('.');
  const value = valueAt(row, issue.path);
  if (issue.code === 'invalid_type') {
    return value === undefined || value === null
      ? `${field} is missing`
      : `${field} is ${describeValue(value)}, not text`;
  }
  return `${field} ${issue.message} (got ${describeValue(value)})`;
}

function valueAt(row: unknown, path: PropertyKey[]): unknown {
  let value: unknown = row;
  for (const key of path) value = (value as Record<PropertyKey, unknown> | undefined)?.[key];
  return value;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') {
    const shown = value.replaceAll('\u0000', '\\0');
    return (
      JSON.stringify(shown.length > 40 ? `${shown.slice(0, 37)}...` : shown) +
      (value.length > 40 ? ` (${value.length} characters)` : '')
    );
  }
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${value}`;
  return typeof value;
}

const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const loneSurrogates = new RegExp(loneSurrogate.source, 'g');

/**
 * The payload as it can be stored in jsonb, which cannot hold U+0000 nor a lone surrogate (an
 * escape like `\ud800` in the source's JSON, kept when the row is staged whole): both become
 * U+FFFD. Says whether anything was replaced, so the quarantine record can say so.
 */
export function sanitizeForJsonb(value: unknown): { value: unknown; replaced: boolean } {
  let replaced = false;
  const walk = (item: unknown): unknown => {
    if (typeof item === 'string') {
      if (!item.includes('\u0000') && !loneSurrogate.test(item)) return item;
      replaced = true;
      return item.replaceAll('\u0000', '\uFFFD').replace(loneSurrogates, '\uFFFD');
    }
    if (Array.isArray(item)) return item.map(walk);
    if (item !== null && typeof item === 'object') {
      return Object.fromEntries(
        Object.entries(item).map(([key, inner]) => [walk(key) as string, walk(inner)]),
      );
    }
    return item;
  };
  const sanitized = walk(value);
  return { value: sanitized, replaced };
}
