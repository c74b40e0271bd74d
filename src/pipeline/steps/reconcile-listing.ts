import type pg from 'pg';
import { UserError } from '../../errors.js';
import { keyListingQuery } from '../../source/queries.js';
import { encodeBinaryRow } from '../copy-binary.js';
import { encodeCopyLine } from '../copy-text.js';
import { joinOverlappingPage, judgeKeyListing, type KeyListingTally } from '../key-listing.js';
import { completeStep } from '../ledger/index.js';
import { copyBinaryInto, copyRawChunksInto, recreateStagingTable } from '../staging.js';
import { inTransaction, type StepFunction } from './context.js';
import { servedKeysSql } from './deletions.js';
import { keyColumns } from './validate.js';

/**
 * The first three steps of a reconciliation run (mode `reconcile`: one window, the whole
 * dataset). They keep the staging formats of the other runs, so run-step.ts, the ledger, the
 * restore of lost staging and the queue treat them like any window:
 * - extract pages the key listing (`$select=<key>, :id`, ordered by `:id`, pages overlapping by a
 *   row) into the raw table, then asks `count(*)`, and commits it only when it is exact
 *   (key-listing.ts); a listing cut short is asked again, and fails the step when it stays short,
 *   so nothing is ever marked from it;
 * - validate writes the keys table: one line per listed row, the key and its `:id`;
 * - transform has nothing to transform: it records an empty clean table.
 * The load (reconcile-load.ts) marks deleted what we hold and the listing lacks.
 */

/** Listings asked for in one extract before it gives up (the queue's attempts come on top). */
export const listingAttempts = 3;

export const extractKeyListing: StepFunction = async (deps, input) => {
  const { spec, pipeline } = input;
  const definition = pipeline.source;
  let lastReason = '';
  for (let attempt = 1; attempt <= listingAttempts; attempt++) {
    try {
      return await inTransaction(deps.pool, async (client) => {
        const tally = await stageKeyListing(client, deps, input);
        const verdict = judgeKeyListing(tally);
        if (!verdict.complete) throw new IncompleteListing(verdict.reason);
        const outcome = {
          rowsIn: tally.listed,
          rowsOut: tally.listed,
          counts: { extracted: tally.listed },
        };
        await completeStep(client, spec.runId, spec.windowIndex, 'extract', outcome, input.redo);
        return outcome;
      });
    } catch (error) {
      if (!(error instanceof IncompleteListing)) throw error;
      lastReason = error.message;
      deps.log.warn(
        { runId: spec.runId, attempt, reason: error.message },
        'the key listing was not exact; listing again',
      );
    }
  }
  throw new UserError(
    'reconcile.listing_incomplete',
    `the key listing of ${definition.id} was not exact in ${listingAttempts} tries (last: ${lastReason}); nothing was marked deleted. The source is changing or failing: the step is retried on the queue, or run cpd reconcile again later`,
    { retryable: true },
  );
};

/** Thrown inside the listing's transaction, so an inexact listing rolls back before the next try. */
class IncompleteListing extends Error {
  override name = 'IncompleteListing';
}

const rawColumns = ['chunk_number', 'first_row', 'row_count', 'json'];

/**
 * One listing into a fresh raw table, with what judging it needs. It pages itself, each page
 * overlapping the one before by a row (key-listing.ts), and stages each page's rows as one chunk
 * of JSON text, the raw format of every run.
 */
