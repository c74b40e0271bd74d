/**
 * The Socrata source against the fake SODA server holding 1,000,000 generated rows, served from a
 * child process so its memory is not counted here:
 *   (a) the fake server alone: rows/s of a raw HTTP download of every page;
 *   (b) the client fetching every row, each page parsed: rows/s and peak RSS, in a process whose V8
 *       heap is capped at 1 GB (as the service's long-running processes should run), and in this
 *       process with V8's defaults;
 *   (c) the generator: rows/s and the average row size.
 *
 * Why two figures for (b): the client holds one page (about 40 MB parsed; a `for await` consumer
 * keeps the previous one until the next arrives), but when the heap limit is large (about 4 GB on
 * this 24 GB machine) V8 lets the heap grow to about four times what survived the last full
 * collection before collecting again, so with defaults the process peaks far above its live
 * memory. A 1 GB limit, still twenty times the live set, makes V8 collect at 1.3 to 2 times live.
 */
import { spawnSync } from 'node:child_process';
import { Agent, get } from 'node:http';
import { fileURLToPath } from 'node:url';
import { createSodaClient } from '../src/source/client.js';
import { policeLog } from '../src/source/datasets/police-log.js';
import { windowQuery } from '../src/source/queries.js';
import { buildPageSearch } from '../src/source/soql.js';
import { generatePoliceLog } from '../test/support/police-log-generator.js';
import { startFakeSourceProcess } from './fake-source.js';
import { peakRssMb, report } from './support.js';

const totalRows = 1_000_000;
const pageSize = 50_000;
const heapCapMb = 1024;
const self = fileURLToPath(import.meta.url);
const query = windowQuery(policeLog, { from: '2025-01-01', to: '2026-01-16' });

interface ClientFigures {
  rows: number;
  pages: number;
  seconds: number;
  peakRssMb: number;
}

/** (b): the client as the pipeline uses it; every page parsed, nothing kept. */
async function measureClient(baseUrl: string): Promise<ClientFigures> {
  const started = performance.now();
  let rows = 0;
  let pages = 0;
  const client = createSodaClient({ baseUrl, pageSize });
  for await (const page of client.pages(policeLog.id, query)) {
    rows += page.rows.length;
    pages += 1;
  }
  return {
    rows,
    pages,
    seconds: (performance.now() - started) / 1000,
    peakRssMb: await peakRssMb(),
  };
}

// The child started for the capped measurement: measure, print the figures, stop.
const clientOnly = process.argv.indexOf('--client-only');
if (clientOnly >= 0) {
  const figures = await measureClient(process.argv[clientOnly + 1]!);
  process.stdout.write(`${JSON.stringify(figures)}\n`);
  process.exit(0);
}

function measureClientCapped(baseUrl: string): ClientFigures {
  const child = spawnSync(
    process.execPath,
    [`--max-old-space-size=${heapCapMb}`, '--import', 'tsx', self, '--client-only', baseUrl],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
  );
  if (child.status !== 0) throw new Error(`the client measurement failed (exit ${child.status})`);
  return JSON.parse(child.stdout) as ClientFigures;
}

function pageUrl(baseUrl: string, offset: number, limit = pageSize): string {
  return `${baseUrl}/resource/${policeLog.id}.json?${buildPageSearch(query, { limit, offset })}`;
}

function countNewlines(chunk: Uint8Array): number {
  let count = 0;
  for (let at = chunk.indexOf(10); at >= 0; at = chunk.indexOf(10, at + 1)) count += 1;
  return count;
}

/** One page by node:http, counting its bytes and newlines without keeping them. */
function download(url: string, agent: Agent): Promise<{ bytes: number; newlines: number }> {
  return new Promise((resolve, reject) => {
    get(url, { agent }, (response) => {
      let bytes = 0;
      let newlines = 0;
      response.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        newlines += countNewlines(chunk);
      });
      response.on('end', () => resolve({ bytes, newlines }));
      response.on('error', reject);
    }).on('error', reject);
  });
}

/** (a): fetch's streams would measure undici, not the server; SODA writes one row per line. */
async function measureRawDownload(
  baseUrl: string,
): Promise<{ rowsPerSecond: number; bytesPerRow: number }> {
  const agent = new Agent({ keepAlive: true });
  const started = performance.now();
  let rows = 0;
  let bytes = 0;
  for (let offset = 0; ; offset += pageSize) {
    const page = await download(pageUrl(baseUrl, offset), agent);
    bytes += page.bytes;
    // `[{…}\n,{…}]\n`: n rows make n lines, and an empty page is `[]\n`.
    const pageRows = page.bytes <= 3 ? 0 : page.newlines;
    rows += pageRows;
    if (pageRows < pageSize) break;
  }
  agent.destroy();
  return {
    rowsPerSecond: rows / ((performance.now() - started) / 1000),
    bytesPerRow: bytes / rows,
  };
}

let t = performance.now();
const fake = await startFakeSourceProcess({ rows: totalRows, seed: 1 });
report(
  `fake server: generate and load ${totalRows.toLocaleString('en-US')} rows`,
  (performance.now() - t) / 1000,
  's',
);
let ok = true;
try {
  // The first request of a query filters and sorts the rows and lays them out in order; later
  // pages are slices of that. Warm it so every measurement sees the steady state.
  t = performance.now();
  await (await fetch(pageUrl(fake.url, 0, 1))).arrayBuffer();
  report('(a0) fake server: first request of the query', performance.now() - t, 'ms');

  // (b) before anything else here, so this process's peak RSS is the client's own.
  const uncapped = await measureClient(fake.url);
  const capped = measureClientCapped(fake.url);
  const raw = await measureRawDownload(fake.url);

  ok =
    report('(a) fake server: raw download of every page', raw.rowsPerSecond, 'rows/s', {
      min: 500_000,
    }) && ok;
  report('    bytes per row served (with system fields)', raw.bytesPerRow, 'B');
  for (const figures of [capped, uncapped]) {
    if (figures.rows !== totalRows) {
      process.stdout.write(`the client fetched ${figures.rows} rows, expected ${totalRows}\n`);
      ok = false;
    }
  }
  const pages = `${capped.pages} pages of ${pageSize.toLocaleString('en-US')}`;
  ok =
    report(
      `(b) client, ${pages}, heap capped at ${heapCapMb} MB`,
      capped.rows / capped.seconds,
      'rows/s',
      { min: 100_000 },
    ) && ok;
  ok = report('    peak RSS of that process', capped.peakRssMb, 'MB', { max: 300 }) && ok;
  report('(b) client, V8 defaults, in this process', uncapped.rows / uncapped.seconds, 'rows/s');
  report('    peak RSS of this process', uncapped.peakRssMb, 'MB');
} finally {
  fake.stop();
}

// (c) The generator, streaming; last, so it does not count in the client's peak RSS.
t = performance.now();
let generated = 0;
let rowBytes = 0;
for (const row of generatePoliceLog({ seed: 1, rows: totalRows })) {
  generated += 1;
  rowBytes += Buffer.byteLength(JSON.stringify(row));
}
report(
  '(c) generator (and JSON.stringify of each row)',
  generated / ((performance.now() - t) / 1000),
  'rows/s',
);
report('    average row size, SODA JSON without system fields', rowBytes / generated, 'B');

process.exit(ok ? 0 : 1);
