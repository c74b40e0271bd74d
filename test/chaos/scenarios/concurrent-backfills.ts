import { setTimeout as sleep } from 'node:timers/promises';
import { startCli } from '../../support/cli.js';
import { adminJson, findFreePort, testAdminToken } from '../../support/http-app.js';
import { generatePoliceLog } from '../../support/police-log-generator.js';
import type { Scenario } from '../scenario.js';
import { Stage } from '../stage.js';
import { checkTrial } from '../trial.js';

const plan = { mode: 'window', from: '2025-01-01', to: '2025-05-01', windowSize: 'month' } as const;

/**
 * The same backfill asked for many times at once: through `cpd up`'s HTTP API (POST
 * /api/backfills, from many clients within a moment) and by `cpd backfill` processes. One run
 * must be created and every request answered with it; its rows loaded once.
 */
export const concurrentBackfills: Scenario = {
  id: 'concurrent-backfills',
  title: 'The same backfill requested many times concurrently (HTTP API and cpd backfill)',
  trials: { short: 1, long: 3 },
  async run(services, trials, results) {
    const stage = await Stage.open(services, {
      name: 'chaos_concurrent_backfills',
      rows: generatePoliceLog({ seed: 707, rows: 16_000, from: plan.from, to: plan.to }),
      workers: 1,
    });
    const port = await findFreePort();
    const up = startCli(['up'], {
      ...stage.workerEnv,
      DATABASE_URL: stage.databaseUrl,
      PORT: String(port),
      ADMIN_TOKEN: testAdminToken,
      WRITE_RATE_LIMIT: '100000',
    });
    try {
      await up.waitForOutput(/listening on/, 60_000);
      const api = `http://127.0.0.1:${port}`;
      for (let trial = 0; trial < trials; trial += 1) {
        await stage.reset();
        // The source holds every answer past the workers' request timeout, so the run stays
        // active until every request has been answered and every cpd backfill has joined.
        stage.fake.addFault({ kind: 'slow', delayMs: 8_000 });
        const requests = trials > 1 ? 50 : 20;
        const clis = 3;
        const body = JSON.stringify({ from: plan.from, to: plan.to, window: plan.windowSize });
        const answers = Array.from({ length: requests }, async () => {
          await sleep(Math.round(services.random() * 400));
          const response = await fetch(`${api}/api/backfills`, {
            method: 'POST',
            headers: adminJson(),
            body,
          });
          return { status: response.status, body: (await response.json()) as { runId?: number } };
        });
        const followers = Array.from({ length: clis }, () =>
          startCli(
            ['backfill', '--from', plan.from, '--to', plan.to, '--window', plan.windowSize],
            {
              ...stage.workerEnv,
              DATABASE_URL: stage.databaseUrl,
              LOG_LEVEL: 'warn',
            },
          ),
        );
        const answered = await Promise.all(answers);
        await Promise.all(followers.map((cli) => cli.waitForOutput(/^Run \d+/m, 120_000)));
        stage.fake.clearFaults();
        const followed = await Promise.all(
          followers.map(async (cli) => ({ ...(await cli.exited), stderr: cli.stderr() })),
        );
        const problems: string[] = [];
        const runIds = [...new Set(answered.map((answer) => answer.body.runId))];
        const statuses = answered.map((answer) => answer.status);
        if (runIds.length !== 1 || runIds[0] === undefined)
          problems.push(`the requests were answered with runs ${runIds.join(', ')}`);
        if (statuses.some((status) => status !== 202 && status !== 200))
          problems.push(`statuses ${[...new Set(statuses)].join(', ')}`);
        for (const cli of followed) {
          const runId = Number(/^Run (\d+)/m.exec(cli.stderr)?.[1]);
          if (cli.code !== 0)
            problems.push(`cpd backfill exited ${cli.code}: ${cli.stderr.trim().slice(-300)}`);
          else if (runId !== runIds[0])
            problems.push(`cpd backfill followed run ${runId}, not ${runIds[0]}`);
        }
        const { rows: created } = await stage.pool.query<{ id: number }>(
          `select id::int from pipeline_runs where dedupe_key like '%|window|${plan.from}%' and id >= $1 order by id`,
          [runIds[0] ?? 0],
        );
        if (created.length !== 1)
          problems.push(`${created.length} runs were created for one range`);
        const ids = created.map((row) => row.id);
        const runs = await stage.waitForRuns(ids, 240_000);
        const result = await checkTrial(stage, { runIds: ids, runs, plan, heldBefore: 0 });
        const fresh = statuses.filter((status) => status === 202).length;
        results.push({
          ...result,
          problems: [...problems, ...result.problems],
          label: `${requests} POST /api/backfills and ${clis} cpd backfill at once: ${fresh} created, ${requests - fresh} given the same run`,
          faults: requests + clis - 1,
        });
        services.log(`concurrent-backfills ${trial + 1}/${trials}: ${results.at(-1)!.label}`);
      }
    } finally {
      up.child.kill('SIGTERM');
      await up.exited;
      await stage.close();
    }
  },
};
