import type { DatasetDefinition } from '../source/dataset.js';
import { decodeCopyValue, encodeCopyLine } from './copy-text.js';
import { getDatasetPipeline } from './datasets.js';
import { decodeRawLine, payloadOf, rowOf, type RawRow } from './raw-rows.js';
import {
  createRowValidator,
  sanitizeForJsonb,
  type RejectReason,
  type ValidRow,
} from './validate-row.js';

/**
 * The per-row work of validate and transform, as pure functions of a chunk of raw staging COPY
 * text (whole lines, as copyChunksOut yields them): a megabyte at a time, so a million-row window
 * never sits in memory, and each function is tested without a database.
 */

/** A bad row, ready for `rejected_records`. */
export interface ChunkRejection {
  rowNumber: number;
  reason: RejectReason;
  detail: string;
  /** The natural key as the source sent it (cut to 100 characters), when it had one. */
  sourceKey: string | null;
  /** Everything the source sent for the row, as JSON jsonb accepts. */
  payloadJson: string;
}

const utf8 = new TextDecoder();

function* rawRows(definition: DatasetDefinition, input: Uint8Array): Generator<RawRow> {
  for (const line of utf8.decode(input).split('\n'))
    if (line !== '') yield decodeRawLine(definition, line, decodeCopyValue);
}

/** Raw rows → clean staging lines, through the dataset's transform. */
export function transformChunk(
  datasetId: string,
  input: Uint8Array,
): { output: Buffer; rows: number } {
  const { source, target } = getDatasetPipeline(datasetId);
  const encoded: string[] = [];
  for (const raw of rawRows(source, input))
    encoded.push(encodeCopyLine([raw.rowNumber, ...target.transform(rowOf(raw) as ValidRow)]));
  return { output: Buffer.from(encoded.join('')), rows: encoded.length };
}

const validators = new Map<string, ReturnType<typeof createRowValidator>>();

/** Raw rows through the dataset's zod schema: the bad ones, with reasons and payloads. */
export function validateChunk(
  datasetId: string,
  input: Uint8Array,
): { rows: number; rejections: ChunkRejection[] } {
  const { source } = getDatasetPipeline(datasetId);
  let validate = validators.get(datasetId);
  if (!validate) validators.set(datasetId, (validate = createRowValidator(source)));
  const rejections: ChunkRejection[] = [];
  let rows = 0;
  for (const raw of rawRows(source, input)) {
    rows += 1;
    let row: unknown;
    try {
      row = rowOf(raw);
    } catch {
      rejections.push(rejectionOf(source, raw, 'malformed_json', 'the staged row is not JSON'));
      continue;
    }
    const verdict = validate(row);
    if (!verdict.ok) rejections.push(rejectionOf(source, raw, verdict.reason, verdict.detail));
  }
  return { rows, rejections };
}

function rejectionOf(
  definition: DatasetDefinition,
  raw: RawRow,
  reason: RejectReason,
  detail: string,
): ChunkRejection {
  let payload: unknown;
  try {
    payload = payloadOf(raw);
  } catch {
    // Not JSON: kept as the text it is, so nothing the source sent is lost.
    payload = raw.rawJson;
  }
  const { value, replaced } = sanitizeForJsonb(payload);
  return {
    rowNumber: raw.rowNumber,
    reason,
    detail: replaced
      ? `${detail} (NUL characters and lone surrogates shown as U+FFFD in the stored payload)`
      : detail,
    sourceKey: sourceKeyOf(value, definition.naturalKey),
    payloadJson: JSON.stringify(value),
  };
}

function sourceKeyOf(payload: unknown, naturalKey: string): string | null {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) return null;
  const value = (payload as Record<string, unknown>)[naturalKey];
  return typeof value === 'string' || typeof value === 'number'
    ? String(value).slice(0, 100)
    : null;
}
