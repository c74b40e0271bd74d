import { createHash } from 'node:crypto';
import express, { type Request, type RequestHandler, type Response, type Router } from 'express';
import type pg from 'pg';
import type { RunState } from '../db/schema/enums.js';
import type { RunPlan } from '../pipeline/flow.js';
import { listRuns, readRunDetail, readRunState } from '../pipeline/ledger/index.js';
import { redactRunError } from '../pipeline/redact-run-error.js';
import { checkWindowCount } from '../pipeline/windows.js';
import type { Orchestrator } from '../queue/orchestrator.js';
import type { AuthFailureLimiter } from './auth-failures.js';
import { isAdminRequest, requireAdmin } from './auth.js';
import { checkBackfillRange, localDateOf } from './backfill-rules.js';
import { coalesceReads } from './coalesce-reads.js';
import type { DependencyStatus } from './dependency.js';
import { HttpError } from './errors.js';
import { groupStepsByWindow, runLinks, runPath, toRunSummary } from './run-view.js';
import { limitWrites } from './rate-limit.js';
import {
  backfillRequest,
  backfillWindowSizes,
  defaultPageSize,
  emptyRequest,
  reconciliationRequest,
  runIdParams,
  runListQuery,
  syncRequest,
  type RunAccepted,
  type RunDetail,
} from './schemas.js';
import { invalidRequest, requireValid } from './validation.js';

export interface RunsDeps {
  pool: pg.Pool;
  orchestrator: Pick<Orchestrator, 'requestRun' | 'retryRun' | 'ready'>;
  checkRedis: (timeoutMs: number) => Promise<DependencyStatus>;
  adminToken: string | undefined;
  authFailures: AuthFailureLimiter;
  writeRateLimit: number;
  backfillMaxDays: number;
  backfillMaxWindows: number;
  lookbackHours: number;
  timeZone: string;
  bullBoardPath: string;
  now: () => Date;
}

export const jsonBodyLimit = '16kb';

/** How long a write waits to learn whether Redis is there before answering 503. */
const redisCheckMs = 500;

/**
 * The runs API: backfills, syncs and reconciliations in, runs out, retries. Writes pass, in order (after the
 * app's cross-site check): the admin token, the rate limit, a JSON body (16 kB at most),
 * validation, then a Redis check, so a request refused for any reason has touched neither the
 * ledger nor the queue. The limit counts only authenticated writes: anonymous 401s spend the
 * failed-authentication budget, never an admin's. Reads are open; errors in them are shown in
 * full to admins only.
 */
