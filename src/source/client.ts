import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config.js';
import {
  createExhaustedError,
  createRefusalError,
  createTransientError,
  describeStatus,
  readErrorBody,
  SourceError,
} from './errors.js';
import { BodyError, createRowArrayReader } from './row-reader.js';
import { collectRowText, splitRowText, type RowTextChunk } from './row-text.js';
import { classifyError, classifyStatus, parseRetryAfter, planRetry, type Random } from './retry.js';
import { buildPageSearch, type SodaQuery } from './soql.js';

/**
 * The SODA 2.1 client: pages through `/resource/<dataset>.json` with the caller's stable order,
 * one page in memory at a time, retrying what may pass (throttling, outages, timeouts, broken or
 * HTML bodies) and failing at once on what will not (400, 401, 403, 404).
 */

export interface SodaClientOptions {
  /** Socrata domain, e.g. https://data.cambridgema.gov. */
  baseUrl: string;
  /** Sent as the X-App-Token header only: never in a URL, never in an event. */
  appToken?: string;
  /** Rows per page; default 50,000. */
  pageSize?: number;
  /** Per request, body included; default 60 s. */
  timeoutMs?: number;
  /** Per page, including the first; default 6. */
  maxAttempts?: number;
  /** Backoff ceiling of the first retry (exponential, full jitter); default 1 s. */
  retryBaseMs?: number;
  /** Largest backoff; default 60 s. */
  retryMaxMs?: number;
  onEvent?: (event: SodaClientEvent) => void;
  /** Source of jitter; tests pass a fixed one. */
  random?: Random;
}

export type SodaClientEvent =
  | {
      type: 'page';
      datasetId: string;
      offset: number;
      rows: number;
      /** Bytes of the body as received (compressed bytes are not seen here). */
      bytes: number;
      attempt: number;
      durationMs: number;
    }
  | {
      type: 'retry';
      datasetId: string;
      offset: number;
      /** The attempt that failed (1-based). */
      attempt: number;
      delayMs: number;
      reason: string;
      status?: number;
    };

export interface SodaPage {
  /** As parsed; validation happens later in the pipeline. */
  rows: Record<string, unknown>[];
  /** Offset of the first row of this page. */
  offset: number;
  /** From X-SODA2-Fields, when sent. */
  fields?: string[];
  /** From X-SODA2-Types, when sent. */
  types?: string[];
}

/** A page as the source's own JSON text, in chunks of whole rows (row-text.ts). */
export interface SodaTextPage {
  chunks: RowTextChunk[];
  rows: number;
  offset: number;
  fields?: string[];
  types?: string[];
}

export interface SodaClient {
  /**
   * The query's rows, page by page, until a short page. The next page is requested only when the
   * consumer asks for it, so memory holds one page. Throws SourceError.
   */
  pages(datasetId: string, query: SodaQuery, signal?: AbortSignal): AsyncIterableIterator<SodaPage>;
  /** The same pages, kept as JSON text (framing checked, rows counted, nothing parsed). */
  textPages(
    datasetId: string,
    query: SodaQuery,
    signal?: AbortSignal,
  ): AsyncIterableIterator<SodaTextPage>;
  /**
   * How many rows the source counts for a `$where` (all when undefined): what a listing of the
   * same rows must add up to. Throws SourceError.
   */
  count(datasetId: string, where: string | undefined, signal?: AbortSignal): Promise<number>;
  /** One page of `pageSize` rows from `offset`, parsed, with the retries: for callers that page. */
  page(
    datasetId: string,
    query: SodaQuery,
    offset: number,
    signal?: AbortSignal,
  ): Promise<SodaPage>;
  /** Rows a page holds when more follow. */
  readonly pageSize: number;
}

export const defaultPageSize = 50_000;

type Attempt<T> =
  | { ok: true; body: T; rows: number; bytes: number; fields?: string[]; types?: string[] }
  | { ok: false; error: SourceError; retryAfterMs?: number };

/** How a 200 answer's body is read: as parsed rows, or as JSON text. */
type BodyReader<T> = (
  datasetId: string,
  response: Response,
) => Promise<{ body: T; rows: number; bytes: number }>;

function readListHeader(value: string | null): string[] | undefined {
  if (value === null) return undefined;
  try {
    const parsed: unknown = JSON.parse(value);
    return Array.isArray(parsed) && parsed.every((item) => typeof item === 'string')
      ? parsed
      : undefined;
  } catch {
    return undefined;
  }
}

