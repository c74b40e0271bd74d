import type pg from 'pg';
import { UserError } from '../../errors.js';
import { decodeCopyValue } from '../copy-text.js';
import { completeStep } from '../ledger.js';
import { copyLinesOut, stagingTable } from '../staging.js';
import { createRowValidator, sanitizeForJsonb, type RejectReason } from '../validate-row.js';
import { normalizeStamp } from '../windows.js';
import { inTransaction, type StepFunction } from './context.js';

/**
 * validate: every staged row through the dataset's zod schema. A bad row goes to
 * `rejected_records` with its payload and a reason, and leaves the staging table; it never fails
 * the run alone. The run fails when the rejected share of the window passes the threshold: the
 * quarantine is still written, so the reason can be read, and nothing is loaded.
 *
 * Repeated ids in one extract resolve here, deterministically: the row with the latest update
 * stamp wins, and on equal stamps the later row in the source's order. The others leave staging
 * (counted as duplicates, not rejected: they were fine, just superseded).
 */

interface Rejection {
  rowNumber: number;
  sourceKey: string | null;
  reason: RejectReason;
  detail: string;
  payload: string;
}

const rejectionBatch = 1_000;

export const validateWindow: StepFunction = async (
  deps,
  { spec, pipeline, onProgress, signal },
) => {
  const { source: definition } = pipeline;
  const validate = createRowValidator(definition);
  const table = stagingTable('raw', spec.runId, spec.windowIndex);
  const winners = new Map<string, { rowNumber: number; stamp: string }>();
  const dropped: number[] = [];
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
      dropped.push(rejection.rowNumber);
      reasonCounts.set(rejection.reason, (reasonCounts.get(rejection.reason) ?? 0) + 1);
      pending.push(rejection);
      if (pending.length >= rejectionBatch) {
        await insertRejections(writer, spec.runId, spec.windowIndex, definition.id, pending);
        pending = [];
      }
    };

    const reader = await deps.pool.connect();
    try {
      for await (const line of copyLinesOut(
        reader,
        `select row_number, payload from ${table} order by row_number`,
      )) {
        const tab = line.indexOf('\t');
        const rowNumber = Number(line.slice(0, tab));
        const payload = decodeCopyValue(line.slice(tab + 1))!;
        total += 1;
        if (total % 10_000 === 0) {
          onProgress?.(total);
          signal?.throwIfAborted();
        }

        let row: unknown;
        try {
          row = JSON.parse(payload);
        } catch {
          await reject({
            rowNumber,
            sourceKey: null,
            reason: 'malformed_json',
            detail: 'the staged row is not JSON',
            payload: JSON.stringify(payload),
          });
          continue;
        }
        const verdict = validate(row);
        if (!verdict.ok) {
          await reject({
            rowNumber,
            sourceKey: keyOf(row, definition.naturalKey),
            reason: verdict.reason,
            detail: verdict.detail,
            payload,
          });
          continue;
        }
        const key = verdict.row[definition.naturalKey]!;
        const stamp = normalizeStamp(verdict.row[definition.cursorField] ?? '');
        const previous = winners.get(key);
        if (previous === undefined) {
          winners.set(key, { rowNumber, stamp });
        } else {
          duplicates += 1;
          // Rows arrive in row-number order, so on equal stamps the newcomer is the later row.
          if (stamp >= previous.stamp) {
            dropped.push(previous.rowNumber);
            winners.set(key, { rowNumber, stamp });
          } else {
            dropped.push(rowNumber);
          }
        }
      }
    } finally {
      reader.release();
    }
    if (pending.length > 0)
      await insertRejections(writer, spec.runId, spec.windowIndex, definition.id, pending);
    onProgress?.(total);

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

    if (dropped.length > 0) {
      await writer.query(`delete from ${table} where row_number = any($1::int[])`, [dropped]);
    }
    const outcome = { rowsIn: total, rowsOut: winners.size, counts };
    await completeStep(writer, spec.runId, spec.windowIndex, 'validate', outcome);
    return outcome;
  });
  if (result instanceof RejectThresholdError) throw result;
  return result;
};

function keyOf(row: unknown, naturalKey: string): string | null {
  if (row === null || typeof row !== 'object' || Array.isArray(row)) return null;
  const value = (row as Record<string, unknown>)[naturalKey];
  return typeof value === 'string' || typeof value === 'number'
    ? String(value).slice(0, 100)
    : null;
}

async function insertRejections(
  client: pg.ClientBase,
  runId: number,
  windowIndex: number,
  dataset: string,
  rejections: Rejection[],
): Promise<void> {
  const payloads = rejections.map((rejection) => {
    const { value, replaced } = sanitizeForJsonb(JSON.parse(rejection.payload));
    return { json: JSON.stringify(value), replaced };
  });
  await client.query(
    `insert into rejected_records (run_id, dataset, window_index, row_number, source_key, reason, detail, payload)
     select $1, $2, $3, r.row_number, r.source_key, r.reason, r.detail, r.payload
       from unnest($4::int[], $5::text[], $6::text[], $7::text[], $8::jsonb[])
            as r(row_number, source_key, reason, detail, payload)`,
    [
      runId,
      dataset,
      windowIndex,
      rejections.map((rejection) => rejection.rowNumber),
      rejections.map((rejection) => rejection.sourceKey?.replaceAll('\u0000', '\uFFFD') ?? null),
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
