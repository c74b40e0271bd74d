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
  type RunPlan,
} from '../pipeline/flow.js';
import { readRunTotals, readStepTotals } from '../pipeline/ledger.js';
import { formatRunSummary } from '../pipeline/summary.js';
import { parseDateRange, windowSizes, type WindowSize } from '../pipeline/windows.js';
import { createSodaClientFromConfig } from '../source/client.js';
import { runCommand } from './run-command.js';

interface SyncOptions {
  from?: string;
  to?: string;
  window: string;
  json?: boolean;
  allowDeletes?: boolean;
}

export function registerSyncCommand(program: Command): void {
  program
    .command('sync')
    .description(
      'Run the pipeline here, in this process: incremental by default (what changed since the last sync), or a date range with --from/--to. Uses the embedded PostgreSQL when DATABASE_URL is unset.',
    )
    .option('--from <date>', 'start of a date range, inclusive (YYYY-MM-DD, local time)')
    .option('--to <date>', 'end of the range, exclusive (YYYY-MM-DD)')
    .option(
      '--window <size>',
      `with a range: cut it into windows of a ${windowSizes.join(', ')}`,
      'all',
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
  return {
    mode: 'window',
    from,
    to,
    windowSize: options.window as WindowSize,
    ...(options.allowDeletes && { allowDeletes: true }),
  };
}

async function sync(config: Config, options: SyncOptions): Promise<number> {
  const plan = planFrom(config, options);
  const log = createLogger(config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL, {
    command: 'sync',
  });
  const pipeline = getDatasetPipeline(config.SOCRATA_DATASET);
  const database = await openDatabase(config, { log: (message) => log.debug(message) });
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
        { onStep: progress.step, onProgress: progress.rows },
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
      process.stderr.write(`\nSynced ${pipeline.source.id} into ${database.label}\n\n`);
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

/** A one-line bar on a terminal: which window and step, and rows so far; nothing otherwise. */
function createProgress(enabled: boolean, windowCount: number) {
  if (!enabled) return { step: () => undefined, rows: () => undefined, stop: () => undefined };
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: 'window {window}/{windows} {bar} {step} {rows} rows',
      hideCursor: true,
      barsize: 20,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(windowCount * 4, 0, { window: 1, windows: windowCount, step: 'extract', rows: 0 });
  let done = -1;
  return {
    step: ({ windowIndex, step }: { windowIndex: number; step: string }) => {
      done += 1;
      bar.update(done, { window: windowIndex + 1, step: step.padEnd(9), rows: 0 });
    },
    rows: (rows: number) => bar.update({ rows: rows.toLocaleString('en-US') }),
    stop: () => bar.stop(),
  };
}
