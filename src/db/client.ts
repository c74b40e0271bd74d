import pg from 'pg';
import { redactUrl } from '../config.js';
import { UserError, describeError } from '../errors.js';

/** A connection pool, named for messages. */
export interface Database {
  pool: pg.Pool;
  /** Where it points, without the password: for messages. */
  label: string;
  close(): Promise<void>;
}

export interface CreateDatabaseOptions {
  max?: number;
  applicationName?: string;
  connectTimeoutMs?: number;
}

/** What node-postgres (8.x) keeps of a client's queries; pg-pool reads `_queryable` itself. */
interface InFlight {
  _activeQuery?: unknown;
  _queryQueue?: unknown[];
  _queryable: boolean;
}

/** Opens a pool (lazily: no connection is made until the first query). */
export function createDatabase(url: string, options: CreateDatabaseOptions = {}): Database {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'cpd',
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
    // Closes idle connections so short CLI commands exit promptly.
    idleTimeoutMillis: 10_000,
  });
  // An idle client losing its server (a Postgres restart) must not crash the process; the next
  // query gets a fresh connection and reports its own error.
  pool.on('error', () => undefined);
  // The pool listens only to its idle clients: a checked-out one (a step's transaction waiting on
  // the source) that loses its server emits 'error' to no one, which kills the process. Its
  // holder's next query fails instead, and the pool drops it when released.
  pool.on('connect', (client) => client.on('error', () => undefined));
  // A connection released with a query still in flight (a COPY stream its reader left half way
  // when the step failed) would never answer its next one: whoever got it from the pool hung.
  // The pool closes such a connection instead of reusing it (it checks the same private flag).
  pool.on('release', (_error, client) => {
    const state = client as unknown as InFlight;
    if (state._activeQuery || state._queryQueue?.length) state._queryable = false;
  });
  let closed = false;
  return {
    pool,
    label: describeDatabaseUrl(url),
    async close() {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
}

/** `host:port/database as user`, never the password. */
export function describeDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    const database = decodeURIComponent(parsed.pathname.replace(/^\//, '')) || '(default database)';
    const user = parsed.username ? ` as ${decodeURIComponent(parsed.username)}` : '';
    return `${parsed.hostname}:${parsed.port || '5432'}/${database}${user}`;
  } catch {
    return redactUrl(url);
  }
}

/**
 * Fails fast, with a message naming the database, when it cannot be reached; the pool's own
 * errors name neither the URL nor what to do.
 */
export async function assertReachable(database: Database): Promise<void> {
  try {
    await database.pool.query('select 1');
  } catch (error) {
    throw new UserError(
      'db.unreachable',
      `cannot reach PostgreSQL at ${database.label} (${describePgError(error)}); check DATABASE_URL and that the server is running, or unset DATABASE_URL to use the embedded PostgreSQL`,
      { cause: error },
    );
  }
}

function describePgError(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  const message = describeError(error).split('\n')[0] ?? '';
  if (code === '3D000') return `${message}; create it first, e.g. createdb`;
  return message || (typeof code === 'string' ? code : 'unknown error');
}
