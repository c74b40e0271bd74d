import { setTimeout as sleep } from 'node:timers/promises';
import { createDatabase, type Database } from '../../src/db/client.js';
import { migrateDatabase } from '../../src/db/migrate.js';
import type { RunPlan } from '../../src/pipeline/flow.js';
import { readRunTotals, type RunTotals } from '../../src/pipeline/ledger/index.js';
import { createOrchestrator, type Orchestrator } from '../../src/queue/orchestrator.js';
import { createSodaClient } from '../../src/source/client.js';
import { policeLog } from '../../src/source/datasets/police-log.js';
import { incrementalQuery, windowQuery } from '../../src/source/queries.js';
import { startFakeSoda, type FakeSoda, type SodaRow } from '../support/fake-soda/index.js';
import type { PrivatePostgres } from '../support/private-postgres.js';
import { createTestPrefix, deletePrefix } from '../support/queue.js';
import type { PrivateRedis } from '../support/redis-server.js';
import { WorkerFleet } from './fleet.js';
import type { SourceRow } from './truth.js';

/** The services the whole suite shares: its own PostgreSQL cluster and its own Redis. */
export interface ChaosServices {
  postgres: PrivatePostgres;
  redis: PrivateRedis;
  /** Seeded randomness: the same seed makes the same choices (timing still varies). */
  random: () => number;
  log(message: string): void;
}

export interface StageOptions {
  /** Database name on the private cluster. */
  name: string;
  rows: Iterable<SodaRow>;
  workers?: number;
  /** Extra worker environment (WORKER_CONCURRENCY, SOCRATA_TIMEOUT_MS, ...). */
  env?: Record<string, string>;
  /** Scales the queue's retry delays; 1 is production's. */
  backoffScale?: number;
}

export const endStates = ['completed', 'failed', 'crashed', 'cancelled'] as const;

/**
 * One scenario's world: a database of its own on the private cluster, a queue prefix of its own
 * on the private Redis, a fake source with its rows, and `cpd worker` processes pointed at them.
 * The suite drives runs through the same orchestrator the HTTP API and `cpd backfill` use.
 */
export class Stage {
  private constructor(
    readonly services: ChaosServices,
    readonly database: Database,
    readonly databaseUrl: string,
    readonly prefix: string,
    readonly fake: FakeSoda,
    readonly orchestrator: Orchestrator,
    readonly fleet: WorkerFleet,
    readonly workerEnv: Record<string, string>,
  ) {}

  static async open(services: ChaosServices, options: StageOptions): Promise<Stage> {
    const url = await services.postgres.createDatabase(options.name);
    const database = createDatabase(url, { max: 8, applicationName: 'chaos-driver' });
    await migrateDatabase(database.pool);
    const fake = await startFakeSoda({ rows: options.rows });
    const prefix = createTestPrefix().replace('cpdtest', 'chaos');
    const orchestrator = createOrchestrator({
      pool: database.pool,
      redisUrl: services.redis.url,
      prefix,
      datasetId: policeLog.id,
      backoffScale: options.backoffScale ?? 0.1,
    });
    const workerEnv = {
      REDIS_URL: services.redis.url,
      QUEUE_PREFIX: prefix,
      SOCRATA_BASE_URL: fake.url,
      SOCRATA_PAGE_SIZE: '2000',
      SOCRATA_RETRY_BASE_MS: '20',
      SOCRATA_RETRY_MAX_MS: '500',
      SOCRATA_TIMEOUT_MS: '5000',
      STEP_BACKOFF_SCALE: String(options.backoffScale ?? 0.1),
      WORKER_LOCK_MS: '2000',
      WORKER_STALLED_INTERVAL_MS: '1000',
      WORKER_CONCURRENCY: '2',
      SHUTDOWN_GRACE_MS: '2000',
      // Never during a trial: the suite starts every run itself.
      SYNC_CRON: '0 0 1 1 *',
      LOG_LEVEL: 'info',
      ...options.env,
    };
    const fleet = new WorkerFleet({
      size: options.workers ?? 2,
      env: workerEnv,
      databaseUrl: url,
    });
    const stage = new Stage(services, database, url, prefix, fake, orchestrator, fleet, workerEnv);
    await fleet.start();
    return stage;
  }

