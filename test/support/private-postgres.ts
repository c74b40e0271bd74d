import { execFile } from 'node:child_process';
import { chmod, chown, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { findFreePort } from './http-app.js';

/**
 * A PostgreSQL cluster of the caller's own, made with Debian's binaries on a free port, so a test
 * or the fault suite can stop, crash and restart it without touching the shared server on 5432.
 * PostgreSQL refuses to run as root: as root, its binaries run as the `postgres` user (as the
 * embedded cluster's do, src/db/embedded.ts), in a folder that user owns.
 */
export interface PrivatePostgres {
  port: number;
  /** The folder holding the cluster and its log. */
  dir: string;
  /** A URL for a database on it, as its superuser (trust authentication, loopback only). */
  urlFor(database: string, applicationName?: string): string;
  /** Creates an empty database and returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** `fast`: clients are disconnected, the server shuts down cleanly. `immediate`: it quits without a checkpoint, as after a crash, and recovers from its WAL when started. */
  stop(mode: 'fast' | 'immediate'): Promise<void>;
  start(): Promise<void>;
  /** Stops it for good and removes its folder. */
  close(): Promise<void>;
}

const superuser = 'cpd';

/** The newest installed Debian PostgreSQL's binaries (`/usr/lib/postgresql/<major>/bin`). */
export async function findPostgresBinaries(root = '/usr/lib/postgresql'): Promise<string> {
  const majors = (await readdir(root).catch(() => [] as string[]))
    .filter((name) => /^\d+$/.test(name))
    .sort((a, b) => Number(b) - Number(a));
  if (majors.length === 0) {
    throw new Error(
      `no PostgreSQL binaries under ${root}; install Debian's postgresql package (apt-get install postgresql)`,
    );
  }
  return join(root, majors[0]!, 'bin');
}

export async function startPrivatePostgres(
  options: { settings?: Record<string, string> } = {},
): Promise<PrivatePostgres> {
  const bin = await findPostgresBinaries();
  const owner = await postgresOwner();
  const dir = await mkdtemp(join(tmpdir(), 'cpd-private-pg-'));
  // The postgres user must be able to enter the folder that holds its cluster.
  await chmod(dir, 0o755);
  const data = join(dir, 'data');
  await mkdir(data, { mode: 0o700 });
  if (owner) await chown(data, owner.uid, owner.gid);
  const port = await findFreePort();
  const run = (command: string, args: string[]) => runAs(owner, join(bin, command), args);

  await run('initdb', [
    `--pgdata=${data}`,
    `--username=${superuser}`,
    '--auth=trust',
    '--encoding=UTF8',
    '--locale=C.UTF-8',
    '--no-sync',
  ]);
  const serverOptions = [
    `-p ${port}`,
    '-c listen_addresses=127.0.0.1',
    "-c unix_socket_directories=''",
    '-c max_connections=300',
    ...Object.entries(options.settings ?? {}).map(([name, value]) => `-c ${name}=${value}`),
  ].join(' ');

  async function start(): Promise<void> {
    await run('pg_ctl', [
      'start',
      '--wait',
      '--timeout=120',
      `--pgdata=${data}`,
      `--log=${join(data, 'server.log')}`,
      `--options=${serverOptions}`,
    ]);
  }
  async function stop(mode: 'fast' | 'immediate'): Promise<void> {
    await run('pg_ctl', ['stop', '--wait', '--timeout=120', `--mode=${mode}`, `--pgdata=${data}`]);
  }
  const urlFor = (database: string, applicationName?: string) =>
    `postgres://${superuser}@127.0.0.1:${port}/${database}` +
    (applicationName ? `?application_name=${encodeURIComponent(applicationName)}` : '');

  try {
    await start();
  } catch (error) {
    const log = await readFile(join(data, 'server.log'), 'utf8').catch(() => '');
    await rm(dir, { recursive: true, force: true });
    throw new Error(`the private PostgreSQL did not start: ${String(error)}\n${log}`);
  }
  return {
    port,
    dir,
    urlFor,
    async createDatabase(name) {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad database name ${name}`);
      const client = new pg.Client({ connectionString: urlFor('postgres') });
      await client.connect();
      try {
        await client.query(`create database ${name}`);
      } finally {
        await client.end();
      }
      return urlFor(name);
    },
    stop,
    start,
    async close() {
      await stop('fast').catch(() => stop('immediate').catch(() => undefined));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

type Owner = { uid: number; gid: number } | undefined;

async function postgresOwner(): Promise<Owner> {
  if (process.getuid?.() !== 0) return undefined;
  const passwd = await readFile('/etc/passwd', 'utf8');
  const [, , uid, gid] =
    passwd
      .split('\n')
      .find((line) => line.startsWith('postgres:'))
      ?.split(':') ?? [];
  if (uid === undefined || gid === undefined)
    throw new Error('running as root, a private PostgreSQL needs a system user named postgres');
  return { uid: Number(uid), gid: Number(gid) };
}

function runAs(owner: Owner, command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { ...(owner ?? {}), cwd: '/', timeout: 180_000 },
      (error, _stdout, stderr) => {
        if (error)
          reject(new Error(`${command} ${args[0] ?? ''}: ${stderr.trim() || error.message}`));
        else resolve();
      },
    );
  });
}
