import { setTimeout as sleep } from 'node:timers/promises';
import { generatePoliceLog } from '../../support/police-log-generator.js';
import type { Scenario } from '../scenario.js';
import { publishCorrections, stampAfter } from '../source-changes.js';
import { Stage } from '../stage.js';
import { checkTrial, findRunningSteps, measureRecovery } from '../trial.js';
import { describeSteps } from './worker-kill.js';

const plan = { mode: 'window', from: '2025-01-01', to: '2025-04-01', windowSize: 'month' } as const;

/**
 * The private PostgreSQL stopped mid-run and started again: a fast shutdown (connections cut,
 * clean stop) or an immediate one (no checkpoint: it crash-recovers from its WAL on start), down
 * for a random while. Workers run with production's retry delays: the run must complete by
 * itself, every interrupted step redone, nothing lost.
 */
export const postgresRestart: Scenario = {
  id: 'postgres-restart',
  title: 'PostgreSQL restarted mid-run: fast shutdown, and immediate shutdown with crash recovery',
  trials: { short: 2, long: 10 },
  async run(services, trials, results) {
    const stage = await Stage.open(services, {
      name: 'chaos_postgres_restart',
      rows: generatePoliceLog({ seed: 202, rows: 18_000, from: plan.from, to: plan.to }),
      backoffScale: 1,
    });
    try {
      for (let trial = 0; trial < trials; trial += 1) {
        const mode = trial % 2 === 0 ? 'fast' : 'immediate';
        const corrections = Math.floor(trial / 2) % 2 === 1;
        if (corrections)
          publishCorrections(stage.fake, {
            share: 0.03,
            random: services.random,
            stamp: stampAfter('2026-02-01T08:00:00.000', trial),
            tag: `p${trial}`,
          });
        else await stage.reset();
        const heldBefore = await stage.countIncidents();
        // Slow pages keep steps in flight for the restart to cut.
        stage.fake.addFault({ kind: 'slow', delayMs: 100 });
        const runId = await stage.requestRun(plan);
        await waitForAnyStep(stage, runId);
        const delayMs = Math.round(services.random() * 2_000);
        await sleep(delayMs);
        const interrupted = await findRunningSteps(stage.pool, [runId]);
        const downMs = 500 + Math.round(services.random() * 3_000);
        const faultAt = Date.now();
        await services.postgres.stop(mode);
        const settledAt = Date.now();
        await sleep(downMs);
        await services.postgres.start();
        stage.fake.clearFaults();
        const runs = await stage.waitForRuns([runId], 240_000);
        const result = await checkTrial(stage, {
          runIds: [runId],
          runs,
          plan,
          heldBefore,
          interrupted,
          faultAt,
          settledAt,
        });
        results.push({
          ...result,
          label: `${mode} shutdown ${delayMs} ms into the run (${describeSteps(interrupted) || 'no step running'}), down ${downMs} ms${corrections ? ', after corrections' : ''}`,
          faults: 1,
          recoveryMs: await measureRecovery(stage.pool, interrupted, faultAt, runs),
        });
        services.log(`postgres-restart ${trial + 1}/${trials}: ${results.at(-1)!.label}`);
      }
    } finally {
      await stage.close();
    }
  },
};

/** Waits until the ledger shows a step of the run running. */
export async function waitForAnyStep(stage: Stage, runId: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if ((await findRunningSteps(stage.pool, [runId])).length > 0) return;
    await sleep(10);
  }
  throw new Error(`no step of run ${runId} started within 60 s`);
}
