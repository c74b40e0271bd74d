import express, { type Express } from 'express';
import helmet from 'helmet';
import type pg from 'pg';
import { createDashboardRouter } from '../dashboard/router.js';
import type { Logger } from '../logger.js';
import type { Orchestrator } from '../queue/orchestrator.js';
import { createAuthFailureLimiter } from './auth-failures.js';
import { refuseCrossSiteWrites } from './auth.js';
import { bullBoardPath, createBullBoardRouter } from './bull-board.js';
import type { DependencyStatus } from './dependency.js';
import { HttpError, handleErrors } from './errors.js';
import { createHealthRouter } from './health-routes.js';
import { createMetricsRouter } from './metrics.js';
import { buildOpenApiDocument } from './openapi.js';
import { logRequests } from './request-log.js';
import { createRunsRouter } from './runs-routes.js';

export interface AppConfig {
  /** Unset: writes and Bull Board are open, to local requests only (the server listens on loopback). */
  adminToken: string | undefined;
  bullBoardReadOnly: boolean;
  writeRateLimit: number;
  /** Failed authentications each client may make per minute (API and Bull Board together). */
  authFailureLimit: number;
  backfillMaxDays: number;
  /** The most windows one backfill may be cut into. */
  backfillMaxWindows: number;
  lookbackHours: number;
  /** The source's time zone: "today" for the no-future-end rule. */
  timeZone: string;
  trustProxyHops: number;
  metabasePublicUrl?: string | undefined;
  version: string;
}

export interface AppDeps {
  pool: pg.Pool;
  orchestrator: Pick<Orchestrator, 'queues' | 'requestRun' | 'retryRun' | 'ready'>;
  checkRedis: (timeoutMs: number) => Promise<DependencyStatus>;
  config: AppConfig;
  log: Logger;
  now?: () => Date;
}

/**
 * The HTTP face of the pipeline: the runs API, health and metrics, Bull Board and the built-in
 * dashboard, behind helmet's headers, with every error in one JSON shape. Everything it talks to
 * is passed in, so tests and commands build it the same way.
 */
export function createApp(deps: AppDeps): Express {
  const { config, log } = deps;
  const app = express();
  app.disable('x-powered-by');
  // Off by default: X-Forwarded-For is believed only from proxies the operator says are there.
  app.set('trust proxy', config.trustProxyHops > 0 ? config.trustProxyHops : false);
  app.use(logRequests(log));
  app.use(
    helmet({
      // The app is often served over plain HTTP (compose, a LAN); upgrading its own asset
      // requests to https would break the pages there. Everything else is helmet's default.
      contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } },
    }),
  );

  app.use(createHealthRouter(deps));
  app.use(
    createMetricsRouter({
      pool: deps.pool,
      queues: deps.orchestrator.queues,
      log,
      ...(deps.now && { now: deps.now }),
    }),
  );

  // One count of failed authentications for the API and Bull Board: guesses add up across both.
  const authFailures = createAuthFailureLimiter({ perMinute: config.authFailureLimit });
  // Without a token, every write and all of Bull Board pass the local-request check, which
  // refuses cross-site requests itself and says so in no-token terms.
  if (config.adminToken !== undefined) app.use(['/api', bullBoardPath], refuseCrossSiteWrites);

  const openApi = buildOpenApiDocument({ version: config.version });
  app.get('/api/openapi.json', (_req, res) => {
    res.json(openApi);
  });
  app.use(
    '/api',
    createRunsRouter({
      pool: deps.pool,
      orchestrator: deps.orchestrator,
      checkRedis: deps.checkRedis,
      adminToken: config.adminToken,
      authFailures,
      writeRateLimit: config.writeRateLimit,
      backfillMaxDays: config.backfillMaxDays,
      backfillMaxWindows: config.backfillMaxWindows,
      lookbackHours: config.lookbackHours,
      timeZone: config.timeZone,
      bullBoardPath,
      now: deps.now ?? (() => new Date()),
    }),
  );
  app.use('/api', (req) => {
    throw new HttpError(
      404,
      'request.not_found',
      `there is no ${req.method} ${req.originalUrl.split('?')[0]}; the API is described at /api/openapi.json`,
    );
  });

  app.use(
    bullBoardPath,
    createBullBoardRouter({
      queues: deps.orchestrator.queues,
      adminToken: config.adminToken,
      authFailures,
      readOnly: config.bullBoardReadOnly,
      checkRedis: deps.checkRedis,
    }),
  );

  app.use(
    createDashboardRouter({
      pool: deps.pool,
      // The admin is not rate limited on the dashboard.
      adminToken: config.adminToken,
      links: {
        bullBoard: bullBoardPath,
        ...(config.metabasePublicUrl && { metabase: config.metabasePublicUrl }),
      },
    }),
  );

  app.use((req) => {
    throw new HttpError(
      404,
      'request.not_found',
      `there is no ${req.method} ${req.originalUrl.split('?')[0]}; the dashboard is at /, the API at /api/openapi.json`,
    );
  });
  app.use(handleErrors(log));
  return app;
}
