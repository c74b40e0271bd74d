import { setTimeout as sleep } from 'node:timers/promises';
import { generatePoliceLog } from '../../support/police-log-generator.js';
import type { Scenario } from '../scenario.js';
import { Stage } from '../stage.js';
import { checkTrial, measureRecovery } from '../trial.js';
import { startRunToInterrupt } from '../interrupted-run.js';
import { describeSteps } from './worker-kill.js';

const plan = { mode: 'window', from: '2025-01-01', to: '2025-04-01', windowSize: 'month' } as const;

/**
 * The private Redis (append-only, fsync every second, as compose.yaml runs it) restarted mid-run:
 * a clean restart (SIGTERM: it writes its file and stops) or a crash (SIGKILL), back after a
 * moment. Jobs in flight lose their locks; the run must still complete, each step once.
 */
export const redisRestart: Scenario = {
  id: 'redis-restart',
  title: 'Redis (append-only) restarted mid-run: clean restart, and a crash',
  trials: { short: 2, long: 8 },
  async run(services, trials, results) {
    const stage = await Stage.open(services, {
      name: 'chaos_redis_restart',
      rows: generatePoliceLog({ seed: 303, rows: 18_000, from: plan.from, to: plan.to }),
    });
    try {
      for (let trial = 0; trial < trials; trial += 1) {
        const crash = trial % 2 === 1;
        const { runId, heldBefore, corrections, delayMs, interrupted } = await startRunToInterrupt(
          stage,
          services.random,
          { plan, trial, tag: 'r' },
        );
        const downMs = Math.round(services.random() * 2_000);
        const faultAt = Date.now();
        if (crash) await services.redis.kill();
        else await services.redis.stop();
        await sleep(downMs);
        await services.redis.start();
        stage.fake.clearFaults();
        const runs = await stage.waitForRuns([runId], 240_000);
        const result = await checkTrial(stage, { runIds: [runId], runs, plan, heldBefore });
        results.push({
          ...result,
          label: `${crash ? 'crash (SIGKILL)' : 'restart (SIGTERM)'} ${delayMs} ms into the run (${describeSteps(interrupted) || 'no step running'}), down ${downMs} ms${corrections ? ', after corrections' : ''}`,
          faults: 1,
          recoveryMs: await measureRecovery(stage.pool, interrupted, faultAt, runs),
        });
        services.log(`redis-restart ${trial + 1}/${trials}: ${results.at(-1)!.label}`);
      }
    } finally {
      await stage.close();
    }
  },
};
