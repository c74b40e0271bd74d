import type pg from 'pg';
import { UserError } from '../../errors.js';
import type { DatasetDefinition } from '../../source/dataset.js';
import { completeStep } from '../ledger/index.js';
import { copyRawChunksInto, recreateStagingTable } from '../staging.js';
import { validateChunk } from '../chunks.js';
import type { RejectReason } from '../validate-row.js';
import { inTransaction, type StepFunction } from './context.js';

/**
 * validate: every staged row through the dataset's zod schema. A bad row goes to
 * `rejected_records` with its payload and a reason; it never fails the run alone. The run fails
 * when the rejected share of the window passes the threshold: the quarantine is still written,
 * so the reasons can be read, and nothing is loaded.
 *
 * Each row's key and stamp (and, for a bad row, its reason and payload) go to the window's `keys`
 * table in one COPY; the quarantine and the set-aside rows follow from it in SQL.
 *
 * Repeated ids in one extract resolve here, deterministically: the row with the latest update
 * stamp wins, and on equal stamps the later row in the source's order. The others are superseded
 * (counted as duplicates, not rejected: they were fine, just older). PostgreSQL ranks them, so
 * memory stays one chunk of rows however large the window.
 *
 * The raw table is left as extract wrote it, so running validate again gives the same answer.
 */

export const keyColumns = ['row_number', 'key', 'stamp', 'valid', 'reason', 'detail', 'payload'];

export const validateWindow: StepFunction = async (
  deps,
  { spec, pipeline, onProgress, signal, redo },
) => {
  const { source: definition } = pipeline;
  const reasonCounts = new Map<RejectReason, number>();
  let total = 0;
  let rejected = 0;

  const result = await inTransaction(deps.pool, async (writer) => {
    const keys = await recreateStagingTable(writer, 'keys', spec.runId, spec.windowIndex);
    await copyRawChunksInto(
      deps.pool,
      writer,
      spec,
      { table: keys, columns: keyColumns, options: { freeze: true } },
      (staged) => {
        signal?.throwIfAborted();
        const chunk = validateChunk(definition, staged.json, staged.firstRow, staged.rows);
        total += chunk.rows;
        rejected += chunk.rejected.length;
        for (const reason of chunk.rejected)
          reasonCounts.set(reason, (reasonCounts.get(reason) ?? 0) + 1);
        onProgress?.(total);
        return chunk.keyLines;
      },
    );
    await writer.query('delete from rejected_records where run_id = $1 and window_index = $2', [
      spec.runId,
      spec.windowIndex,
    ]);
    if (rejected > 0) {
      await writer.query(
        `insert into rejected_records (run_id, dataset, window_index, row_number, source_key, reason, detail, payload)
         select $1, $2, $3, row_number, left(key, 100), reason, detail, payload::jsonb
           from ${keys} where not valid`,
        [spec.runId, definition.id, spec.windowIndex],
      );
    }

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
    const skip = await recreateStagingTable(writer, 'skip', spec.runId, spec.windowIndex);
    await writer.query(
      `insert into ${skip} (row_number, reason) select row_number, 'rejected' from ${keys} where not valid`,
    );
    const duplicates = await setAsideSupersededRows(writer, definition, keys, skip);
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
  keys: string,
  skip: string,
): Promise<number> {
  const stamp = definition.fields.find((field) => field.name === definition.cursorField);
  const cast = stampCast(stamp?.type);
  // Only ids seen more than once are ranked (finding them is a hash aggregate; ranking all rows
  // would sort them all). A whole-number key compares as a number (`0098` and `98` are one
  // incident, as the bigint column will say): as its digits without leading zeros (valid keys are
  // digits only), cheaper to hash than a million keys converted to numeric. A text key compares
  // bytewise; neither needs a collation.
  const keyField = definition.fields.find((field) => field.name === definition.naturalKey);
  const key =
    keyField?.format === 'integer' || keyField?.type === 'number'
      ? `ltrim(k.key, '0') collate "C"`
      : `k.key collate "C"`;
  const { rowCount } = await client.query(
    `with candidates as (
       select k.row_number, ${key} as key, k.stamp from ${keys} k where k.valid
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

/** How a stamp of the cursor field's type compares in SQL. */
function stampCast(type: string | undefined): string {
  if (type === 'floating_timestamp') return '::timestamp';
  if (type === 'fixed_timestamp') return '::timestamptz';
  if (type === 'number') return '::numeric';
  return ' collate "C"';
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
