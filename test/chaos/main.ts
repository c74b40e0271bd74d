/**
 * The fault suite: `npm run chaos` (the long form, which rewrites docs/reliability.md) or
 * `npm run chaos -- --short` (CI's form, whose report goes to test-results/).
 *
 *   npm run chaos -- [--short] [--only worker-sigkill,redis-restart] [--seed 42] [--report path]
 *
 * It starts its own PostgreSQL cluster (Debian's binaries) and its own Redis (append-only), so the
 * shared services are never touched, runs each scenario against real `cpd` processes, prints a
 * line per trial, writes the report and exits non-zero when any trial lost, duplicated or left
 * stale a row, or the ledger did not tell what happened.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createRandom } from '../support/police-log-generator.js';
import { startPrivatePostgres } from '../support/private-postgres.js';
import { startPrivateRedis } from '../support/redis-server.js';
import { projectRoot } from '../support/cli.js';
import { findings } from './findings.js';
import { formatReport, formatSeconds, outcomePassed, trialPassed } from './report.js';
import type { Scenario, ScenarioOutcome } from './scenario.js';
import { scenarios } from './scenarios/index.js';
import type { ChaosServices } from './stage.js';

const { values } = parseArgs({
  options: {
    short: { type: 'boolean', default: process.env.CHAOS_SHORT === '1' },
    only: { type: 'string' },
    seed: { type: 'string' },
    report: { type: 'string' },
  },
});
const form = values.short ? 'short' : 'long';
const seed = values.seed ? Number(values.seed) : Date.now() % 1_000_000;
const only = values.only?.split(',').map((id) => id.trim());
const unknown = only?.filter((id) => !scenarios.some((scenario) => scenario.id === id)) ?? [];
if (unknown.length > 0) {
  process.stderr.write(
    `chaos: no scenario ${unknown.join(', ')}; known: ${scenarios.map((s) => s.id).join(', ')}\n`,
  );
  process.exit(2);
}
const chosen = scenarios.filter((scenario) => !only || only.includes(scenario.id));
const reportPath = resolve(
  projectRoot,
  values.report ??
    (form === 'long' && !only ? 'docs/reliability.md' : `test-results/reliability-${form}.md`),
);

const started = Date.now();
const say = (message: string) => process.stdout.write(`${message}\n`);
say(`chaos: ${form} form, seed ${seed}, scenarios ${chosen.map((s) => s.id).join(', ')}`);

const postgres = await startPrivatePostgres();
const redis = await startPrivateRedis({ appendFsync: 'everysec' });
say(`chaos: private PostgreSQL on port ${postgres.port}, private Redis on port ${redis.port}`);
const services: ChaosServices = {
  postgres,
  redis,
  random: createRandom(seed),
  log: (message) => say(`  ${message}`),
};

const outcomes: ScenarioOutcome[] = [];
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    interrupted = true;
    say(
      `chaos: ${signal}; finishing the current scenario, then stopping its processes and services`,
    );
  });
}
try {
  for (const scenario of chosen) {
    if (interrupted) break;
    outcomes.push(await runScenario(scenario, services));
  }
} finally {
  await redis.close().catch(() => undefined);
  await postgres.close().catch(() => undefined);
}

const durationMs = Date.now() - started;
await mkdir(dirname(reportPath), { recursive: true });
await writeFile(
  reportPath,
  formatReport({
    form,
    seed,
    startedAt: new Date(started),
    durationMs,
    outcomes,
    findings,
    machine: `${cpus().length} cores`,
  }),
);
const passed = outcomes.filter(outcomePassed).length;
say(`chaos: report written to ${reportPath} in ${formatSeconds(durationMs)}`);
say(`chaos: ${passed} passed, ${outcomes.length - passed} failed`);
process.exit(passed === outcomes.length && !interrupted ? 0 : 1);

async function runScenario(scenario: Scenario, services: ChaosServices): Promise<ScenarioOutcome> {
  const trials = scenario.trials[form];
  say(`chaos: ${scenario.id}: ${scenario.title} (${trials} trials)`);
  const begun = Date.now();
  const outcome: ScenarioOutcome = {
    scenario: { id: scenario.id, title: scenario.title },
    trials: [],
    durationMs: 0,
  };
  try {
    await scenario.run(services, trials, outcome.trials);
  } catch (error) {
    outcome.error = error instanceof Error ? (error.stack ?? error.message) : String(error);
  }
  outcome.durationMs = Date.now() - begun;
  for (const trial of outcome.trials.filter((trial) => !trialPassed(trial))) {
    say(
      `  FAILED: ${trial.label}: lost ${trial.lost}, duplicates ${trial.duplicates}, stale ${trial.stale}, unexpected ${trial.unexpected}, wrongly deleted ${trial.wronglyDeleted}, wrongly kept ${trial.wronglyKept}`,
    );
    for (const problem of trial.problems) say(`    ${problem}`);
    say(`    ledger: ${trial.ledger}`);
  }
  if (outcome.error) say(`  BROKE OFF: ${outcome.error}`);
  say(
    `chaos: ${scenario.id}: ${outcomePassed(outcome) ? 'pass' : 'FAIL'} (${outcome.trials.length} trials, ${formatSeconds(outcome.durationMs)})`,
  );
  return outcome;
}
