/**
 * The pipeline on a million rows: `cpd sync` of one window holding 1,000,000 generated rows from
 * the fake SODA server (in its own process), into a fresh database on the local PostgreSQL. The
 * sync runs as the real command in a child process, whose peak RSS is read from /proc while it
 * runs. Then the same sync again: a replay that must change nothing.
 *
 * Targets (issue 4): the run ≤ 30 s, peak RSS ≤ 400 MB. For scale, the original pandas pipeline
 * took about 110 s and 3 GB on the same rows here.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { startFakeSourceProcess } from './fake-source.js';
import { report } from './support.js';

const rows = Number(process.env.BENCH_ROWS ?? 1_000_000);
const adminUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/postgres';
const cpd = fileURLToPath(new URL('../bin/cpd.js', import.meta.url));

interface SyncOutcome {
  run: {
    state: string;
    rowsExtracted: number;
    rowsInserted: number;
    rowsUpdated: number;
    rowsUnchanged: number;
    durationMs: number;
  };
  steps: Array<{ step: string; rowsIn: number; rowsOut: number; durationMs: number }>;
}

/** Runs `cpd sync` and samples its high-water RSS until it exits. */
async function runSync(
  env: Record<string, string>,
): Promise<{ outcome: SyncOutcome; wallSeconds: number; peakRssMb: number }> {
  const started = performance.now();
  // As the cpd command runs: its shebang caps V8's heap (bin/cpd.js).
  const child = spawn(
    process.execPath,
    [
      '--max-old-space-size=512',
      cpd,
      'sync',
      '--from',
      '2024-01-01',
      '--to',
      '2027-01-01',
      '--json',
    ],
    {
      env: { ...process.env, ...env, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  let peakKb = 0;
  const sampler = setInterval(() => {
    void readFile(`/proc/${child.pid}/status`, 'utf8')
      .then((status) => {
        const match = /VmHWM:\s+(\d+) kB/.exec(status);
        if (match) peakKb = Math.max(peakKb, Number(match[1]));
      })
      .catch(() => undefined);
  }, 50);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  clearInterval(sampler);
  if (code !== 0) throw new Error(`cpd sync exited with ${code}`);
  return {
    outcome: JSON.parse(stdout) as SyncOutcome,
    wallSeconds: (performance.now() - started) / 1000,
    peakRssMb: peakKb / 1024,
  };
}

const admin = new pg.Client({ connectionString: adminUrl });
await admin.connect();
const name = `cpd_bench_${randomBytes(4).toString('hex')}`;
await admin.query(`create database ${name}`);
const databaseUrl = Object.assign(new URL(adminUrl), { pathname: `/${name}` }).toString();

const t = performance.now();
const fake = await startFakeSourceProcess({ rows, seed: 7 });
report(
  `fake server: ${rows.toLocaleString('en-US')} rows generated and served`,
  (performance.now() - t) / 1000,
  's',
);
let ok = true;
try {
  // Warm the source's query cache, so the figures are the pipeline's, not the fake's first sort.
  await (
    await fetch(
      `${fake.url}/resource/3gki-wyrb.json?$limit=1&$order=:id&$where=date_time >= '2024-01-01T00:00:00.000' AND date_time < '2027-01-01T00:00:00.000'&$select=:*, *`,
    )
  ).arrayBuffer();
  const env = { DATABASE_URL: databaseUrl, SOCRATA_BASE_URL: fake.url };

  const first = await runSync(env);
  process.stdout.write(`\nfirst sync (load into an empty table)\n`);
  for (const step of first.outcome.steps) {
    report(
      `  ${step.step.padEnd(9)} ${step.rowsIn.toLocaleString('en-US')} rows in`,
      step.durationMs / 1000,
      's',
    );
  }
  ok =
    report('  run: extract through load', first.outcome.run.durationMs / 1000, 's', { max: 30 }) &&
    ok;
  report('  whole command (start, migrate, run, refresh analytics)', first.wallSeconds, 's');
  report(
    '  throughput',
    first.outcome.run.rowsExtracted / (first.outcome.run.durationMs / 1000),
    'rows/s',
  );
  ok = report('  peak RSS of cpd sync', first.peakRssMb, 'MB', { max: 400 }) && ok;
  if (first.outcome.run.rowsExtracted !== rows) {
    process.stdout.write(`  read ${first.outcome.run.rowsExtracted} rows, expected ${rows}\n`);
    ok = false;
  }

  const replay = await runSync(env);
  process.stdout.write(`\nreplay (same rows again: nothing may change)\n`);
  report('  run: extract through load', replay.outcome.run.durationMs / 1000, 's');
  report('  peak RSS of cpd sync', replay.peakRssMb, 'MB');
  if (replay.outcome.run.rowsInserted + replay.outcome.run.rowsUpdated !== 0) {
    process.stdout.write(
      `  the replay changed ${replay.outcome.run.rowsInserted + replay.outcome.run.rowsUpdated} rows\n`,
    );
    ok = false;
  }
} finally {
  fake.stop();
  await admin.query(`drop database if exists ${name} with (force)`);
  await admin.end();
}
process.exit(ok ? 0 : 1);
