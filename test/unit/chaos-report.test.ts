import { describe, expect, it } from 'vitest';
import { formatReport, outcomePassed } from '../chaos/report.js';
import type { ScenarioOutcome } from '../chaos/scenario.js';
import type { TrialResult } from '../chaos/trial.js';

const trial = (overrides: Partial<TrialResult> = {}): TrialResult => ({
  label: 'SIGKILL in load w0',
  faults: 1,
  lost: 0,
  duplicates: 0,
  stale: 0,
  unexpected: 0,
  wronglyDeleted: 0,
  wronglyKept: 0,
  recoveryMs: 2_000,
  problems: [],
  ledger: 'run 1 completed: w0 load completed×2',
  ...overrides,
});

const outcome = (trials: TrialResult[], error?: string): ScenarioOutcome => ({
  scenario: { id: 'worker-sigkill', title: 'SIGKILL of workers' },
  trials,
  durationMs: 10_000,
  ...(error && { error }),
});

const input = (outcomes: ScenarioOutcome[]) => ({
  form: 'long' as const,
  seed: 7,
  startedAt: new Date('2026-11-27T12:00:00Z'),
  durationMs: 60_000,
  outcomes,
  findings: [{ found: 'Workers died.', fix: 'Fixed in client.ts.', status: 'fixed' as const }],
  machine: '2 cores',
});

describe('the reliability report', () => {
  it('sums each scenario and gives recovery percentiles', () => {
    const report = formatReport(
      input([outcome([trial({ recoveryMs: 1_000 }), trial({ recoveryMs: 3_000, faults: 2 })])]),
    );
    expect(report).toContain('**Result: every scenario passed**');
    expect(report).toMatch(
      /\| \[worker-sigkill\]\(#worker-sigkill\) \| 2 \| 3 \| 0 \| 0 \| 0 \| 0 \| 0 \| 0 \| 1\.0 s \| 3\.0 s \| pass \|/,
    );
    expect(report).toContain('## What the suite found and how it was fixed');
    expect(report).toContain('1. **Fixed.** Workers died. Fixed in client.ts.');
  });

  it('fails a scenario for any row lost, duplicated, stale, wrongly deleted or kept, any problem, or a break-off', () => {
    expect(outcomePassed(outcome([trial()]))).toBe(true);
    expect(outcomePassed(outcome([trial({ stale: 1 })]))).toBe(false);
    expect(outcomePassed(outcome([trial({ wronglyDeleted: 1 })]))).toBe(false);
    expect(outcomePassed(outcome([trial({ wronglyKept: 1 })]))).toBe(false);
    expect(outcomePassed(outcome([trial({ problems: ['run 1 ended failed'] })]))).toBe(false);
    expect(outcomePassed(outcome([trial()], 'runs did not end'))).toBe(false);
    expect(outcomePassed(outcome([]))).toBe(false);
    const report = formatReport(input([outcome([trial({ lost: 2, problems: ['a | b'] })])]));
    expect(report).toContain('**Result: FAILED**');
    expect(report).toContain('a \\| b');
  });

  it('gives each trial its wrongly deleted and wrongly kept rows, and each scenario their sums', () => {
    const report = formatReport(
      input([
        outcome([trial({ wronglyDeleted: 2 }), trial({ wronglyKept: 3, wronglyDeleted: 1 })]),
      ]),
    );
    expect(report).toContain('| wrongly deleted | wrongly kept |');
    expect(report).toMatch(
      /\| 2 \| 2 \| 0 \| 0 \| 0 \| 0 \| 3 \| 3 \| 2\.0 s \| 2\.0 s \| \*\*fail\*\* \|/,
    );
    expect(report).toMatch(/\| 1 \| SIGKILL in load w0 \| 0 \| 0 \| 0 \| 2\/0 \|/);
    expect(report).toMatch(/\| 2 \| SIGKILL in load w0 \| 0 \| 0 \| 0 \| 1\/3 \|/);
  });
});
