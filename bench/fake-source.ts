import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const fakeMain = fileURLToPath(new URL('../test/support/fake-soda/main.ts', import.meta.url));

/**
 * The fake SODA server in a child process, so its memory (every row, pre-serialised) is not
 * counted in the benchmark's own peak RSS.
 */
export async function startFakeSourceProcess(options: {
  rows: number;
  seed?: number;
  from?: string;
  to?: string;
  /** Crime Reports rows served beside the Police Log (the fake's default: 7,000). */
  crimeRows?: number;
}): Promise<{ url: string; pid: number; stop: () => void }> {
  const args = [
    '--import',
    'tsx',
    fakeMain,
    '--rows',
    String(options.rows),
    '--seed',
    String(options.seed ?? 1),
    '--port',
    '0',
  ];
  if (options.from) args.push('--from', options.from);
  if (options.to) args.push('--to', options.to);
  if (options.crimeRows !== undefined) args.push('--crime-rows', String(options.crimeRows));
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'ignore'] });
  const firstLine = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the fake server exited with ${code}`)));
    createInterface({ input: child.stdout }).once('line', resolve);
  });
  return { url: firstLine.trim(), pid: child.pid!, stop: () => child.kill('SIGTERM') };
}
