import { setTimeout as sleep } from 'node:timers/promises';
import type { RunPlan } from '../../src/pipeline/flow.js';
import { publishCorrections, stampAfter } from './source-changes.js';
import type { Stage } from './stage.js';
import { findRunningSteps, type StepKey } from './trial.js';

/** Waits until the ledger shows a step of the run running. */
export async function waitForAnyStep(stage: Stage, runId: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if ((await findRunningSteps(stage.pool, [runId])).length > 0) return;
    await sleep(10);
  }
  throw new Error(`no step of run ${runId} started within 60 s`);
}

export interface RunToInterrupt {
  runId: number;
  /** Rows the table held before the run. */
  heldBefore: number;
  /** Whether this trial runs over corrections published since the last one (else a fresh table). */
  corrections: boolean;
  /** How long after its first step the run is interrupted. */
  delayMs: number;
  /** The steps running at that moment. */
  interrupted: StepKey[];
}

/**
 * The first half of a restart trial: every other pair of trials starts from corrections published
 * over the last trial's table, the others from an empty one; the run's source answers slowly, so
 * steps are in flight; returns a random moment (up to 2 s) after the first step started, with
 * the steps running then. The caller injects its fault, then clears the source's slowness.
 */
export async function startRunToInterrupt(
  stage: Stage,
  random: () => number,
  options: { plan: RunPlan; trial: number; tag: string },
): Promise<RunToInterrupt> {
  const { plan, trial, tag } = options;
  const corrections = Math.floor(trial / 2) % 2 === 1;
  if (corrections)
    publishCorrections(stage.fake, {
      share: 0.03,
      random,
      stamp: stampAfter('2026-02-01T08:00:00.000', trial),
      tag: `${tag}${trial}`,
    });
  else await stage.reset();
  const heldBefore = await stage.countIncidents();
  stage.fake.addFault({ kind: 'slow', delayMs: 100 });
  const runId = await stage.requestRun(plan);
  await waitForAnyStep(stage, runId);
  const delayMs = Math.round(random() * 2_000);
  await sleep(delayMs);
  const interrupted = await findRunningSteps(stage.pool, [runId]);
  return { runId, heldBefore, corrections, delayMs, interrupted };
}
