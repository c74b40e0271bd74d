import { generatePoliceLog } from '../../support/police-log-generator.js';
import {
  transientFaultKinds,
  type FaultKind,
  type FaultRule,
} from '../../support/fake-soda/index.js';
import type { Scenario } from '../scenario.js';
import { Stage } from '../stage.js';
import { checkTrial } from '../trial.js';

const plan = { mode: 'window', from: '2025-01-01', to: '2025-03-01', windowSize: 'month' } as const;
/** Workers give up on a request after this long (SOCRATA_TIMEOUT_MS); a stall outlasts it. */
const requestTimeoutMs = 3_000;

interface FaultTrial {
  label: string;
  rules: FaultRule[];
  /** A refusal: the run must fail saying so, then complete when retried. */
  refusal?: { message: RegExp };
  /** An error the ledger must have shown on a step meanwhile (faults that outlast the client). */
  ledgerShows?: RegExp;
}

const refusalMessages: Record<string, RegExp> = {
  '400': /could not parse SoQL query/,
  '401': /must be logged in/,
  '403': /Invalid app_token/,
  '404': /Not found/,
};

function faultTrials(form: 'short' | 'long'): FaultTrial[] {
  const single = (kind: FaultKind): FaultTrial => ({
    label: `${kind} on every 2nd request (8 times)`,
    rules: [
      {
        kind,
        every: 2,
        times: 8,
        ...(kind === 'slow' && { delayMs: 1_000 }),
        ...(kind === 'stall' && { delayMs: requestTimeoutMs + 2_000 }),
      },
    ],
  });
  const cycling: FaultTrial = {
    label: `every transient fault in turn on every 2nd request (${transientFaultKinds.length * 2} times)`,
    rules: [
      {
        kind: transientFaultKinds,
        every: 2,
        times: transientFaultKinds.length * 2,
        delayMs: requestTimeoutMs + 1_000,
      },
    ],
  };
  const outage: FaultTrial = {
    label: "503 on every request, 14 times: longer than the client's 6 attempts per page",
    rules: [{ kind: '503', times: 14 }],
    ledgerShows: /Service temporarily unavailable/,
  };
  const slow: FaultTrial = {
    label: 'every answer 800 ms late',
    rules: [{ kind: 'slow', delayMs: 800 }],
  };
  const refusal = (status: string): FaultTrial => ({
    label: `${status} once: the run fails, then completes when retried`,
    rules: [{ kind: status as FaultKind, times: 1 }],
    refusal: { message: refusalMessages[status]! },
  });
  if (form === 'short') return [cycling, outage, refusal('403')];
  return [
    ...transientFaultKinds.map(single),
    cycling,
    outage,
    slow,
    ...['400', '401', '403', '404'].map(refusal),
  ];
}

/**
 * The source failing in every way the fake SODA server can: throttling, errors, bodies cut short
 * or replaced by HTML, dropped connections, stalls past the request timeout, an outage longer than
 * the client's own retries (the queue's step attempts must carry it), plain slowness, and the
 * refusals that must fail a run with the source's own message until it is retried.
 */
export const sourceFaults: Scenario = {
  id: 'source-faults',
  title: 'The source failing in every way the fake SODA server can, and slowly',
  trials: { short: 3, long: 18 },
  async run(services, trials, results) {
    const form = trials <= 3 ? 'short' : 'long';
    const stage = await Stage.open(services, {
      name: 'chaos_source_faults',
      rows: generatePoliceLog({ seed: 505, rows: 10_000, from: plan.from, to: plan.to }),
      // Small pages: many requests for the faults to hit.
      env: { SOCRATA_TIMEOUT_MS: String(requestTimeoutMs), SOCRATA_PAGE_SIZE: '500' },
    });
    try {
      for (const trial of faultTrials(form).slice(0, trials)) {
        await stage.reset();
        const requestsBefore = stage.fake.requests.length;
        for (const rule of trial.rules) stage.fake.addFault(rule);
        const faultAt = Date.now();
        const runId = await stage.requestRun(plan);
        const seen = new Set<string>();
        let runs = await stage.waitForRuns([runId], 240_000, seen);
        const problems: string[] = [];
        let recoveryFrom = faultAt;
        if (trial.refusal) {
          const run = runs[0]!;
          if (run.state !== 'failed')
            problems.push(`a refused request left the run ${run.state}, not failed`);
          if (!trial.refusal.message.test(run.error ?? ''))
            problems.push(
              `the run's error does not give the source's message: ${run.error ?? 'none'}`,
            );
          stage.fake.clearFaults();
          recoveryFrom = Date.now();
          await stage.orchestrator.retryRun(runId);
          runs = await stage.waitForRuns([runId], 240_000, seen);
        }
        stage.fake.clearFaults();
        const fired = stage.fake.requests
          .slice(requestsBefore)
          .filter((request) => request.fault).length;
        const result = await checkTrial(stage, { runIds: [runId], runs, plan, heldBefore: 0 });
        if (fired === 0) problems.push('no fault fired');
        if (trial.ledgerShows && ![...seen].some((error) => trial.ledgerShows!.test(error)))
          problems.push(
            `the ledger never showed the fault (saw: ${[...seen].join(' | ') || 'no error'})`,
          );
        results.push({
          ...result,
          problems: [...problems, ...result.problems],
          label: trial.label,
          faults: fired,
          recoveryMs:
            runs[0]!.state === 'completed' ? (await endOf(stage, runId)) - recoveryFrom : undefined,
        });
        services.log(`source-faults: ${trial.label}: ${fired} faults fired`);
      }
    } finally {
      await stage.close();
    }
  },
};

async function endOf(stage: Stage, runId: number): Promise<number> {
  const { rows } = await stage.pool.query<{ ended: number }>(
    `select (extract(epoch from ended_at) * 1000)::float8 as ended from pipeline_runs where id = $1`,
    [runId],
  );
  return rows[0]!.ended;
}
