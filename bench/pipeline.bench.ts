/**
 * The pipeline on a million rows, against its floor measured in the same run (this machine's
 * speed drifts by half from hour to hour, so only ratios compare across runs):
 *
 * - floor: the final rows, COPY'd into a staging table and loaded into an empty `incidents` with
 *   the load's own UPDATE and INSERT: what any pipeline must at least pay to land these rows;
 * - the 1M-row window `cpd sync` (the real command in a child process; peak RSS from /proc), and a
 *   replay of it that must change nothing;
 * - the same rows as a backfill on the queue over two `cpd worker` processes;
 * - an incremental sync after 100 rows changed at the source in the 1M-row table, and one after
 *   nothing changed, with the source's own time shown apart.
 * Each run also shows the CPU its Node process and its PostgreSQL backends used.
 *
 * Targets (issue 14): sync ≤ 2.0× the floor with peak RSS ≤ 300 MB; queue ≤ 1.1× in-process;
 * incremental ≤ 0.2× the floor beside the source's time.
 *
 * BENCH_QUICK=1 stops after the first sync (the floor and that sync's figures).
 * BENCH_PROFILE=1 instead runs one window in one process, one step at a time, and prints each
 * step's Node and PostgreSQL CPU (CPD_BIN=<checkout>/bin/cpd.js measures another checkout).
 */
import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { migrateDatabase } from '../src/db/migrate.js';
import { buildLoadSql } from '../src/pipeline/steps/load.js';
import { incidentsTarget } from '../src/pipeline/targets/incidents.js';
import { planDateWindows } from '../src/pipeline/windows.js';
import { createSodaClient } from '../src/source/client.js';
import { policeLog } from '../src/source/datasets/police-log.js';
import { windowQuery } from '../src/source/queries.js';
import { buildPageSearch } from '../src/source/soql.js';
import { createOrchestrator } from '../src/queue/orchestrator.js';
import { deletePrefix } from '../test/support/queue.js';
import { startFakeSourceProcess } from './fake-source.js';
import { cpuBetween, cpuSeconds, sampleCpu } from './process-cpu.js';
import { report, startWorkers, stopWorkers } from './support.js';

const rows = Number(process.env.BENCH_ROWS ?? 1_000_000);
const adminUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/postgres';
const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const cpd = process.env.CPD_BIN ?? fileURLToPath(new URL('../bin/cpd.js', import.meta.url));
const profile = process.env.BENCH_PROFILE === '1';
/** BENCH_QUICK=1: the floor and the first sync only, for trying a change. */
const quick = process.env.BENCH_QUICK === '1';
const range = { from: '2024-01-01', to: '2027-01-01' };

interface SyncOutcome {
  run: {
    id: number;
    state: string;
    rowsExtracted: number;
    rowsInserted: number;
    rowsUpdated: number;
    rowsUnchanged: number;
    durationMs: number;
  };
  steps: Array<{ step: string; rowsIn: number; rowsOut: number; durationMs: number }>;
}

interface Measured {
  outcome: SyncOutcome;
  wallSeconds: number;
  runSeconds: number;
  peakRssMb: number;
  /** The fake source's CPU too: it shares this machine's two cores with the pipeline. */
  cpu: { node: number; postgres: number; source: number };
}

const admin = new pg.Client({ connectionString: adminUrl });
await admin.connect();
const databases: string[] = [];
async function createDatabase(): Promise<{ url: string; name: string }> {
  const name = `cpd_bench_${randomBytes(4).toString('hex')}`;
  await admin.query(`create database ${name}`);
  databases.push(name);
  return { name, url: Object.assign(new URL(adminUrl), { pathname: `/${name}` }).toString() };
}

