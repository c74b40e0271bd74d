import type { RunPlan } from '../../../src/pipeline/flow.js';
import { readRunTotals } from '../../../src/pipeline/ledger/index.js';
import { runCli } from '../../support/cli.js';
import type { SodaRow } from '../../support/fake-soda/index.js';
import { generatePoliceLog } from '../../support/police-log-generator.js';
import { buildBadRowCorpus, loadedIdOf, type BadRowKind } from '../bad-rows.js';
import type { Scenario } from '../scenario.js';
import { Stage } from '../stage.js';
import { checkTrial } from '../trial.js';

const plan: RunPlan = { mode: 'incremental', lookbackHours: 72 };

/**
 * A corpus of bad and odd rows (bad-rows.ts) among good ones, loaded by a first incremental sync:
 * on the queue's workers, and (long form) in-process by `cpd sync`. Nothing may crash or stop the
 * run; each bad row must be quarantined with its reason, each odd but valid one loaded as the
 * truth says, and the ledger's counts must add up.
 */
export const badRows: Scenario = {
  id: 'bad-rows',
  title: `A corpus of ${buildBadRowCorpus().length} kinds of bad and odd rows among good ones`,
  trials: { short: 1, long: 3 },
  async run(services, trials, results) {
    const corpus = buildBadRowCorpus();
    const rowsOf = (kinds: BadRowKind[]) => kinds.flatMap((kind) => kind.rows as SodaRow[]);
    const rows = [
      ...generatePoliceLog({ seed: 606, rows: 3_000, from: '2025-01-01', to: '2026-01-01' }),
      ...rowsOf(corpus),
    ];
    const stage = await Stage.open(services, { name: 'chaos_bad_rows', rows, workers: 1 });
    try {
      for (let trial = 0; trial < trials; trial += 1) {
        await stage.reset();
        const inProcess = trial % 2 === 1;
        const kinds = corpus;
        const runId = inProcess ? await syncInProcess(stage) : await stage.requestRun(plan);
        const runs = inProcess
          ? [await readRunTotals(stage.pool, runId)]
          : await stage.waitForRuns([runId], 180_000);
        const result = await checkTrial(stage, { runIds: [runId], runs, plan, heldBefore: 0 });
        // A run that did not complete quarantined nothing either: its failure says it all.
        const problems = runs.every((run) => run.state === 'completed')
          ? await checkCorpus(stage, kinds)
          : [];
        results.push({
          ...result,
          problems: [...result.problems, ...problems],
          label:
            `${kinds.length} kinds (${rowsOf(kinds).length} rows) among 3,000 good rows, ` +
            (inProcess ? 'in-process by cpd sync' : 'on the queue workers'),
          faults: kinds.length,
        });
        services.log(`bad-rows ${trial + 1}/${trials}: ${results.at(-1)!.label}`);
      }
    } finally {
      await stage.close();
    }
  },
};

async function syncInProcess(stage: Stage): Promise<number> {
  const outcome = await runCli(
    ['sync', '--json'],
    { ...stage.workerEnv, DATABASE_URL: stage.databaseUrl, LOG_LEVEL: 'warn' },
    { timeoutMs: 180_000 },
  );
  // A failed run still prints its JSON: the trial reports it like any other.
  if (!outcome.stdout.trim())
    throw new Error(`cpd sync failed (${outcome.code}): ${outcome.stderr}`);
  return (JSON.parse(outcome.stdout) as { run: { id: number } }).run.id;
}

/** Each kind's fate: its incident as expected, its quarantined rows with the expected reason. */
async function checkCorpus(stage: Stage, corpus: BadRowKind[]): Promise<string[]> {
  const problems: string[] = [];
  for (const kind of corpus) {
    const { loaded, rejected } = kind.expect;
    if (loaded) {
      const { rows } = await stage.pool.query<Record<string, unknown>>(
        'select * from incidents where id = $1',
        [loadedIdOf(kind)],
      );
      const incident = rows[0];
      if (!incident) problems.push(`${kind.name}: not loaded (expected ${loaded.what})`);
      else {
        const wrong = loaded.check?.(incident);
        if (wrong) problems.push(`${kind.name}: ${wrong}`);
      }
    }
    const { rows: quarantined } = await stage.pool.query<{ reason: string; count: number }>(
      `select reason, count(*)::int as count from rejected_records where payload->>'chaos_kind' = $1 group by reason`,
      [kind.name],
    );
    const expected = rejected ? [{ reason: rejected.reason, count: rejected.count }] : [];
    const got = quarantined.map((row) => `${row.reason} ×${row.count}`).join(', ') || 'none';
    const want = expected.map((row) => `${row.reason} ×${row.count}`).join(', ') || 'none';
    if (got !== want) problems.push(`${kind.name}: quarantined ${got}, expected ${want}`);
  }
  return problems;
}
