import { spawn, type ChildProcess } from 'node:child_process';
/** Small helpers every benchmark uses to print comparable figures. */

/** Peak resident set size of this process so far, in MB (Linux: VmHWM). */
export async function peakRssMb(): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const status = await readFile('/proc/self/status', 'utf8').catch(() => '');
  const match = /VmHWM:\s+(\d+) kB/.exec(status);
  return match ? Number(match[1]) / 1024 : process.memoryUsage().rss / 1024 / 1024;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)]!;
}

/** Prints one figure against its target and returns whether it was met. */
export function report(
  label: string,
  value: number,
  unit: string,
  target?: { max?: number; min?: number },
): boolean {
  const met =
    target === undefined ||
    ((target.max === undefined || value <= target.max) &&
      (target.min === undefined || value >= target.min));
  const goal =
    target === undefined
      ? ''
      : `  (target ${target.max !== undefined ? `≤ ${target.max}` : `≥ ${target.min}`} ${unit}: ${met ? 'met' : 'MISSED'})`;
  process.stdout.write(`${label.padEnd(48)} ${formatNumber(value).padStart(12)} ${unit}${goal}\n`);
  return met;
}

function formatNumber(value: number): string {
  return Math.abs(value) >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(2);
}

/** Two `cpd worker` processes (the queue benchmarks' fleet), each with the capped heap cpd runs with. */
export function startWorkers(cpd: string, env: Record<string, string>): ChildProcess[] {
  return [0, 1].map(() =>
    spawn(process.execPath, ['--max-old-space-size=512', cpd, 'worker'], {
      env: { ...process.env, ...env, LOG_LEVEL: 'warn' },
      stdio: 'ignore',
    }),
  );
}

/** SIGTERM to each worker, and their exits. */
export async function stopWorkers(workers: ChildProcess[]): Promise<void> {
  await Promise.all(
    workers.map(
      (worker) =>
        new Promise((resolve) => {
          worker.on('exit', resolve);
          worker.kill('SIGTERM');
        }),
    ),
  );
}
