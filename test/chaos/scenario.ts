import type { ChaosServices } from './stage.js';
import type { TrialResult } from './trial.js';

/** One kind of fault, tried `trials` times against real processes and services. */
export interface Scenario {
  /** Short name, for `--only` and the report's anchors. */
  id: string;
  /** What is done, for the report. */
  title: string;
  trials: { short: number; long: number };
  /** Runs the trials, adding each one's result to `results` as it ends (kept if a later one breaks off). */
  run(services: ChaosServices, trials: number, results: TrialResult[]): Promise<void>;
}

export interface ScenarioOutcome {
  scenario: Pick<Scenario, 'id' | 'title'>;
  trials: TrialResult[];
  durationMs: number;
  /** Set when the scenario itself broke off (its trials so far are kept). */
  error?: string;
}
