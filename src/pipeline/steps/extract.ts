import { UserError } from '../../errors.js';
import { compareFields } from '../../source/dataset.js';
import { incrementalQuery, windowQuery } from '../../source/queries.js';
import { completeStep, recordAddedFields } from '../ledger/index.js';
import type { RowTextChunk } from '../../source/row-text.js';
import { encodeBinaryRow } from '../copy-binary.js';
import { copyBinaryInto, recreateStagingTable } from '../staging.js';
import { inTransaction, type StepFunction } from './context.js';

/**
 * extract: the window's rows from the source into the window's raw staging table as the source's
 * own JSON text, in chunks of whole rows numbered in the source's stable order (staging.ts). No
 * row is parsed or re-encoded here: the client checks each page's framing and counts its rows.
 * A window read must list as many rows as the source counts there, or it is read again.
 * All or nothing: the table and the step's completion commit together, so a retried extract
 * starts clean.
 */
export const extractWindow: StepFunction = async (
  deps,
  { spec, pipeline, onProgress, signal, redo },
) => {
  const definition = pipeline.source;
  const query =
    spec.mode === 'window'
      ? windowQuery(definition, { from: spec.start!, to: spec.end! })
      : incrementalQuery(definition, spec.cursorFrom ? { since: spec.cursorFrom } : {});

  return inTransaction(deps.pool, async (client) => {
    let checkedFields = false;
    const readOnce = async () => {
      const table = await recreateStagingTable(client, 'raw', spec.runId, spec.windowIndex);
      let rows = 0;
      let chunkNumber = 0;
      for await (const page of prefetchOne(deps.source.textPages(definition.id, query, signal))) {
        if (!checkedFields && page.fields) {
          checkedFields = true;
          const drift = compareFields(definition, page.fields);
          if (drift.missingRequired.length > 0) {
            throw new UserError(
              'source.drift',
              `the source no longer has the required field${drift.missingRequired.length > 1 ? 's' : ''} ${drift.missingRequired.join(', ')} (dataset ${definition.id}); the dataset definition must be updated before syncing again`,
            );
          }
          if (drift.added.length > 0) {
            deps.log.warn(
              { runId: spec.runId, added: drift.added },
              'the source has fields the definition does not know',
            );
            await recordAddedFields(deps.pool, spec.runId, drift.added);
          }
        }
        if (page.rows > 0) {
          await copyBinaryInto(
            client,
            table,
            rawColumns,
            encodeChunks(page.chunks, rows, chunkNumber),
            {
              freeze: true,
            },
          );
        }
        rows += page.rows;
        chunkNumber += page.chunks.length;
        onProgress?.(rows);
      }
      return rows;
    };
    let rows = await readOnce();
    if (spec.mode === 'window') {
      // A window read is the truth for its window (load marks deleted what it did not list), so
      // it must be whole: a page answered `[]` or short ends the listing early yet looks like its
      // end, and a few missing rows stay under DELETE_GUARD. The source's count says.
      for (let read = 1; ; read += 1) {
        const counted = await deps.source.count(definition.id, query.where, signal);
        if (counted === rows) break;
        const where = `window ${spec.windowIndex} of run ${spec.runId} ([${spec.start!.slice(0, 10)}, ${spec.end!.slice(0, 10)}))`;
        if (read >= wholeReadAttempts) {
          throw new UserError(
            'source.incomplete_read',
            `${where}: the source listed ${rows} rows but counts ${counted}, ${wholeReadAttempts} times; a listing cut short would mark rows deleted that the source still has, so the window was not loaded. The step is retried; if it keeps failing, the source is changing or failing: try again later`,
            { retryable: true },
          );
        }
        deps.log.warn(
          { runId: spec.runId, windowIndex: spec.windowIndex, listed: rows, counted },
          'the source listed fewer or more rows than it counts; reading the window again',
        );
        rows = await readOnce();
      }
    }
    const outcome = { rowsIn: rows, rowsOut: rows, counts: { extracted: rows } };
    await completeStep(client, spec.runId, spec.windowIndex, 'extract', outcome, redo);
    return outcome;
  });
};

/** Reads of a window, within one extract, before its listing and the source's count must agree. */
const wholeReadAttempts = 3;

const rawColumns = ['chunk_number', 'first_row', 'row_count', 'json'];

/** A page's chunks as binary COPY rows, numbered on from the rows and chunks before them. */
function* encodeChunks(
  chunks: RowTextChunk[],
  firstRow: number,
  firstChunk: number,
): Generator<Buffer[]> {
  let row = firstRow;
  for (const [index, chunk] of chunks.entries()) {
    yield encodeBinaryRow([firstChunk + index, row, chunk.rows, chunk.json]);
    row += chunk.rows;
  }
}

/**
 * Asks for the next page as soon as one arrives, so the source's answer (network, parsing) overlaps
 * the database writing this one. Two pages in memory at most.
 */
async function* prefetchOne<T>(pages: AsyncIterator<T>): AsyncGenerator<T> {
  let next = pages.next();
  try {
    for (;;) {
      const current = await next;
      if (current.done) return;
      next = pages.next();
      // If the consumer stops with this one pending, its outcome must not go unhandled.
      next.catch(() => undefined);
      yield current.value;
    }
  } finally {
    // Stopped early (an error): let the page in flight finish in the background and drop it,
    // rather than hold the error until it arrives.
    void pages.return?.()?.catch(() => undefined);
  }
}
