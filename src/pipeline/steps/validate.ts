import type pg from 'pg';
import { UserError } from '../../errors.js';
import type { DatasetDefinition } from '../../source/dataset.js';
import { decodeCopyValue, encodeCopyLine } from '../copy-text.js';
import { completeStep } from '../ledger.js';
import { decodeRawLine, payloadOf, rawColumns, rowOf, type RawRow } from '../raw-rows.js';
import { copyInto, copyLinesOut, recreateStagingTable, stagingTable } from '../staging.js';
import { createRowValidator, sanitizeForJsonb, type RejectReason } from '../validate-row.js';
import { inTransaction, type StepFunction } from './context.js';

/**
 * validate: every staged row through the dataset's zod schema. A bad row goes to
 * `rejected_records` with its payload and a reason; it never fails the run alone. The run fails
 * when the rejected share of the window passes the threshold: the quarantine is still written,
 * so the reasons can be read, and nothing is loaded.
 *
 * Repeated ids in one extract resolve here, deterministically: the row with the latest update
 * stamp wins, and on equal stamps the later row in the source's order. The others are superseded
 * (counted as duplicates, not rejected: they were fine, just older).
 *
 * The rows set aside go to the window's `skip` table; the raw table is left as extract wrote it,
 * so running validate again gives the same answer.
 */

interface Rejection {
  raw: RawRow;
  reason: RejectReason;
  detail: string;
}

const rejectionBatch = 1_000;

export const validateWindow: StepFunction = async (
  deps,
  { spec, pipeline, onProgress, signal, redo },
) => {
  const { source: definition } = pipeline;
  const validate = createRowValidator(definition);
  const keyOf = createKeyReader(definition);
  const stampField = definition.cursorField;
  const raw = stagingTable('raw', spec.runId, spec.windowIndex);

  // Per id, the row number of the version that wins so far; stamps by row number, as numbers.
  const winners = new Map<string | number, number>();
  const stamps: number[] = [];
  const skipped: Array<[number, 'rejected' | 'superseded']> = [];
  const reasonCounts = new Map<RejectReason, number>();
  let total = 0;
  let duplicates = 0;

  const result = await inTransaction(deps.pool, async (writer) => {
    await writer.query('delete from rejected_records where run_id = $1 and window_index = $2', [
      spec.runId,
      spec.windowIndex,
    ]);
    let pending: Rejection[] = [];
    const reject = async (rejection: Rejection) => {
      skipped.push([rejection.raw.rowNumber, 'rejected']);
      reasonCounts.set(rejection.reason, (reasonCounts.get(rejection.reason) ?? 0) + 1);
      pending.push(rejection);
      if (pending.length >= rejectionBatch) {
        await insertRejections(writer, spec.runId, spec.windowIndex, definition, pending);
        pending = [];
      }
    };

    const reader = await deps.pool.connect();
    try {
      const query = `select ${rawColumns(definition)
        .map((column) => `"${column}"`)
        .join(', ')} from ${raw} order by row_number`;
      for await (const lines of copyLinesOut(reader, query)) {
        signal?.throwIfAborted();
        for (const line of lines) {
          const rawRow = decodeRawLine(definition, line, decodeCopyValue);
          total += 1;
          let row: unknown;
          try {
            row = rowOf(rawRow);
          } catch {
            await reject({
              raw: rawRow,
              reason: 'malformed_json',
              detail: 'the staged row is not JSON',
            });
            continue;
          }
          const verdict = validate(row);
          if (!verdict.ok) {
            await reject({ raw: rawRow, reason: verdict.reason, detail: verdict.detail });
            continue;
          }
          const key = keyOf(verdict.row[definition.naturalKey]!);
          const stamp = Date.parse(`${verdict.row[stampField]!}Z`);
          stamps[rawRow.rowNumber] = stamp;
          const previous = winners.get(key);
          if (previous === undefined) {
            winners.set(key, rawRow.rowNumber);
            continue;
          }
          duplicates += 1;
          // Rows arrive in row-number order, so on equal stamps the newcomer is the later row.
          if (stamp >= stamps[previous]!) {
            skipped.push([previous, 'superseded']);
            winners.set(key, rawRow.rowNumber);
          } else {
            skipped.push([rawRow.rowNumber, 'superseded']);
          }
        }
        onProgress?.(total);
      }
    } finally {
      reader.release();
    }
    if (pending.length > 0)
      await insertRejections(writer, spec.runId, spec.windowIndex, definition, pending);

    const rejected = total - winners.size - duplicates;
    const counts = { extracted: total, valid: total - rejected, rejected, duplicate: duplicates };
    const share = total === 0 ? 0 : rejected / total;
    if (share > deps.settings.rejectThreshold) {
      // The quarantine commits, so the reasons can be read; the step fails after; nothing loads.
      return new RejectThresholdError(
        share,
        rejected,
        total,
        deps.settings.rejectThreshold,
        reasonCounts,
        spec.runId,
      );
    }

    const skip = await recreateStagingTable(
      writer,
      'skip',
      'staging.skipped_rows',
      spec.runId,
      spec.windowIndex,
    );
    await copyInto(
      writer,
      skip,
      ['row_number', 'reason'],
      [skipped.map(([rowNumber, reason]) => encodeCopyLine([rowNumber, reason])).join('')],
    );
    const outcome = { rowsIn: total, rowsOut: winners.size, counts };
    await completeStep(writer, spec.runId, spec.windowIndex, 'validate', outcome, redo);
    return outcome;
  });
  if (result instanceof RejectThresholdError) throw result;
  return result;
};

