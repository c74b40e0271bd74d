import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import express, { type Request, type RequestHandler, type Response, type Router } from 'express';
import type pg from 'pg';
import { loadDashboardData } from './data.js';
import { parseDashboardQuery } from './filter.js';
import {
  nominalChartSize,
  renderDashboardPage,
  type DashboardLinks,
  type DashboardView,
} from './page.js';
import { echartsFile, publicDir } from './public-files.js';
import { drawChartsAsSvg } from './render-charts.js';

export interface DashboardDeps {
  pool: pg.Pool;
  links: DashboardLinks;
}

/**
 * The built-in dashboard: `/` (the page), `/dashboard/data` (its JSON, for the current filter)
 * and `/dashboard/assets/*` (its script, styles and ECharts, all served from here).
 */
export function createDashboardRouter(deps: DashboardDeps): Router {
  const router = express.Router();
  router.get('/', async (req, res, next) => {
    const requested = requestedFilter(req.query);
    const view: DashboardView = { links: deps.links, requested, data: null, drawn: {} };
    const parsed = parseDashboardQuery(req.query);
    let status = 200;
    try {
      if (!parsed.ok) {
        status = 400;
        view.error = parsed.message;
      } else {
        view.data = await loadDashboardData(deps.pool, parsed.query);
        view.drawn = await drawChartsAsSvg(view.data.charts, nominalChartSize);
      }
    } catch (error) {
      if (!isUnavailable(error)) {
        next(error);
        return;
      }
      status = 503;
      view.error = databaseUnavailable;
    }
    res
      .status(status)
      .set('Cache-Control', 'no-store')
      .type('html')
      .send(renderDashboardPage(view));
  });

  router.get('/dashboard/data', async (req, res, next) => {
    const parsed = parseDashboardQuery(req.query);
    if (!parsed.ok) {
      res.status(400).json({
        error: 'invalid_parameter',
        parameter: parsed.parameter,
        message: parsed.message,
      });
      return;
    }
    try {
      const data = await loadDashboardData(deps.pool, parsed.query);
      res.set('Cache-Control', 'no-store').json(data);
    } catch (error) {
      if (!isUnavailable(error)) {
        next(error);
        return;
      }
      res.status(503).json({
        error: 'database_unavailable',
        message: databaseUnavailable,
      });
    }
  });

  // ECharts is most of the page's weight: sent gzipped it is a third of that.
  router.get('/dashboard/assets/vendor/echarts.min.js', serveCompressed(echartsFile));
  router.use(
    '/dashboard/assets',
    express.static(publicDir, {
      index: false,
      setHeaders: (res) => res.setHeader('Cache-Control', 'no-cache'),
    }),
  );
  return router;
}

interface CompressedFile {
  raw: Buffer;
  gzipped: Buffer;
  etag: string;
}

/** A JavaScript file read and compressed once, revalidated by ETag. */
function serveCompressed(path: string): RequestHandler {
  let file: Promise<CompressedFile> | undefined;
  const load = async (): Promise<CompressedFile> => {
    const raw = await readFile(path);
    const gzipped = await promisify(gzip)(raw);
    const etag = `"${createHash('sha256').update(raw).digest('base64url').slice(0, 27)}"`;
    return { raw, gzipped, etag };
  };
  return async (req: Request, res: Response) => {
    // A failed read is not remembered, so a fixed install serves on the next request.
    file ??= load().catch((error: unknown) => {
      file = undefined;
      throw error;
    });
    const { raw, gzipped, etag } = await file;
    res.set({
      'Content-Type': 'text/javascript; charset=utf-8',
      'Cache-Control': 'no-cache',
      ETag: etag,
      Vary: 'Accept-Encoding',
    });
    if (req.fresh) {
      res.status(304).end();
      return;
    }
    if (req.acceptsEncodings('gzip') === 'gzip') {
      res.set('Content-Encoding', 'gzip').send(gzipped);
    } else {
      res.send(raw);
    }
  };
}

const databaseUnavailable = 'The database cannot be reached right now; try again in a moment.';

/** The filter fields as the address gave them (strings only), to show them back in the form. */
function requestedFilter(query: Request['query']): DashboardView['requested'] {
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  return { from: text(query.from), to: text(query.to), type: text(query.type) };
}

function isUnavailable(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string') return false;
  // Connection refused or reset, Postgres class 08 (connection) and 57P (shutting down).
  return ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT'].includes(code) || /^(08|57P)/.test(code);
}
