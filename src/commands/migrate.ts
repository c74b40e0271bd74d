import type { Command } from 'commander';
import { countMigrationFiles, migrateDatabase } from '../db/migrate.js';
import { openDatabase } from '../db/open.js';
import { createLogger } from '../logger.js';
import { runCommand } from './run-command.js';

export function registerMigrateCommand(program: Command): void {
  program
    .command('migrate')
    .description(
      'Apply the database migrations (safe to repeat; uses the embedded PostgreSQL when DATABASE_URL is unset)',
    )
    .action(
      runCommand('migrate', async (config) => {
        const log = createLogger(config.LOG_LEVEL, { command: 'migrate' });
        const database = await openDatabase(config, { log: (message) => log.debug(message) });
        try {
          const { applied, total } = await migrateDatabase(database.pool);
          const known = countMigrationFiles();
          process.stdout.write(
            applied > 0
              ? `Applied ${applied} migration${applied === 1 ? '' : 's'} to ${database.label}; ${total} of ${known} in place.\n`
              : `${database.label} is up to date (${total} of ${known} migrations).\n`,
          );
        } finally {
          await database.close();
        }
      }),
    );
}
