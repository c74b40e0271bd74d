import type { Queue } from 'bullmq';
import express, { type Router } from 'express';
import type pg from 'pg';
import { Counter, Gauge, Registry } from 'prom-client';
import type { Logger } from '../logger.js';
import { queueNames, type QueueName } from '../queue/names.js';
import { probeWithin } from './dependency.js';
import { LedgerHistogram } from './ledger-histogram.js';
import {
  readLedgerSnapshot,
  runDurationBuckets,
  stepDurationBuckets,
  type LedgerSnapshot,
} from './ledger-metrics.js';

export interface MetricsDeps {
  pool: pg.Pool;
  queues: Record<QueueName, Queue>;
  log: Logger;
  now?: () => Date;
}

interface Snapshot {
  ledger: LedgerSnapshot | undefined;
  queues: { queue: QueueName; counts: Record<string, number> }[] | undefined;
}

const scrapeTimeoutMs = 2_000;

/**
 * /metrics in Prometheus text, from its own registry. Everything is read when scraped: queue
 * counts from Redis, durations, row counts and freshness from the ledger, once per scrape however
 * many metrics use them. A dependency that is down leaves its metrics out and says so in
 * `cpd_dependency_up`; the scrape itself still answers.
 */
export function createMetricsRouter(deps: MetricsDeps): Router {
  const registry = new Registry();
  const now = deps.now ?? (() => new Date());
  const snapshot = shareWhileRunning(() => readSnapshot(deps));

  new Gauge({
    name: 'cpd_dependency_up',
    help: 'Whether a dependency answered this scrape (1) or not (0).',
    labelNames: ['dependency'],
    registers: [registry],
    async collect() {
      const { ledger, queues } = await snapshot();
      this.set({ dependency: 'postgres' }, ledger ? 1 : 0);
      this.set({ dependency: 'redis' }, queues ? 1 : 0);
    },
  });

  new Gauge({
    name: 'cpd_queue_jobs',
    help: 'Jobs in each queue, by BullMQ state.',
    labelNames: ['queue', 'state'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const { queue, counts } of (await snapshot()).queues ?? []) {
        for (const [state, count] of Object.entries(counts)) this.set({ queue, state }, count);
      }
    },
  });

  new Gauge({
    name: 'cpd_runs',
    help: 'Runs in the ledger, by dataset and state.',
    labelNames: ['dataset', 'state'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const row of (await snapshot()).ledger?.runs ?? [])
        this.set({ dataset: row.dataset, state: row.state }, row.runs);
    },
  });

  new Counter({
    name: 'cpd_rows_loaded_total',
    help: 'Rows loaded into the target table, by what the load did with them (from the ledger).',
    labelNames: ['dataset', 'change'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const row of (await snapshot()).ledger?.runs ?? []) {
        for (const change of ['inserted', 'updated', 'unchanged'] as const)
          this.inc({ dataset: row.dataset, change }, row[change]);
      }
    },
  });

  new Counter({
    name: 'cpd_rows_rejected_total',
    help: 'Source rows that failed validation and went to quarantine (from the ledger).',
    labelNames: ['dataset'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const row of (await snapshot()).ledger?.runs ?? [])
        this.inc({ dataset: row.dataset }, row.rejected);
    },
  });

  new LedgerHistogram(
    {
      name: 'cpd_run_duration_seconds',
      help: 'Durations of finished runs, from the ledger.',
      labelNames: ['dataset', 'mode', 'state'],
      buckets: runDurationBuckets,
      registers: [registry],
    },
    async () => (await snapshot()).ledger?.runDurations ?? [],
  );

  new LedgerHistogram(
    {
      name: 'cpd_step_duration_seconds',
      help: 'Durations of steps that ended (completed or failed), their latest attempt, from the ledger.',
      labelNames: ['step', 'state'],
      buckets: stepDurationBuckets,
      registers: [registry],
    },
    async () => (await snapshot()).ledger?.stepDurations ?? [],
  );

  new Gauge({
    name: 'cpd_last_successful_sync_timestamp_seconds',
    help: 'When a run of the dataset last completed (Unix time).',
    labelNames: ['dataset'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const { dataset, at } of (await snapshot()).ledger?.lastSuccess ?? [])
        this.set({ dataset }, at);
    },
  });

  new Gauge({
    name: 'cpd_last_successful_sync_age_seconds',
    help: 'Seconds since a run of the dataset last completed: how stale the copy may be.',
    labelNames: ['dataset'],
    registers: [registry],
    async collect() {
      this.reset();
      const nowSeconds = now().getTime() / 1000;
      for (const { dataset, at } of (await snapshot()).ledger?.lastSuccess ?? [])
        this.set({ dataset }, Math.max(0, nowSeconds - at));
    },
  });

  const router = express.Router();
  router.get('/metrics', async (_req, res) => {
    const text = await registry.metrics();
    res.set('Content-Type', registry.contentType).set('Cache-Control', 'no-store').send(text);
  });
  return router;
}

async function readSnapshot(deps: MetricsDeps): Promise<Snapshot> {
  let ledger: LedgerSnapshot | undefined;
  let queues: Snapshot['queues'];
  const [ledgerStatus, queueStatus] = await Promise.all([
    probeWithin(async () => (ledger = await readLedgerSnapshot(deps.pool)), scrapeTimeoutMs),
    probeWithin(
      async () =>
        (queues = await Promise.all(
          queueNames.map(async (queue) => ({
            queue,
            counts: await deps.queues[queue].getJobCounts(),
          })),
        )),
      scrapeTimeoutMs,
    ),
  ]);
  if (!ledgerStatus.ok)
    deps.log.warn({ reason: ledgerStatus.reason }, 'metrics: the ledger could not be read');
  if (!queueStatus.ok)
    deps.log.warn({ reason: queueStatus.reason }, 'metrics: queue counts could not be read');
  return {
    ledger: ledgerStatus.ok ? ledger : undefined,
    queues: queueStatus.ok ? queues : undefined,
  };
}

/** Calls made while one is running share its result; the next call after it ends starts anew. */
function shareWhileRunning<T>(work: () => Promise<T>): () => Promise<T> {
  let running: Promise<T> | undefined;
  return () => {
    running ??= work().finally(() => {
      running = undefined;
    });
    return running;
  };
}
