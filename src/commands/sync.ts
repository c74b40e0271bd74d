import { availableParallelism } from 'node:os';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import type { Config } from '../config.js';
import { migrateDatabase } from '../db/migrate.js';
import { openDatabase } from '../db/open.js';
import { describeError, UserError } from '../errors.js';
import { createLogger } from '../logger.js';
import { getDatasetPipeline } from '../pipeline/datasets.js';
import {
  claimInProcessRun,
  planRun,
  releaseInProcessRun,
  runInProcess,
  type InProcessHooks,
  type RunPlan,
} from '../pipeline/flow.js';
import { readRunTotals, readStepTotals, stepOrder, stepsOfRun } from '../pipeline/ledger/index.js';
import { formatRunSummary } from '../pipeline/summary.js';
import {
  assertWindowCount,
  parseDateRange,
  windowSizes,
  type WindowSize,
} from '../pipeline/windows.js';
import { createSodaClientFromConfig } from '../source/client.js';
import { addDatasetOption, datasetOf } from './dataset-option.js';
import { runCommand } from './run-command.js';

interface SyncOptions {
  dataset?: string;
  from?: string;
  to?: string;
  window: string;
  concurrency: string;
  json?: boolean;
  allowDeletes?: boolean;
}

export function registerSyncCommand(program: Command): void {
  const command = program
    .command('sync')
    .description(
      'Run the pipeline here, in this process: incremental by default (what changed since the last sync), or a date range with --from/--to. Uses the embedded PostgreSQL when DATABASE_URL is unset.',
    )
    .option('--from <date>', 'start of a date range, inclusive (YYYY-MM-DD, local time)');
  addDatasetOption(command)
    .option('--to <date>', 'end of the range, exclusive (YYYY-MM-DD)')
    .option(
      '--window <size>',
      `with a range: cut it into windows of a ${windowSizes.join(', ')}`,
      'month',
    )
    .option(
      '--concurrency <n>',
      'windows run at once (loads still take turns); default: the number of cores',
      String(availableParallelism()),
    )
    .option('--json', 'print the outcome as JSON on stdout instead of a table')
    .option(
      '--allow-deletes',
      'with a range: confirm that a window may mark more than DELETE_GUARD of the rows held in it deleted (or all, when the source answers none)',
    )
    .action(runCommand('sync', (config, options: SyncOptions) => sync(config, options)));
}

function planFrom(config: Config, options: SyncOptions): RunPlan {
  if (options.from === undefined && options.to === undefined) {
    return { mode: 'incremental', lookbackHours: config.SYNC_LOOKBACK_HOURS };
  }
  if (options.from === undefined || options.to === undefined) {
    throw new UserError(
      'input.range',
      'give both --from and --to for a date range, or neither for an incremental sync',
    );
  }
  if (!(windowSizes as readonly string[]).includes(options.window)) {
    throw new UserError(
      'input.window',
      `--window must be one of ${windowSizes.join(', ')} (got ${JSON.stringify(options.window)})`,
    );
  }
  const { from, to } = parseDateRange(options.from, options.to);
  const windowSize = options.window as WindowSize;
  assertWindowCount({ from, to, size: windowSize }, config.BACKFILL_MAX_WINDOWS);
  return {
    mode: 'window',
    from,
    to,
    windowSize,
    ...(options.allowDeletes && { allowDeletes: true }),
  };
}

function concurrencyFrom(options: SyncOptions): number {
  const concurrency = Number(options.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
    throw new UserError(
      'input.concurrency',
      `--concurrency must be a whole number from 1 to 64 (got ${JSON.stringify(options.concurrency)})`,
    );
  }
  return concurrency;
}

async function sync(config: Config, options: SyncOptions): Promise<number> {
  return runHere(config, planFrom(config, options), {
    ...options,
    concurrency: concurrencyFrom(options),
    command: 'sync',
    title: (dataset, database) => `Synced ${dataset} into ${database}`,
  });
}

/**
 * Runs a plan here, in this process (what `cpd sync` and `cpd reconcile` do): plans and claims
 * the run, shows progress on a terminal, prints the summary (or JSON), and fails with the run's
 * reason.
 */
