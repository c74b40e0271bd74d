/**
 * The queue's cost, measured with real worker processes (`cpd worker`, two of them) on the local
 * PostgreSQL and Redis, against the fake SODA server in its own process:
 *   (a) 100 empty day windows, end to end: the overhead of jobs, ledger and staging per window;
 *   (b) 1,000,000 rows over 20 months as a backfill in 20 monthly windows, against the in-process
 *       `cpd sync` of the same rows.
 * Targets (issue 5): (a) ≤ 5 s; (b) ≤ 1.2 × the in-process time.
 */
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createOrchestrator } from '../src/queue/orchestrator.js';
import { migrateDatabase } from '../src/db/migrate.js';
import { startFakeSourceProcess } from './fake-source.js';
import { deletePrefix } from '../test/support/queue.js';
import { report, startWorkers, stopWorkers } from './support.js';

const adminUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/postgres';
const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const cpd = fileURLToPath(new URL('../bin/cpd.js', import.meta.url));
const rows = Number(process.env.BENCH_ROWS ?? 1_000_000);
const range = { from: '2024-05-01', to: '2026-01-01' }; // 20 months

const admin = new pg.Client({ connectionString: adminUrl });
await admin.connect();
const databases: string[] = [];
async function createDatabase(): Promise<string> {
  const name = `cpd_bench_${randomBytes(4).toString('hex')}`;
  await admin.query(`create database ${name}`);
  databases.push(name);
  return Object.assign(new URL(adminUrl), { pathname: `/${name}` }).toString();
}

function runCpd(args: string[], env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--max-old-space-size=512', cpd, ...args], {
      env: { ...process.env, ...env, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.on('exit', (code) =>
      code === 0 ? resolve(stdout) : reject(new Error(`cpd ${args[0]} exited with ${code}`)),
    );
  });
}

/** Enqueues a backfill and waits for its run to end; returns the run's own duration in seconds. */
async function backfill(
  databaseUrl: string,
  prefix: string,
  from: string,
  to: string,
  windowSize: 'day' | 'month',
): Promise<{ seconds: number; state: string; windows: number; inserted: number }> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
  const orchestrator = createOrchestrator({ pool, redisUrl, prefix, datasetId: '3gki-wyrb' });
  try {
    await orchestrator.ready(5_000);
    const { run } = await orchestrator.requestRun({ mode: 'window', from, to, windowSize }, 'cli');
    for (;;) {
      const { rows: found } = await pool.query<{
        state: string;
        seconds: number;
        inserted: number;
      }>(
        `select state, extract(epoch from coalesce(ended_at, now()) - created_at)::float8 as seconds, rows_inserted as inserted from pipeline_runs where id = $1`,
        [run.id],
      );
      const current = found[0]!;
      if (['completed', 'failed', 'crashed'].includes(current.state))
        return { ...current, windows: run.windowCount };
      await sleep(50);
    }
  } finally {
    await orchestrator.close();
    await pool.end();
  }
}

/** Per step kind: how many ran, their summed time, and the span from the first start to the last end. */
async function printStepTimes(databaseUrl: string): Promise<void> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  try {
    const { rows: steps } = await pool.query<{
      step: string;
      count: number;
      busy: number;
      span: number;
      attempts: number;
    }>(
      `select step::text, count(*)::int as count, sum(attempts)::int as attempts,
              extract(epoch from sum(ended_at - started_at))::float8 as busy,
              extract(epoch from max(ended_at) - min(started_at))::float8 as span
         from pipeline_steps group by step order by min(started_at)`,
    );
    for (const step of steps)
      process.stdout.write(
        `      ${step.step.padEnd(10)} ${String(step.count).padStart(4)} × (${step.attempts} attempts), busy ${step.busy.toFixed(2)} s, first start to last end ${step.span.toFixed(2)} s\n`,
      );
  } finally {
    await pool.end();
  }
}

let ok = true;
const fake = await startFakeSourceProcess({ rows, seed: 3, ...range });
try {
  // The fake server sorts its rows once per order asked for, on the first such query (seconds
  // for a million rows): asked here, so neither measurement below pays for the stand-in.
  const warm = `${fake.url}/resource/3gki-wyrb.json?$limit=1&$order=:id&$select=:*, *&$where=date_time >= '${range.from}T00:00:00.000' AND date_time < '${range.to}T00:00:00.000'`;
  await (await fetch(warm)).arrayBuffer();
  // (a) 100 empty windows: a range before any data.
  {
    const databaseUrl = await createDatabase();
    const pool = new pg.Pool({ connectionString: databaseUrl });
    await migrateDatabase(pool);
    await pool.end();
    const prefix = `{cpdbench-${randomBytes(3).toString('hex')}}`;
    const env = {
      DATABASE_URL: databaseUrl,
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: prefix,
      SOCRATA_BASE_URL: fake.url,
    };
    const workers = startWorkers(cpd, env);
    await sleep(3_000); // let both workers connect
    const empty = await backfill(databaseUrl, prefix, '2010-01-01', '2010-04-11', 'day');
    await stopWorkers(workers);
    await deletePrefix(prefix, redisUrl);
    process.stdout.write(
      `(a) ${empty.windows} empty day windows (${empty.windows * 4} step jobs), two worker processes\n`,
    );
    ok = report('    run, enqueue to completed', empty.seconds, 's', { max: 5 }) && ok;
    await printStepTimes(databaseUrl);
    ok = empty.state === 'completed' && ok;
  }

  // (b) the same million rows: in process, then on the queue in monthly windows.
  const inProcessUrl = await createDatabase();
  const synced = JSON.parse(
    await runCpd(['sync', '--from', range.from, '--to', range.to, '--json'], {
      DATABASE_URL: inProcessUrl,
      SOCRATA_BASE_URL: fake.url,
    }),
  ) as { run: { durationMs: number; rowsInserted: number } };
  const inProcessSeconds = synced.run.durationMs / 1000;

  const queuedUrl = await createDatabase();
  const pool = new pg.Pool({ connectionString: queuedUrl });
  await migrateDatabase(pool);
  await pool.end();
  const prefix = `{cpdbench-${randomBytes(3).toString('hex')}}`;
  const env = {
    DATABASE_URL: queuedUrl,
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: prefix,
    SOCRATA_BASE_URL: fake.url,
  };
  const workers = startWorkers(cpd, env);
  await sleep(3_000);
  const queued = await backfill(queuedUrl, prefix, range.from, range.to, 'month');
  await stopWorkers(workers);
  await deletePrefix(prefix, redisUrl);

  process.stdout.write(`(b) ${rows.toLocaleString('en-US')} rows over 20 months\n`);
  report('    in process (cpd sync, one window)', inProcessSeconds, 's');
  report(
    `    on the queue (${queued.windows} monthly windows, two worker processes)`,
    queued.seconds,
    's',
  );
  ok = report('    queue ÷ in process', queued.seconds / inProcessSeconds, '×', { max: 1.2 }) && ok;
  process.stdout.write('    in process, per step:\n');
  await printStepTimes(inProcessUrl);
  process.stdout.write('    on the queue, per step:\n');
  await printStepTimes(queuedUrl);
  if (queued.state !== 'completed' || queued.inserted !== synced.run.rowsInserted) {
    process.stdout.write(
      `    the queued run ended ${queued.state} with ${queued.inserted} rows inserted (in process: ${synced.run.rowsInserted})\n`,
    );
    ok = false;
  }
} finally {
  fake.stop();
  for (const name of databases) await admin.query(`drop database if exists ${name} with (force)`);
  await admin.end();
}
process.exit(ok ? 0 : 1);