async function stageKeyListing(
  client: pg.PoolClient,
  deps: Parameters<StepFunction>[0],
  { spec, pipeline, onProgress, signal }: Parameters<StepFunction>[1],
): Promise<KeyListingTally> {
  const definition = pipeline.source;
  const keyField = definition.naturalKey;
  const query = keyListingQuery(definition);
  const { pageSize } = deps.source;
  const overlap = pageSize > 1 ? 1 : 0;
  const table = await recreateStagingTable(client, 'raw', spec.runId, spec.windowIndex);
  let listed = 0;
  let withoutId = 0;
  let withoutKey = 0;
  let previous: { lastId: string; endsAt: number } | undefined;
  for (let offset = 0, chunkNumber = 0; ; chunkNumber++) {
    const page = await deps.source.page(definition.id, query, offset, signal);
    if (offset === 0 && page.fields && !page.fields.includes(keyField)) {
      throw new UserError(
        'source.drift',
        `the source no longer has the key field ${keyField} (dataset ${definition.id}; it lists ${page.fields.join(', ')}); the dataset definition must be updated before reconciling again`,
      );
    }
    let rows = page.rows;
    if (previous && overlap > 0) {
      const joined = joinOverlappingPage(previous, rows);
      if (!joined.ok) throw new IncompleteListing(joined.reason);
      rows = joined.rows;
    }
    for (const row of rows) {
      if (typeof row[':id'] !== 'string') withoutId += 1;
      if (readKey(row, keyField) === null) withoutKey += 1;
    }
    if (rows.length > 0) {
      const json = Buffer.from(`[${rows.map((row) => JSON.stringify(row)).join('\n,')}]`);
      await copyBinaryInto(
        client,
        table,
        rawColumns,
        [encodeBinaryRow([chunkNumber, listed, rows.length, json])],
        { freeze: true },
      );
    }
    listed += rows.length;
    onProgress?.(listed);
    if (page.rows.length < pageSize) break;
    const lastId = page.rows.at(-1)?.[':id'];
    if (typeof lastId !== 'string') throw new IncompleteListing('a row of the listing has no :id');
    previous = { lastId, endsAt: offset + page.rows.length };
    offset += page.rows.length - overlap;
  }
  const counted = await deps.source.count(definition.id, undefined, signal);
  const { rows } = await client.query<{ ids: number }>(
    `select count(distinct row->>':id')::int as ids
       from ${table}, jsonb_array_elements(convert_from(json, 'UTF8')::jsonb) as row`,
  );
  const distinctIds = rows[0]?.ids ?? 0;
  return { counted, listed, distinctIds, withoutId, withoutKey, keyField };
}

/** The key as served (SODA writes values as strings), or null when the row has none. */
function readKey(row: Record<string, unknown>, field: string): string | null {
  const key = row[field];
  if (typeof key === 'number') return String(key);
  return typeof key === 'string' && key !== '' && !key.includes('\u0000') ? key : null;
}

/**
 * validate, for a listing: every listed row's key and `:id` into the keys table (the table a
 * window load judges by). A row without a key serves none; nothing is quarantined, as nothing
 * is loaded. An empty skip table follows, as the staging checks of run-step.ts expect.
 */
export const validateKeyListing: StepFunction = async (
  deps,
  { spec, pipeline, onProgress, signal, redo },
) => {
  const keyField = pipeline.source.naturalKey;
  let total = 0;
  let keyed = 0;
  return inTransaction(deps.pool, async (writer) => {
    const keys = await recreateStagingTable(writer, 'keys', spec.runId, spec.windowIndex);
    await copyRawChunksInto(
      deps.pool,
      writer,
      spec,
      { table: keys, columns: keyColumns, options: { freeze: true } },
      (staged) => {
        signal?.throwIfAborted();
        const rows = JSON.parse(staged.json.toString('utf8')) as Record<string, unknown>[];
        const lines = rows.map((row, index) => {
          const key = readKey(row, keyField);
          const id = typeof row[':id'] === 'string' ? row[':id'] : null;
          if (key !== null) keyed += 1;
          return key === null
            ? encodeCopyLine([staged.firstRow + index, null, id, 'f', 'missing_key', null, null])
            : encodeCopyLine([staged.firstRow + index, key, id, 't', null, null, null]);
        });
        total += rows.length;
        onProgress?.(total);
        return lines.join('');
      },
    );
    await recreateStagingTable(writer, 'skip', spec.runId, spec.windowIndex);
    const { rows } = await writer.query<{ repeated: number }>(
      `select (count(*) - count(distinct key))::int as repeated
         from (${servedKeysSql(pipeline, spec.runId, spec.windowIndex)}) as served`,
    );
    const counts = {
      extracted: total,
      valid: keyed,
      rejected: 0,
      duplicate: rows[0]?.repeated ?? 0,
    };
    // Every row stays (none is set aside): the keys table is the listing, one line a row.
    const outcome = { rowsIn: total, rowsOut: total, counts };
    await completeStep(writer, spec.runId, spec.windowIndex, 'validate', outcome, redo);
    return outcome;
  });
};

/** transform, for a listing: nothing to transform; the empty clean table the load expects. */
export const transformKeyListing: StepFunction = async (deps, { spec, pipeline, redo }) =>
  inTransaction(deps.pool, async (writer) => {
    await recreateStagingTable(writer, 'clean', spec.runId, spec.windowIndex, pipeline.target);
    const outcome = { rowsIn: 0, rowsOut: 0, counts: { transformed: 0 } };
    await completeStep(writer, spec.runId, spec.windowIndex, 'transform', outcome, redo);
    return outcome;
  });
