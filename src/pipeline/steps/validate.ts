import type pg from 'pg';
import { UserError } from '../../errors.js';
import type { DatasetDefinition } from '../../source/dataset.js';
import { encodeCopyLine } from '../copy-text.js';
import { completeStep } from '../ledger.js';
import { rawRowsQuery } from '../raw-rows.js';
import { copyChunksOut, copyInto, recreateStagingTable, stagingTable } from '../staging.js';
import { validateChunk, type ChunkRejection } from '../chunks.js';
import type { RejectReason } from '../validate-row.js';
import { inTransaction, type StepFunction } from './context.js';

/**
 * validate: every staged row through the dataset's zod schema. A bad row goes to
 * `rejected_records` with its payload and a reason; it never fails the run alone. The run fails
 * when the rejected share of the window passes the threshold: the quarantine is still written,
 * so the reasons can be read, and nothing is loaded.
 *
 * Repeated ids in one extract resolve here, deterministically: the row with the latest update
 * stamp wins, and on equal stamps the later row in the source's order. The others are superseded
 * (counted as duplicates, not rejected: they were fine, just older). PostgreSQL ranks them, so
 * memory stays one batch of rows however large the window.
 *
 * The rows set aside go to the window's `skip` table; the raw table is left as extract wrote it,
 * so running validate again gives the same answer.
 */

const rejectionBatch = 1_000;

export const validateWindow: StepFunction = async (
  deps,
  { spec, pipeline, onProgress, signal, redo },
) => {
  const { source: definition } = pipeline;
  const raw = stagingTable('raw', spec.runId, spec.windowIndex);
  const rejectedRows: number[] = [];
  const reasonCounts = new Map<RejectReason, number>();
  let total = 0;

  const result = await inTransaction(deps.pool, async (writer) => {
    await writer.query('delete from rejected_records where run_id = $1 and window_index = $2', [
      spec.runId,
      spec.windowIndex,
    ]);
    let pending: ChunkRejection[] = [];
    const reader = await deps.pool.connect();
    let readToEnd = false;
    try {
      for await (const chunk of copyChunksOut(reader, rawRowsQuery(definition, raw))) {
        signal?.throwIfAborted();
        const { rows, rejections } = validateChunk(definition.id, chunk);
        total += rows;
        for (const rejection of rejections) {
          rejectedRows.push(rejection.rowNumber);
          reasonCounts.set(rejection.reason, (reasonCounts.get(rejection.reason) ?? 0) + 1);
          pending.push(rejection);
        }
        if (pending.length >= rejectionBatch) {
          await insertRejections(writer, spec.runId, spec.windowIndex, definition, pending);
          pending = [];
        }
        onProgress?.(total);
      }
      readToEnd = true;
    } finally {
      // A COPY left half way would block the connection's next query: close it instead.
      reader.release(!readToEnd);
    }
    if (pending.length > 0)
      await insertRejections(writer, spec.runId, spec.windowIndex, definition, pending);

    const rejected = rejectedRows.length;
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

    // Room to rank a large window's ids in memory rather than on disk (this transaction only).
    await writer.query(`set local work_mem = '256MB'`);
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
      [rejectedRows.map((rowNumber) => encodeCopyLine([rowNumber, 'rejected'])).join('')],
    );
    const duplicates = await setAsideSupersededRows(writer, definition, raw, skip);
    const counts = { extracted: total, valid: total - rejected, rejected, duplicate: duplicates };
    const outcome = { rowsIn: total, rowsOut: total - rejected - duplicates, counts };
    await completeStep(writer, spec.runId, spec.windowIndex, 'validate', outcome, redo);
    return outcome;
  });
  if (result instanceof RejectThresholdError) throw result;
  return result;
};

/**
 * Among the valid rows, every version of an id but the latest goes to the skip table; returns how
 * many. Names come from the definition (code, not input). Stamps compare as what they are.
 */
async function setAsideSupersededRows(
  client: pg.ClientBase,
  definition: DatasetDefinition,
  raw: string,
  skip: string,
): Promise<number> {
  const stamp = definition.fields.find((field) => field.name === definition.cursorField);
  const cast =
    stamp?.type === 'floating_timestamp' || stamp?.type === 'calendar_date'
      ? '::timestamp'
      : stamp?.type === 'fixed_timestamp'
        ? '::timestamptz'
        : stamp?.type === 'number'
          ? '::numeric'
          : '';
  // Only ids seen more than once are ranked (finding them is a hash aggregate; ranking all rows
  // would sort them all). A whole-number key compares as a number (`0098` and `98` are one
  // incident, as the bigint column will say): as its digits without leading zeros (valid keys are
  // digits only), cheaper to hash than a million keys converted to numeric. A text key compares
  // bytewise; neither needs a collation. The columns suffice: a row kept whole as JSON still has
  // its plain-text fields there (raw-rows.ts), and a valid row's key and stamp are plain text.
  const keyField = definition.fields.find((field) => field.name === definition.naturalKey);
  const key =
    keyField?.format === 'integer' || keyField?.type === 'number'
      ? `ltrim(r."${definition.naturalKey}", '0') collate "C"`
      : `r."${definition.naturalKey}" collate "C"`;
  const { rowCount } = await client.query(
    `with candidates as (
       select r.row_number, ${key} as key, r."${definition.cursorField}" as stamp
         from ${raw} r
        where not exists (select 1 from ${skip} s where s.row_number = r.row_number)
     ), repeated as (
       select key from candidates group by key having count(*) > 1
     )
     insert into ${skip} (row_number, reason)
     select row_number, 'superseded' from (
       select c.row_number,
              row_number() over (partition by c.key order by c.stamp${cast} desc, c.row_number desc) as version
         from candidates c join repeated using (key)
     ) ranked
     where version > 1`,
  );
  return rowCount ?? 0;
}

async function insertRejections(
  client: pg.ClientBase,
  runId: number,
  windowIndex: number,
  definition: DatasetDefinition,
  rejections: ChunkRejection[],
): Promise<void> {
  await client.query(
    `insert into rejected_records (run_id, dataset, window_index, row_number, source_key, reason, detail, payload)
     select $1, $2, $3, r.row_number, r.source_key, r.reason, r.detail, r.payload
       from unnest($4::int[], $5::text[], $6::text[], $7::text[], $8::jsonb[])
            as r(row_number, source_key, reason, detail, payload)`,
    [
      runId,
      definition.id,
      windowIndex,
      rejections.map((rejection) => rejection.rowNumber),
      rejections.map((rejection) => rejection.sourceKey),
      rejections.map((rejection) => rejection.reason),
      rejections.map((rejection) => rejection.detail),
      rejections.map((rejection) => rejection.payloadJson),
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
