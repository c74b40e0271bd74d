import { StringDecoder } from 'node:string_decoder';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';

/**
 * Rows between steps live in PostgreSQL, one table per (run, window, kind), created from the
 * templates in the `staging` schema (src/db/schema/staging.ts). A step that is retried replaces
 * its table wholesale; the load drops both in the transaction that commits the window. They are
 * ordinary (logged) tables, so a PostgreSQL crash mid-run loses nothing a later step needs.
 */

export type StagingKind = 'raw' | 'clean';

const templates: Record<StagingKind, string> = {
  raw: 'staging.raw_rows',
  clean: 'staging.clean_rows',
};

/** `staging."raw_r12_w3"`: run and window ids are integers, so the name is safe by construction. */
export function stagingTable(kind: StagingKind, runId: number, windowIndex: number): string {
  if (!Number.isSafeInteger(runId) || !Number.isSafeInteger(windowIndex)) {
    throw new Error(`invalid staging key ${runId}/${windowIndex}`);
  }
  return `staging."${kind}_r${runId}_w${windowIndex}"`;
}

/** (Re)creates an empty staging table; run it in the transaction that fills it. */
export async function recreateStagingTable(
  client: pg.ClientBase,
  kind: StagingKind,
  runId: number,
  windowIndex: number,
): Promise<string> {
  const table = stagingTable(kind, runId, windowIndex);
  await client.query(`drop table if exists ${table}`);
  await client.query(`create table ${table} (like ${templates[kind]} including defaults)`);
  return table;
}

export async function dropStagingTables(
  client: pg.ClientBase,
  runId: number,
  windowIndex: number,
): Promise<void> {
  await client.query(
    `drop table if exists ${stagingTable('raw', runId, windowIndex)}, ${stagingTable('clean', runId, windowIndex)}`,
  );
}

/** Drops every staging table of a run (after it ended, whatever the outcome). */
export async function dropRunStaging(client: pg.ClientBase, runId: number): Promise<void> {
  const { rows } = await client.query<{ name: string }>(
    `select format('%I.%I', schemaname, tablename) as name from pg_tables
      where schemaname = 'staging' and tablename ~ $1`,
    [`^(raw|clean)_r${runId}_w[0-9]+$`],
  );
  if (rows.length > 0)
    await client.query(`drop table if exists ${rows.map((row) => row.name).join(', ')}`);
}

/** Streams COPY text lines into a table, batched so a million lines are not a million writes. */
export async function copyLinesInto(
  client: pg.ClientBase,
  table: string,
  columns: readonly string[],
  lines: AsyncIterable<string> | Iterable<string>,
): Promise<void> {
  const sink = client.query(
    copyFrom(`copy ${table} (${columns.map((c) => `"${c}"`).join(', ')}) from stdin`),
  );
  await pipeline(Readable.from(batchLines(lines), { objectMode: false }), sink);
}

async function* batchLines(
  lines: AsyncIterable<string> | Iterable<string>,
  batchChars = 1 << 18,
): AsyncGenerator<string> {
  let batch = '';
  for await (const line of lines) {
    batch += line;
    if (batch.length >= batchChars) {
      yield batch;
      batch = '';
    }
  }
  if (batch !== '') yield batch;
}

/**
 * Streams the lines a `COPY (query) TO STDOUT` produces, without holding more than a chunk in
 * memory. In text format a newline inside a value is escaped, so every newline ends a row.
 */
export async function* copyLinesOut(client: pg.ClientBase, query: string): AsyncGenerator<string> {
  const source = client.query(copyTo(`copy (${query}) to stdout`));
  const decoder = new StringDecoder('utf8');
  let rest = '';
  for await (const chunk of source as AsyncIterable<Buffer>) {
    const text = rest + decoder.write(chunk);
    let start = 0;
    for (let end = text.indexOf('\n'); end >= 0; end = text.indexOf('\n', start)) {
      yield text.slice(start, end);
      start = end + 1;
    }
    rest = text.slice(start);
  }
  rest += decoder.end();
  if (rest !== '') yield rest;
}
