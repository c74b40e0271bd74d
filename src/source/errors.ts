import { UserError } from '../errors.js';

/**
 * A failure to read from Socrata. `retryable` says whether asking again may help (throttling,
 * outages, broken bodies); the pipeline turns the others into BullMQ's UnrecoverableError. The
 * message names the dataset, the HTTP status and the source's own words, and says what to do.
 */
export class SourceError extends UserError {
  override name = 'SourceError';
  readonly datasetId: string;
  readonly status?: number;
  /** The source's error code, e.g. `query.compiler.malformed`. */
  readonly sourceCode?: string;

  constructor(init: {
    code: string;
    message: string;
    datasetId: string;
    retryable: boolean;
    status?: number;
    sourceCode?: string;
    cause?: unknown;
  }) {
    super(init.code, init.message, { cause: init.cause, retryable: init.retryable });
    this.datasetId = init.datasetId;
    if (init.status !== undefined) this.status = init.status;
    if (init.sourceCode !== undefined) this.sourceCode = init.sourceCode;
  }
}

export interface SourceErrorBody {
  sourceCode?: string;
  message?: string;
}

const maxMessageLength = 400;

/** One line, at most a few hundred characters: source messages can carry whole queries. */
function tidy(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > maxMessageLength ? `${line.slice(0, maxMessageLength - 1)}…` : line;
}

/**
 * The code and message of an error body, in either of Socrata's shapes:
 * `{"code":…,"error":true,"message":…}` and `{"errorCode":…,"message":…}`. An HTML page gives its
 * title; other text its first line.
 */
export function readErrorBody(text: string): SourceErrorBody {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    try {
      const body = JSON.parse(trimmed) as Record<string, unknown>;
      const code =
        typeof body.code === 'string'
          ? body.code
          : typeof body.errorCode === 'string'
            ? body.errorCode
            : undefined;
      const message = typeof body.message === 'string' ? tidy(body.message) : undefined;
      return { ...(code && { sourceCode: code }), ...(message && { message }) };
    } catch {
      // Not JSON after all: fall through to plain text.
    }
  }
  if (trimmed.startsWith('<')) {
    const title = /<title[^>]*>([^<]*)<\/title>/i.exec(trimmed)?.[1];
    return { message: tidy(title ? `an HTML page titled "${title}"` : 'an HTML page') };
  }
  return trimmed ? { message: tidy(trimmed) } : {};
}

function adviceFor(status: number): { code: string; advice: string } {
  if (status === 400) {
    return {
      code: 'source.query-refused',
      advice:
        "the source refused our query: the dataset's columns may have changed (compare the dataset definition under src/source/datasets/ with the source)",
    };
  }
  if (status === 401 || status === 403) {
    return {
      code: 'source.unauthorized',
      advice: 'check SOCRATA_APP_TOKEN (unset it to read a public dataset without a token)',
    };
  }
  if (status === 404)
    return { code: 'source.not-found', advice: 'check SOCRATA_DATASET and SOCRATA_BASE_URL' };
  return { code: 'source.refused', advice: 'check SOCRATA_BASE_URL' };
}

/** `HTTP 503 code: message`, for messages and retry reasons. */
export function describeStatus(status: number, body: SourceErrorBody): string {
  const code = body.sourceCode ? ` ${body.sourceCode}` : '';
  return `HTTP ${status}${code}${body.message ? `: ${body.message}` : ''}`;
}

/** The error for a response that asking again will not fix (400, 401, 403, 404, other 4xx). */
export function createRefusalError(
  datasetId: string,
  status: number,
  body: SourceErrorBody,
): SourceError {
  const { code, advice } = adviceFor(status);
  return new SourceError({
    code,
    message: `Socrata dataset ${datasetId} answered ${describeStatus(status, body)}. What to do: ${advice}.`,
    datasetId,
    retryable: false,
    status,
    ...(body.sourceCode && { sourceCode: body.sourceCode }),
  });
}

/** One failed attempt that may succeed when repeated: its reason goes into retry events. */
export function createTransientError(
  datasetId: string,
  reason: string,
  details: { status?: number; body?: SourceErrorBody; cause?: unknown } = {},
): SourceError {
  const status = details.status;
  return new SourceError({
    code: 'source.transient',
    message: `Socrata dataset ${datasetId}: ${reason}`,
    datasetId,
    retryable: true,
    ...(status !== undefined && { status }),
    ...(details.body?.sourceCode && { sourceCode: details.body.sourceCode }),
    cause: details.cause,
  });
}

/** The error when every attempt failed; still retryable: the source may recover later. */
export function createExhaustedError(
  datasetId: string,
  attempts: number,
  last: SourceError,
): SourceError {
  const lastReason = last.message.replace(`Socrata dataset ${datasetId}: `, '');
  return new SourceError({
    code: 'source.unavailable',
    message:
      `Socrata dataset ${datasetId}: gave up after ${attempts} attempt${attempts === 1 ? '' : 's'}; last: ${lastReason}. ` +
      'What to do: the source may be down or throttling us; try again later, or raise SOCRATA_MAX_ATTEMPTS or SOCRATA_TIMEOUT_MS.',
    datasetId,
    retryable: true,
    ...(last.status !== undefined && { status: last.status }),
    ...(last.sourceCode !== undefined && { sourceCode: last.sourceCode }),
    cause: last,
  });
}
