import { UserError } from '../../errors.js';
import { compareFields } from '../../source/dataset.js';
import { incrementalQuery, windowQuery } from '../../source/queries.js';
import { encodeCopyLine } from '../copy-text.js';
import { completeStep, recordAddedFields } from '../ledger.js';
import { copyLinesInto, recreateStagingTable } from '../staging.js';
import { inTransaction, type StepFunction } from './context.js';

/**
 * extract: the window's rows from the source into the window's raw staging table, each as the
 * JSON the source sent, numbered in the source's stable order. All or nothing: the table and the
 * step's completion commit together, so a retried extract starts clean.
 */
export const extractWindow: StepFunction = async (deps, { spec, pipeline, onProgress, signal }) => {
  const definition = pipeline.source;
  const query =
    spec.mode === 'window'
      ? windowQuery(definition, { from: spec.start!, to: spec.end! })
      : incrementalQuery(definition, spec.cursorFrom ? { since: spec.cursorFrom } : {});

  return inTransaction(deps.pool, async (client) => {
    const table = await recreateStagingTable(client, 'raw', spec.runId, spec.windowIndex);
    let rows = 0;
    let checkedFields = false;
    for await (const page of deps.source.pages(definition.id, query, signal)) {
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
      const first = rows;
      await copyLinesInto(
        client,
        table,
        ['row_number', 'payload'],
        page.rows.map((row, index) => encodeCopyLine([first + index, JSON.stringify(row)])),
      );
      rows += page.rows.length;
      onProgress?.(rows);
    }
    const outcome = { rowsIn: rows, rowsOut: rows, counts: { extracted: rows } };
    await completeStep(client, spec.runId, spec.windowIndex, 'extract', outcome);
    return outcome;
  });
};
