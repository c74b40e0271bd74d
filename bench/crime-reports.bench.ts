/**
 * Crime Reports against the Police Log, per row: the same number of generated rows of each
 * (110,000, about Crime Reports' whole history) synced by `cpd sync` in monthly windows over the
 * months each covers, each into a fresh database, from one fake SODA server serving both (as the
 * real domain does). Target (issue 15): Crime Reports at least as fast per row as the Police Log.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { startFakeSourceProcess } from './fake-source.js';
import { report } from './support.js';

const rows = Number(process.env.BENCH_ROWS ?? 110_000);
const adminUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/postgres';
const cpd = fileURLToPath(new URL('../bin/cpd.js', import.meta.url));

const admin = new pg.Client({ connectionString: adminUrl });
await admin.connect();
const databases: string[] = [];

async function syncSeconds(
  fakeUrl: string,
  dataset: string,
  range: { from: string; to: string },
): Promise<{ seconds: number; extracted: number }> {
  const name = `cpd_bench_${randomBytes(4).toString('hex')}`;
  await admin.query(`create database ${name}`);
  databases.push(name);
  const url = Object.assign(new URL(adminUrl), { pathname: `/${name}` }).toString();
  const args = ['sync', '--dataset', dataset, '--from', range.from, '--to', range.to, '--json'];
  const child = spawn(process.execPath, ['--max-old-space-size=512', cpd, ...args], {
    env: { ...process.env, DATABASE_URL: url, SOCRATA_BASE_URL: fakeUrl, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`cpd ${args.join(' ')} exited with ${code}`);
  const { run } = JSON.parse(stdout) as { run: { durationMs: number; rowsExtracted: number } };
  return { seconds: run.durationMs / 1000, extracted: run.rowsExtracted };
}

let ok = true;
const fake = await startFakeSourceProcess({ rows, crimeRows: rows, seed: 5 });
try {
  // Each dataset's first query sorts its rows in the fake: done here, outside the figures.
  for (const [id, order] of [
    ['3gki-wyrb', ':id'],
    ['xuad-73uj', ':id'],
  ])
    await (
      await fetch(`${fake.url}/resource/${id}.json?$limit=1&$order=${order}&$select=:*, *`)
    ).arrayBuffer();
  const police = await syncSeconds(fake.url, 'police-log', {
    from: '2025-01-01',
    to: '2026-02-01',
  });
  const crime = await syncSeconds(fake.url, 'crime-reports', {
    from: '2024-01-01',
    to: '2025-01-01',
  });
  const policeRate = police.extracted / police.seconds;
  const crimeRate = crime.extracted / crime.seconds;
  report(
    `Police Log: ${police.extracted.toLocaleString('en-US')} rows, monthly windows`,
    police.seconds,
    's',
  );
  report('  per second', policeRate, 'rows/s');
  report(
    `Crime Reports: ${crime.extracted.toLocaleString('en-US')} rows, monthly windows`,
    crime.seconds,
    's',
  );
  report('  per second', crimeRate, 'rows/s');
  ok =
    report('Crime Reports ÷ Police Log, rows per second', crimeRate / policeRate, '×', {
      min: 1,
    }) && ok;
  // The Crime Reports generator also re-publishes some file numbers: more rows served, not fewer.
  if (police.extracted !== rows || crime.extracted < rows) {
    process.stdout.write(
      `expected ${rows} rows of each (Crime Reports with its re-published ones)\n`,
    );
    ok = false;
  }
} finally {
  fake.stop();
  for (const name of databases) await admin.query(`drop database if exists ${name} with (force)`);
  await admin.end();
}
process.exit(ok ? 0 : 1);
