import type { AddressInfo } from 'node:net';
import express from 'express';
import helmet from 'helmet';
import type pg from 'pg';
import type { DashboardLinks } from '../../src/dashboard/page.js';
import { createDashboardRouter, type DashboardDeps } from '../../src/dashboard/router.js';

export interface DashboardServer {
  url: string;
  close(): Promise<void>;
}

/**
 * The dashboard router on a bare Express app, on a free port of 127.0.0.1, behind helmet's
 * default headers (a strict Content Security Policy among them), as the real app will serve it.
 */
export async function startDashboardServer(
  pool: pg.Pool,
  links: DashboardLinks = { bullBoard: '/admin/queues' },
  options: Omit<DashboardDeps, 'pool' | 'links'> = {},
): Promise<DashboardServer> {
  const app = express();
  app.use(helmet());
  app.use(createDashboardRouter({ pool, links, ...options }));
  const server = await new Promise<ReturnType<typeof app.listen>>((resolve, reject) => {
    const listening = app.listen(0, '127.0.0.1', (error?: Error) =>
      error ? reject(error) : resolve(listening),
    );
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
