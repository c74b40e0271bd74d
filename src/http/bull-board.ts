import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import express, { type Router } from 'express';
import type { QueueName } from '../queue/names.js';
import type { AuthFailureLimiter } from './auth-failures.js';
import { requireAdmin } from './auth.js';
import type { DependencyStatus } from './dependency.js';
import { HttpError } from './errors.js';

export const bullBoardPath = '/admin/queues';

export interface BullBoardDeps {
  queues: Record<QueueName, Queue>;
  adminToken: string | undefined;
  authFailures: AuthFailureLimiter;
  readOnly: boolean;
  checkRedis: (timeoutMs: number) => Promise<DependencyStatus>;
}

/**
 * Bull Board at /admin/queues: the queues, their flows (a run and its chains) and schedulers,
 * and retrying a failed step. Behind the admin token (bearer, or basic auth so a browser can
 * prompt). Read-only mode hides its buttons and refuses every write to its API with 405, whatever
 * Bull Board itself would allow.
 */
export function createBullBoardRouter(deps: BullBoardDeps): Router {
  const serverAdapter = new ExpressAdapter().setBasePath(bullBoardPath);
  createBullBoard({
    queues: Object.values(deps.queues).map(
      (queue) => new BullMQAdapter(queue, { readOnlyMode: deps.readOnly }),
    ),
    // @bull-board/express 9.10.1 brings its own copy of @bull-board/api (9.10.1, beside our
    // 9.10.2): the same interface at run time, two declarations to the compiler.
    serverAdapter: serverAdapter as unknown as Parameters<
      typeof createBullBoard
    >[0]['serverAdapter'],
    options: { uiConfig: { boardTitle: 'cpd queues' } },
  });
  const board = serverAdapter.getRouter() as express.Express;
  board.disable('x-powered-by');

  const router = express.Router();
  router.use(requireAdmin({ token: deps.adminToken, basic: true, failures: deps.authFailures }));
  router.use('/api', async (req, res, next) => {
    if (deps.readOnly && req.method !== 'GET' && req.method !== 'HEAD') {
      throw new HttpError(
        405,
        'bull_board.read_only',
        'Bull Board is read-only here (BULL_BOARD_READONLY=true): nothing can be retried, removed or changed through it',
        [],
        {
          Allow: 'GET, HEAD',
        },
      );
    }
    // Bull Board would pass a Redis client's raw error to the browser; say it plainly instead.
    const redis = await deps.checkRedis(500);
    if (!redis.ok)
      throw new HttpError(
        503,
        'redis.unavailable',
        `Redis, the job queue, cannot be reached (${redis.reason}); try again in a moment`,
        [],
        { 'Retry-After': '5' },
      );
    next();
  });
  router.use(board);
  return router;
}
