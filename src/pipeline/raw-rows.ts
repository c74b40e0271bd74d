import type { DatasetDefinition } from '../source/dataset.js';
import { encodeCopyLine } from './copy-text.js';

/**
 * How extract stages a source row and how later steps read it back (pure). The dataset's fields
 * are text columns, so validate and transform split a COPY line instead of parsing JSON; a row
 * the columns cannot hold exactly (a value that is not text, a NUL) is kept whole as JSON, and
 * fields the definition does not list travel as a JSON object beside. Nothing the source sent is
 * lost.
 */

/** The staging table's columns, in COPY order. */
export function rawColumns(definition: DatasetDefinition): string[] {
  return [
    'row_number',
    ...definition.fields.map((field) => field.name),
    'extra_fields',
    'raw_json',
  ];
}

/** Builds the function that writes one source row as a COPY line of the raw staging table. */
export function createRawRowEncoder(
  definition: DatasetDefinition,
): (rowNumber: number, row: Record<string, unknown>) => string {
  const names = definition.fields.map((field) => field.name);
  const defined = new Set(names);
  const isPlainText = (value: unknown): value is string =>
    typeof value === 'string' && !value.includes('\u0000');
  // A row kept whole still fills the columns of its plain-text fields: the validate step ranks
  // repeated ids by those columns alone, never parsing the JSON (jsonb refuses a NUL or a lone
  // surrogate anywhere in a row, even in a field nothing loads).
  const keptWhole = (rowNumber: number, row: Record<string, unknown>) =>
    encodeCopyLine([
      rowNumber,
      ...names.map((name) => (isPlainText(row[name]) ? row[name] : null)),
      null,
      JSON.stringify(row),
    ]);
  return (rowNumber, row) => {
    const values: Array<string | number | null> = [rowNumber];
    for (const name of names) {
      const value = row[name];
      if (value === undefined) values.push(null);
      else if (isPlainText(value)) values.push(value);
      else return keptWhole(rowNumber, row);
    }
    // The other fields as a JSON object, written directly (no object built per row).
    let extra = '';
    for (const key in row) {
      if (!defined.has(key))
        extra += `${extra === '' ? '{' : ','}${JSON.stringify(key)}:${JSON.stringify(row[key])}`;
    }
    values.push(extra === '' ? null : `${extra}}`, null);
    return encodeCopyLine(values);
  };
}

/**
 * The query that reads a window's raw rows back. In no particular order: nothing downstream
 * depends on it (row numbers travel with the rows), and sorting a million wide rows would cost
 * more than everything else the step does.
 */
export function rawRowsQuery(definition: DatasetDefinition, table: string): string {
  return `select ${rawColumns(definition)
    .map((column) => `"${column}"`)
    .join(', ')} from ${table}`;
}

export interface RawRow {
  rowNumber: number;
  /** The defined fields, when the row fit the columns. */
  fields: Record<string, string | undefined> | undefined;
  extraJson: string | undefined;
  /** The whole row as JSON, when it did not. */
  rawJson: string | undefined;
}

/**
 * Splits a raw staging COPY line. Values are unescaped only when they hold a backslash, which a
 * text column rarely does.
 */
export function decodeRawLine(
  definition: DatasetDefinition,
  line: string,
  decode: (field: string) => string | null,
): RawRow {
  const parts = line.split('\t');
  const count = definition.fields.length;
  const rawJson = decode(parts[count + 2] ?? '\\N') ?? undefined;
  const extraJson = decode(parts[count + 1] ?? '\\N') ?? undefined;
  let fields: Record<string, string | undefined> | undefined;
  if (rawJson === undefined) {
    fields = {};
    for (let i = 0; i < count; i++)
      fields[definition.fields[i]!.name] = decode(parts[i + 1]!) ?? undefined;
  }
  return { rowNumber: Number(parts[0]), fields, extraJson, rawJson };
}

/** The row to validate and transform: the defined fields (or the whole row when kept whole). */
export function rowOf(raw: RawRow): unknown {
  return raw.rawJson === undefined ? raw.fields : JSON.parse(raw.rawJson);
}

/** Everything the source sent for the row, for the quarantine. */
export function payloadOf(raw: RawRow): unknown {
  if (raw.rawJson !== undefined) return JSON.parse(raw.rawJson);
  const payload: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw.fields ?? {}))
    if (value !== undefined) payload[key] = value;
  return raw.extraJson === undefined
    ? payload
    : { ...payload, ...(JSON.parse(raw.extraJson) as Record<string, unknown>) };
}
