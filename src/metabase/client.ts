import { metabasePasswordRule } from '../config.js';
import { UserError, describeError } from '../errors.js';

/**
 * A small client for the Metabase REST API (0.50+), as provisioning uses it. Requests are retried
 * while Metabase boots (connection refused, 502/503/504), up to a wait; everything else that goes
 * wrong becomes a UserError that says what to do.
 */

// The shapes below are the parts of Metabase's answers that provisioning reads.

export interface SessionProperties {
  'setup-token'?: string | null;
  'has-user-setup'?: boolean;
  version?: { tag?: string } | null;
}

export interface MbDatabase {
  id: number;
  name: string;
  engine: string;
  details?: Record<string, unknown> | null;
}

export interface MbField {
  id: number;
  name: string;
}

export interface MbTable {
  id: number;
  name: string;
  schema: string | null;
  fields?: MbField[];
}

export interface MbDatabaseMetadata extends MbDatabase {
  tables?: MbTable[];
}

export interface MbCollection {
  id: number | string;
  name: string;
  description?: string | null;
  archived?: boolean;
  personal_owner_id?: number | null;
  location?: string | null;
}

export interface MbCollectionItem {
  id: number;
  model: string;
  name: string;
  description?: string | null;
}

export interface MbCard {
  id: number;
  name: string;
  description: string | null;
  display: string;
  collection_id: number | null;
  dataset_query: unknown;
  visualization_settings: unknown;
  archived?: boolean;
}

export interface MbDashcard {
  id: number;
  card_id: number | null;
  row: number;
  col: number;
  size_x: number;
  size_y: number;
  parameter_mappings?: unknown[] | null;
  visualization_settings?: unknown;
}

export interface MbDashboard {
  id: number;
  name: string;
  description: string | null;
  collection_id: number | null;
  parameters?: unknown[] | null;
  dashcards?: MbDashcard[];
  archived?: boolean;
}

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** A request Metabase answered with an error status: kept apart so callers can explain it. */
export class MetabaseRequestError extends UserError {
  readonly status: number;
  readonly body: unknown;
  constructor(method: string, path: string, status: number, body: unknown) {
    super(
      'metabase.request',
      `Metabase answered ${status} to ${method} ${path}: ${describeMetabaseError(body)}`,
    );
    this.status = status;
    this.body = body;
  }
}

export interface MetabaseClientOptions {
  baseUrl: string;
  /** How long to keep retrying while Metabase is unreachable or booting, per request. */
  waitMs: number;
  requestTimeoutMs?: number;
  /** Told each time a request is retried, with the reason (for logs). */
  onRetry?: (reason: string, attempt: number) => void;
  sleep?: (ms: number) => Promise<void>;
}

const retryableStatuses = new Set([502, 503, 504]);

export class MetabaseClient {
  readonly baseUrl: string;
  private session: string | undefined;
  private readonly options: MetabaseClientOptions;

  constructor(options: MetabaseClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.options = options;
  }

