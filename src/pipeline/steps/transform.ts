import { decodeCopyValue, encodeCopyLine } from '../copy-text.js';
import { completeStep } from '../ledger.js';
import { copyLinesInto, copyLinesOut, recreateStagingTable, stagingTable } from '../staging.js';
import type { ValidRow } from '../validate-row.js';
import { inTransaction, type StepFunction } from './context.js';

/**
 * transform: the validated rows through the dataset's pure transform into the window's clean
 * staging table (typed columns, one row per id). Reading and writing are streams on two
 * connections, so a million rows never sit in memory.
 */
export const transformWindow: StepFunction = async (
  deps,
  { spec, pipeline, onProgress, signal },
) => {
  const { target } = pipeline;
  const raw = stagingTable('raw', spec.runId, spec.windowIndex);

  return inTransaction(deps.pool, async (writer) => {
    const clean = await recreateStagingTable(writer, 'clean', spec.runId, spec.windowIndex);
    let rows = 0;
    const reader = await deps.pool.connect();
    try {
      async function* transformed(): AsyncGenerator<string> {
        for await (const line of copyLinesOut(
          reader,
          `select row_number, payload from ${raw} order by row_number`,
        )) {
          const tab = line.indexOf('\t');
          const row = JSON.parse(decodeCopyValue(line.slice(tab + 1))!) as ValidRow;
          yield encodeCopyLine([line.slice(0, tab), ...target.transform(row)]);
          rows += 1;
          if (rows % 10_000 === 0) {
            onProgress?.(rows);
            signal?.throwIfAborted();
          }
        }
      }
      await copyLinesInto(writer, clean, ['row_number', ...target.columns], transformed());
    } finally {
      reader.release();
    }
    onProgress?.(rows);
    const outcome = { rowsIn: rows, rowsOut: rows, counts: { transformed: rows } };
    await completeStep(writer, spec.runId, spec.windowIndex, 'transform', outcome);
    return outcome;
  });
};
