import { spawn } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startFakeSoda, type FakeSoda, type SodaRow } from '../support/fake-soda/index.js';

/**
 * `cpd dataset scaffold` on a third dataset holding every SODA type, in a copy of the project (so
 * nothing generated lands in src/): scaffold, generate the migration, typecheck, migrate, sync from
 * the fake server, read the rows back typed.
 */

const datasetId = 'abcd-1234';
const columns = [
  { name: 'inspection_id', type: 'text' },
  { name: 'business', type: 'text' },
  { name: 'score', type: 'number' },
  { name: 'inspected_on', type: 'floating_timestamp' },
  { name: 'recorded_at', type: 'fixed_timestamp' },
  { name: 'passed', type: 'checkbox' },
  { name: 'site', type: 'point' },
  { name: 'address', type: 'location' },
  { name: 'website', type: 'url' },
] as const;

// SODA JSON: a checkbox is a boolean, points, locations and urls are objects.
const rows = [
  {
    inspection_id: 'I-0001',
    business: 'Cafe Luna',
    score: '92.5',
    inspected_on: '2024-03-10T02:30:00.000',
    recorded_at: '2024-03-11T15:00:00.000Z',
    passed: true,
    site: { type: 'Point', coordinates: [-71.1032, 42.3656] },
    address: {
      latitude: '42.3656',
      longitude: '-71.1032',
      human_address: '{"address": "400 MASS AVE", "city": "Cambridge", "state": "MA", "zip": ""}',
    },
    website: { url: 'http://example.org/luna', description: 'Menu' },
  },
  {
    inspection_id: 'I-0002',
    business: 'Bakery',
    score: '71',
    inspected_on: '2024-07-02T10:15:00.000',
    passed: false,
    website: { url: 'http://example.org/bakery' },
  },
  { inspection_id: 'I-0003', business: 'Kiosk', inspected_on: '2024-11-20T09:00:00.000' },
] as unknown as SodaRow[];

function run(
  args: string[],
  options: { cwd: string; env?: Record<string, string> },
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: options.cwd,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...options.env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 240_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('cpd dataset scaffold', () => {
  let copy: string;
  let fake: FakeSoda;
  let database: TestDatabase;
  beforeAll(async () => {
    copy = await mkdtemp(join(tmpdir(), 'cpd-scaffold-'));
    for (const entry of [
      'src',
      'bin',
      'drizzle',
      'package.json',
      'tsconfig.json',
      'drizzle.config.ts',
      '.prettierrc.json',
    ])
      await cp(join(projectRoot, entry), join(copy, entry), { recursive: true }).catch(
        (error: NodeJS.ErrnoException) => {
          if (error.code !== 'ENOENT') throw error;
        },
      );
    await symlink(join(projectRoot, 'node_modules'), join(copy, 'node_modules'));
    fake = await startFakeSoda({
      datasets: [
        { datasetId, rows, columns, naturalKey: 'inspection_id', title: 'Food Inspections' },
      ],
    });
    database = await createTestDatabase({ migrate: false });
  });
  afterAll(async () => {
    await fake?.close();
    await database?.drop();
    if (copy) await rm(copy, { recursive: true, force: true });
  });

  it(
    'writes files that generate a migration, typecheck, migrate and sync every type',
    { timeout: 600_000 },
    async () => {
      const env = { SOCRATA_BASE_URL: fake.url, DATABASE_URL: database.url, LOG_LEVEL: 'warn' };
      const cpd = join(copy, 'bin', 'cpd.js');
      const scaffolded = await run(
        [
          cpd,
          'dataset',
          'scaffold',
          datasetId,
          '--name',
          'food-inspections',
          '--key',
          'inspection_id',
        ],
        { cwd: copy, env },
      );
      expect(scaffolded.code, scaffolded.stderr).toBe(0);
      expect(scaffolded.stdout).toMatch(
        /key inspection_id, cursor :updated_at, window inspected_on/,
      );
      const definition = await readFile(
        join(copy, 'src/source/datasets/food-inspections.ts'),
        'utf8',
      );
      for (const type of [
        'text',
        'number',
        'calendar_date',
        'fixed_timestamp',
        'checkbox',
        'point',
        'location',
        'url',
      ])
        expect(definition).toContain(`type: '${type}'`);

      const generated = await run(
        [join(copy, 'node_modules/drizzle-kit/bin.cjs'), 'generate', '--name', 'food_inspections'],
        { cwd: copy },
      );
      expect(generated.code, generated.stderr + generated.stdout).toBe(0);
      const typecheck = await run(
        [join(copy, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', 'tsconfig.json'],
        { cwd: copy },
      );
      expect(typecheck.code, typecheck.stdout).toBe(0);

      const migrated = await run([cpd, 'migrate'], { cwd: copy, env });
      expect(migrated.code, migrated.stderr).toBe(0);
      const synced = await run(
        [
          cpd,
          'sync',
          '--dataset',
          'food-inspections',
          '--from',
          '2024-01-01',
          '--to',
          '2025-01-01',
          '--json',
        ],
        { cwd: copy, env },
      );
      expect(synced.code, synced.stderr).toBe(0);
      expect(JSON.parse(synced.stdout)).toMatchObject({
        run: { state: 'completed', rowsInserted: 3, rowsRejected: 0 },
      });

      const { rows: stored } = await database.pool.query<Record<string, unknown>>(
        `select inspection_id, business, score, to_char(inspected_on, 'YYYY-MM-DD"T"HH24:MI') as inspected_on,
              recorded_at, passed, site, address, website, source_row_id, source_updated_at
         from food_inspections order by inspection_id`,
      );
      expect(stored[0]).toMatchObject({
        inspection_id: 'I-0001',
        business: 'Cafe Luna',
        score: '92.5',
        inspected_on: '2024-03-10T02:30',
        passed: true,
        site: { type: 'Point', coordinates: [-71.1032, 42.3656] },
        address: { latitude: '42.3656', longitude: '-71.1032' },
        website: { url: 'http://example.org/luna', description: 'Menu' },
      });
      expect(stored[0]!.recorded_at).toEqual(new Date('2024-03-11T15:00:00.000Z'));
      expect(stored[0]!.source_updated_at).toBeInstanceOf(Date);
      expect(stored[1]).toMatchObject({
        score: '71',
        passed: false,
        site: null,
        recorded_at: null,
      });
      expect(stored[2]).toMatchObject({ score: null, passed: null, address: null, website: null });

      // Incremental next: nothing changed, nothing written.
      const again = await run([cpd, 'sync', '--dataset', datasetId, '--json'], { cwd: copy, env });
      expect(again.code, again.stderr).toBe(0);
      expect(JSON.parse(again.stdout)).toMatchObject({
        run: { state: 'completed', rowsInserted: 0, rowsUpdated: 0 },
      });
    },
  );
});
