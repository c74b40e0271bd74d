import { setTimeout as sleep } from 'node:timers/promises';
import type { RunPlan } from '../../../src/pipeline/flow.js';
import { generatePoliceLog } from '../../support/police-log-generator.js';
import type { Scenario } from '../scenario.js';
import { publishCorrections, stampAfter } from '../source-changes.js';
import { Stage } from '../stage.js';
import { checkTrial } from '../trial.js';

const range = { from: '2025-01-01', to: '2025-04-01' } as const;
const monthly = { mode: 'window', ...range, windowSize: 'month' } as const;
const weekly = { mode: 'window', ...range, windowSize: 'week' } as const;
const whole = { mode: 'window', ...range, windowSize: 'all' } as const;

/**
 * Overlapping windows loaded at once: a monthly and a weekly backfill of the same range together,
 * then a one-window backfill of it. In every other trial the source publishes corrections:
 * once the first window has been extracted, so some windows read the old
 * version of a row and others the new, and whatever order the loads commit in, the table must end
 * with the newest (the finding of the same name in findings.ts).
 */
export const overlappingWindows: Scenario = {
  id: 'overlapping-windows',
  title:
    'Overlapping windows loaded at once (monthly, weekly and whole-range backfills of one range)',
  trials: { short: 2, long: 6 },
  async run(services, trials, results) {
    const stage = await Stage.open(services, {
      name: 'chaos_overlapping_windows',
      rows: generatePoliceLog({ seed: 808, rows: 12_000, from: range.from, to: range.to }),
      env: { WORKER_CONCURRENCY: '3' },
    });
    try {
      for (let trial = 0; trial < trials; trial += 1) {
        const corrections = trial % 2 === 1;
        await stage.reset();
        const plans: RunPlan[] = [monthly, weekly];
        const correct = () =>
          publishCorrections(stage.fake, {
            share: 0.05,
            random: services.random,
            stamp: stampAfter('2026-02-01T08:00:00.000', trial),
            tag: `o${trial}`,
          });
        let corrected = 0;
        const runIds = await Promise.all(plans.map((plan) => stage.requestRun(plan)));
        if (corrections) {
          await waitForFirstExtract(stage, runIds);
          corrected = correct();
        }
        // A whole-range run asked for now reads every correction, while the first two still load
        // what they read before: whatever order the loads commit in, the newest version must stay.
        runIds.push(await stage.requestRun(whole));
        plans.push(whole);
        const runs = await stage.waitForRuns(runIds, 240_000);
        const result = await checkTrial(stage, {
          runIds,
          runs,
          plan: whole,
          heldBefore: 0,
        });
        results.push({
          ...result,
          label: `${plans.map((plan) => (plan.mode === 'window' ? plan.windowSize : plan.mode)).join(', ')} backfills at once${corrections ? `; ${corrected} rows corrected after the first extract` : ''}`,
          // The overlapping runs beyond the first, and a batch of corrections between reads.
          faults: plans.length - 1 + (corrections ? 1 : 0),
        });
        services.log(`overlapping-windows ${trial + 1}/${trials}: ${results.at(-1)!.label}`);
      }
    } finally {
      await stage.close();
    }
  },
};

async function waitForFirstExtract(stage: Stage, runIds: number[]): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const { rows } = await stage.pool.query<{ done: number }>(
      `select count(*)::int as done from pipeline_steps where run_id = any($1::bigint[]) and step = 'extract' and state = 'completed'`,
      [runIds],
    );
    if (rows[0]!.done > 0) return;
    await sleep(5);
  }
  throw new Error('no extract completed within 60 s');
}