  get pool() {
    return this.database.pool;
  }

  /** Empties what a load fills, keeping the ledger's history. Returns nothing; the table holds 0 rows after. */
  async reset(): Promise<void> {
    await this.pool.query('truncate incidents, rejected_records');
    await this.pool.query('delete from sync_state');
  }

  async countIncidents(): Promise<number> {
    const { rows } = await this.pool.query<{ count: number }>(
      'select count(*)::int as count from incidents',
    );
    return rows[0]!.count;
  }

  /** Asks for a run as the API does, waiting out a Redis that is coming back. */
  async requestRun(plan: RunPlan): Promise<number> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.orchestrator.ready(10_000);
        const { run } = await this.orchestrator.requestRun(plan, 'api');
        return run.id;
      } catch (error) {
        if (attempt >= 20) throw error;
        await sleep(500);
      }
    }
  }

  /**
   * Polls the ledger until the runs end (a database being restarted only delays the answer).
   * Collects every step error the ledger showed meanwhile: what it said while it happened.
   */
  async waitForRuns(
    runIds: readonly number[],
    timeoutMs: number,
    seenErrors = new Set<string>(),
  ): Promise<RunTotals[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const { rows } = await this.pool.query<{ error: string }>(
          `select distinct error from pipeline_steps where run_id = any($1::bigint[]) and error is not null
           union select distinct error from pipeline_runs where id = any($1::bigint[]) and error is not null`,
          [runIds],
        );
        for (const row of rows) seenErrors.add(row.error);
        const totals = await Promise.all(runIds.map((id) => readRunTotals(this.pool, id)));
        if (totals.every((run) => (endStates as readonly string[]).includes(run.state)))
          return totals;
      } catch {
        // The database is away (a restart scenario): ask again.
      }
      if (Date.now() > deadline) {
        const states = await this.describeRuns(runIds).catch((error: unknown) => String(error));
        // What to read when a run hangs: what each connection is doing, and the workers' logs.
        const activity = await this.pool
          .query<{ line: string }>(
            `select format('%s %s %s/%s (%ss): %s', pid, state, wait_event_type, wait_event,
                           round(extract(epoch from now() - query_start)), left(query, 160)) as line
               from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`,
          )
          .then(({ rows }) => rows.map((row) => row.line).join('\n'))
          .catch((error: unknown) => String(error));
        throw new Error(
          `runs ${runIds.join(', ')} did not end within ${timeoutMs} ms: ${states}\n` +
            `connections:\n${activity}\nworkers:\n${this.fleet.describe()}`,
        );
      }
      await sleep(100);
    }
  }

  /** The ledger's steps of these runs, one line each, for a report. */
  async describeRuns(runIds: readonly number[]): Promise<string> {
    const { rows } = await this.pool.query<{ line: string }>(
      `select format('run %s %s: %s', r.id, r.state, string_agg(format('w%s %s %s×%s%s', s.window_index, s.step, s.state, s.attempts,
                coalesce(' (' || left(s.error, 120) || ')', '')), ', ' order by s.window_index, s.step)) as line
         from pipeline_runs r join pipeline_steps s on s.run_id = r.id
        where r.id = any($1::bigint[]) and (s.state <> 'completed' or s.attempts > 1)
        group by r.id, r.state order by r.id`,
      [runIds],
    );
    return rows.map((row) => row.line).join('; ') || 'every step completed at its first attempt';
  }

  /** The source's rows as it serves them for a run's plan: what the truth is computed from. */
  async servedRows(plan: RunPlan): Promise<SourceRow[]> {
    const client = createSodaClient({ baseUrl: this.fake.url, pageSize: 50_000, retryBaseMs: 10 });
    const query =
      plan.mode === 'window'
        ? windowQuery(policeLog, { from: plan.from, to: plan.to })
        : incrementalQuery(policeLog, {});
    const rows: SourceRow[] = [];
    for await (const page of client.pages(policeLog.id, query)) rows.push(...page.rows);
    return rows;
  }

  async close(): Promise<void> {
    await this.fleet.stop();
    await this.orchestrator.close();
    await deletePrefix(this.prefix, this.services.redis.url).catch(() => undefined);
    await this.fake.close();
    await this.database.close();
  }
}