export function createRunsRouter(deps: RunsDeps): Router {
  const router = express.Router();
  const admin = { token: deps.adminToken, failures: deps.authFailures };
  const write: RequestHandler[] = [
    requireAdmin(admin),
    limitWrites(deps.writeRateLimit),
    requireJsonBody,
    express.json({ limit: jsonBodyLimit, strict: true }),
  ];

  function redisUnavailable(reason: string): HttpError {
    return new HttpError(
      503,
      'redis.unavailable',
      `Redis, the job queue, cannot be reached (${reason}); nothing was enqueued. Try again when GET /readyz reports redis ok`,
      [],
      {
        'Retry-After': '5',
      },
    );
  }

  /**
   * Runs queue work only when the orchestrator's own connection is up and Redis answers, and
   * turns a connection lost meanwhile into the same 503. (The orchestrator fails fast while
   * disconnected; it never queues commands to replay later.)
   */
  async function onQueue<T>(work: () => Promise<T>): Promise<T> {
    const [connected, redis] = await Promise.all([
      deps.orchestrator.ready(redisCheckMs),
      deps.checkRedis(redisCheckMs),
    ]);
    if (!redis.ok) throw redisUnavailable(redis.reason);
    if (!connected) throw redisUnavailable('the queue connection is not ready yet');
    try {
      return await work();
    } catch (error) {
      if (isRedisConnectionError(error) || !(await deps.orchestrator.ready(0)))
        throw redisUnavailable('the connection was lost');
      throw error;
    }
  }

  async function readState(runId: number): Promise<RunState> {
    return readRunState(deps.pool, runId);
  }

  async function answerRun(
    res: Response,
    runId: number,
    created: boolean,
    windows: number,
  ): Promise<void> {
    const body: RunAccepted = {
      runId,
      created,
      state: await readState(runId),
      windows,
      links: runLinks(runId, deps.bullBoardPath),
    };
    res
      .status(created ? 202 : 200)
      .location(runPath(runId))
      .json(body);
  }

  router.post('/backfills', ...write, async (req, res) => {
    const body = requireValid(backfillRequest, req.body, 'body');
    const problems = checkBackfillRange(body, {
      today: localDateOf(deps.now(), deps.timeZone),
      maxDays: deps.backfillMaxDays,
      timeZone: deps.timeZone,
    });
    const tooManyWindows =
      problems.length === 0
        ? checkWindowCount(
            { from: body.from, to: body.to, size: body.window },
            deps.backfillMaxWindows,
            backfillWindowSizes,
          )
        : undefined;
    if (tooManyWindows) problems.push({ field: 'window', message: tooManyWindows });
    if (problems.length > 0) throw invalidRequest(problems);
    const plan: RunPlan = {
      mode: 'window',
      from: body.from,
      to: body.to,
      windowSize: body.window,
      ...(body.allowDeletes && { allowDeletes: true }),
    };
    const { run, created } = await onQueue(() =>
      deps.orchestrator.requestRun(plan, 'api', body.dataset),
    );
    await answerRun(res, run.id, created, run.windowCount);
  });

  router.post('/syncs', ...write, async (req, res) => {
    const { dataset } = requireValid(syncRequest, req.body ?? {}, 'body');
    const plan: RunPlan = { mode: 'incremental', lookbackHours: deps.lookbackHours };
    const { run, created } = await onQueue(() =>
      deps.orchestrator.requestRun(plan, 'api', dataset),
    );
    await answerRun(res, run.id, created, run.windowCount);
  });

  router.post('/reconciliations', ...write, async (req, res) => {
    const body = requireValid(reconciliationRequest, req.body ?? {}, 'body');
    const plan: RunPlan = {
      mode: 'reconcile',
      ...(body.allowDeletes && { allowDeletes: true }),
    };
    const { run, created } = await onQueue(() =>
      deps.orchestrator.requestRun(plan, 'api', body.dataset),
    );
    await answerRun(res, run.id, created, run.windowCount);
  });

  // The run list is what operators' scripts and pages poll; the same page asked for at once is
  // read, serialised and hashed once.
  // Keyed by who asks too: admins and anonymous callers are shown errors differently.
  const readRunList = coalesceReads(async (key) => {
    const { admin: asAdmin, ...query } = JSON.parse(key) as {
      admin: boolean;
      limit: number;
      state?: RunState;
      before?: number;
      dataset?: string;
    };
    const { rows, more } = await listRuns(deps.pool, query);
    const last = rows.at(-1);
    const next =
      more && last
        ? `/api/runs?${new URLSearchParams({ limit: String(query.limit), ...(query.state && { state: query.state }), ...(query.dataset && { dataset: query.dataset }), before: String(last.id) }).toString()}`
        : null;
    const runs = rows.map((row) => toRunSummary(asAdmin ? row : redactRow(row)));
    const body = Buffer.from(JSON.stringify({ runs, next }));
    return { body, etag: `W/"${createHash('sha1').update(body).digest('base64url')}"` };
  });

  router.get('/runs', async (req, res) => {
    const query = requireValid(runListQuery, req.query, 'query');
    const { body, etag } = await readRunList(
      JSON.stringify({
        admin: isAdminRequest(req, admin),
        limit: query.limit ?? defaultPageSize,
        state: query.state,
        before: query.before,
        dataset: query.dataset,
      }),
    );
    // A poller sending If-None-Match gets 304 when nothing changed.
    res
      .set({ 'Cache-Control': 'no-cache', ETag: etag, Vary: 'Authorization' })
      .type('json')
      .send(body);
  });

  router.get('/runs/:id', async (req, res) => {
    const { id } = requireValid(runIdParams, req.params, 'path');
    const asAdmin = isAdminRequest(req, admin);
    const detail = await readRunDetail(deps.pool, id);
    if (!detail)
      throw new HttpError(404, 'run.not_found', `there is no run ${id}; GET /api/runs lists them`, [
        { field: 'id', message: 'no such run' },
      ]);
    const { run, steps, rejected } = detail;
    const body: RunDetail = {
      ...toRunSummary(asAdmin ? run : redactRow(run)),
      cursorTo: run.cursorTo,
      sourceFieldsAdded: run.sourceFieldsAdded,
      windows: groupStepsByWindow(asAdmin ? steps : steps.map(redactRow)),
      rejected: { total: rejected.reduce((sum, row) => sum + row.count, 0), byReason: rejected },
      links: runLinks(id, deps.bullBoardPath),
    };
    res.set('Cache-Control', 'no-store').json(body);
  });

  router.post('/runs/:id/retry', ...write, async (req, res) => {
    const { id } = requireValid(runIdParams, req.params, 'path');
    requireValid(emptyRequest, req.body ?? {}, 'body');
    const { retried } = await onQueue(() => deps.orchestrator.retryRun(id));
    res
      .status(202)
      .location(runPath(id))
      .json({
        runId: id,
        retried,
        state: await readState(id),
        links: runLinks(id, deps.bullBoardPath),
      });
  });

  for (const [path, allowed] of [
    ['/backfills', 'POST'],
    ['/syncs', 'POST'],
    ['/reconciliations', 'POST'],
    ['/runs', 'GET, HEAD'],
    ['/runs/:id', 'GET, HEAD'],
    ['/runs/:id/retry', 'POST'],
  ] as const) {
    router.all(path, methodNotAllowed(allowed));
  }
  return router;
}

/** A ledger row with its error as anonymous callers see it. */
function redactRow<Row extends { error: string | null }>(row: Row): Row {
  return { ...row, error: redactRunError(row.error) };
}

/** A body, when there is one, must be JSON; no body is fine (endpoints without fields). */
function requireJsonBody(req: Request, _res: Response, next: () => void): void {
  // type-is counts `Content-Length: 0` as a body; a POST without one sends exactly that.
  const empty =
    req.headers['content-length'] === '0' && req.headers['transfer-encoding'] === undefined;
  if (!empty && req.is(['application/json', 'application/*+json']) === false) {
    throw new HttpError(
      415,
      'request.not_json',
      `the body must be JSON: send Content-Type: application/json (got ${JSON.stringify((req.headers['content-type'] ?? 'none').slice(0, 100))})`,
      [{ field: 'content-type', message: 'expected application/json' }],
    );
  }
  next();
}

function methodNotAllowed(allowed: string): RequestHandler {
  return (req) => {
    throw new HttpError(
      405,
      'request.method_not_allowed',
      `${req.method} is not supported here; use ${allowed}`,
      [],
      { Allow: allowed },
    );
  };
}

/** ioredis's errors when its connection is gone (offline queue disabled, or closed mid-command). */
function isRedisConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return (
    error.name === 'MaxRetriesPerRequestError' ||
    /Stream isn't writeable|Connection is closed|ECONNREFUSED|ECONNRESET|EPIPE/.test(error.message)
  );
}
