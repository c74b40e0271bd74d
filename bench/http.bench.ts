/**
 * HTTP benchmark: `cpd server` in its own process (production logging, info level) over a ledger
 * of 2,000 runs of 12 windows each (96,000 step rows, and quarantined rows), loaded from here on
 * loopback:
 *   (a) 200 concurrent GET /api/runs, in bursts of 200 at once (target p99 ≤ 100 ms), and the
 *       same 200 clients in a closed loop for a few seconds (throughput);
 *   (b) GET /api/runs/:id of a 12-window run, 50 concurrent;
 *   (c) one /metrics scrape over that ledger (its aggregates run on every scrape).
 *
 *   npm run bench -- http            BENCH_RUNS=500 for a smaller ledger
 */
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import type pg from 'pg';
import { startCli } from '../test/support/cli.js';
import { createTestDatabase } from '../test/support/database.js';
import { findFreePort } from '../test/support/http-app.js';
import { createTestPrefix, deletePrefix, testRedisUrl } from '../test/support/queue.js';
import { percentile, report } from './support.js';

const runs = Number(process.env.BENCH_RUNS ?? 2_000);
const windowsPerRun = 12;
const concurrency = 200;
const bursts = 25;
const loopSeconds = 5;
const targetP99Ms = 100;

/**
 * The load generator: keep-alive connections on raw sockets, one request in flight on each. Node's
 * http client costs about as much CPU per request as the server, and on a two-core machine that
 * would measure the client; this one parses only the status line and Content-Length.
 */
class Connection {
  private readonly socket: Socket;
  private buffer: Buffer = Buffer.alloc(0);
  private pending:
    | { started: number; resolve: (result: Timed) => void; reject: (error: Error) => void }
    | undefined;

  constructor(port: number) {
    this.socket = connect({ port, host: '127.0.0.1', noDelay: true });
    this.socket.on('data', (chunk: Buffer) => this.receive(chunk));
    this.socket.on('error', (error) => this.pending?.reject(error));
  }

