import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { UserError } from './errors.js';

/**
 * Every environment variable the program reads, parsed once. Defaults are chosen so that a fresh
 * checkout works with nothing set: the live Socrata API, the embedded PostgreSQL, a local Redis.
 */

const urlWithScheme = (schemes: string[], what: string) =>
  z.string().refine(
    (value) => {
      try {
        return schemes.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    { message: `expected ${what} (${schemes.map((s) => `${s}//`).join(' or ')}…)` },
  );

const integer = (min: number, max: number, what: string) =>
  z
    .string()
    .regex(/^\d+$/, { message: `expected ${what}: a whole number from ${min} to ${max}` })
    .transform(Number)
    .refine((n) => n >= min && n <= max, {
      message: `expected ${what}: a whole number from ${min} to ${max}`,
    });

const booleanFlag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'expected true or false' })
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

const cronExpression = z.string().regex(/^\s*(\S+\s+){4,5}\S+\s*$/, {
  message: 'expected a cron expression of 5 or 6 fields, e.g. "20 * * * *"',
});

/** Metabase's password rule, as its setup enforces it (besides its list of common passwords). */
export const metabasePasswordRule = 'at least 8 characters with a letter and a digit';

export function isAcceptableMetabasePassword(password: string): boolean {
  return password.length >= 8 && /\p{L}/u.test(password) && /\d/.test(password);
}

/** A Socrata id (`3gki-wyrb`) or a dataset's short name (`crime-reports`). */
export const datasetName = /^(?:[a-z0-9]{4}-[a-z0-9]{4}|[a-z][a-z0-9]*(?:-[a-z0-9]+)*)$/;

/** `SYNC_CRON_CRIME_REPORTS` overrides `SYNC_CRON` for the dataset named `crime-reports`. */
export function syncCronVariable(shortName: string): string {
  return `SYNC_CRON_${shortName.toUpperCase().replaceAll('-', '_')}`;
}

/** `RECONCILE_CRON_CRIME_REPORTS` overrides `RECONCILE_CRON` for `crime-reports`. */
export function reconcileCronVariable(shortName: string): string {
  return `RECONCILE_CRON_${shortName.toUpperCase().replaceAll('-', '_')}`;
}

/** Weekly, Sunday 04:00 local time: a quiet hour, after the week's publish batches. */
export const defaultReconcileCron = '0 4 * * 0';

export const envSchema = z.object({
  DATABASE_URL: urlWithScheme(['postgres:', 'postgresql:'], 'a PostgreSQL URL').optional(),
  // A password apart from its URL, as it is: any characters, no URL-encoding (compose passes it
  // so). It goes into DATABASE_URL, replacing one there.
  DATABASE_PASSWORD: z.string().optional(),
  REDIS_URL: urlWithScheme(['redis:', 'rediss:'], 'a Redis URL').default('redis://127.0.0.1:6379'),
  SOCRATA_BASE_URL: urlWithScheme(['http:', 'https:'], 'an http(s) URL').default(
    'https://data.cambridgema.gov',
  ),
  /** The default dataset of commands and routes given none: a Socrata id or a short name. */
  SOCRATA_DATASET: z
    .string()
    .regex(datasetName, {
      message: 'expected a Socrata dataset id like 3gki-wyrb, or a short name like crime-reports',
    })
    .default('3gki-wyrb'),
  SOCRATA_APP_TOKEN: z.string().min(1).optional(),
  SOCRATA_PAGE_SIZE: integer(1, 50_000, 'rows per page').default(50_000),
  SOCRATA_TIMEOUT_MS: integer(1_000, 600_000, 'milliseconds').default(60_000),
  SOCRATA_MAX_ATTEMPTS: integer(1, 20, 'attempts per request').default(6),
  SOCRATA_RETRY_BASE_MS: integer(0, 600_000, 'milliseconds (first backoff ceiling)').default(1_000),
  SOCRATA_RETRY_MAX_MS: integer(0, 3_600_000, 'milliseconds (largest backoff)').default(60_000),
  SYNC_CRON: cronExpression.default('20 * * * *'),
  SYNC_LOOKBACK_HOURS: integer(0, 24 * 365, 'hours').default(72),
  /** The reconciliation's schedule (key listing, marks removals); `off` for none. */
  RECONCILE_CRON: z
    .string()
    .regex(/^\s*(off|(\S+\s+){4,5}\S+)\s*$/, {
      message: 'expected a cron expression of 5 or 6 fields, e.g. "0 4 * * 0", or off',
    })
    .default(defaultReconcileCron),
  REJECT_THRESHOLD: z
    .string()
    .regex(/^(0(\.\d+)?|1(\.0+)?)$/, { message: 'expected a share from 0 to 1, e.g. 0.05' })
    .transform(Number)
    .default(0.05),
  /** Share of the rows held in a window that a complete read of it may mark deleted unconfirmed. */
  DELETE_GUARD: z
    .string()
    .regex(/^(0(\.\d+)?|1(\.0+)?)$/, { message: 'expected a share from 0 to 1, e.g. 0.05' })
    .transform(Number)
    .default(0.05),
  QUEUE_PREFIX: z
    .string()
    .regex(/^[^\s:]+$/, { message: 'expected a prefix without spaces or ":", e.g. {cpd}' })
    .default('{cpd}'),
  WORKER_CONCURRENCY: integer(1, 64, 'jobs at once per worker process').default(1),
  SHUTDOWN_GRACE_MS: integer(0, 600_000, 'milliseconds').default(30_000),
  /** A job's lock without renewal: how soon a killed worker's job is noticed (BullMQ default). */
  WORKER_LOCK_MS: integer(1_000, 600_000, 'milliseconds').default(30_000),
  /** How often workers look for jobs whose worker died, to run them again. */
  WORKER_STALLED_INTERVAL_MS: integer(1_000, 600_000, 'milliseconds').default(30_000),
  /** Scales the queue's retry delays; below 1 only for tests and trials. */
  STEP_BACKOFF_SCALE: z
    .string()
    .regex(/^(0(\.\d+)?|1(\.0+)?)$/, { message: 'expected a factor from 0 to 1, e.g. 0.01' })
    .transform(Number)
    .default(1),
  HOST: z.string().min(1).optional(),
  PORT: integer(1, 65_535, 'a TCP port').default(3000),
  ADMIN_TOKEN: z
    .string()
    .min(16, { message: 'expected at least 16 characters (try: openssl rand -hex 24)' })
    .optional(),
  BULL_BOARD_READONLY: booleanFlag.default(false),
  /** Reverse proxies in front whose X-Forwarded-For is believed; 0: the socket's address. */
  TRUST_PROXY_HOPS: integer(0, 10, 'proxy hops').default(0),
  /** Writes (POST /api/...) each client may make per minute. */
  WRITE_RATE_LIMIT: integer(1, 100_000, 'requests per minute').default(30),
  /** Failed authentications (a wrong token) each client may make per minute, API and Bull Board. */
  AUTH_FAILURE_LIMIT: integer(1, 10_000, 'failures per minute').default(10),
  /** The longest date range one backfill request may ask for. */
  BACKFILL_MAX_DAYS: integer(1, 36_600, 'days').default(3_660),
  /** The most windows one run over a date range may be cut into (each is a chain of four jobs). */
  BACKFILL_MAX_WINDOWS: integer(1, 100_000, 'windows').default(400),
  /** Connections the HTTP server (API, dashboard) may hold; `cpd up` gives workers their own. */
  HTTP_DB_POOL_SIZE: integer(1, 100, 'connections').default(5),
  METABASE_URL: urlWithScheme(['http:', 'https:'], 'an http(s) URL').optional(),
  METABASE_ADMIN_EMAIL: z.email({ message: 'expected an email address' }).optional(),
  // Metabase's own rule (and it also refuses common passwords), checked here so provisioning
  // stops before its first request rather than at Metabase's 400.
  METABASE_ADMIN_PASSWORD: z
    .string()
    .refine(isAcceptableMetabasePassword, {
      message: `expected ${metabasePasswordRule} (Metabase's rule; it also refuses common passwords)`,
    })
    .optional(),
  // How Metabase itself reaches our PostgreSQL; differs from DATABASE_URL when Metabase runs
  // elsewhere (another container, another host). Unset: DATABASE_URL.
  METABASE_DATABASE_URL: urlWithScheme(['postgres:', 'postgresql:'], 'a PostgreSQL URL').optional(),
  // Its password apart, as DATABASE_PASSWORD is for DATABASE_URL.
  METABASE_DATABASE_PASSWORD: z.string().optional(),
  // The address people open Metabase at, for printed links; unset: METABASE_URL.
  METABASE_PUBLIC_URL: urlWithScheme(['http:', 'https:'], 'an http(s) URL').optional(),
  METABASE_SITE_NAME: z.string().trim().min(1).default('CPD Police Log'),
  // Metabase takes a minute or more to boot; provisioning waits this long for it.
  METABASE_WAIT_SECONDS: integer(0, 3_600, 'seconds').default(300),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      message: 'expected one of fatal, error, warn, info, debug, trace, silent',
    })
    .default('info'),
  CPD_DATA_DIR: z.string().min(1).default('.cpd'),
});