  /** Sends one request (JSON in, JSON out) with the session, retrying while Metabase boots. */
  async request<T>(method: HttpMethod, path: string, body?: unknown): Promise<T> {
    const url = `${this.baseUrl}${path}`;
    const deadline = Date.now() + this.options.waitMs;
    const sleep = this.options.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
    for (let attempt = 1; ; attempt += 1) {
      let response: Response;
      try {
        response = await fetch(url, {
          method,
          headers: {
            accept: 'application/json',
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
            ...(this.session ? { 'x-metabase-session': this.session } : {}),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(this.options.requestTimeoutMs ?? 60_000),
        });
      } catch (error) {
        const reason = describeFetchError(error);
        const transient = isTransient(error);
        if (transient && Date.now() < deadline) {
          this.options.onRetry?.(reason, attempt);
          await sleep(backoffMs(attempt));
          continue;
        }
        const waited = transient ? ` after waiting ${formatWait(this.options.waitMs)}` : '';
        throw new UserError(
          'metabase.unreachable',
          `cannot reach Metabase at ${this.baseUrl} (${reason})${waited}; check METABASE_URL and that Metabase is running (it takes a minute or two to start)`,
          { cause: error },
        );
      }
      const payload = await readBody(response);
      if (response.ok) return payload as T;
      // A 500 to a write may have been applied; only reads are safe to repeat then.
      const retryable =
        retryableStatuses.has(response.status) || (response.status === 500 && method === 'GET');
      if (retryable && Date.now() < deadline) {
        this.options.onRetry?.(`${response.status} ${describeMetabaseError(payload)}`, attempt);
        await sleep(backoffMs(attempt));
        continue;
      }
      if (retryable)
        throw new UserError(
          'metabase.unavailable',
          `Metabase at ${this.baseUrl} still answers ${response.status} (${describeMetabaseError(payload)}) after waiting ${formatWait(this.options.waitMs)}; check its logs, or raise METABASE_WAIT_SECONDS if it is still starting`,
        );
      throw new MetabaseRequestError(method, path, response.status, payload);
    }
  }

  getSessionProperties(): Promise<SessionProperties> {
    return this.request('GET', '/api/session/properties');
  }

  /** First-run setup: creates the admin user and logs in as them. */
  async setup(input: {
    token: string;
    email: string;
    password: string;
    siteName: string;
  }): Promise<void> {
    try {
      const { id } = await this.request<{ id: string }>('POST', '/api/setup', {
        token: input.token,
        user: {
          email: input.email,
          password: input.password,
          first_name: 'CPD',
          last_name: 'Admin',
          site_name: input.siteName,
        },
        prefs: { site_name: input.siteName, site_locale: 'en', allow_tracking: false },
      });
      this.session = id;
    } catch (error) {
      if (error instanceof MetabaseRequestError && error.status < 500)
        throw new UserError(
          'metabase.setup',
          `Metabase refused its first-run setup (${describeMetabaseError(error.body)}); check METABASE_ADMIN_EMAIL and METABASE_ADMIN_PASSWORD (Metabase rejects common passwords, and wants ${metabasePasswordRule})`,
          { cause: error },
        );
      throw error;
    }
  }

  async login(email: string, password: string): Promise<void> {
    try {
      const { id } = await this.request<{ id: string }>('POST', '/api/session', {
        username: email,
        password,
      });
      this.session = id;
    } catch (error) {
      if (error instanceof MetabaseRequestError && (error.status === 400 || error.status === 401))
        throw new UserError(
          'metabase.login',
          `Metabase refused the login of ${email} (${describeMetabaseError(error.body)}); check METABASE_ADMIN_EMAIL and METABASE_ADMIN_PASSWORD: they must be those of the admin Metabase was set up with`,
          { cause: error },
        );
      throw error;
    }
  }

  async listDatabases(): Promise<MbDatabase[]> {
    return unwrapList(await this.request<unknown>('GET', '/api/database'));
  }

  getDatabaseMetadata(id: number): Promise<MbDatabaseMetadata> {
    return this.request('GET', `/api/database/${id}/metadata?include_hidden=true`);
  }

  syncDatabaseSchema(id: number): Promise<unknown> {
    return this.request('POST', `/api/database/${id}/sync_schema`);
  }

  async listCollections(): Promise<MbCollection[]> {
    return unwrapList(await this.request<unknown>('GET', '/api/collection'));
  }

  async listCollectionItems(id: number): Promise<MbCollectionItem[]> {
    return unwrapList(await this.request<unknown>('GET', `/api/collection/${id}/items`));
  }

  /**
   * A card with its query in the legacy form we write: from 0.57 Metabase answers in MBQL 5
   * (`lib/type`, `stages`) unless asked; older versions ignore the parameter.
   */
  getCard(id: number): Promise<MbCard> {
    return this.request('GET', `/api/card/${id}?legacy-mbql=true`);
  }

  getDashboard(id: number): Promise<MbDashboard> {
    return this.request('GET', `/api/dashboard/${id}`);
  }
}

/** Metabase lists come bare (collections) or as `{data, total}` (databases, items). */
function unwrapList<T>(payload: unknown): T[] {
  if (Array.isArray(payload)) return payload as T[];
  const data = (payload as { data?: unknown } | null)?.data;
  return Array.isArray(data) ? (data as T[]) : [];
}

async function readBody(response: Response): Promise<unknown> {
  const text = await response.text();
  if (text === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** Metabase's error bodies: a string, `{message}`, or `{errors: {field: message}}`. */
export function describeMetabaseError(body: unknown): string {
  if (typeof body === 'string') return oneLine(body) || 'no message';
  if (body && typeof body === 'object') {
    const { message, errors } = body as { message?: unknown; errors?: unknown };
    if (typeof message === 'string' && message) return oneLine(message);
    if (errors && typeof errors === 'object')
      return Object.entries(errors as Record<string, unknown>)
        .map(
          ([field, text]) => `${field}: ${typeof text === 'string' ? text : JSON.stringify(text)}`,
        )
        .join('; ');
  }
  return 'no message';
}

function oneLine(text: string): string {
  const line = text.split('\n')[0]?.trim() ?? '';
  return line.length > 300 ? `${line.slice(0, 297)}...` : line;
}

function describeFetchError(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
  if (cause && typeof cause.code === 'string') return cause.code;
  if (cause && typeof cause.message === 'string') return cause.message;
  return describeError(error);
}

/** Refused, reset, timed out, not resolvable yet (a container starting): worth waiting for. */
function isTransient(error: unknown): boolean {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError'))
    return true;
  const code = (error as { cause?: { code?: unknown } }).cause?.code;
  return typeof code === 'string';
}

function backoffMs(attempt: number): number {
  return Math.min(250 * 2 ** (attempt - 1), 5_000);
}

function formatWait(ms: number): string {
  return ms >= 1_000 ? `${Math.round(ms / 1_000)} s` : `${ms} ms`;
}
