import type { Queue } from 'bullmq';
import type { Config } from '../config.js';
import { jobOptionsFor } from './catalogue.js';

/**
 * The job schedulers, registered from this one place at start. `upsertJobScheduler` is keyed by
 * the scheduler id, so registering again (a restart, a second process, three at once) updates the
 * one scheduler rather than adding another.
 */
export function syncSchedulerId(dataset: string): string {
  return `incremental-sync-${dataset}`;
}

export async function registerSchedulers(
  flows: Queue,
  config: Pick<Config, 'SYNC_CRON' | 'SOCRATA_DATASET' | 'STEP_BACKOFF_SCALE'>,
): Promise<void> {
  await flows.upsertJobScheduler(
    syncSchedulerId(config.SOCRATA_DATASET),
    // The source publishes in local-time batches, so the schedule is local time too.
    { pattern: config.SYNC_CRON.trim(), tz: 'America/New_York' },
    {
      name: 'trigger',
      data: { dataset: config.SOCRATA_DATASET },
      opts: jobOptionsFor('trigger', config.STEP_BACKOFF_SCALE),
    },
  );
}
