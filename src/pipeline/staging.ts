import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';

import { binaryCopyHeader, binaryCopyTrailer, createBinaryCopyReader } from './copy-binary.js';

/**
 * Rows between steps live in PostgreSQL, one table per (run, window, kind):
 * - `raw`: what extract fetched, as the source's own JSON text in chunks of about a megabyte
 *   (`chunk_number`, `first_row`, `row_count`, `json`: a JSON array of rows, numbered from
 *   `first_row` in the source's order). Nothing is parsed or re-encoded to stage it, and later
 *   steps parse each chunk in one call.
 * - `keys`: one line per raw row, written by validate: the natural key and update stamp as served
 *   (the ranking of repeated ids, and which keys the source still serves), whether it is valid,
 *   and for a bad row its reason, detail and payload (the quarantine is filled from it in SQL).
 * - `skip`: rows validate set aside (rejected, or superseded by a later version of the id).
 * - `clean`: what transform produced, shaped like the dataset's table (plus `row_number` and the
 *   cursor column as published).
 * A step that is retried replaces its table wholesale; the load drops them all in the transaction
 * that commits the window.
 *
 * They are UNLOGGED: a million-row window writes about a gigabyte to staging, and sparing the
 * write-ahead log that halves its cost. The price is that a PostgreSQL crash empties them (a clean
 * restart does not). Nothing is lost then: every step checks its input against what the ledger
 * says its producer wrote, and rebuilds it from the source if it is gone (run-step.ts).
 */

export type StagingKind = 'raw' | 'keys' | 'skip' | 'clean';
const kinds: readonly StagingKind[] = ['raw', 'keys', 'skip', 'clean'];

const shapes: Record<Exclude<StagingKind, 'clean'>, string> = {
  raw: '(chunk_number int not null, first_row int not null, row_count int not null, json bytea not null)',
  keys: '(row_number int not null, key text, stamp text, valid boolean not null, reason text, detail text, payload text)',
  skip: '(row_number int not null, reason text not null)',
};

/** `staging."raw_r12_w3"`: run and window ids are integers, so the name is safe by construction. */
export function stagingTable(kind: StagingKind, runId: number, windowIndex: number): string {
  if (!Number.isSafeInteger(runId) || !Number.isSafeInteger(windowIndex)) {
    throw new Error(`invalid staging key ${runId}/${windowIndex}`);
  }
  return `staging."${kind}_r${runId}_w${windowIndex}"`;
}

/**
 * (Re)creates an empty staging table; run it in the transaction that fills it (which lets COPY
 * write its rows frozen). The clean table takes the shape of the dataset's own table, so a
 * dataset needs no staging template of its own.
 */
export async function recreateStagingTable(
  client: pg.ClientBase,
  kind: StagingKind,
  runId: number,
  windowIndex: number,
  target?: { table: string; cursorColumn: string },
): Promise<string> {
  const table = stagingTable(kind, runId, windowIndex);
  await client.query(`drop table if exists ${table}`);
  if (kind === 'clean') {
    if (!target) throw new Error('a clean staging table needs its target table');
    await client.query(
      `create unlogged table ${table} (like public."${target.table}" including defaults)`,
    );
    await client.query(
      `alter table ${table} add column row_number int not null, add column "${target.cursorColumn}" text`,
    );
  } else {
    await client.query(`create unlogged table ${table} ${shapes[kind]}`);
  }
  // A megabyte of JSON is stored as it is: compressing it would cost more than keeping it.
  if (kind === 'raw')
    await client.query(`alter table ${table} alter column json set storage external`);
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
    kind === 'raw'
      ? `select coalesce(sum(row_count), 0)::int as count from ${table}`
      : `select count(*)::int as count from ${table}`,
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
  options: CopyOptions = {},
): Promise<void> {
  const sink = client.query(
    copyFrom(
      `copy ${table} (${columns.map((c) => `"${c}"`).join(', ')}) from stdin${withOptions(options)}`,
    ),
  );
  await pipeline(Readable.from(batches, { objectMode: false, highWaterMark: runAhead }), sink);
}

