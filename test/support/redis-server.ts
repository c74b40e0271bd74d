import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFreePort } from './http-app.js';

export interface PrivateRedis {
  url: string;
  port: number;
  /** Stops it (SIGTERM) and waits for the process to end. */
  stop(): Promise<void>;
  /** Kills it (SIGKILL), as a crash would, and waits for the process to end. */
  kill(): Promise<void>;
  /** Starts it again on the same port: empty, or with what its append-only file kept. */
  start(): Promise<void>;
  /** Stops it for good and removes its folder. */
  close(): Promise<void>;
}

export interface PrivateRedisOptions {
  /** Append-only persistence, as production runs it (compose.yaml): `everysec` or `always`. */
  appendFsync?: 'everysec' | 'always';
}

/**
 * A redis-server of the test's own, on a free port, so a test can take Redis away and bring it
 * back without touching the shared one. Without persistence unless asked for.
 */
export async function startPrivateRedis(options: PrivateRedisOptions = {}): Promise<PrivateRedis> {
  const port = await findFreePort();
  const dir = await mkdtemp(join(tmpdir(), 'cpd-redis-'));
  let child: ChildProcess | undefined;

  async function start(): Promise<void> {
    const started = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--dir',
        dir,
        ...(options.appendFsync
          ? ['--appendonly', 'yes', '--appendfsync', options.appendFsync]
          : ['--appendonly', 'no']),
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child = started;
    await new Promise<void>((resolve, reject) => {
      let output = '';
      const timer = setTimeout(
        () => reject(new Error(`redis-server did not start on ${port}:\n${output}`)),
        10_000,
      );
      started.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        output += chunk;
        if (/Ready to accept connections/.test(output)) {
          clearTimeout(timer);
          resolve();
        }
      });
      started.stderr.resume();
      started.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited (${code}) before it was ready:\n${output}`));
      });
    });
    started.stdout.resume();
  }

  async function stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill(signal);
    await exited;
  }

  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop: () => stop(),
    kill: () => stop('SIGKILL'),
    start,
    async close() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
