import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';

/**
 * Rows between steps live in PostgreSQL, one table per (run, window, kind), created from the
 * templates in the `staging` schema (src/db/schema/staging.ts): `raw` (what extract fetched),
 * `skip` (rows validate set aside) and `clean` (what transform produced). A step that is retried
 * replaces its table wholesale; the load drops them all in the transaction that commits the
 * window.
 *
 * They are UNLOGGED: a million-row window writes about a gigabyte to staging, and sparing the
 * write-ahead log that halves its cost. The price is that a PostgreSQL crash empties them (a clean
 * restart does not). Nothing is lost then: every step checks its input against what the ledger
 * says its producer wrote, and rebuilds it from the source if it is gone (run-step.ts).
 */

export type StagingKind = 'raw' | 'skip' | 'clean';
const kinds: readonly StagingKind[] = ['raw', 'skip', 'clean'];

/** `staging."raw_r12_w3"`: run and window ids are integers, so the name is safe by construction. */
export function stagingTable(kind: StagingKind, runId: number, windowIndex: number): string {
  if (!Number.isSafeInteger(runId) || !Number.isSafeInteger(windowIndex)) {
    throw new Error(`invalid staging key ${runId}/${windowIndex}`);
  }
  return `staging."${kind}_r${runId}_w${windowIndex}"`;
}

/** (Re)creates an empty staging table from its template; run it in the transaction that fills it. */
export async function recreateStagingTable(
  client: pg.ClientBase,
  kind: StagingKind,
  template: string,
  runId: number,
  windowIndex: number,
): Promise<string> {
  const table = stagingTable(kind, runId, windowIndex);
  await client.query(`drop table if exists ${table}`);
  await client.query(`create unlogged table ${table} (like ${template} including defaults)`);
  return table;
}

/** Rows in a staging table, or undefined when it does not exist. */
export async function countStagedRows(
  client: pg.ClientBase,
  kind: StagingKind,
  runId: number,
  windowIndex: number,
): Promise<number | undefined> {
  const table = stagingTable(kind, runId, windowIndex);
  const { rows } = await client.query<{ present: boolean }>(
    'select to_regclass($1) is not null as present',
    [table],
  );
  if (!rows[0]?.present) return undefined;
  const counted = await client.query<{ count: number }>(
    `select count(*)::int as count from ${table}`,
  );
  return counted.rows[0]?.count;
}

export async function dropStagingTables(
  client: pg.ClientBase,
  runId: number,
  windowIndex: number,
): Promise<void> {
  await client.query(
    `drop table if exists ${kinds.map((kind) => stagingTable(kind, runId, windowIndex)).join(', ')}`,
  );
}

/** Drops every staging table of a run (after it ended, whatever the outcome). */
export async function dropRunStaging(client: pg.ClientBase, runId: number): Promise<void> {
  const { rows } = await client.query<{ name: string }>(
    `select format('%I.%I', schemaname, tablename) as name from pg_tables
      where schemaname = 'staging' and tablename ~ $1`,
    [`^(${kinds.join('|')})_r${runId}_w[0-9]+$`],
  );
  if (rows.length > 0)
    await client.query(`drop table if exists ${rows.map((row) => row.name).join(', ')}`);
}

/**
 * How far either side of a COPY may run ahead of the other, in bytes. Streams buffer 16 KB by
 * default, so the producer stopped at every chunk until PostgreSQL had taken it (and PostgreSQL
 * stopped sending until this process had worked through the last one): each waited for the
 * other. A few chunks of slack let both work at once, for 8 MB of memory per stream (300,000
 * rows, two runs each: validate 3.0–3.3 → 2.5–2.7 s, transform 5.4–5.9 → 5.1–5.3 s).
 */
const runAhead = 8 << 20;

/**
 * Streams COPY text into a table. Each item is any number of whole lines: producers batch, so a
 * million rows are not a million stream writes.
 */
export async function copyInto(
  client: pg.ClientBase,
  table: string,
  columns: readonly string[],
  batches: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>,
): Promise<void> {
  const sink = client.query(
    copyFrom(`copy ${table} (${columns.map((c) => `"${c}"`).join(', ')}) from stdin`),
  );
  await pipeline(Readable.from(batches, { objectMode: false, highWaterMark: runAhead }), sink);
}

/**
 * Streams what a `COPY (query) TO STDOUT` produces as chunks of whole lines, each at least
 * `minBytes` (but the last), never holding more than a chunk and the piece that follows it. In
 * text format a newline inside a value is escaped, so every newline ends a row.
 */
export async function* copyChunksOut(
  client: pg.ClientBase,
  query: string,
  minBytes = 1 << 20,
): AsyncGenerator<Buffer> {
  const source = client.query(copyTo(`copy (${query}) to stdout`, { highWaterMark: runAhead }));
  let parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of source as AsyncIterable<Buffer>) {
    parts.push(chunk);
    size += chunk.length;
    if (size < minBytes) continue;
    const joined = Buffer.concat(parts, size);
    // A newline byte never occurs inside a multi-byte character, nor inside a value (escaped).
    const end = joined.lastIndexOf(0x0a) + 1;
    if (end === 0) {
      parts = [joined];
      continue;
    }
    // The rest is copied, so the chunk handed on does not keep the joined buffer alive.
    const rest = Buffer.from(joined.subarray(end));
    parts = rest.length > 0 ? [rest] : [];
    size = rest.length;
    yield joined.subarray(0, end);
  }
  if (size > 0) yield Buffer.concat(parts, size);
}
