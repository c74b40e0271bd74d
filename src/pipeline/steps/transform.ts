import { completeStep } from '../ledger.js';
import { rawRowsQuery } from '../raw-rows.js';
import { copyChunksOut, copyInto, recreateStagingTable, stagingTable } from '../staging.js';
import { transformChunk } from '../chunks.js';
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
      // The rows validate set aside stay in PostgreSQL (an anti-join); the rest stream through
      // the transform a chunk at a time.
      const kept = `select * from (${rawRowsQuery(definition, raw)}) r
                     where not exists (select 1 from ${skip} s where s.row_number = r.row_number)`;
      async function* transformed(): AsyncGenerator<Uint8Array> {
        for await (const chunk of copyChunksOut(reader, kept)) {
          signal?.throwIfAborted();
          const { output, rows: transformed } = transformChunk(definition.id, chunk);
          rows += transformed;
          onProgress?.(rows);
          yield output;
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
