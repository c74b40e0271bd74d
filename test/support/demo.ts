/**
 * The main job end to end with nothing installed but Node: the fake SODA server (the live API's
 * stand-in, serving a year of synthetic Police Log rows and a year of Crime Reports on one base
 * URL, as the real domain does) and the real `cpd sync` of each, into the embedded PostgreSQL
 * under .cpd/ unless DATABASE_URL says otherwise.
 *
 *   npm run demo                 # 10,000 Police Log rows, 2025-01-01 → 2026-01-16; 7,000 Crime Reports of 2024
 *   npm run demo -- --rows 200000
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { crimeReports } from '../../src/source/datasets/crime-reports.js';
import { generateCrimeReports } from './crime-reports-generator.js';
import { fakeDatasetOf, startFakeSoda } from './fake-soda/index.js';
import { generatePoliceLog } from './police-log-generator.js';

const { values } = parseArgs({
  options: { rows: { type: 'string', default: '10000' }, seed: { type: 'string', default: '1' } },
});
const rows = Number(values.rows);
if (!Number.isInteger(rows) || rows < 1) {
  process.stderr.write(`demo: --rows expects a whole number, got ${JSON.stringify(values.rows)}\n`);
  process.exit(2);
}

const seed = Number(values.seed);
const crimeRows = 7_000;
const fake = await startFakeSoda({
  rows: generatePoliceLog({ seed, rows }),
  datasets: [fakeDatasetOf(crimeReports, generateCrimeReports({ seed, rows: crimeRows }))],
});
process.stderr.write(
  `Serving ${rows.toLocaleString('en-US')} synthetic Police Log rows and ${crimeRows.toLocaleString('en-US')} Crime Reports at ${fake.url} (the live API's stand-in).\n`,
);
const cpd = fileURLToPath(new URL('../../bin/cpd.js', import.meta.url));

function sync(args: string[]): Promise<number> {
  const child = spawn(process.execPath, ['--max-old-space-size=512', cpd, 'sync', ...args], {
    stdio: 'inherit',
    env: { ...process.env, SOCRATA_BASE_URL: fake.url },
  });
  return new Promise<number>((resolve) => child.on('exit', (exitCode) => resolve(exitCode ?? 1)));
}

let code = await sync(['--from', '2025-01-01', '--to', '2026-01-16', '--window', 'month']);
if (code === 0)
  code = await sync([
    '--dataset',
    'crime-reports',
    '--from',
    '2024-01-01',
    '--to',
    '2025-01-01',
    '--window',
    'month',
  ]);
await fake.close();
if (code === 0) {
  process.stderr.write(
    '\nDone. Run it again: nothing changes (the load only touches rows whose content changed).\n' +
      'See the dashboard: npx cpd server, then open http://127.0.0.1:3000/ (Redis is needed only for the job queue).\n',
  );
}
process.exit(code);
