import { mkdtemp, chmod, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

describe('cpd migrate', () => {
  const databases: TestDatabase[] = [];
  afterAll(async () => {
    await Promise.all(databases.map((database) => database.drop()));
  });

  it('migrates a database, and two concurrent runs both succeed', async () => {
    const database = await createTestDatabase({ migrate: false });
    databases.push(database);
    const [first, second] = await Promise.all([
      runCli(['migrate'], { DATABASE_URL: database.url }),
      runCli(['migrate'], { DATABASE_URL: database.url }),
    ]);
    expect(first.code, first.stderr).toBe(0);
    expect(second.code, second.stderr).toBe(0);
    const outputs = [first.stdout, second.stdout].sort();
    expect(outputs.some((out) => /^Applied \d+ migration/.test(out))).toBe(true);
    expect(outputs.some((out) => /up to date/.test(out))).toBe(true);

    const again = await runCli(['migrate'], { DATABASE_URL: database.url });
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/up to date/);
  });

  it('names the database it cannot reach, on one line, and exits non-zero within 10 s', async () => {
    const result = await runCli(['migrate'], { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/x' });
    expect(result.code).not.toBe(0);
    expect(result.durationMs).toBeLessThan(10_000);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/127\.0\.0\.1:1\/x/);
    expect(lines[0]).toMatch(/DATABASE_URL/);
  });

  it('names each malformed variable on its own line', async () => {
    const result = await runCli(['migrate'], {
      DATABASE_URL: 'postgres://nobody@127.0.0.1:1/x',
      REDIS_URL: 'localhost:6379',
      PORT: 'eighty',
    });
    expect(result.code).toBe(2);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines.find((line) => line.includes('REDIS_URL'))).toMatch(/redis:\/\//);
    expect(lines.find((line) => line.includes('PORT'))).toMatch(/TCP port/);
  });

  it('with DATABASE_URL unset, starts an embedded PostgreSQL, migrates it and stops it', async () => {
    const workdir = await mkdtemp(join(tmpdir(), 'cpd-embedded-'));
    // The cluster runs as the postgres user when we are root; it must be able to enter the folder.
    await chmod(workdir, 0o755);
    try {
      const first = await runCli(['migrate'], {}, { cwd: workdir, timeoutMs: 120_000 });
      expect(first.code, first.stderr).toBe(0);
      expect(first.stdout).toMatch(/^Applied \d+ migrations? to embedded PostgreSQL/);

      const second = await runCli(['migrate'], {}, { cwd: workdir, timeoutMs: 120_000 });
      expect(second.code, second.stderr).toBe(0);
      expect(second.stdout).toMatch(/embedded PostgreSQL .* is up to date/);

      // Stopped: no server is left running on that folder.
      const { execFileSync } = await import('node:child_process');
      const processes = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
      expect(processes).not.toContain(join(workdir, '.cpd', 'postgres'));
    } finally {
      await rm(workdir, { recursive: true, force: true });
    }
  });
});