/** Runs `cpd sync` with `args`, sampling its high-water RSS and its and PostgreSQL's CPU. */
async function runSync(
  database: { url: string; name: string },
  args: string[],
  env: Record<string, string>,
): Promise<Measured & { stepCpu?: Array<{ step: string; node: number; postgres: number }> }> {
  const started = performance.now();
  const startedAtEpoch = Date.now();
  const child = spawn(
    process.execPath,
    ['--max-old-space-size=512', cpd, 'sync', ...args, '--json'],
    {
      env: { ...process.env, ...env, DATABASE_URL: database.url, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  let peakKb = 0;
  const rss = setInterval(() => {
    void readFile(`/proc/${child.pid}/status`, 'utf8')
      .then((status) => {
        const match = /VmHWM:\s+(\d+) kB/.exec(status);
        if (match) peakKb = Math.max(peakKb, Number(match[1]));
      })
      .catch(() => undefined);
  }, 50);
  const sampler = sampleCpu(admin, child.pid!, database.name);
  const sourceBefore = (await cpuSeconds(fake.pid)) ?? 0;
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  clearInterval(rss);
  const cpu = await sampler.stop();
  const sourceCpu = ((await cpuSeconds(fake.pid)) ?? 0) - sourceBefore;
  if (code !== 0) throw new Error(`cpd sync ${args.join(' ')} exited with ${code}`);
  const outcome = JSON.parse(stdout) as SyncOutcome;
  const measured = {
    outcome,
    wallSeconds: (performance.now() - started) / 1000,
    runSeconds: outcome.run.durationMs / 1000,
    peakRssMb: peakKb / 1024,
    cpu: { node: cpu.node, postgres: cpu.postgres, source: sourceCpu },
  };
  if (!profile) return measured;
  // One step at a time: each step's share of the CPU, from the ledger's timestamps.
  const pool = new pg.Pool({ connectionString: database.url, max: 1 });
  const { rows: steps } = await pool.query<{ step: string; from: number; to: number }>(
    `select step::text, extract(epoch from started_at) * 1000 as from, extract(epoch from ended_at) * 1000 as to
       from pipeline_steps where run_id = $1 order by started_at`,
    [outcome.run.id],
  );
  await pool.end();
  return {
    ...measured,
    stepCpu: steps.map((step) => ({
      step: step.step,
      ...cpuBetween(cpu.samples, step.from - startedAtEpoch, step.to - startedAtEpoch),
    })),
  };
}

function printSync(label: string, measured: Measured, floorSeconds?: number): void {
  process.stdout.write(`\n${label}\n`);
  for (const step of measured.outcome.steps) {
    report(
      `  ${step.step.padEnd(9)} ${step.rowsIn.toLocaleString('en-US')} rows in (summed)`,
      step.durationMs / 1000,
      's',
    );
  }
  report('  run: extract through load', measured.runSeconds, 's');
  report('  whole command (start, migrate, run, analytics)', measured.wallSeconds, 's');
  report('  CPU: cpd (Node)', measured.cpu.node, 's');
  report('  CPU: its PostgreSQL backends', measured.cpu.postgres, 's');
  report('  CPU: the fake source (same machine)', measured.cpu.source, 's');
  report('  peak RSS of cpd sync', measured.peakRssMb, 'MB');
  if (floorSeconds !== undefined) report('  run ÷ floor', measured.runSeconds / floorSeconds, '×');
}

/**
 * The floor: the final rows (as the load's clean staging holds them) COPY'd into an unlogged
 * staging table, then the load's own UPDATE and INSERT into an empty `incidents`.
 */
async function measureFloor(source: { url: string }): Promise<number> {
  const folder = await mkdtemp(join(tmpdir(), 'cpd-floor-'));
  const file = join(folder, 'final-rows.copy');
  const columns = incidentsTarget.columns.map((column) =>
    column === incidentsTarget.cursorColumn
      ? `to_char(source_updated_at at time zone 'America/New_York', 'YYYY-MM-DD"T"HH24:MI:SS.MS') as "${column}"`
      : `"${column}"`,
  );
  const from = new pg.Client({ connectionString: source.url });
  await from.connect();
  await pipeline(
    from.query(
      copyTo(
        `copy (select row_number() over ()::int, ${columns.join(', ')} from incidents) to stdout`,
      ),
    ),
    createWriteStream(file),
  );
  await from.end();

  const target = await createDatabase();
  const pool = new pg.Pool({ connectionString: target.url, max: 2 });
  await migrateDatabase(pool);
  const client = await pool.connect();
  try {
    const started = performance.now();
    await client.query('begin');
    await client.query(
      `create unlogged table floor_staged (like incidents including defaults);
       alter table floor_staged add column row_number int, add column "${incidentsTarget.cursorColumn}" text`,
    );
    await pipeline(
      createReadStream(file),
      client.query(
        copyFrom(
          `copy floor_staged (row_number, ${incidentsTarget.columns.map((c) => `"${c}"`).join(', ')}) from stdin with (freeze)`,
        ),
      ),
    );
    await client.query(`analyze floor_staged (id)`);
    await client.query(`set local work_mem = '1GB'`);
    const statements = buildLoadSql(incidentsTarget, 'floor_staged');
    await client.query(statements.update, [1]);
    await client.query(statements.insert, [1]);
    await client.query('commit');
    return (performance.now() - started) / 1000;
  } finally {
    client.release();
    await pool.end();
    await rm(folder, { recursive: true, force: true });
  }
}

/** The same rows as a backfill on the queue over two worker processes: the run's own duration. */
async function backfillOnQueue(
  fakeUrl: string,
): Promise<{ seconds: number; state: string; windows: number; inserted: number }> {
  const database = await createDatabase();
  const pool = new pg.Pool({ connectionString: database.url, max: 4 });
  await migrateDatabase(pool);
  const prefix = `{cpdbench-${randomBytes(3).toString('hex')}}`;
  const env = {
    DATABASE_URL: database.url,
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: prefix,
    SOCRATA_BASE_URL: fakeUrl,
  };
  const workers = startWorkers(cpd, env);
  await sleep(3_000); // let both workers connect
  const orchestrator = createOrchestrator({ pool, redisUrl, prefix, datasetId: '3gki-wyrb' });
  try {
    await orchestrator.ready(5_000);
    const { run } = await orchestrator.requestRun(
      { mode: 'window', ...range, windowSize: 'month' },
      'cli',
    );
    for (;;) {
      const { rows: found } = await pool.query<{
        state: string;
        seconds: number;
        inserted: number;
      }>(
        `select state, extract(epoch from coalesce(ended_at, now()) - coalesce(started_at, now()))::float8 as seconds, rows_inserted as inserted from pipeline_runs where id = $1`,
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
    await stopWorkers(workers);
    await deletePrefix(prefix, redisUrl);
  }
}

/** Changes `count` rows at the source: new text and a later update stamp. */
async function changeRowsAtSource(fakeUrl: string, count: number, stamp: string): Promise<void> {
  const query = new URLSearchParams({ $limit: String(count), $order: ':id' });
  const picked = (await (
    await fetch(`${fakeUrl}/resource/3gki-wyrb.json?${query.toString()}`)
  ).json()) as Array<Record<string, string>>;
  const changed = picked.map((row) => ({
    ...row,
    description: `${row.description ?? ''} (corrected)`,
    last_updated: stamp,
  }));
  const answer = await fetch(`${fakeUrl}/__fake/rows`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(changed),
  });
  if (!answer.ok) throw new Error(`the fake server refused the changed rows: ${answer.status}`);
}

/** How long the source takes to answer the incremental sync's query, read but not processed. */
async function timeSourceAnswer(fakeUrl: string, since: string): Promise<number> {
  const where = `last_updated >= '${since}'`;
  const query = new URLSearchParams({
    $select: ':*, *',
    $where: where,
    $order: 'last_updated, :id',
    $limit: '50000',
  });
  const started = performance.now();
  await (await fetch(`${fakeUrl}/resource/3gki-wyrb.json?${query.toString()}`)).arrayBuffer();
  return (performance.now() - started) / 1000;
}

/** Asks the fake for every monthly window's first row and count, so it has each selection ready. */
async function warmWindows(fakeUrl: string): Promise<void> {
  const client = createSodaClient({ baseUrl: fakeUrl });
  for (const window of planDateWindows(range.from, range.to, 'month')) {
    const query = windowQuery(policeLog, { from: window.start, to: window.end });
    await client.count(policeLog.id, query.where);
    const search = buildPageSearch(query, { limit: 1, offset: 0 });
    await (await fetch(`${fakeUrl}/resource/${policeLog.id}.json?${search}`)).arrayBuffer();
  }
}

/** After the first sync: its replay, the queued backfill, and the incremental syncs. */
async function measureTheRest(
  database: { url: string; name: string },
  floor: number,
  first: Measured,
  env: Record<string, string>,
  windowArgs: string[],
): Promise<boolean> {
  let ok = true;
  const replay = await runSync(database, windowArgs, env);
  printSync('replay (same rows again: nothing may change)', replay, floor);
  if (replay.outcome.run.rowsInserted + replay.outcome.run.rowsUpdated !== 0) {
    process.stdout.write(`  the replay changed rows\n`);
    ok = false;
  }

  const queued = await backfillOnQueue(fake.url);
  process.stdout.write(
    `\nthe same rows on the queue (${queued.windows} monthly windows, two worker processes)\n`,
  );
  report('  run: first step started to last step ended', queued.seconds, 's');
  report('  run ÷ floor', queued.seconds / floor, '×');
  ok =
    report('  queue ÷ in-process (target)', queued.seconds / first.runSeconds, '×', {
      max: 1.1,
    }) && ok;
  if (queued.state !== 'completed' || queued.inserted !== first.outcome.run.rowsInserted) {
    process.stdout.write(
      `  the queued run ended ${queued.state} with ${queued.inserted} rows inserted\n`,
    );
    ok = false;
  }

  // Incremental: the cursor where an incremental sync of these rows would have left it.
  const pool = new pg.Pool({ connectionString: database.url, max: 1 });
  const { rows: cursor } = await pool.query<{ cursor: string }>(
    `insert into sync_state (dataset, cursor, updated_at)
     select '3gki-wyrb', max(source_updated_local), now() from (
       select to_char(source_updated_at at time zone 'America/New_York', 'YYYY-MM-DD"T"HH24:MI:SS.MS') as source_updated_local from incidents) stamps
     on conflict (dataset) do update set cursor = excluded.cursor
     returning cursor`,
  );
  await pool.end();
  const latest = cursor[0]!.cursor;
  const stamp = new Date(Date.parse(`${latest}Z`) + 3_600_000).toISOString().slice(0, 23);
  await changeRowsAtSource(fake.url, 100, stamp);
  const lookBackSince = new Date(Date.parse(`${latest}Z`) - 72 * 3_600_000)
    .toISOString()
    .slice(0, 23);
  for (const [label, changes] of [
    ['incremental sync after 100 rows changed at the source', 100],
    ['incremental sync after nothing changed', 0],
  ] as const) {
    const sourceSeconds = await timeSourceAnswer(fake.url, lookBackSince);
    const incremental = await runSync(database, [], env);
    printSync(`${label} (1M rows held)`, incremental, floor);
    report('  of which the source answering (measured apart)', sourceSeconds, 's');
    const beside = Math.max(0, incremental.runSeconds - sourceSeconds);
    ok =
      report('  run beside the source ÷ floor (target)', beside / floor, '×', { max: 0.2 }) && ok;
    if (incremental.outcome.run.rowsUpdated !== changes) {
      process.stdout.write(
        `  updated ${incremental.outcome.run.rowsUpdated} rows, expected ${changes}\n`,
      );
      ok = false;
    }
  }
  return ok;
}

let ok = true;
const fake = await startFakeSourceProcess({ rows, seed: 7 });
try {
  // Warm the source's query cache, so the figures are the pipeline's, not the fake's first sort.
  await (
    await fetch(
      `${fake.url}/resource/3gki-wyrb.json?$limit=1&$order=:id&$where=date_time >= '${range.from}T00:00:00.000' AND date_time < '${range.to}T00:00:00.000'&$select=:*, *`,
    )
  ).arrayBuffer();
  // And the incremental order, so the source's time measured later is an answer, not a first sort.
  await (
    await fetch(
      `${fake.url}/resource/3gki-wyrb.json?$limit=1&$order=last_updated, :id&$select=:*, *`,
    )
  ).arrayBuffer();
  // And each monthly window's rows and count, as the sync and the queued backfill ask for them:
  // the fake computes a selection on first use, with this machine's CPU, which in production is
  // Socrata's.
  await warmWindows(fake.url);
  const env = { SOCRATA_BASE_URL: fake.url };
  const windowArgs = ['--from', range.from, '--to', range.to];

  if (profile) {
    const database = await createDatabase();
    const measured = await runSync(database, [...windowArgs, '--window', 'all'], env);
    printSync(`one window, one step at a time (${cpd})`, measured);
    process.stdout.write('  CPU per step (Node / PostgreSQL):\n');
    for (const step of measured.stepCpu ?? [])
      process.stdout.write(
        `    ${step.step.padEnd(9)} ${step.node.toFixed(1).padStart(6)} s / ${step.postgres.toFixed(1).padStart(6)} s\n`,
      );
  } else {
    const database = await createDatabase();
    const first = await runSync(database, windowArgs, env);
    if (first.outcome.run.rowsExtracted !== rows) {
      process.stdout.write(`read ${first.outcome.run.rowsExtracted} rows, expected ${rows}\n`);
      ok = false;
    }
    const floor = await measureFloor(database);
    process.stdout.write('\n');
    report('floor: COPY of the final rows + UPDATE/INSERT into an empty table', floor, 's');

    printSync('1M-row window sync (load into an empty table)', first, floor);
    ok = report('  run ÷ floor (target)', first.runSeconds / floor, '×', { max: 2 }) && ok;
    ok = report('  peak RSS (target)', first.peakRssMb, 'MB', { max: 300 }) && ok;

    if (!quick) ok = (await measureTheRest(database, floor, first, env, windowArgs)) && ok;
  }
} finally {
  fake.stop();
  for (const name of databases) await admin.query(`drop database if exists ${name} with (force)`);
  await admin.end();
}
process.exit(ok ? 0 : 1);
