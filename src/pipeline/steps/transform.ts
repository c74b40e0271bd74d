import { completeStep } from '../ledger/index.js';
import {
  copyChunksOut,
  copyRawChunksInto,
  recreateStagingTable,
  stagingTable,
} from '../staging.js';
import { transformChunk } from '../chunks.js';
import { inTransaction, type StepFunction } from './context.js';
import type pg from 'pg';

/**
 * transform: the rows validate kept through the dataset's pure transform into the window's clean
 * staging table (typed columns, one row per id). Reading and writing are streams on two
 * connections, a chunk at a time, so a million rows never sit in memory.
 */
export const transformWindow: StepFunction = async (
  deps,
  { spec, pipeline, onProgress, signal, redo },
) => {
  const { target } = pipeline;
  const skip = stagingTable('skip', spec.runId, spec.windowIndex);

  return inTransaction(deps.pool, async (writer) => {
    const clean = await recreateStagingTable(writer, 'clean', spec.runId, spec.windowIndex, target);
    let rows = 0;
    const skipped = { rows: await readSkippedRows(writer, skip), at: 0 };
    await copyRawChunksInto(
      deps.pool,
      writer,
      spec,
      { table: clean, columns: ['row_number', ...target.columns], options: { freeze: true } },
      (staged) => {
        signal?.throwIfAborted();
        const { pieces, rows: transformed } = transformChunk(
          pipeline,
          staged.json,
          staged.firstRow,
          staged.rows,
          skipped,
        );
        rows += transformed;
        onProgress?.(rows);
        return pieces;
      },
    );
    const outcome = { rowsIn: rows, rowsOut: rows, counts: { transformed: rows } };
    await completeStep(writer, spec.runId, spec.windowIndex, 'transform', outcome, redo);
    return outcome;
  });
};

/** The row numbers validate set aside, ascending: four bytes each. */
async function readSkippedRows(client: pg.ClientBase, skip: string): Promise<Int32Array> {
  const { rows } = await client.query<{ count: number }>(
    `select count(*)::int as count from ${skip}`,
  );
  const numbers = new Int32Array(rows[0]?.count ?? 0);
  let at = 0;
  for await (const chunk of copyChunksOut(
    client,
    `select row_number from ${skip} order by row_number`,
  )) {
    const text = chunk.toString('latin1');
    for (let start = 0; start < text.length;) {
      const end = text.indexOf('\n', start);
      numbers[at++] = Number(text.slice(start, end));
      start = end + 1;
    }
  }
  return numbers;
}
