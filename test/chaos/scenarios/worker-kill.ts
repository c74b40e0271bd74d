import { setTimeout as sleep } from 'node:timers/promises';
import { stepOrder } from '../../../src/pipeline/ledger/index.js';
import { generatePoliceLog } from '../../support/police-log-generator.js';
import type { Scenario } from '../scenario.js';
import { publishCorrections, stampAfter } from '../source-changes.js';
import { Stage } from '../stage.js';
import { checkTrial, findRunningSteps, measureRecovery, type StepKey } from '../trial.js';

const plan = { mode: 'window', from: '2025-01-01', to: '2025-03-01', windowSize: 'month' } as const;

/**
 * SIGKILL of `cpd worker` processes at random points of each step in turn: in half the trials
 * every worker (a host going down), in the other half one worker inside a database transaction
 * at that instant, whose jobs the survivor must take over once they stall. A supervisor starts
 * replacements; the run must complete with every row exactly once. In half the trials the source
 * first publishes corrections, so the load has updates to lose.
 */
export const workerKill: Scenario = {
  id: 'worker-sigkill',
  title: 'SIGKILL of worker processes at random points of each step',
  trials: { short: 4, long: 24 },
  async run(services, trials, results) {
    const stage = await Stage.open(services, {
      name: 'chaos_worker_kill',
      rows: generatePoliceLog({ seed: 101, rows: 24_000, from: plan.from, to: plan.to }),
    });
    try {
      const stepSpanMs = await measureStepSpans(stage);
      for (let trial = 0; trial < trials; trial += 1) {
        const step = stepOrder[trial % stepOrder.length]!;
        // Patterns that go through each step both ways, with and without corrections.
        const everyone = (trial + Math.floor(trial / 2) + Math.floor(trial / 4)) % 2 === 0;
        const corrections = (Math.floor(trial / 2) + Math.floor(trial / 8)) % 2 === 1;
        if (!corrections) await stage.reset();
        else
          publishCorrections(stage.fake, {
            share: 0.03,
            random: services.random,
            stamp: stampAfter('2026-02-01T08:00:00.000', trial),
            tag: `k${trial}`,
          });
        const heldBefore = await stage.countIncidents();
        // A slow source keeps extract busy long enough to be hit anywhere in it.
        if (step === 'extract') stage.fake.addFault({ kind: 'slow', delayMs: 150 });
        const runId = await stage.requestRun(plan);
        const target = await waitForStep(stage, runId, step);
        const delayMs = Math.round(services.random() * (stepSpanMs[step] ?? 100));
        await sleep(delayMs);
        const interrupted = await findRunningSteps(stage.pool, [runId]);
        const busy = await stage.fleet.busy(stage.pool);
        const pick = busy.length > 0 ? busy : stage.fleet.workers;
        const victims = everyone
          ? [...stage.fleet.workers]
          : [pick[Math.floor(services.random() * pick.length)]!];
        const faultAt = Date.now();
        await stage.fleet.kill(victims);
        stage.fake.clearFaults();
        const runs = await stage.waitForRuns([runId], 180_000);
        await stage.fleet.settle();
        const result = await checkTrial(stage, {
          runIds: [runId],
          runs,
          plan,
          heldBefore,
          // Which steps the killed workers held is exact only when every worker died.
          ...(everyone && { interrupted, faultAt }),
        });
        const where = target
          ? `${describeSteps(interrupted) || 'between steps'}`
          : `${step} was never seen running; killed ${describeSteps(interrupted) || 'between steps'}`;
        results.push({
          ...result,
          label: `SIGKILL of ${everyone ? `every worker (${busy.length} busy)` : 'one busy worker'} in ${where}, +${delayMs} ms${corrections ? ', after corrections' : ''}`,
          faults: victims.length,
          recoveryMs: await measureRecovery(stage.pool, interrupted, faultAt, runs),
        });
        services.log(`worker-sigkill ${trial + 1}/${trials}: ${results.at(-1)!.label}`);
      }
    } finally {
      await stage.close();
    }
  },
};

/**
 * How long each step takes here, from the ledger of an undisturbed run (with the slow source the
 * extract trials get): a kill then lands at a uniformly random point inside the step.
 */
async function measureStepSpans(stage: Stage): Promise<Record<string, number>> {
  await stage.reset();
  stage.fake.addFault({ kind: 'slow', delayMs: 150 });
  const runId = await stage.requestRun(plan);
  await stage.waitForRuns([runId], 120_000);
  stage.fake.clearFaults();
  const { rows } = await stage.pool.query<{ step: string; ms: number }>(
    `select step::text, avg(duration_ms)::float8 as ms from pipeline_steps where run_id = $1 group by step`,
    [runId],
  );
  return Object.fromEntries(rows.map((row) => [row.step, Math.max(10, row.ms)]));
}

/** Waits until the ledger shows `step` running in the run; false when the run got past it unseen. */
export async function waitForStep(stage: Stage, runId: number, step: string): Promise<boolean> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const { rows } = await stage.pool.query<{ running: boolean; past: boolean }>(
      `select bool_or(step = $2 and state = 'running') as running,
              bool_and(step <> $2 or state = 'completed') as past
         from pipeline_steps where run_id = $1`,
      [runId, step],
    );
    if (rows[0]?.running) return true;
    if (rows[0]?.past) return false;
    await sleep(5);
  }
  return false;
}

export function describeSteps(steps: readonly StepKey[]): string {
  return steps.map((step) => `${step.step} w${step.windowIndex}`).join(' and ');
}
