import { setTimeout as sleep } from 'node:timers/promises';
import { generatePoliceLog } from '../../support/police-log-generator.js';
import type { Scenario } from '../scenario.js';
import { Stage } from '../stage.js';
import { checkTrial, measureRecovery } from '../trial.js';
import { startRunToInterrupt } from '../interrupted-run.js';
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
        const { runId, heldBefore, corrections, delayMs, interrupted } = await startRunToInterrupt(
          stage,
          services.random,
          { plan, trial, tag: 'p' },
        );
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
