import { Command } from 'commander';

/**
 * The cpd command: parses arguments, runs one command, prints. Each command lives in
 * src/commands/ and registers itself here.
 *
 * Only the command being run is loaded: every command's modules together (the HTTP server, Bull
 * Board, the queue, Metabase) cost about 45 MB of resident memory and a second of start-up that a
 * `cpd sync` never uses. Help, and anything this table does not name, loads them all, so the
 * listing and commander's suggestions stay whole.
 */
type Register = (program: Command) => void;

const commands: Record<string, () => Promise<Register>> = {
  migrate: async () => (await import('./commands/migrate.js')).registerMigrateCommand,
  sync: async () => (await import('./commands/sync.js')).registerSyncCommand,
  backfill: async () => (await import('./commands/backfill.js')).registerBackfillCommand,
  reconcile: async () => (await import('./commands/reconcile.js')).registerReconcileCommand,
  server: async () => (await import('./commands/server.js')).registerServerCommand,
  up: async () => (await import('./commands/up.js')).registerUpCommand,
  worker: async () => (await import('./commands/worker.js')).registerWorkerCommand,
  fetch: async () => (await import('./commands/fetch.js')).registerFetchCommand,
  metabase: async () => (await import('./commands/metabase.js')).registerMetabaseCommand,
  dataset: async () => (await import('./commands/dataset.js')).registerDatasetCommand,
  analytics: async () => (await import('./commands/analytics.js')).registerAnalyticsCommand,
};

const program = new Command('cpd')
  .description(
    'Keeps a PostgreSQL copy of the Cambridge (MA) Police Daily Log current, and shows its trends.',
  )
  .showHelpAfterError('(run cpd --help for usage)')
  .configureOutput({ outputError: (text, write) => write(text) });

const named = process.argv[2];
const wanted =
  named !== undefined && Object.hasOwn(commands, named)
    ? [commands[named]!]
    : Object.values(commands);
for (const register of await Promise.all(wanted.map((load) => load()))) register(program);

await program.parseAsync(process.argv);
