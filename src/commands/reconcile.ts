import type { Command } from 'commander';
import { addDatasetOption } from './dataset-option.js';
import { runCommand } from './run-command.js';
import { runHere } from './sync.js';

interface ReconcileOptions {
  dataset?: string;
  json?: boolean;
  allowDeletes?: boolean;
}

export function registerReconcileCommand(program: Command): void {
  const command = program
    .command('reconcile')
    .description(
      'Notice rows the source removed, here, in this process: lists only the keys of the whole dataset (a few requests) and marks deleted the rows we hold that it no longer has (kept, left out of the counts); rows it lists again are restored. Incremental syncs cannot see removals; RECONCILE_CRON runs this on the queue.',
    );
  addDatasetOption(command)
    .option('--json', 'print the outcome as JSON on stdout instead of a table')
    .option(
      '--allow-deletes',
      'confirm that it may mark more than DELETE_GUARD of the rows we hold deleted (or all, when the source lists none)',
    )
    .action(
      runCommand('reconcile', (config, options: ReconcileOptions) =>
        runHere(
          config,
          { mode: 'reconcile', ...(options.allowDeletes && { allowDeletes: true }) },
          {
            ...options,
            concurrency: 1,
            command: 'reconcile',
            title: (dataset, database) => `Reconciled ${dataset} in ${database}`,
          },
        ),
      ),
    );
}
