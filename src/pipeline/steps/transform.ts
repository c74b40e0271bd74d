import { decodeCopyValue, encodeCopyLine } from '../copy-text.js';
import { completeStep } from '../ledger.js';
import { decodeRawLine, rawRowsQuery, rowOf } from '../raw-rows.js';
import { copyInto, copyLinesOut, recreateStagingTable, stagingTable } from '../staging.js';
import type { ValidRow } from '../validate-row.js';
import { inTransaction, type StepFunction } from './context.js';

/**
 * transform: the rows validate kept through the dataset's pure transform into the window's clean
 * staging table (typed columns, one row per id). Reading and writing are streams on two
 * connections, a batch at a time, so a million rows never sit in memory.
 */
export const transformWindow: StepFunction = async (
  deps,
  { spec, pipeline, onProgress, signal, redo },
) => {
  const { target, source: definition } = pipeline;
  const raw = stagingTable('raw', spec.runId, spec.windowIndex);
  const skip = stagingTable('skip', spec.runId, spec.windowIndex);

  return inTransaction(deps.pool, async (writer) => {
    const skipped = new Set(
      (await writer.query<{ row_number: number }>(`select row_number from ${skip}`)).rows.map(
        (row) => row.row_number,
      ),
    );
    const clean = await recreateStagingTable(
      writer,
      'clean',
      target.cleanTemplate,
      spec.runId,
      spec.windowIndex,
    );
    let rows = 0;
    const reader = await deps.pool.connect();
    let readToEnd = false;
    try {
      async function* transformed(): AsyncGenerator<string> {
        for await (const lines of copyLinesOut(reader, rawRowsQuery(definition, raw))) {
          signal?.throwIfAborted();
          let batch = '';
          for (const line of lines) {
            const rawRow = decodeRawLine(definition, line, decodeCopyValue);
            if (skipped.has(rawRow.rowNumber)) continue;
            batch += encodeCopyLine([
              rawRow.rowNumber,
              ...target.transform(rowOf(rawRow) as ValidRow),
            ]);
            rows += 1;
          }
          onProgress?.(rows);
          if (batch !== '') yield batch;
        }
      }
      await copyInto(writer, clean, ['row_number', ...target.columns], transformed());
      readToEnd = true;
    } finally {
      // A COPY left half way would block the connection's next query: close it instead.
      reader.release(!readToEnd);
    }
    const outcome = { rowsIn: rows, rowsOut: rows, counts: { transformed: rows } };
    await completeStep(writer, spec.runId, spec.windowIndex, 'transform', outcome, redo);
    return outcome;
  });
};
