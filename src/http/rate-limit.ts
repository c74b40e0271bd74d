import type { RequestHandler } from 'express';
import { rateLimit } from 'express-rate-limit';
import { HttpError } from './errors.js';

/**
 * One budget of writes per client and minute, shared by every write endpoint. Clients are told
 * their budget in the standard RateLimit headers, and past it get a 429 in the API's error shape.
 */
export function limitWrites(perMinute: number): RequestHandler {
  return rateLimit({
    windowMs: 60_000,
    limit: perMinute,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    handler: (_req, _res, next) => {
      next(
        new HttpError(
          429,
          'request.rate_limited',
          `too many writes: at most ${perMinute} a minute from one client (WRITE_RATE_LIMIT); wait a minute and try again`,
          [],
          {
            'Retry-After': '60',
          },
        ),
      );
    },
  });
}