export type Env = z.infer<typeof envSchema>;

export interface Config extends Env {
  /** Absolute folder for local state: the embedded PostgreSQL cluster lives under it. */
  dataDir: string;
  /** Per-dataset schedules, by variable name (`SYNC_CRON_CRIME_REPORTS`): see syncCronOf. */
  syncCronOverrides: Record<string, string>;
  /** Per-dataset reconciliation schedules (`RECONCILE_CRON_CRIME_REPORTS`): see reconcileCronOf. */
  reconcileCronOverrides: Record<string, string>;
}

/**
 * The schedule of a dataset: its own `SYNC_CRON_<NAME>` when set (`off`: none), else `SYNC_CRON`.
 */
export function syncCronOf(
  config: Pick<Config, 'SYNC_CRON' | 'syncCronOverrides'>,
  shortName: string,
): string {
  return (config.syncCronOverrides[syncCronVariable(shortName)] ?? config.SYNC_CRON).trim();
}

/**
 * The reconciliation schedule of a dataset: its own `RECONCILE_CRON_<NAME>` when set, else
 * `RECONCILE_CRON` (default weekly); `off` for none.
 */
export function reconcileCronOf(
  config: Partial<Pick<Config, 'RECONCILE_CRON' | 'reconcileCronOverrides'>>,
  shortName: string,
): string {
  return (
    config.reconcileCronOverrides?.[reconcileCronVariable(shortName)] ??
    config.RECONCILE_CRON ??
    defaultReconcileCron
  ).trim();
}

