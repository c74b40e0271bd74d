import { UserError } from '../errors.js';
import type { DatasetDefinition } from './dataset.js';
import { buildQuery, type SodaQuery } from './soql.js';

/**
 * The queries the pipeline runs, built on the SoQL builder. The two that read rows select `:*, *`
 * so every row carries its `:id`: the natural key repeats in the source, `:id` does not, so a row
 * can be traced and counted exactly once. The third lists keys only (reconciliation).
 */

const floatingPattern =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?)?$/;

/**
 * A floating timestamp in the canonical form Socrata returns (`YYYY-MM-DDTHH:mm:ss.SSS`), from
 * that form, a shorter one (`YYYY-MM-DD`, `YYYY-MM-DDTHH:mm`, ...), or undefined when the text is
 * no real calendar time.
 */
export function normalizeFloatingTimestamp(text: string): string | undefined {
  const match = floatingPattern.exec(text.trim());
  if (!match) return undefined;
  const [, year, month, day, hour = '00', minute = '00', second = '00', fraction = ''] = match;
  const parts = [year, month, day, hour, minute, second].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const [y, mo, d, h, mi, s] = parts;
  // Date.UTC rolls 2025-02-30 over to March; a round trip tells a real date from a rolled one.
  const probe = new Date(Date.UTC(y, mo - 1, d));
  if (probe.getUTCFullYear() !== y || probe.getUTCMonth() !== mo - 1 || probe.getUTCDate() !== d)
    return undefined;
  if (h > 23 || mi > 59 || s > 59) return undefined;
  return `${year}-${month}-${day}T${hour}:${minute}:${second}.${fraction.padEnd(3, '0')}`;
}

function parseBound(text: string, name: string): string {
  const value = normalizeFloatingTimestamp(text);
  if (value === undefined) {
    throw new UserError(
      'query.bad-date',
      `--${name} ${JSON.stringify(text)} is not a date; expected YYYY-MM-DD or YYYY-MM-DDTHH:mm:ss[.SSS] (local time of the dataset)`,
    );
  }
  return value;
}

/**
 * A bound as a literal for a field: a fixed timestamp (`:updated_at`, a `date` column) is an
 * instant, so a bound without a zone is read as UTC (`…Z`); a floating one stays wall time.
 */
function literalFor(definition: DatasetDefinition, field: string, bound: string): string {
  const type = definition.fields.find((candidate) => candidate.name === field)?.type;
  return type === 'fixed_timestamp' || (type === undefined && field.startsWith(':'))
    ? `${bound}Z`
    : bound;
}

/** A cursor bound: a floating form, or an instant with `Z` (a fixed stamp as Socrata serves it). */
function parseSince(text: string): string {
  const trimmed = text.trim();
  return parseBound(trimmed.endsWith('Z') ? trimmed.slice(0, -1) : trimmed, 'since');
}

/** Rows whose window field is in `[from, to)`, ordered by `:id` (unique, so paging is stable). */
export function windowQuery(
  definition: DatasetDefinition,
  window: { from: string; to: string },
): SodaQuery {
  const from = parseBound(window.from, 'from');
  const to = parseBound(window.to, 'to');
  if (from >= to) {
    throw new UserError(
      'query.empty-window',
      `--from ${window.from} is not before --to ${window.to}; the window is [from, to), so to must be later`,
    );
  }
  const field = definition.windowField;
  return buildQuery(definition, {
    select: [':*', '*'],
    where: {
      kind: 'and',
      conditions: [
        { kind: 'compare', field, operator: '>=', value: literalFor(definition, field, from) },
        { kind: 'compare', field, operator: '<', value: literalFor(definition, field, to) },
      ],
    },
    order: [':id'],
  });
}

/**
 * Rows whose cursor field is at or after `since` (every row when it is undefined), ordered by the
 * cursor with `:id` as tie-breaker: publish batches share one stamp, so the cursor alone is not
 * a stable order.
 */
export function incrementalQuery(
  definition: DatasetDefinition,
  options: { since?: string },
): SodaQuery {
  const field = definition.cursorField;
  return buildQuery(definition, {
    select: [':*', '*'],
    where:
      options.since === undefined
        ? undefined
        : {
            kind: 'compare',
            field,
            operator: '>=',
            value: literalFor(definition, field, parseSince(options.since)),
          },
    order: [field, ':id'],
  });
}

/**
 * Every row's natural key and `:id`, nothing else, ordered by `:id` (unique, so offset paging is
 * stable): what a reconciliation compares with what we hold. Tens of bytes a row, so a page of
 * 50,000 is a couple of megabytes. Built from the definition, so any dataset's key works (a field
 * of its own, or `:id` itself for a dataset without one).
 */
export function keyListingQuery(definition: DatasetDefinition): SodaQuery {
  const select = [...new Set([definition.naturalKey, ':id'])];
  return buildQuery(definition, { select, order: [':id'] });
}
