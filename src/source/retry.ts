import { SourceError } from './errors.js';

/**
 * The retry policy, as pure functions: which answers are worth asking again, and how long to wait.
 * Randomness is passed in so the jitter can be tested.
 */

export type Random = () => number;

export interface BackoffPolicy {
  /** Delay ceiling of the first retry; it doubles with each further one. */
  baseMs: number;
  /** Largest delay the exponential backoff reaches. */
  maxMs: number;
  /** Longest `Retry-After` honoured; a larger one is cut to this, so a job never sleeps for hours. */
  retryAfterCapMs?: number;
}

export const defaultRetryAfterCapMs = 300_000;

/**
 * What an HTTP status means: `ok` is data; `retry` may pass if repeated (202 still processing,
 * 408, 429 throttled, 5xx); `refuse` will not (400 bad query, 401/403 token, 404 no dataset).
 */
export function classifyStatus(status: number): 'ok' | 'retry' | 'refuse' {
  if (status === 202) return 'retry';
  if (status >= 200 && status < 300) return 'ok';
  if (status === 408 || status === 429 || status >= 500) return 'retry';
  return 'refuse';
}

// Error codes of Node's sockets and of undici (fetch) that mean the connection, not the request,
// failed: nothing was decided by the source, so asking again is safe.
const connectionErrorCodes = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

function errorCode(error: unknown): string | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 4; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && connectionErrorCodes.has(code)) return code;
    current = current.cause;
  }
  return undefined;
}

/**
 * Whether an error thrown while requesting or reading a page is worth another attempt, and a short
 * reason for the retry event. A timeout is; the caller's own abort is not.
 */
export function classifyError(error: unknown): { retryable: boolean; reason: string } {
  if (error instanceof SourceError) return { retryable: error.retryable, reason: error.message };
  if (error instanceof Error && error.name === 'TimeoutError')
    return { retryable: true, reason: 'timed out' };
  if (error instanceof Error && error.name === 'AbortError')
    return { retryable: false, reason: 'aborted' };
  const code = errorCode(error);
  if (code) return { retryable: true, reason: `connection failed (${code})` };
  // undici reports a body cut off mid-stream as a bare TypeError "terminated".
  if (error instanceof TypeError && /^(fetch failed|terminated)$/.test(error.message)) {
    return { retryable: true, reason: `connection failed (${error.message})` };
  }
  return { retryable: false, reason: error instanceof Error ? error.message : String(error) };
}

/**
 * Exponential backoff with full jitter: a uniform delay in [0, min(maxMs, baseMs · 2^(n−1))) for
 * the retry after failed attempt n, so clients that failed together do not retry together.
 */
export function computeBackoffMs(
  attempt: number,
  policy: BackoffPolicy,
  random: Random = Math.random,
): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * ceiling);
}

/** `Retry-After` in milliseconds from now: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(
  value: string | null | undefined,
  nowMs: number,
): number | undefined {
  if (value == null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  if (!/[a-z]/i.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

export type RetryPlan = { retry: false } | { retry: true; delayMs: number };

/**
 * Whether to retry after failed attempt `attempt` (1-based, counting the first), and after how
 * long: never for a refusal, never past `maxAttempts`, and no sooner than `Retry-After` says.
 */
export function planRetry(input: {
  attempt: number;
  maxAttempts: number;
  retryable: boolean;
  retryAfterMs?: number;
  policy: BackoffPolicy;
  random?: Random;
}): RetryPlan {
  if (!input.retryable || input.attempt >= input.maxAttempts) return { retry: false };
  const backoff = computeBackoffMs(input.attempt, input.policy, input.random);
  if (input.retryAfterMs === undefined) return { retry: true, delayMs: backoff };
  const cap = input.policy.retryAfterCapMs ?? defaultRetryAfterCapMs;
  return { retry: true, delayMs: Math.min(Math.max(input.retryAfterMs, backoff), cap) };
}