/** Thrown when the environment is invalid; `problems` holds one line per bad variable. */
export class ConfigError extends UserError {
  readonly problems: string[];
  constructor(problems: string[]) {
    super('config.invalid', `Invalid configuration:\n${problems.join('\n')}`);
    this.problems = problems;
  }
}

/**
 * Parses an environment. Empty strings count as unset, as in most .env conventions, so
 * `ADMIN_TOKEN=` does not mean "a token of zero characters".
 */
export function parseConfig(env: NodeJS.ProcessEnv, cwd = process.cwd()): Config {
  const present = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value.trim() !== ''),
  );
  const result = envSchema.safeParse(present);
  const overrides = Object.entries(present).filter(([name]) =>
    /^(SYNC|RECONCILE)_CRON_[A-Z0-9_]+$/.test(name),
  );
  const problems = result.success
    ? []
    : result.error.issues.map((issue) => {
        const name = String(issue.path[0] ?? 'environment');
        const got =
          typeof present[name] === 'string' ? ` (got ${quoteForDisplay(name, present[name])})` : '';
        return `${name}: ${issue.message}${got}`;
      });
  for (const [name, value] of overrides) {
    const cron = cronExpression.safeParse(value);
    if (!cron.success && value!.trim() !== 'off')
      problems.push(
        `${name}: ${cron.error.issues[0]!.message} (got ${quoteForDisplay(name, value!)})`,
      );
  }
  if (!result.success || problems.length > 0) throw new ConfigError(problems);
  const data = result.data;
  return {
    ...data,
    DATABASE_URL: withPassword(data.DATABASE_URL, data.DATABASE_PASSWORD),
    METABASE_DATABASE_URL: withPassword(
      data.METABASE_DATABASE_URL,
      data.METABASE_DATABASE_PASSWORD,
    ),
    dataDir: resolve(cwd, data.CPD_DATA_DIR),
    syncCronOverrides: Object.fromEntries(
      overrides.filter(([name]) => name.startsWith('SYNC_')),
    ) as Record<string, string>,
    reconcileCronOverrides: Object.fromEntries(
      overrides.filter(([name]) => name.startsWith('RECONCILE_')),
    ) as Record<string, string>,
  };
}

/** A URL with the password put in, percent-encoded, so `@`, `/`, `#` or `:` in it stay its own. */
function withPassword(url: string | undefined, password: string | undefined): string | undefined {
  if (url === undefined || password === undefined) return url;
  const parsed = new URL(url);
  parsed.password = encodeURIComponent(password);
  return parsed.toString();
}

const secretNames = new Set([
  'ADMIN_TOKEN',
  'SOCRATA_APP_TOKEN',
  'METABASE_ADMIN_PASSWORD',
  'DATABASE_PASSWORD',
  'METABASE_DATABASE_PASSWORD',
]);

function quoteForDisplay(name: string, value: string): string {
  if (secretNames.has(name)) return 'a value that is not shown';
  if (name === 'DATABASE_URL' || name === 'REDIS_URL' || name === 'METABASE_DATABASE_URL')
    return JSON.stringify(redactUrl(value));
  return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
}

/** A URL with its password replaced, for messages and logs. */
export function redactUrl(value: string): string {
  try {
    const url = new URL(value);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return value.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
  }
}

let cached: Config | undefined;

/** The process's configuration, with `.env` from the working directory read first when present. */
export function loadConfig(): Config {
  if (cached) return cached;
  const dotenv = resolve(process.cwd(), '.env');
  if (existsSync(dotenv)) process.loadEnvFile(dotenv);
  cached = parseConfig(process.env);
  return cached;
}
