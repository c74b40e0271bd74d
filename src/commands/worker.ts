import type { Command } from 'commander';
import { migrateDatabase } from '../db/migrate.js';
import { openDatabase } from '../db/open.js';
import { createLogger } from '../logger.js';
import { startQueueService } from '../queue/service.js';
import { runUntilSignalled } from './lifecycle.js';
import { runCommand } from './run-command.js';

export function registerWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description(
      'Run queue workers (and register the sync schedule) until SIGTERM or SIGINT; start several to scale out',
    )
    .action(
      runCommand('worker', async (config) => {
        const log = createLogger(config.LOG_LEVEL, { command: 'worker' });
        const database = await openDatabase(config, {
          log: (message) => log.debug(message),
          max: config.WORKER_CONCURRENCY * 5 + 4,
        });
        try {
          await migrateDatabase(database.pool);
          const service = startQueueService(
            config,
            { pool: database.pool, log },
            { workers: true, scheduler: true },
          );
          log.info(
            {
              database: database.label,
              concurrency: config.WORKER_CONCURRENCY,
              prefix: config.QUEUE_PREFIX,
            },
            'workers started',
          );
          return await runUntilSignalled(log, () => service.close(config.SHUTDOWN_GRACE_MS));
        } finally {
          await database.close();
        }
      }),
    );
}