  get(path: string): Promise<Timed> {
    return new Promise((resolve, reject) => {
      this.pending = { started: performance.now(), resolve, reject };
      this.socket.write(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n`,
      );
    });
  }

  private receive(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const headerEnd = this.buffer.indexOf('\r\n\r\n');
    if (headerEnd < 0 || !this.pending) return;
    const head = this.buffer.toString('latin1', 0, headerEnd);
    const length = /\r\ncontent-length: *(\d+)/i.exec(head);
    if (!length) throw new Error(`a response without Content-Length:\n${head}`);
    const total = headerEnd + 4 + Number(length[1]);
    if (this.buffer.length < total) return;
    const { started, resolve } = this.pending;
    this.pending = undefined;
    this.buffer = this.buffer.subarray(total);
    resolve({
      ms: performance.now() - started,
      status: Number(head.slice(9, 12)),
      bytes: Number(length[1]),
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

/** CPU time a process has used so far (user + system), from /proc: clock ticks of 10 ms. */
function cpuMsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

interface Timed {
  ms: number;
  status: number;
  bytes: number;
}

function summarize(label: string, latencies: number[], target?: number): boolean {
  const sorted = [...latencies].sort((a, b) => a - b);
  report(`${label}: p50`, percentile(sorted, 50), 'ms');
  report(`${label}: p95`, percentile(sorted, 95), 'ms');
  const met = report(
    `${label}: p99`,
    percentile(sorted, 99),
    'ms',
    target === undefined ? undefined : { max: target },
  );
  report(`${label}: max`, sorted.at(-1) ?? Number.NaN, 'ms');
  return met;
}

async function fillLedger(pool: pg.Pool): Promise<void> {
  await pool.query(
    `insert into pipeline_runs (dataset, mode, trigger, state, dedupe_key, range_from, range_to, window_size, window_count,
                                rows_extracted, rows_inserted, rows_unchanged, rows_rejected, created_at, started_at, ended_at)
     select '3gki-wyrb', 'window', 'api', case when g % 50 = 0 then 'failed' else 'completed' end::run_state, 'bench-' || g,
            '2025-01-01', '2026-01-01', 'month', $1, 7000, 600, 6400, 3,
            now() - g * interval '1 hour', now() - g * interval '1 hour', now() - g * interval '1 hour' + interval '40 seconds'
       from generate_series(1, $2::int) g`,
    [windowsPerRun, runs],
  );
  await pool.query(
    `insert into pipeline_steps (run_id, window_index, window_start, window_end, step, state, attempts, rows_in, rows_out, counts,
                                 started_at, ended_at, duration_ms)
     select r.id, w, timestamp '2025-01-01' + w * interval '1 month', timestamp '2025-01-01' + (w + 1) * interval '1 month',
            s.step, 'completed', 1, 580, 580, '{"extracted": 580}'::jsonb, r.started_at, r.started_at + interval '1 second', 200 + w * 10
       from pipeline_runs r cross join generate_series(0, $1::int - 1) w
       cross join unnest(enum_range(null::step_name)) s(step)`,
    [windowsPerRun],
  );
  await pool.query(
    `insert into rejected_records (run_id, dataset, window_index, row_number, reason, detail, payload)
     select id, '3gki-wyrb', 0, n, case when n = 1 then 'date_time.invalid' else 'id.missing' end, 'bench', '{}'::jsonb
       from pipeline_runs cross join generate_series(1, 3) n`,
  );
  await pool.query(
    `insert into sync_state (dataset, last_success_at, updated_at) values ('3gki-wyrb', now(), now())`,
  );
  await pool.query('vacuum analyze pipeline_runs, pipeline_steps, rejected_records');
}

const database = await createTestDatabase();
const prefix = createTestPrefix();
let server: ReturnType<typeof startCli> | undefined;
let allMet = true;
let connections: Connection[] = [];
try {
  process.stdout.write(
    `filling the ledger: ${runs.toLocaleString('en-US')} runs × ${windowsPerRun} windows × 4 steps…\n`,
  );
  await fillLedger(database.pool);
  const port = await findFreePort();
  server = startCli(['server'], {
    DATABASE_URL: database.url,
    REDIS_URL: testRedisUrl,
    QUEUE_PREFIX: prefix,
    PORT: String(port),
    LOG_LEVEL: 'info',
  });
  await server.waitForOutput(/listening on http:/, 60_000);
  connections = Array.from({ length: concurrency }, () => new Connection(port));
  const burst = async (path: string, size = concurrency): Promise<Timed[]> => {
    const results = await Promise.all(
      connections.slice(0, size).map((connection) => connection.get(path)),
    );
    for (const result of results)
      if (result.status !== 200) throw new Error(`GET ${path} answered ${result.status}`);
    return results;
  };

  // Warm-up: JIT, and the server's database connections open.
  for (let round = 0; round < 5; round++) await burst('/api/runs');

  process.stdout.write(
    `\n(a) GET /api/runs (50 runs a page), ${bursts} bursts of ${concurrency} at once\n`,
  );
  const burstLatencies: number[] = [];
  let bodyBytes = 0;
  const burstStarted = performance.now();
  const serverCpuBefore = cpuMsOf(server.child.pid!);
  for (let round = 0; round < bursts; round++) {
    for (const result of await burst('/api/runs')) {
      burstLatencies.push(result.ms);
      bodyBytes = result.bytes;
    }
  }
  const burstSeconds = (performance.now() - burstStarted) / 1000;
  allMet = summarize(`${concurrency} concurrent`, burstLatencies, targetP99Ms) && allMet;
  report('requests per second (bursts)', burstLatencies.length / burstSeconds, 'req/s');
  report(
    'server CPU per request',
    (cpuMsOf(server.child.pid!) - serverCpuBefore) / burstLatencies.length,
    'ms',
  );
  report('response size', bodyBytes / 1024, 'kB');

  process.stdout.write(
    `\n    the same ${concurrency} connections in a closed loop for ${loopSeconds} s\n`,
  );
  const loopLatencies: number[] = [];
  const loopEnds = performance.now() + loopSeconds * 1000;
  await Promise.all(
    connections.map(async (connection) => {
      while (performance.now() < loopEnds)
        loopLatencies.push((await connection.get('/api/runs')).ms);
    }),
  );
  summarize('closed loop', loopLatencies);
  report('requests per second (closed loop)', loopLatencies.length / loopSeconds, 'req/s');

  process.stdout.write(
    '\n(b) GET /api/runs/:id, a 12-window run with its 48 steps, 50 concurrent × 20\n',
  );
  const { rows: sample } = await database.pool.query<{ id: number }>(
    'select id::int from pipeline_runs order by id limit 1',
  );
  const detailLatencies: number[] = [];
  for (let round = 0; round < 20; round++) {
    detailLatencies.push(
      ...(await burst(`/api/runs/${sample[0]!.id}`, 50)).map((result) => result.ms),
    );
  }
  summarize('run detail', detailLatencies);

  process.stdout.write(
    `\n(c) GET /metrics over ${(runs * windowsPerRun * 4).toLocaleString('en-US')} step rows\n`,
  );
  const scrapes: number[] = [];
  for (let round = 0; round < 10; round++) scrapes.push((await burst('/metrics', 1))[0]!.ms);
  summarize('metrics scrape', scrapes);
  // Other work on this machine slows every figure; say how busy it was.
  report('load average over the last minute (2 cores)', loadavg()[0]!, '');
} finally {
  for (const connection of connections) connection.close();
  if (server) {
    server.child.kill('SIGTERM');
    const exit = await server.exited;
    if (exit.code !== 0)
      process.stderr.write(
        `cpd server exited with ${exit.code ?? exit.signal}:\n${server.stderr().slice(-2000)}\n`,
      );
  }
  await deletePrefix(prefix);
  await database.drop();
}
process.exit(allMet ? 0 : 1);
