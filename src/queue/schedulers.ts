import type { Queue } from 'bullmq';
import { reconcileCronOf, syncCronOf, type Config } from '../config.js';
import { listDatasetPipelines } from '../pipeline/datasets.js';
import { jobOptionsFor } from './catalogue.js';
import { jobNameOf } from './names.js';

/**
 * The job schedulers, registered from this one place at start: per dataset, an incremental sync
 * on `SYNC_CRON` or the dataset's own `SYNC_CRON_<NAME>`, and a reconciliation (the key listing
 * that notices removals) on `RECONCILE_CRON` or `RECONCILE_CRON_<NAME>`; `off` for none.
 * `upsertJobScheduler` is keyed by the scheduler id, so registering again (a restart, a second
 * process, three at once) updates the one scheduler rather than adding another.
 */
export function syncSchedulerId(dataset: string): string {
  return `incremental-sync-${dataset}`;
}

export function reconcileSchedulerId(dataset: string): string {
  return `reconcile-${dataset}`;
}

export async function registerSchedulers(
  flows: Queue,
  config: Pick<Config, 'SYNC_CRON' | 'STEP_BACKOFF_SCALE'> &
    Partial<
      Pick<
        Config,
        'syncCronOverrides' | 'SOCRATA_DATASET' | 'RECONCILE_CRON' | 'reconcileCronOverrides'
      >
    >,
): Promise<Array<{ dataset: string; run: 'sync' | 'reconcile'; cron: string }>> {
  const registered: Array<{ dataset: string; run: 'sync' | 'reconcile'; cron: string }> = [];
  for (const { source } of listDatasetPipelines()) {
    const schedules = [
      {
        run: 'reconcile' as const,
        id: reconcileSchedulerId(source.id),
        cron: reconcileCronOf(config, source.shortName),
        job: 'reconcile-trigger' as const,
      },
      {
        run: 'sync' as const,
        id: syncSchedulerId(source.id),
        cron: syncCronOf(
          { SYNC_CRON: config.SYNC_CRON, syncCronOverrides: config.syncCronOverrides ?? {} },
          source.shortName,
        ),
        job: 'trigger' as const,
      },
    ];
    for (const { run, id, cron, job } of schedules) {
      if (cron === 'off') {
        await flows.removeJobScheduler(id);
        continue;
      }
      await flows.upsertJobScheduler(
        id,
        // The source publishes in local-time batches, so the schedule is local time too.
        { pattern: cron, tz: 'America/New_York' },
        {
          name: jobNameOf(job, source.shortName),
          data: { dataset: source.id },
          opts: jobOptionsFor(job, config.STEP_BACKOFF_SCALE),
        },
      );
      registered.push({ dataset: source.shortName, run, cron });
    }
  }
  return registered;
}
