import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startFakeSoda, type FakeSoda } from '../support/fake-soda/index.js';
import { generatePoliceLog } from '../support/police-log-generator.js';

describe('cpd sync', () => {
  let fake: FakeSoda;
  let database: TestDatabase;
  const rows = [...generatePoliceLog({ seed: 9, rows: 2_000 })];
  beforeAll(async () => {
    fake = await startFakeSoda({ rows });
    database = await createTestDatabase({ migrate: false });
  });
  afterAll(async () => {
    await fake.close();
    await database.drop();
  });

  it('migrates on its own, syncs a range in monthly windows, and prints a summary', async () => {
    const result = await runCli(
      ['sync', '--from', '2025-01-01', '--to', '2026-02-01', '--window', 'month'],
      {
        DATABASE_URL: database.url,
        SOCRATA_BASE_URL: fake.url,
      },
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^step\s+windows\s+rows in\s+rows out\s+time\s+rows\/s/m);
    expect(result.stdout).toMatch(/^load\s+13\s/m);
    expect(result.stdout).toMatch(new RegExp(`${rows.length.toLocaleString('en-US')} rows read`));
  });

  it('fails with one line naming the source’s refusal, and exit code 1', async () => {
    const result = await runCli(['sync', '--from', '2025-01-01', '--to', '2025-02-01'], {
      DATABASE_URL: database.url,
      SOCRATA_BASE_URL: fake.url,
      SOCRATA_DATASET: 'abcd-1234',
    });
    expect(result.code).not.toBe(0);
    // No pipeline knows that dataset: refused before any request.
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/no pipeline for dataset abcd-1234/);

    fake.addFault({ kind: '404' });
    try {
      const refused = await runCli(
        ['sync', '--from', '2025-01-01', '--to', '2025-02-01', '--json'],
        {
          DATABASE_URL: database.url,
          SOCRATA_BASE_URL: fake.url,
        },
      );
      expect(refused.code).toBe(1);
      expect(refused.stderr.trim().split('\n')).toHaveLength(1);
      expect(refused.stderr).toMatch(/^cpd sync: run \d+ failed: .*404/);
      expect(JSON.parse(refused.stdout)).toMatchObject({ run: { state: 'failed' } });
    } finally {
      fake.clearFaults();
    }
  });

  it('refuses bad arguments before touching anything', async () => {
    const halfRange = await runCli(['sync', '--from', '2025-01-01'], {
      DATABASE_URL: 'postgres://nobody@127.0.0.1:1/x',
    });
    expect(halfRange.code).toBe(1);
    expect(halfRange.stderr).toMatch(/give both --from and --to/);
    const badWindow = await runCli(
      ['sync', '--from', '2025-01-01', '--to', '2025-02-01', '--window', 'year'],
      {
        DATABASE_URL: 'postgres://nobody@127.0.0.1:1/x',
      },
    );
    expect(badWindow.stderr).toMatch(/--window must be one of day, week, month, all/);
  });

  it('with DATABASE_URL unset, syncs into the embedded PostgreSQL', async () => {
    const workdir = await mkdtemp(join(tmpdir(), 'cpd-sync-embedded-'));
    await chmod(workdir, 0o755);
    try {
      const result = await runCli(
        ['sync', '--from', '2025-01-01', '--to', '2026-02-01', '--json'],
        { SOCRATA_BASE_URL: fake.url },
        { cwd: workdir, timeoutMs: 120_000 },
      );
      expect(result.code, result.stderr).toBe(0);
      const outcome = JSON.parse(result.stdout) as {
        run: { state: string; rowsInserted: number };
        database: string;
      };
      expect(outcome.database).toMatch(/^embedded PostgreSQL/);
      expect(outcome.run).toMatchObject({
        state: 'completed',
        rowsInserted: new Set(rows.map((row) => row.id)).size,
      });
    } finally {
      await rm(workdir, { recursive: true, force: true });
    }
  });
});