export interface CopyOptions {
  /** Binary COPY: each batch is binary rows (copy-binary.ts); header and trailer are added here. */
  binary?: boolean;
  /**
   * Rows written frozen, for a table created in this transaction: the step that reads them next
   * need not set their hint bits (a write of every page) on its first look.
   */
  freeze?: boolean;
}

function withOptions({ binary, freeze }: CopyOptions): string {
  const options = [...(binary ? ['format binary'] : []), ...(freeze ? ['freeze'] : [])];
  return options.length === 0 ? '' : ` with (${options.join(', ')})`;
}

/** Binary COPY of rows into a table; each batch is encoded rows (encodeBinaryRow). */
export async function copyBinaryInto(
  client: pg.ClientBase,
  table: string,
  columns: readonly string[],
  batches: AsyncIterable<Buffer[]> | Iterable<Buffer[]>,
  options: Omit<CopyOptions, 'binary'> = {},
): Promise<void> {
  async function* framed(): AsyncGenerator<Buffer> {
    yield binaryCopyHeader;
    for await (const batch of batches) for (const piece of batch) yield piece;
    yield binaryCopyTrailer;
  }
  await copyInto(client, table, columns, framed(), { ...options, binary: true });
}

/** The rows of a `COPY (query) TO STDOUT (FORMAT binary)`, as they arrive: fields as buffers. */
export async function* copyBinaryOut(
  client: pg.ClientBase,
  query: string,
): AsyncGenerator<Array<Buffer | null>> {
  const source = client.query(
    copyTo(`copy (${query}) to stdout with (format binary)`, { highWaterMark: runAhead }),
  );
  const reader = createBinaryCopyReader();
  for await (const chunk of source as AsyncIterable<Buffer>) yield* reader.push(chunk);
  reader.finish();
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

/** A window's raw chunks in the source's order: each a JSON array of `rows` rows from `firstRow`. */
export async function* readRawChunks(
  client: pg.ClientBase,
  runId: number,
  windowIndex: number,
): AsyncGenerator<{ firstRow: number; rows: number; json: Buffer }> {
  const raw = stagingTable('raw', runId, windowIndex);
  const query = `select first_row, row_count, json from ${raw} order by chunk_number`;
  for await (const [firstRow, rows, json] of copyBinaryOut(client, query))
    yield { firstRow: firstRow!.readInt32BE(), rows: rows!.readInt32BE(), json: json! };
}

export type RawChunk = { firstRow: number; rows: number; json: Buffer };

/**
 * A window's raw chunks, each made into COPY data by `convert` (in one piece or several),
 * streamed into `table` of the writer's transaction: validate's keys and transform's clean rows.
 * The chunks are read on a connection of their own, so a million rows never sit in memory; a
 * COPY left half way (a failure) closes that connection rather than leave it blocked for its next
 * user.
 */
export async function copyRawChunksInto(
  pool: pg.Pool,
  writer: pg.ClientBase,
  source: { runId: number; windowIndex: number },
  into: { table: string; columns: readonly string[]; options?: CopyOptions },
  convert: (chunk: RawChunk) => string | Uint8Array | readonly Uint8Array[],
): Promise<void> {
  const reader = await pool.connect();
  let readToEnd = false;
  try {
    async function* converted(): AsyncGenerator<string | Uint8Array> {
      for await (const chunk of readRawChunks(reader, source.runId, source.windowIndex)) {
        const converted = convert(chunk);
        if (typeof converted === 'string' || converted instanceof Uint8Array) yield converted;
        else yield* converted;
      }
    }
    await copyInto(writer, into.table, into.columns, converted(), into.options);
    readToEnd = true;
  } finally {
    reader.release(!readToEnd);
  }
}
