import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startFakeSoda, type FakeSoda, type SodaRow } from '../support/fake-soda/index.js';
import { generatePoliceLog } from '../support/police-log-generator.js';

describe('cpd reconcile', () => {
  let fake: FakeSoda;
  let database: TestDatabase;
  const byId = new Map<string, SodaRow>();
  for (const row of generatePoliceLog({ seed: 29, rows: 2_000 })) byId.set(row.id!, row);
  const rows = [...byId.values()];
  beforeAll(async () => {
    fake = await startFakeSoda({ rows });
    database = await createTestDatabase({ migrate: false });
  });
  afterAll(async () => {
    await fake.close();
    await database.drop();
  });
  const env = () => ({ DATABASE_URL: database.url, SOCRATA_BASE_URL: fake.url });

  it('marks what the source removed and prints the run, refusing too many removals unconfirmed', async () => {
    const loaded = await runCli(['sync', '--from', '2020-01-01', '--to', '2030-01-01'], env());
    expect(loaded.code, loaded.stderr).toBe(0);

    fake.removeRows(rows.slice(0, 10).map((row) => row.id!));
    const reconciled = await runCli(['reconcile', '--json'], env());
    expect(reconciled.code, reconciled.stderr).toBe(0);
    const outcome = JSON.parse(reconciled.stdout) as {
      run: { state: string; rowsDeleted: number; rowsRestored: number; windowCount: number };
      steps: { step: string }[];
    };
    expect(outcome.run).toMatchObject({ state: 'completed', rowsDeleted: 10, windowCount: 1 });
    expect(outcome.steps.map((step) => step.step).sort()).toEqual([
      'extract',
      'load',
      'transform',
      'validate',
    ]);

    fake.removeRows(rows.slice(10, 400).map((row) => row.id!));
    const refused = await runCli(['reconcile'], env());
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim().split('\n').at(-1)).toMatch(
      /^cpd reconcile: run \d+ failed: reconciliation run \d+ of 3gki-wyrb \(every row we hold\): the source no longer serves 390 of the 1,\d{3} rows we hold there .*cpd reconcile --allow-deletes/,
    );

    const confirmed = await runCli(['reconcile', '--allow-deletes'], env());
    expect(confirmed.code, confirmed.stderr).toBe(0);
    expect(confirmed.stderr).toMatch(/Reconciled 3gki-wyrb in /);
    expect(confirmed.stdout).toMatch(/390 no longer at the source \(marked deleted\)/);
  });
});
