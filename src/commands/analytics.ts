import type { Command } from 'commander';
import { analyticsSpecOf, listAnalyticsSpecs } from '../analytics/specs.js';
import { migrateDatabase } from '../db/migrate.js';
import { openDatabase } from '../db/open.js';
import { rebuildAnalytics } from '../db/refresh-analytics.js';
import { UserError } from '../errors.js';
import { createLogger } from '../logger.js';
import { getDatasetPipeline } from '../pipeline/datasets.js';
import { runCommand } from './run-command.js';

export function registerAnalyticsCommand(program: Command): void {
  const analytics = program
    .command('analytics')
    .description('The rollups the dashboards and Metabase read (kept up to date by every load)');
  analytics
    .command('rebuild')
    .description(
      "Recompute a dataset's analytics rollups from its table: the same numbers the loads keep. Needed only after writing to the table outside the pipeline (the next run does it too); safe while loads run",
    )
    .option('--dataset <id>', 'Socrata id of the dataset (default: SOCRATA_DATASET)')
    .action(
      runCommand('analytics rebuild', async (config, options: { dataset?: string }) => {
        const datasetId = options.dataset ?? config.SOCRATA_DATASET;
        getDatasetPipeline(datasetId);
        const spec = analyticsSpecOf(datasetId);
        if (!spec) {
          throw new UserError(
            'analytics.unknown',
            `dataset ${datasetId} has no analytics rollups; those with some: ${listAnalyticsSpecs()
              .map((entry) => entry.datasetId)
              .join(', ')}`,
          );
        }
        const log = createLogger(config.LOG_LEVEL, { command: 'analytics rebuild' });
        const database = await openDatabase(config, { log: (message) => log.debug(message) });
        try {
          await migrateDatabase(database.pool);
          const ms = await rebuildAnalytics(database.pool, datasetId, spec);
          process.stdout.write(
            `Rebuilt the analytics of ${datasetId} (${spec.rollups.length} rollups of ${spec.table}) in ${database.label} in ${(ms / 1000).toFixed(1)} s.\n`,
          );
        } finally {
          await database.close();
        }
      }),
    );
}
