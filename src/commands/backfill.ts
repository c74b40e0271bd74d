import { setTimeout as sleep } from 'node:timers/promises';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import type pg from 'pg';
import { migrateDatabase } from '../db/migrate.js';
import { openDatabase } from '../db/open.js';
import { UserError } from '../errors.js';
import { createLogger } from '../logger.js';
import {
  readRunProgress,
  readRunTotals,
  readStepTotals,
  stepsOfRun,
} from '../pipeline/ledger/index.js';
import { formatRunSummary } from '../pipeline/summary.js';
import {
  assertWindowCount,
  parseDateRange,
  windowSizes,
  type WindowSize,
} from '../pipeline/windows.js';
import { createOrchestrator } from '../queue/orchestrator.js';
import { getDatasetPipeline } from '../pipeline/datasets.js';
import { addDatasetOption, datasetOf } from './dataset-option.js';
import { runCommand } from './run-command.js';

interface BackfillOptions {
  dataset?: string;
  from: string;
  to: string;
  window: string;
  json?: boolean;
  allowDeletes?: boolean;
}

const backfillSizes = windowSizes.filter((size) => size !== 'all');

const endStates = new Set(['completed', 'failed', 'crashed', 'cancelled']);

export function registerBackfillCommand(program: Command): void {
  const command = program
    .command('backfill')
    .description(
      'Enqueue a backfill of a date range on the job queue and follow it until it ends (workers run it: cpd up or cpd worker)',
    );
  addDatasetOption(command)
    .requiredOption('--from <date>', 'start, inclusive (YYYY-MM-DD, local time)')
    .requiredOption('--to <date>', 'end, exclusive (YYYY-MM-DD)')
    .option('--window <size>', `window size: ${backfillSizes.join(', ')}`, 'month')
    .option('--json', 'print the outcome as JSON on stdout')
    .option(
      '--allow-deletes',
      'confirm that a window may mark more than DELETE_GUARD of the rows held in it deleted (or all, when the source answers none)',
    )
    .action(
      runCommand('backfill', async (config, options: BackfillOptions) => {
        const { from, to } = parseDateRange(options.from, options.to);
        const dataset = getDatasetPipeline(datasetOf(config, options)).source;
        if (!(windowSizes as readonly string[]).includes(options.window)) {
          throw new UserError(
            'input.window',
            `--window must be one of ${windowSizes.join(', ')} (got ${JSON.stringify(options.window)})`,
          );
        }
        assertWindowCount(
          { from, to, size: options.window as WindowSize },
          config.BACKFILL_MAX_WINDOWS,
          backfillSizes,
        );
        const log = createLogger(config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL, {
          command: 'backfill',
        });
        const database = await openDatabase(config, { log: (message) => log.debug(message) });
        const orchestrator = createOrchestrator({
          pool: database.pool,
          redisUrl: config.REDIS_URL,
          prefix: config.QUEUE_PREFIX,
          datasetId: config.SOCRATA_DATASET,
          backoffScale: config.STEP_BACKOFF_SCALE,
        });
        try {
          if (!(await orchestrator.ready(5_000))) {
            throw new UserError(
              'redis.unreachable',
              `cannot reach Redis at ${config.REDIS_URL.replace(/\/\/[^@]*@/, '//***@')}; check REDIS_URL and that Redis is running`,
            );
          }
          await migrateDatabase(database.pool);
          const { run, created } = await orchestrator.requestRun(
            {
              mode: 'window',
              from,
              to,
              windowSize: options.window as WindowSize,
              ...(options.allowDeletes && { allowDeletes: true }),
            },
            'cli',
            dataset.id,
          );
          process.stderr.write(
            created
              ? `Run ${run.id}: backfill of ${dataset.shortName} [${from}, ${to}) in ${run.windowCount} ${options.window} window(s), enqueued.\n`
              : `Run ${run.id} for the same range is already active; following it.\n`,
          );
          if ((await orchestrator.queues.extract.getWorkersCount()) === 0) {
            process.stderr.write(
              'No worker is connected yet: start one with `cpd worker` (or `cpd up`); waiting.\n',
            );
          }
          const state = await follow(
            database.pool,
            run.id,
            run.windowCount,
            !options.json && process.stderr.isTTY === true,
          );
          const totals = await readRunTotals(database.pool, run.id);
          if (options.json) {
            process.stdout.write(
              `${JSON.stringify({ run: totals, steps: await readStepTotals(database.pool, run.id) }, null, 2)}\n`,
            );
          } else {
            process.stdout.write(
              formatRunSummary(totals, await readStepTotals(database.pool, run.id)),
            );
          }
          if (state !== 'completed') {
            throw new UserError(
              'run.failed',
              `run ${run.id} ${state}: ${(totals.error ?? 'no reason recorded').replace(/\.$/, '')}. Once the cause is fixed, retry it (POST /api/runs/${run.id}/retry, or the failed job in Bull Board)`,
            );
          }
          return 0;
        } finally {
          await orchestrator.close();
          await database.close();
        }
      }),
    );
}

/** Polls the ledger until the run ends; a bar of steps done on a terminal. */
async function follow(
  pool: pg.Pool,
  runId: number,
  windowCount: number,
  showBar: boolean,
): Promise<string> {
  const bar = showBar
    ? new cliProgress.SingleBar(
        {
          stream: process.stderr,
          format: 'run {run} {bar} {value}/{total} steps · {state} · {rows} rows loaded',
          hideCursor: true,
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  bar?.start(stepsOfRun(windowCount), 0, { run: runId, state: 'pending', rows: 0 });
  try {
    for (;;) {
      const current = await readRunProgress(pool, runId);
      if (!current) throw new Error(`run ${runId} disappeared from the ledger`);
      bar?.update(current.done, {
        state: current.state,
        rows: current.loaded.toLocaleString('en-US'),
      });
      if (endStates.has(current.state)) return current.state;
      await sleep(300);
    }
  } finally {
    bar?.stop();
  }
}