/** A proxy's or maintenance page's HTML with status 200 is not data. */
async function refuseHtml(datasetId: string, response: Response): Promise<void> {
  if (/html/i.test(response.headers.get('content-type') ?? '')) {
    const { message } = readErrorBody(await response.text());
    throw createTransientError(
      datasetId,
      `answered ${message ?? 'an HTML page'} instead of JSON (HTTP 200)`,
    );
  }
}

/** Anything but a whole list of rows is retryable. */
async function readingBody<T>(
  datasetId: string,
  response: Response,
  read: () => Promise<T>,
): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (!(error instanceof BodyError)) throw error;
    await response.body?.cancel().catch(() => undefined);
    throw createTransientError(datasetId, `answered ${error.message} (HTTP 200)`, { cause: error });
  }
}

/** Node's web streams are async iterable; the DOM typings of fetch do not say so. */
function bodyChunks(response: Response): AsyncIterable<Uint8Array> {
  return (response.body ?? []) as unknown as AsyncIterable<Uint8Array>;
}

/** The rows of a 200 answer, parsed as they stream in. */
const readRows: BodyReader<Record<string, unknown>[]> = async (datasetId, response) => {
  await refuseHtml(datasetId, response);
  const reader = createRowArrayReader();
  let bytes = 0;
  return readingBody(datasetId, response, async () => {
    for await (const chunk of bodyChunks(response)) {
      bytes += chunk.length;
      reader.push(chunk);
    }
    const rows = reader.finish();
    return { body: rows, rows: rows.length, bytes };
  });
};

/** The rows of a 200 answer as JSON text chunks, framing checked. */
const readRowText: BodyReader<RowTextChunk[]> = async (datasetId, response) => {
  await refuseHtml(datasetId, response);
  return readingBody(datasetId, response, async () => {
    const collector = collectRowText();
    for await (const chunk of bodyChunks(response))
      collector.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    const { chunks, rows } = splitRowText(collector.finish());
    return { body: chunks, rows, bytes: collector.bytes };
  });
};

