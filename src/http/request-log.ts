import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Logger } from '../logger.js';

/** Probes and static assets are frequent and dull: logged at debug; everything else at info. */
const quietPaths = /^\/(healthz|readyz|metrics)$|^\/dashboard\/assets\/|^\/admin\/queues\/static\//;

/**
 * Gives each request an id (echoed in X-Request-Id, and in any 500's message) and logs one line
 * when it ends: method, path, status, duration. Never headers or bodies, where tokens live.
 */
export function logRequests(log: Logger): RequestHandler {
  return (req, res, next) => {
    const requestId = randomUUID();
    const started = process.hrtime.bigint();
    res.locals.requestId = requestId;
    res.set('X-Request-Id', requestId);
    res.on('finish', () => {
      const entry = {
        requestId,
        method: req.method,
        path: req.originalUrl.split('?')[0],
        status: res.statusCode,
        ms: Math.round(Number(process.hrtime.bigint() - started) / 1e5) / 10,
      };
      if (res.statusCode >= 500) log.warn(entry, 'request');
      else if (quietPaths.test(entry.path ?? '')) log.debug(entry, 'request');
      else log.info(entry, 'request');
    });
    next();
  };
}
