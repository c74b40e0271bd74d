import { UserError } from '../../errors.js';
import { compareFields } from '../../source/dataset.js';
import { incrementalQuery, windowQuery } from '../../source/queries.js';
import { completeStep, recordAddedFields } from '../ledger.js';
import { createRawRowEncoder, rawColumns } from '../raw-rows.js';
import { copyInto, recreateStagingTable } from '../staging.js';
import { inTransaction, type StepFunction } from './context.js';

/**
 * extract: the window's rows from the source into the window's raw staging table, numbered in the
 * source's stable order (raw-rows.ts says how a row is kept). All or nothing: the table and the
 * step's completion commit together, so a retried extract starts clean.
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
  const encode = createRawRowEncoder(definition);
  const columns = rawColumns(definition);

  return inTransaction(deps.pool, async (client) => {
    const table = await recreateStagingTable(
      client,
      'raw',
      pipeline.rawTemplate,
      spec.runId,
      spec.windowIndex,
    );
    let rows = 0;
    let checkedFields = false;
    for await (const page of prefetchOne(deps.source.pages(definition.id, query, signal))) {
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
      await copyInto(client, table, columns, encodePage(page.rows, rows, encode));
      rows += page.rows.length;
      onProgress?.(rows);
    }
    const outcome = { rowsIn: rows, rowsOut: rows, counts: { extracted: rows } };
    await completeStep(client, spec.runId, spec.windowIndex, 'extract', outcome, redo);
    return outcome;
  });
};

/** A page as COPY text, in batches of a few thousand lines. */
function* encodePage(
  rows: Record<string, unknown>[],
  firstRowNumber: number,
  encode: (rowNumber: number, row: Record<string, unknown>) => string,
): Generator<string> {
  const batch = 2_000;
  for (let start = 0; start < rows.length; start += batch) {
    // Joined, not concatenated line by line: the rope `+=` builds is flattened when the text is
    // written, at a third of the whole encoding's cost.
    const lines: string[] = [];
    const end = Math.min(rows.length, start + batch);
    for (let index = start; index < end; index++)
      lines.push(encode(firstRowNumber + index, rows[index]!));
    yield lines.join('');
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
