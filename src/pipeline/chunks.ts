import type { DatasetDefinition } from '../source/dataset.js';
import { encodeCopyLine } from './copy-text.js';
import type { DatasetPipeline } from './target.js';
import {
  createRowValidator,
  sanitizeForJsonb,
  type RejectReason,
  type ValidRow,
} from './validate-row.js';

/**
 * The per-row work of validate and transform, as pure functions of one staged chunk: a JSON array
 * of rows as the source sent them (staging.ts), numbered from `firstRow`. A chunk is parsed in one
 * call; a megabyte at a time, so a million-row window never sits in memory, and each function is
 * tested without a database.
 */

/** A row of a chunk: its number in the window and what the source sent (or the text that did not parse). */
type ChunkRow = { rowNumber: number; row: unknown } | { rowNumber: number; unparsed: string };

/**
 * The chunk's rows. One JSON.parse for the whole chunk; when that fails (a line that framing
 * could not tell was broken), each line on its own, so one bad row costs only itself.
 */
export function parseChunk(json: Buffer, firstRow: number, expectedRows: number): ChunkRow[] {
  const text = json.toString('utf8');
  let rows: ChunkRow[];
  try {
    const parsed = JSON.parse(text) as unknown[];
    rows = parsed.map((row, index) => ({ rowNumber: firstRow + index, row }));
  } catch {
    // Rows are separated by a newline and a comma (raw newlines never occur inside JSON text).
    const lines = text.slice(1, -1).split(/\n[ \t\r]*,/);
    rows = lines.map((line, index) => {
      const rowNumber = firstRow + index;
      try {
        return { rowNumber, row: JSON.parse(line) as unknown };
      } catch {
        return { rowNumber, unparsed: line.trim() };
      }
    });
  }
  if (rows.length !== expectedRows) {
    throw new Error(
      `a staged chunk from row ${firstRow} holds ${rows.length} rows where extract counted ${expectedRows}; run the window again from extract`,
    );
  }
  return rows;
}

const validators = new WeakMap<DatasetDefinition, ReturnType<typeof createRowValidator>>();

function validatorFor(definition: DatasetDefinition) {
  let validate = validators.get(definition);
  if (!validate) validators.set(definition, (validate = createRowValidator(definition)));
  return validate;
}

export interface ValidatedChunk {
  rows: number;
  /** Reason of each rejected row, in row order. */
  rejected: RejectReason[];
  /**
   * COPY text of the window's `keys` staging table, one line per row: number, key and stamp as
   * served, valid, and for a bad row its reason, detail and payload as JSON that jsonb accepts.
   */
  keyLines: string;
}

/** The chunk's rows through the dataset's zod schema. */
export function validateChunk(
  definition: DatasetDefinition,
  json: Buffer,
  firstRow: number,
  expectedRows: number,
): ValidatedChunk {
  const validate = validatorFor(definition);
  const keyOf = createKeyReader(definition);
  const rejected: RejectReason[] = [];
  const lines: string[] = [];
  for (const item of parseChunk(json, firstRow, expectedRows)) {
    if ('unparsed' in item) {
      rejected.push('malformed_json');
      lines.push(
        rejectionLine(
          item.rowNumber,
          null,
          null,
          'malformed_json',
          'the row is not JSON',
          item.unparsed,
        ),
      );
      continue;
    }
    const { row, rowNumber } = item;
    const key = keyOf(row);
    const stamp = plainText(fieldOf(row, definition.cursorField));
    const verdict = validate(row);
    if (verdict.ok) {
      lines.push(encodeCopyLine([rowNumber, key, stamp, 't', null, null, null]));
      continue;
    }
    rejected.push(verdict.reason);
    lines.push(rejectionLine(rowNumber, key, stamp, verdict.reason, verdict.detail, row));
  }
  return { rows: lines.length, rejected, keyLines: lines.join('') };
}

function rejectionLine(
  rowNumber: number,
  key: string | null,
  stamp: string | null,
  reason: RejectReason,
  detail: string,
  payload: unknown,
): string {
  const { value, replaced } = sanitizeForJsonb(payload);
  return encodeCopyLine([
    rowNumber,
    key,
    stamp,
    'f',
    reason,
    replaced
      ? `${detail} (NUL characters and lone surrogates shown as U+FFFD in the stored payload)`
      : detail,
    JSON.stringify(value),
  ]);
}

function fieldOf(row: unknown, name: string): unknown {
  return row !== null && typeof row === 'object' && !Array.isArray(row)
    ? (row as Record<string, unknown>)[name]
    : undefined;
}

/** A value a text column can hold as it is: a string without NUL. */
function plainText(value: unknown): string | null {
  return typeof value === 'string' && !value.includes('\u0000') ? value : null;
}

/** The natural key as the source sent it: text, or a number written as text. */
function createKeyReader(definition: DatasetDefinition): (row: unknown) => string | null {
  return (row) => {
    const key = fieldOf(row, definition.naturalKey);
    return typeof key === 'number' ? String(key) : plainText(key);
  };
}

/**
 * The rows validate kept, through the dataset's transform, as clean staging COPY text (row number
 * first). `skipped` is the window's set-aside row numbers, ascending; `cursor` walks it alongside
 * the rows (chunks come in row order), so the set costs four bytes a skipped row, not a lookup.
 */
export function transformChunk(
  pipeline: DatasetPipeline,
  json: Buffer,
  firstRow: number,
  expectedRows: number,
  skipped: { rows: Int32Array; at: number },
): { output: Buffer; rows: number } {
  const encoded: string[] = [];
  for (const item of parseChunk(json, firstRow, expectedRows)) {
    while (skipped.at < skipped.rows.length && skipped.rows[skipped.at]! < item.rowNumber)
      skipped.at += 1;
    if (skipped.rows[skipped.at] === item.rowNumber) continue;
    if ('unparsed' in item) {
      throw new Error(
        `row ${item.rowNumber} is not JSON yet validate kept it; run the window again from validate`,
      );
    }
    encoded.push(
      encodeCopyLine([item.rowNumber, ...pipeline.target.transform(item.row as ValidRow)]),
    );
  }
  return { output: Buffer.from(encoded.join('')), rows: encoded.length };
}
