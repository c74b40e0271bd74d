/**
 * The fake SODA server on its own, for benchmarks, the fault suite and trying things by hand:
 *
 *   npm run socrata:fake -- --rows 10000 --seed 1 --port 8090 [--from 2025-01-01 --to 2026-01-16]
 *   npm run socrata:fake -- --file rows.json --port 8090
 *
 * Generated rows come with a year of Crime Reports (xuad-73uj) on the same base URL
 * (`--crime-rows N`, 0 for none), as the real domain serves both; `/api/views/<id>.json` describes each.
 *
 * Prints its base URL on the first line of stdout once it listens (--port 0 picks a free port);
 * details go to stderr. Stops on SIGINT or SIGTERM.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { crimeReports } from '../../../src/source/datasets/crime-reports.js';
import { generateCrimeReports } from '../crime-reports-generator.js';
import { generatePoliceLog } from '../police-log-generator.js';
import { fakeDatasetOf, startFakeSoda } from './server.js';
import type { SodaRow } from './types.js';

function fail(message: string): never {
  process.stderr.write(`socrata:fake: ${message}\n`);
  process.exit(2);
}

function wholeNumber(text: string | undefined, name: string, fallback: number): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text)) fail(`--${name} expects a whole number, got ${JSON.stringify(text)}`);
  return Number(text);
}

async function readRows(path: string): Promise<SodaRow[]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    fail(`cannot read ${path} as JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  const valid =
    Array.isArray(parsed) &&
    parsed.every(
      (row) =>
        typeof row === 'object' &&
        row !== null &&
        Object.values(row as Record<string, unknown>).every((value) => typeof value === 'string'),
    );
  if (!valid)
    fail(`${path} must hold a JSON array of SODA rows (objects whose values are strings)`);
  return parsed as SodaRow[];
}

const { values } = parseArgs({
  options: {
    rows: { type: 'string' },
    seed: { type: 'string' },
    file: { type: 'string' },
    port: { type: 'string' },
    host: { type: 'string' },
    dataset: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    'crime-rows': { type: 'string' },
  },
});
if (values.rows !== undefined && values.file !== undefined) fail('give --rows or --file, not both');

const rows = values.file
  ? await readRows(values.file)
  : generatePoliceLog({
      seed: wholeNumber(values.seed, 'seed', 1),
      rows: wholeNumber(values.rows, 'rows', 10_000),
      ...(values.from !== undefined && { from: values.from }),
      ...(values.to !== undefined && { to: values.to }),
    });
const started = performance.now();
const fake = await startFakeSoda({
  rows,
  port: wholeNumber(values.port, 'port', 0),
  ...(values.host !== undefined && { host: values.host }),
  ...(values.dataset !== undefined && { datasetId: values.dataset }),
  datasets:
    values.file !== undefined || values['crime-rows'] === '0'
      ? []
      : [
          fakeDatasetOf(
            crimeReports,
            generateCrimeReports({
              seed: wholeNumber(values.seed, 'seed', 1),
              rows: wholeNumber(values['crime-rows'], 'crime-rows', 7_000),
            }),
          ),
        ],
});
const count = fake.listRows().length;
process.stdout.write(`${fake.url}\n`);
process.stderr.write(
  `fake SODA server: ${count.toLocaleString('en-US')} rows of ${fake.datasetId} ready in ` +
    `${Math.round(performance.now() - started)} ms at ${fake.url}/resource/${fake.datasetId}.json\n` +
    'control: POST|DELETE /__fake/faults, POST|DELETE /__fake/rows, POST /__fake/fields, GET|DELETE /__fake/requests\n',
);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void fake.close().then(() => process.exit(0));
  });
}
