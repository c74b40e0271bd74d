import type pg from 'pg';
import { startCli, type CliProcess } from '../support/cli.js';

/**
 * `cpd worker` processes, as a deployment runs them, with a supervisor's habit: a worker that
 * dies is replaced (as compose's `restart: unless-stopped` would). Each worker names its database
 * connections (`application_name`), so the suite can tell which process is inside a transaction.
 */
export interface Worker {
  name: string;
  process: CliProcess;
}

export interface FleetOptions {
  size: number;
  /** Environment of every worker; DATABASE_URL gets the worker's application_name. */
  env: Record<string, string>;
  databaseUrl: string;
  /** How long the supervisor waits before replacing a dead worker. */
  restartDelayMs?: number;
}

export class WorkerFleet {
  readonly workers: Worker[] = [];
  private started = 0;
  private stopping = false;
  private readonly pending = new Set<Promise<void>>();
  /** Output of workers that ended, kept for a failure's report. */
  private readonly graveyard: string[] = [];
  private readonly victims = new Set<Worker>();
  /** Workers that ended without being killed or stopped: each one a defect. */
  private crashes: string[] = [];

  constructor(private readonly options: FleetOptions) {}

  async start(): Promise<void> {
    await Promise.all(Array.from({ length: this.options.size }, () => this.spawn()));
  }

  private async spawn(): Promise<void> {
    this.started += 1;
    const name = `w${this.started}`;
    const url = new URL(this.options.databaseUrl);
    url.searchParams.set('application_name', `chaos-${name}`);
    const process = startCli(['worker'], { ...this.options.env, DATABASE_URL: url.toString() });
    const worker = { name, process };
    this.workers.push(worker);
    void process.exited.then(({ code, signal }) => {
      const index = this.workers.indexOf(worker);
      if (index >= 0) this.workers.splice(index, 1);
      this.graveyard.push(`--- ${name} ---\n${process.stderr().slice(-4_000)}`);
      if (this.victims.delete(worker) || this.stopping) return;
      const lastLines = process.stderr().trim().split('\n').slice(-3).join(' / ');
      this.crashes.push(
        `worker ${name} exited by itself (${signal ?? `code ${code}`}): ${lastLines.slice(0, 600)}`,
      );
      // The supervisor replaces it, as it would any dead worker.
      this.track(this.spawn());
    });
    await process.waitForOutput(/workers started/, 60_000);
  }

  /** The workers with a transaction open in the database right now: the ones inside a step. */
  async busy(pool: pg.Pool): Promise<Worker[]> {
    const { rows } = await pool.query<{ name: string }>(
      `select distinct substr(application_name, 7) as name from pg_stat_activity
        where application_name like 'chaos-w%' and xact_start is not null and datname = current_database()`,
    );
    const names = new Set(rows.map((row) => row.name));
    return this.workers.filter((worker) => names.has(worker.name));
  }

  /** SIGKILLs these workers; the supervisor starts as many new ones after its delay. */
  async kill(victims: readonly Worker[]): Promise<void> {
    await Promise.all(
      victims.map(async (victim) => {
        this.victims.add(victim);
        victim.process.child.kill('SIGKILL');
        await victim.process.exited;
      }),
    );
    this.track(
      (async () => {
        await new Promise((resolve) => setTimeout(resolve, this.options.restartDelayMs ?? 500));
        if (!this.stopping) await Promise.all(victims.map(() => this.spawn()));
      })(),
    );
  }

  private track(work: Promise<void>): void {
    const tracked = work.catch((error: unknown) => {
      this.crashes.push(`a replacement worker did not start: ${String(error).slice(0, 600)}`);
    });
    this.pending.add(tracked);
    void tracked.finally(() => this.pending.delete(tracked));
  }

  /** Crashes since the last call. */
  takeCrashes(): string[] {
    const crashes = this.crashes;
    this.crashes = [];
    return crashes;
  }

  /** Waits for replacements the supervisor is starting. */
  async settle(): Promise<void> {
    await Promise.all([...this.pending]);
  }

  /** The last output of every worker, living or dead: what to read when a trial fails. */
  describe(): string {
    return [
      ...this.graveyard,
      ...this.workers.map(
        (worker) => `--- ${worker.name} (running) ---\n${worker.process.stderr().slice(-4_000)}`,
      ),
    ].join('\n');
  }

  /** SIGTERM (graceful), then SIGKILL whatever is still running after the grace period. */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    await this.settle().catch(() => undefined);
    await Promise.all(
      [...this.workers].map(async (worker) => {
        worker.process.child.kill('SIGTERM');
        const timer = setTimeout(() => worker.process.child.kill('SIGKILL'), graceMs);
        await worker.process.exited;
        clearTimeout(timer);
      }),
    );
  }
}
