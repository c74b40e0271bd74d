import { readFile } from 'node:fs/promises';
import type pg from 'pg';

/**
 * CPU time of a child process and of the PostgreSQL backends serving one database, sampled from
 * /proc while they run (Linux), so a benchmark can say where the time went: in Node or in
 * PostgreSQL. Backends are found by database name, so other databases' work on the same server
 * is not counted.
 */

const ticksPerSecond = 100;

async function cpuSeconds(pid: number): Promise<number | undefined> {
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
  const backends = new Map<number, { first: number; last: number }>();
  let node = { first: Number.NaN, last: 0 };
  const samples: CpuSample[] = [];
  let running = true;
  const startedAt = performance.now();
  const sumBackends = () =>
    [...backends.values()].reduce((sum, cpu) => sum + (cpu.last - cpu.first), 0);

  async function tick(): Promise<void> {
    const nodeCpu = await cpuSeconds(nodePid);
    if (nodeCpu !== undefined) {
      if (Number.isNaN(node.first)) node = { first: nodeCpu, last: nodeCpu };
      node.last = nodeCpu;
    }
    const { rows } = await admin.query<{ pid: number }>(
      'select pid from pg_stat_activity where datname = $1',
      [database],
    );
    for (const { pid } of rows) {
      const cpu = await cpuSeconds(pid);
      if (cpu === undefined) continue;
      const known = backends.get(pid);
      // A backend first seen mid-run started then: its CPU so far is this run's.
      if (known) known.last = cpu;
      else backends.set(pid, { first: 0, last: cpu });
    }
    samples.push({
      atMs: performance.now() - startedAt,
      node: Number.isNaN(node.first) ? 0 : node.last,
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
      return { node: Number.isNaN(node.first) ? 0 : node.last, postgres: sumBackends(), samples };
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
