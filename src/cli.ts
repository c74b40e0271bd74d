import { Command } from 'commander';
import { registerMigrateCommand } from './commands/migrate.js';

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

await program.parseAsync(process.argv);
