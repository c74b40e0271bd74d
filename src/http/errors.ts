import type { ErrorRequestHandler, Response } from 'express';
import { isDatabaseUnavailable } from '../db/availability.js';
import { isUserError } from '../errors.js';
import type { Logger } from '../logger.js';

/**
 * Every error the HTTP API answers has one shape: `{ error: { code, message, fields } }`, where
 * `fields` names each bad input and why (empty when no single field is at fault). Nothing else
 * reaches a client: no stack trace, no connection string, no library's raw message.
 */

export interface FieldProblem {
  field: string;
  message: string;
}

export interface ErrorBody {
  error: { code: string; message: string; fields: FieldProblem[] };
}

/** An answer decided by a handler: thrown, it becomes the response. */
export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields: FieldProblem[] = [],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export function errorBody(code: string, message: string, fields: FieldProblem[] = []): ErrorBody {
  return { error: { code, message, fields } };
}

export function sendError(res: Response, error: HttpError): void {
  res
    .set(error.headers)
    .status(error.status)
    .json(errorBody(error.code, error.message, error.fields));
}

/** UserError codes the API can meet, and the status each deserves. */
const userErrorStatus: Record<string, number> = {
  'run.not_found': 404,
  'run.not_failed': 409,
  'run.active': 409,
  'redis.unreachable': 503,
  'db.unreachable': 503,
};

/** body-parser's failures, by its `type`, as our codes and messages. */
function fromBodyParser(error: {
  type?: unknown;
  status?: unknown;
  limit?: unknown;
}): HttpError | undefined {
  switch (error.type) {
    case 'entity.too.large':
      return new HttpError(
        413,
        'request.too_large',
        `the request body is larger than the ${describeBytes(error.limit)} allowed; send only the fields the endpoint documents`,
      );
    case 'entity.parse.failed':
      return new HttpError(
        400,
        'request.bad_json',
        'the request body is not valid JSON; send a JSON object, e.g. {"from":"2025-01-01","to":"2025-02-01"}',
        [{ field: 'body', message: 'not valid JSON' }],
      );
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new HttpError(
        415,
        'request.unsupported_encoding',
        'the request body must be UTF-8 JSON, uncompressed or gzip/deflate',
      );
    default:
      if (
        typeof error.status === 'number' &&
        error.status >= 400 &&
        error.status < 500 &&
        typeof error.type === 'string'
      ) {
        return new HttpError(
          error.status,
          'request.unreadable',
          'the request body could not be read; send it again',
        );
      }
      return undefined;
  }
}

function describeBytes(limit: unknown): string {
  return typeof limit === 'number' ? `${Math.round(limit / 1024)} kB` : 'size';
}

/** The last handler: known failures get their status; anything else is a logged 500. */
export function handleErrors(log: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    if (error instanceof HttpError) {
      sendError(res, error);
      return;
    }
    const parserError =
      typeof error === 'object' && error !== null ? fromBodyParser(error) : undefined;
    if (parserError) {
      sendError(res, parserError);
      return;
    }
    if (isUserError(error)) {
      const status = userErrorStatus[error.code] ?? 500;
      if (status === 500)
        log.error({ err: error, requestId: res.locals.requestId as unknown }, 'request failed');
      sendError(res, new HttpError(status, error.code, error.message));
      return;
    }
    if (isDatabaseUnavailable(error)) {
      log.warn({ err: error, path: req.path }, 'PostgreSQL unavailable');
      sendError(
        res,
        new HttpError(
          503,
          'postgres.unavailable',
          'PostgreSQL cannot be reached right now; try again in a moment (GET /readyz says what is down)',
          [],
          { 'Retry-After': '5' },
        ),
      );
      return;
    }
    const requestId = String(res.locals.requestId ?? 'unknown');
    log.error(
      { err: error, requestId, method: req.method, path: req.path },
      'request failed unexpectedly',
    );
    sendError(
      res,
      new HttpError(
        500,
        'internal',
        `an unexpected error occurred; it was logged with request id ${requestId}`,
      ),
    );
  };
}
