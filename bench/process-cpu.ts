import { readFile } from 'node:fs/promises';
import type pg from 'pg';

/**
 * CPU time of a child process and of the PostgreSQL backends serving one database, sampled from
 * /proc while they run (Linux), so a benchmark can say where the time went: in Node or in
 * PostgreSQL. Backends are found by database name, so other databases' work on the same server
 * is not counted.
 */

const ticksPerSecond = 100;

export async function cpuSeconds(pid: number): Promise<number | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (!stat) return undefined;
  // Fields after the command name (which may hold spaces) start at its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

export interface CpuSample {
  atMs: number;
  node: number;
  postgres: number;
}

export interface CpuSampler {
  stop(): Promise<{ node: number; postgres: number; samples: CpuSample[] }>;
}

/** Samples every `intervalMs` until stopped; CPU seconds used since the start. */
export function sampleCpu(
  admin: pg.Client,
  nodePid: number,
  database: string,
  intervalMs = 100,
): CpuSampler {
  const backends = new Map<number, number>();
  let node = 0;
  const samples: CpuSample[] = [];
  let running = true;
  const startedAt = performance.now();
  const sumBackends = () => [...backends.values()].reduce((sum, cpu) => sum + cpu, 0);

  async function tick(): Promise<void> {
    const nodeCpu = await cpuSeconds(nodePid);
    // /proc counts from the process's start: its latest reading is its CPU so far.
    if (nodeCpu !== undefined) node = nodeCpu;
    const { rows } = await admin.query<{ pid: number }>(
      'select pid from pg_stat_activity where datname = $1',
      [database],
    );
    for (const { pid } of rows) {
      const cpu = await cpuSeconds(pid);
      if (cpu === undefined) continue;
      // Backends serve only this database, so each one's CPU since its start is this run's.
      backends.set(pid, cpu);
    }
    samples.push({
      atMs: performance.now() - startedAt,
      node,
      postgres: sumBackends(),
    });
  }

  const loop = (async () => {
    while (running) {
      await tick().catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })();

  return {
    async stop() {
      running = false;
      await loop;
      return { node, postgres: sumBackends(), samples };
    },
  };
}

/** CPU used between two instants of a run (ms since the sampler started), from the samples. */
export function cpuBetween(
  samples: CpuSample[],
  fromMs: number,
  toMs: number,
): { node: number; postgres: number } {
  const at = (ms: number) => {
    let best = samples[0] ?? { atMs: 0, node: 0, postgres: 0 };
    for (const sample of samples) if (sample.atMs <= ms) best = sample;
    return best;
  };
  const from = at(fromMs);
  const to = at(toMs);
  return { node: to.node - from.node, postgres: to.postgres - from.postgres };
}
