import { setTimeout as sleep } from 'node:timers/promises';
import { generatePoliceLog } from '../../support/police-log-generator.js';
import type { Scenario } from '../scenario.js';
import { Stage } from '../stage.js';
import { checkTrial, findRunningSteps, measureRecovery } from '../trial.js';
import { waitForAnyStep } from '../interrupted-run.js';
import { describeSteps } from './worker-kill.js';

const plan = { mode: 'window', from: '2025-01-01', to: '2025-04-01', windowSize: 'month' } as const;
/** BullMQ's blocking wait for a job (drainDelay, 5 s by default): outages must outlast it. */
const blockingTimeoutMs = 5_000;

/**
 * Redis away for longer than the workers' blocking timeout, twice per trial: once mid-run (the
 * run must complete once Redis is back), once while the workers sit idle waiting for jobs (a run
 * asked for afterwards must be consumed: workers that gave up on their blocking connection would
 * never take it).
 */
export const redisOutage: Scenario = {
  id: 'redis-outage',
  title: "Redis outage longer than the workers' blocking timeout, mid-run and while idle",
  trials: { short: 1, long: 3 },
  async run(services, trials, results) {
    const stage = await Stage.open(services, {
      name: 'chaos_redis_outage',
      rows: generatePoliceLog({ seed: 404, rows: 12_000, from: plan.from, to: plan.to }),
    });
    try {
      for (let trial = 0; trial < trials; trial += 1) {
        const outageMs = blockingTimeoutMs + 3_000 + trial * 7_000;
        // Mid-run.
        await stage.reset();
        stage.fake.addFault({ kind: 'slow', delayMs: 100 });
        const runId = await stage.requestRun(plan);
        await waitForAnyStep(stage, runId);
        await sleep(Math.round(services.random() * 1_000));
        const interrupted = await findRunningSteps(stage.pool, [runId]);
        await services.redis.stop();
        await sleep(outageMs);
        await services.redis.start();
        const backAt = Date.now();
        stage.fake.clearFaults();
        const runs = await stage.waitForRuns([runId], 240_000);
        const mid = await checkTrial(stage, { runIds: [runId], runs, plan, heldBefore: 0 });
        results.push({
          ...mid,
          label: `${outageMs / 1000} s outage mid-run (${describeSteps(interrupted) || 'no step running'})`,
          faults: 1,
          recoveryMs: await measureRecovery(stage.pool, interrupted, backAt, runs),
        });
        services.log(`redis-outage ${trial + 1}/${trials}: ${results.at(-1)!.label}`);

        // Idle: the workers are blocked waiting for jobs when Redis goes.
        await stage.reset();
        await sleep(1_000);
        await services.redis.stop();
        await sleep(outageMs);
        await services.redis.start();
        const idleBackAt = Date.now();
        const nextRun = await stage.requestRun(plan);
        const nextRuns = await stage.waitForRuns([nextRun], 120_000);
        const idle = await checkTrial(stage, {
          runIds: [nextRun],
          runs: nextRuns,
          plan,
          heldBefore: 0,
        });
        results.push({
          ...idle,
          label: `${outageMs / 1000} s outage while idle; a run asked for after it`,
          faults: 1,
          recoveryMs: await measureRecovery(stage.pool, [], idleBackAt, nextRuns),
        });
        services.log(`redis-outage ${trial + 1}/${trials}: ${results.at(-1)!.label}`);
      }
    } finally {
      await stage.close();
    }
  },
};