export async function runHere(
  config: Config,
  plan: RunPlan,
  options: {
    dataset?: string;
    concurrency: number;
    json?: boolean;
    /** For logs. */
    command: string;
    /** The line above the summary: `Synced 3gki-wyrb into …`. */
    title: (dataset: string, database: string) => string;
  },
): Promise<number> {
  const { concurrency } = options;
  const log = createLogger(config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL, {
    command: options.command,
  });
  const pipeline = getDatasetPipeline(datasetOf(config, options));
  // Each running step reads on one connection and writes on another; the run holds one more.
  const database = await openDatabase(config, {
    log: (message) => log.debug(message),
    max: Math.max(10, concurrency * 3 + 2),
  });
  try {
    await migrateDatabase(database.pool);
    const request = await planRun(database.pool, pipeline, plan, 'cli');
    const { run, lock } = await claimInProcessRun(database.pool, request);
    const progress = createProgress(
      !options.json && process.stderr.isTTY === true,
      run.windowCount,
    );
    let failure: unknown;
    try {
      await runInProcess(
        {
          pool: database.pool,
          source: createSodaClientFromConfig(config),
          settings: {
            rejectThreshold: config.REJECT_THRESHOLD,
            deleteGuard: config.DELETE_GUARD,
          },
          log,
        },
        run,
        progress.hooks,
        concurrency,
      );
    } catch (error) {
      failure = error;
    } finally {
      progress.stop();
      await releaseInProcessRun(lock, run.id);
    }
    const totals = await readRunTotals(database.pool, run.id);
    const steps = await readStepTotals(database.pool, run.id);
    if (options.json) {
      process.stdout.write(
        `${JSON.stringify({ run: totals, steps, database: database.label }, null, 2)}\n`,
      );
    } else {
      process.stderr.write(`\n${options.title(pipeline.source.id, database.label)}\n\n`);
      process.stdout.write(formatRunSummary(totals, steps));
    }
    if (failure instanceof UserError) {
      throw new UserError(failure.code, `run ${run.id} failed: ${failure.message}`, {
        cause: failure,
      });
    }
    if (failure !== undefined)
      throw failure instanceof Error ? failure : new Error(describeError(failure));
    return 0;
  } finally {
    await database.close();
  }
}

/**
 * On a terminal: a bar for the whole run (steps done of all steps) and one line per window
 * running, with its step and rows so far; nothing otherwise.
 */
function createProgress(enabled: boolean, windowCount: number) {
  if (!enabled) return { hooks: {}, stop: () => undefined };
  const bars = new cliProgress.MultiBar(
    {
      stream: process.stderr,
      format: '{label} {bar} {value}/{total} steps',
      hideCursor: true,
      barsize: 20,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  const total = bars.create(stepsOfRun(windowCount), 0, { label: 'run       ' });
  const running = new Map<number, cliProgress.SingleBar>();
  let done = 0;
  const windowLine = (windowIndex: number) => {
    let bar = running.get(windowIndex);
    if (!bar) {
      bar = bars.create(
        stepOrder.length,
        0,
        { window: windowIndex + 1, step: '', rows: '0' },
        { format: `  window {window}/${windowCount} {bar} {step} {rows} rows` },
      );
      running.set(windowIndex, bar);
    }
    return bar;
  };
  const hooks: InProcessHooks = {
    onStep: ({ windowIndex, step }) => {
      const bar = windowLine(windowIndex);
      bar.update(stepOrder.indexOf(step), { step: step.padEnd(9), rows: '0' });
    },
    onProgress: ({ windowIndex, rows }) =>
      windowLine(windowIndex).update({ rows: rows.toLocaleString('en-US') }),
    onWindowDone: ({ windowIndex }) => {
      const bar = running.get(windowIndex);
      if (bar) bars.remove(bar);
      running.delete(windowIndex);
      done += stepOrder.length;
      total.update(done);
    },
  };
  return { hooks, stop: () => bars.stop() };
}
