import { isAscii } from 'node:buffer';
import type { DatasetDefinition } from '../source/dataset.js';
import { encodeCopyLine, encodeCopyValue } from './copy-text.js';
import type { DatasetPipeline } from './target.js';
import {
  createRowValidator,
  sanitizeForJsonb,
  type RejectReason,
  type ValidRow,
} from './validate-row.js';

/**
 * The per-row work of validate and transform, as pure functions of one staged chunk: a JSON array
 * of rows as the source sent them (staging.ts), numbered from `firstRow`. A chunk is parsed a
 * piece at a time (below), so a million-row window never sits in memory, and each function is
 * tested without a database.
 */

/** A line of a chunk that is not JSON, kept as its text for the quarantine. */
class UnparsedRow {
  constructor(readonly text: string) {}
}

/**
 * Bytes of JSON parsed at once. A whole megabyte chunk's text and rows outlived several young
 * collections while it was worked through, and were copied and promoted each time: a third of
 * Node's time on a million rows went to the garbage collector. A piece this size is parsed,
 * used and dropped between two collections.
 */
const pieceBytes = 64 * 1024;
const newlineComma = Buffer.from('\n,');

/**
 * The chunk's rows, a piece at a time: `visit` gets each piece's rows (or, for a line that is
 * not JSON, its text) with the number of its first row, in order. A piece that does not parse
 * whole is parsed line by line, so one bad row costs only itself. Throws when the chunk holds
 * another number of rows than extract counted.
 */
export function forEachPiece(
  json: Buffer,
  firstRow: number,
  expectedRows: number,
  visit: (rows: unknown[], firstRow: number) => void,
  bytesAreAscii = isAscii(json),
): void {
  // Decoding UTF-8 was a fifth of validate's and transform's time: ASCII, checked natively, is
  // read as Latin-1 instead (the same characters), at half the cost.
  const encoding = bytesAreAscii ? 'latin1' : 'utf8';
  let rowNumber = firstRow;
  const parse = (text: string) => {
    const rows = parseRowsText(text);
    visit(rows, rowNumber);
    rowNumber += rows.length;
  };
  const open = json.indexOf(0x5b); // [
  const close = json.lastIndexOf(0x5d); // ]
  if (open < 0 || close < open) parse(json.toString(encoding).slice(1, -1));
  else {
    // Rows are separated by a newline and a comma (a raw newline never occurs inside JSON text),
    // and a newline byte is never part of a multi-byte character: pieces end at one.
    let start = open + 1;
    while (start < close) {
      const cut = close - start > pieceBytes ? json.indexOf(newlineComma, start + pieceBytes) : -1;
      const end = cut < 0 || cut > close ? close : cut;
      parse(json.toString(encoding, start, end));
      start = end === close ? close : end + newlineComma.length;
    }
  }
  const rows = rowNumber - firstRow;
  if (rows !== expectedRows) {
    throw new Error(
      `a staged chunk from row ${firstRow} holds ${rows} rows where extract counted ${expectedRows}; run the window again from extract`,
    );
  }
}

const backslashU = Buffer.from('\\u');

/**
 * Whether every string the chunk's rows hold is ASCII: its bytes are, and no `\u` escape can
 * make one that is not. Text made from them can then be written as Latin-1, a plain copy, rather
 * than encoded as UTF-8.
 */
function holdsOnlyAscii(json: Buffer, bytesAreAscii: boolean): boolean {
  return bytesAreAscii && json.indexOf(backslashU) < 0;
}

/** Rows of JSON text between an array's brackets: one JSON.parse, or line by line when that fails. */
function parseRowsText(text: string): unknown[] {
  if (text.trim() === '') return [];
  try {
    return JSON.parse(`[${text}]`) as unknown[];
  } catch {
    return text.split(/\n[ \t\r]*,/).map((line) => {
      try {
        return JSON.parse(line) as unknown;
      } catch {
        return new UnparsedRow(line.trim());
      }
    });
  }
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
  const pieces: string[] = [];
  let count = 0;
  forEachPiece(json, firstRow, expectedRows, (rows, pieceFirstRow) => {
    const lines = new Array<string>(rows.length);
    for (let index = 0; index < rows.length; index++) {
      const row = rows[index];
      const rowNumber = pieceFirstRow + index;
      if (row instanceof UnparsedRow) {
        rejected.push('malformed_json');
        lines[index] = rejectionLine(
          rowNumber,
          null,
          null,
          'malformed_json',
          'the row is not JSON',
          row.text,
        );
        continue;
      }
      const key = keyOf(row);
      const stamp = plainText(fieldOf(row, definition.cursorField));
      const verdict = validate(row);
      if (verdict.ok) {
        // The common line, written out rather than through encodeCopyLine's per-value checks.
        lines[index] =
          `${rowNumber}\t${encodeCopyValue(key)}\t${encodeCopyValue(stamp)}\tt\t\\N\t\\N\t\\N\n`;
        continue;
      }
      rejected.push(verdict.reason);
      lines[index] = rejectionLine(rowNumber, key, stamp, verdict.reason, verdict.detail, row);
    }
    count += rows.length;
    pieces.push(lines.join(''));
  });
  return { rows: count, rejected, keyLines: pieces.join('') };
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
 * first), left in its pieces' bytes (about 64 KB each) for a stream to write one after the other:
 * joining them would copy every row again. `skipped` is the window's set-aside row numbers, ascending; `cursor` walks it alongside
 * the rows (chunks come in row order), so the set costs four bytes a skipped row, not a lookup.
 */
export function transformChunk(
  pipeline: DatasetPipeline,
  json: Buffer,
  firstRow: number,
  expectedRows: number,
  skipped: { rows: Int32Array; at: number },
): { pieces: Buffer[]; rows: number } {
  const { target } = pipeline;
  // Written a piece at a time: a megabyte of text joined in one string outlived young collections.
  const bytesAreAscii = isAscii(json);
  const encoding = holdsOnlyAscii(json, bytesAreAscii) ? 'latin1' : 'utf8';
  const pieces: Buffer[] = [];
  let count = 0;
  forEachPiece(
    json,
    firstRow,
    expectedRows,
    (rows, pieceFirstRow) => {
      const lines: string[] = [];
      for (let index = 0; index < rows.length; index++) {
        const rowNumber = pieceFirstRow + index;
        while (skipped.at < skipped.rows.length && skipped.rows[skipped.at]! < rowNumber)
          skipped.at += 1;
        if (skipped.rows[skipped.at] === rowNumber) continue;
        const row = rows[index];
        if (row instanceof UnparsedRow) {
          throw new Error(
            `row ${rowNumber} is not JSON yet validate kept it; run the window again from validate`,
          );
        }
        lines.push(`${rowNumber}\t${encodeCopyLine(target.transform(row as ValidRow))}`);
      }
      count += lines.length;
      if (lines.length > 0) pieces.push(Buffer.from(lines.join(''), encoding));
    },
    bytesAreAscii,
  );
  return { pieces, rows: count };
}