export function createSodaClient(options: SodaClientOptions): SodaClient {
  const pageSize = options.pageSize ?? defaultPageSize;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const maxAttempts = options.maxAttempts ?? 6;
  const policy = { baseMs: options.retryBaseMs ?? 1_000, maxMs: options.retryMaxMs ?? 60_000 };
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.appToken) headers['x-app-token'] = options.appToken;
  const emit = options.onEvent ?? (() => undefined);

  async function attemptPage<T>(
    url: string,
    datasetId: string,
    read: BodyReader<T>,
    signal: AbortSignal | undefined,
  ): Promise<Attempt<T>> {
    const timeout = AbortSignal.timeout(timeoutMs);
    try {
      const response = await fetch(url, {
        headers,
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
      const status = response.status;
      const verdict = classifyStatus(status);
      if (verdict === 'refuse') {
        return {
          ok: false,
          error: createRefusalError(datasetId, status, readErrorBody(await response.text())),
        };
      }
      if (verdict === 'retry') {
        const body = readErrorBody(await response.text());
        const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), Date.now());
        const error = createTransientError(datasetId, describeStatus(status, body), {
          status,
          body,
        });
        return retryAfterMs === undefined
          ? { ok: false, error }
          : { ok: false, error, retryAfterMs };
      }
      const { body, rows, bytes } = await read(datasetId, response);
      const fields = readListHeader(response.headers.get('x-soda2-fields'));
      const types = readListHeader(response.headers.get('x-soda2-types'));
      return { ok: true, body, rows, bytes, ...(fields && { fields }), ...(types && { types }) };
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (error instanceof SourceError) return { ok: false, error };
      const { retryable, reason } = classifyError(error);
      if (!retryable) throw error;
      const detail = reason === 'timed out' ? `no complete answer within ${timeoutMs} ms` : reason;
      return { ok: false, error: createTransientError(datasetId, detail, { cause: error }) };
    }
  }

  function fetchPage<T>(
    datasetId: string,
    query: SodaQuery,
    offset: number,
    read: BodyReader<T>,
    signal?: AbortSignal,
  ): Promise<Extract<Attempt<T>, { ok: true }>> {
    const url = `${baseUrl}/resource/${encodeURIComponent(datasetId)}.json?${buildPageSearch(query, { limit: pageSize, offset })}`;
    return fetchWithRetries(url, datasetId, offset, read, signal);
  }

  async function fetchWithRetries<T>(
    url: string,
    datasetId: string,
    offset: number,
    read: BodyReader<T>,
    signal?: AbortSignal,
  ): Promise<Extract<Attempt<T>, { ok: true }>> {
    for (let attempt = 1; ; attempt += 1) {
      const started = performance.now();
      const result = await attemptPage(url, datasetId, read, signal);
      if (result.ok) {
        emit({
          type: 'page',
          datasetId,
          offset,
          rows: result.rows,
          bytes: result.bytes,
          attempt,
          durationMs: Math.round(performance.now() - started),
        });
        return result;
      }
      const plan = planRetry({
        attempt,
        maxAttempts,
        retryable: result.error.retryable,
        ...(result.retryAfterMs !== undefined && { retryAfterMs: result.retryAfterMs }),
        policy,
        ...(options.random && { random: options.random }),
      });
      if (!plan.retry) {
        throw result.error.retryable
          ? createExhaustedError(datasetId, attempt, result.error)
          : result.error;
      }
      emit({
        type: 'retry',
        datasetId,
        offset,
        attempt,
        delayMs: plan.delayMs,
        reason: result.error.message.replace(`Socrata dataset ${datasetId}: `, ''),
        ...(result.error.status !== undefined && { status: result.error.status }),
      });
      await sleep(plan.delayMs, undefined, signal ? { signal } : undefined);
    }
  }

  async function* paged<T, P>(
    datasetId: string,
    query: SodaQuery,
    read: BodyReader<T>,
    shape: (body: T, rows: number) => P,
    signal?: AbortSignal,
  ): AsyncGenerator<P & { offset: number; fields?: string[]; types?: string[] }> {
    for (let offset = 0; ;) {
      const { body, rows, fields, types } = await fetchPage(datasetId, query, offset, read, signal);
      // An empty first page is still news (the fields headers, an empty window); a later one is not.
      // Only one page is ever held here: the next is asked for when the consumer wants it.
      if (offset === 0 || rows > 0)
        yield { ...shape(body, rows), offset, ...(fields && { fields }), ...(types && { types }) };
      if (rows < pageSize) return;
      offset += rows;
    }
  }

  return {
    pages: (datasetId, query, signal) =>
      paged(datasetId, query, readRows, (rows) => ({ rows }), signal),
    textPages: (datasetId, query, signal) =>
      paged(datasetId, query, readRowText, (chunks, rows) => ({ chunks, rows }), signal),
    pageSize,
    async page(datasetId, query, offset, signal) {
      const { body, fields, types } = await fetchPage(datasetId, query, offset, readRows, signal);
      return { rows: body, offset, ...(fields && { fields }), ...(types && { types }) };
    },
    async count(datasetId, where, signal) {
      const search = [
        `$select=${encodeURIComponent('count(*) as count')}`,
        ...(where === undefined ? [] : [`$where=${encodeURIComponent(where)}`]),
      ].join('&');
      const url = `${baseUrl}/resource/${encodeURIComponent(datasetId)}.json?${search}`;
      for (let attempt = 1; ; attempt += 1) {
        const { body } = await fetchWithRetries(url, datasetId, 0, readRows, signal);
        const value = body[0]?.count;
        const counted =
          typeof value === 'string' || typeof value === 'number' ? Number(value) : NaN;
        if (Number.isSafeInteger(counted) && counted >= 0) return counted;
        // An answer without the count (`[]`, another shape) is a fault like a cut body.
        const error = createTransientError(
          datasetId,
          `answered a count query without a count: ${JSON.stringify(body).slice(0, 200)}`,
        );
        if (attempt >= maxAttempts) throw createExhaustedError(datasetId, attempt, error);
        await sleep(policy.baseMs, undefined, signal ? { signal } : undefined);
      }
    },
  };
}

/** The client the configuration describes; commands and workers build it this way. */
export function createSodaClientFromConfig(
  config: Pick<
    Config,
    | 'SOCRATA_BASE_URL'
    | 'SOCRATA_APP_TOKEN'
    | 'SOCRATA_PAGE_SIZE'
    | 'SOCRATA_TIMEOUT_MS'
    | 'SOCRATA_MAX_ATTEMPTS'
    | 'SOCRATA_RETRY_BASE_MS'
    | 'SOCRATA_RETRY_MAX_MS'
  >,
  onEvent?: (event: SodaClientEvent) => void,
): SodaClient {
  return createSodaClient({
    baseUrl: config.SOCRATA_BASE_URL,
    ...(config.SOCRATA_APP_TOKEN && { appToken: config.SOCRATA_APP_TOKEN }),
    pageSize: config.SOCRATA_PAGE_SIZE,
    timeoutMs: config.SOCRATA_TIMEOUT_MS,
    maxAttempts: config.SOCRATA_MAX_ATTEMPTS,
    retryBaseMs: config.SOCRATA_RETRY_BASE_MS,
    retryMaxMs: config.SOCRATA_RETRY_MAX_MS,
    ...(onEvent && { onEvent }),
  });
}
