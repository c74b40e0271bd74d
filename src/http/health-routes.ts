import express, { type Router } from 'express';
import type pg from 'pg';
import { probeWithin, type DependencyStatus } from './dependency.js';
import type { Readiness } from './schemas.js';

export interface HealthDeps {
  pool: pg.Pool;
  checkRedis: (timeoutMs: number) => Promise<DependencyStatus>;
}

const checkTimeoutMs = 1_000;

/**
 * `/healthz`: the process is up (it answers with every dependency down, so an orchestrator does
 * not restart it for someone else's outage). `/readyz`: PostgreSQL and Redis answer, and if not,
 * which one and why.
 */
export function createHealthRouter(deps: HealthDeps): Router {
  const router = express.Router();
  router.get('/healthz', (_req, res) => {
    res
      .set('Cache-Control', 'no-store')
      .json({ status: 'ok', uptimeSeconds: Math.round(process.uptime()) });
  });
  router.get('/readyz', async (_req, res) => {
    const [postgres, redis] = await Promise.all([
      probeWithin(() => deps.pool.query('select 1'), checkTimeoutMs),
      deps.checkRedis(checkTimeoutMs),
    ]);
    const body: Readiness = {
      ready: postgres.ok && redis.ok,
      postgres: describeStatus(postgres),
      redis: describeStatus(redis),
    };
    res
      .set('Cache-Control', 'no-store')
      .status(body.ready ? 200 : 503)
      .json(body);
  });
  return router;
}

function describeStatus(status: DependencyStatus): string {
  return status.ok ? 'ok' : `down: ${status.reason}`;
}
