import { Command } from 'commander';
import { registerDatasetCommand } from './commands/dataset.js';
import { registerAnalyticsCommand } from './commands/analytics.js';
import { registerMetabaseCommand } from './commands/metabase.js';
import { registerFetchCommand } from './commands/fetch.js';
import { registerMigrateCommand } from './commands/migrate.js';
import { registerReconcileCommand } from './commands/reconcile.js';
import { registerSyncCommand } from './commands/sync.js';
import { registerWorkerCommand } from './commands/worker.js';
import { registerBackfillCommand } from './commands/backfill.js';
import { registerServerCommand } from './commands/server.js';
import { registerUpCommand } from './commands/up.js';

/**
 * The cpd command: parses arguments, runs one command, prints. Each command lives in
 * src/commands/ and registers itself here.
 */
const program = new Command('cpd')
  .description(
    'Keeps a PostgreSQL copy of the Cambridge (MA) Police Daily Log current, and shows its trends.',
  )
  .showHelpAfterError('(run cpd --help for usage)')
  .configureOutput({ outputError: (text, write) => write(text) });

registerMigrateCommand(program);
registerSyncCommand(program);
registerBackfillCommand(program);
registerReconcileCommand(program);
registerServerCommand(program);
registerUpCommand(program);
registerWorkerCommand(program);
registerFetchCommand(program);
registerMetabaseCommand(program);
registerDatasetCommand(program);
registerAnalyticsCommand(program);

await program.parseAsync(process.argv);