/** Natural keys compared as numbers when the definition says they are whole numbers (compact). */
function createKeyReader(definition: DatasetDefinition): (value: string) => string | number {
  const integer =
    definition.fields.find((field) => field.name === definition.naturalKey)?.format === 'integer';
  return integer ? (value) => (value.length <= 15 ? Number(value) : value) : (value) => value;
}

async function insertRejections(
  client: pg.ClientBase,
  runId: number,
  windowIndex: number,
  definition: DatasetDefinition,
  rejections: Rejection[],
): Promise<void> {
  const payloads = rejections.map((rejection) => {
    const { value, replaced } = sanitizeForJsonb(payloadOf(rejection.raw));
    return { value, json: JSON.stringify(value), replaced };
  });
  const sourceKey = (payload: unknown, naturalKey: string): string | null => {
    if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) return null;
    const value = (payload as Record<string, unknown>)[naturalKey];
    return typeof value === 'string' || typeof value === 'number'
      ? String(value).slice(0, 100)
      : null;
  };
  await client.query(
    `insert into rejected_records (run_id, dataset, window_index, row_number, source_key, reason, detail, payload)
     select $1, $2, $3, r.row_number, r.source_key, r.reason, r.detail, r.payload
       from unnest($4::int[], $5::text[], $6::text[], $7::text[], $8::jsonb[])
            as r(row_number, source_key, reason, detail, payload)`,
    [
      runId,
      definition.id,
      windowIndex,
      rejections.map((rejection) => rejection.raw.rowNumber),
      payloads.map((payload) => sourceKey(payload.value, definition.naturalKey)),
      rejections.map((rejection) => rejection.reason),
      rejections.map((rejection, index) =>
        payloads[index]!.replaced
          ? `${rejection.detail} (NUL characters shown as U+FFFD in the stored payload)`
          : rejection.detail,
      ),
      payloads.map((payload) => payload.json),
    ],
  );
}

/** Too many bad rows: the run stops, because loading the rest would hide a broken source. */
export class RejectThresholdError extends UserError {
  constructor(
    share: number,
    rejected: number,
    total: number,
    threshold: number,
    reasons: Map<RejectReason, number>,
    runId: number,
  ) {
    const percent = (value: number) => `${(value * 100).toFixed(1)}%`;
    const breakdown = [...reasons]
      .sort((a, b) => b[1] - a[1])
      .map(([reason, count]) => `${reason} ${count}`)
      .join(', ');
    super(
      'validate.threshold',
      `${percent(share)} of the window's rows were rejected (${rejected} of ${total}: ${breakdown}), above the ${percent(threshold)} threshold; nothing was loaded for this window. Inspect them with: select reason, detail, payload from rejected_records where run_id = ${runId}; then fix the source or raise REJECT_THRESHOLD`,
    );
  }
}
