import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import express, { type Request, type RequestHandler, type Response, type Router } from 'express';
import type pg from 'pg';
import { rateLimit } from 'express-rate-limit';
import { isDatabaseUnavailable } from '../db/availability.js';
import { readCredential, tokensMatch } from '../http/auth.js';
import {
  createDashboardAnswers,
  type AnswerCacheOptions,
  type DashboardAnswers,
} from './answers.js';
import type { DashboardData } from './data.js';
import { parseDashboardQuery } from './filter.js';
import {
  nominalChartSize,
  renderDashboardPage,
  type DashboardLinks,
  type DashboardView,
} from './page.js';
import type { DatasetPage, DescribedFreshness } from './page-spec.js';
import { datasetPages } from './pages/index.js';
import { echartsFile, publicDir } from './public-files.js';
import { drawChartsAsSvg } from './render-charts.js';

export interface DashboardDeps {
  pool: pg.Pool;
  links: DashboardLinks;
  /** Page and data requests one anonymous client may make a minute; default 120. */
  requestsPerMinute?: number;
  /** Requests with this admin token (bearer) are not rate limited. */
  adminToken?: string | undefined;
  cache?: AnswerCacheOptions;
  /** Built from `pool` and `cache` unless given. */
  answers?: DashboardAnswers;
}

/**
 * The built-in dashboards: one page per dataset (`/` the Police Log, `/datasets/<name>` the
 * others, each with its JSON at `dataPath`), and `/dashboard/assets/*` (script, styles and
 * ECharts, all served from here). Answers come from a bounded store keyed by filter and data
 * version (answers.ts); anonymous clients are rate limited.
 */
export function createDashboardRouter(deps: DashboardDeps): Router {
  const router = express.Router();
  const answers = deps.answers ?? createDashboardAnswers(deps.pool, deps.cache);
  const datasets = datasetPages.map((page) => ({ label: page.label, path: page.path }));
  const limit = limitDashboardRequests(deps.requestsPerMinute ?? 120, deps.adminToken);

  for (const page of datasetPages) {
    const paths = [page.path, ...(page.path === '/' ? [`/datasets/${page.name}`] : [])];
    router.get(paths, limit, async (req, res, next) => {
      const requested = requestedFilter(req.query);
      const view: DashboardView = { links: deps.links, datasets, requested, data: null, drawn: {} };
      const parsed = parseDashboardQuery(req.query);
      let status = 200;
      try {
        if (!parsed.ok) {
          status = 400;
          view.error = parsed.message;
        } else {
          const [answer, state] = await Promise.all([
            answers.drawn(page, parsed.query, (charts) =>
              drawChartsAsSvg(charts, (id) => nominalChartSize(id, page)),
            ),
            answers.status(page),
          ]);
          view.data = describe(page, answer.data, state);
          view.drawn = answer.drawn;
        }
      } catch (error) {
        if (!isDatabaseUnavailable(error)) {
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
        .send(renderDashboardPage(view, page));
    });

    router.get(page.dataPath, limit, async (req, res, next) => {
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
        const [data, state] = await Promise.all([
          answers.data(page, parsed.query),
          answers.status(page),
        ]);
        res.set('Cache-Control', 'no-store').json(describe(page, data, state));
      } catch (error) {
        if (!isDatabaseUnavailable(error)) {
          next(error);
          return;
        }
        res.status(503).json({
          error: 'database_unavailable',
          message: databaseUnavailable,
        });
      }
    });
  }

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

/** A page's answer for this request: the data as remembered, ages as of now. */
function describe(
  page: DatasetPage,
  data: Awaited<ReturnType<DashboardAnswers['data']>>,
  state: Awaited<ReturnType<DashboardAnswers['status']>>,
): DashboardData<DescribedFreshness> {
  const { facts, ...rest } = data;
  return {
    ...rest,
    freshness: {
      ...(facts as object),
      ...page.describeFreshness(facts, state.lastSuccessfulSyncAt, new Date()),
    },
    runs: state.runs,
  };
}

/**
 * Each client's budget of page and data requests a minute (assets are free): past it, 429 with
 * Retry-After. The admin (bearer token) is not counted.
 */
function limitDashboardRequests(perMinute: number, adminToken: string | undefined): RequestHandler {
  return rateLimit({
    windowMs: 60_000,
    limit: perMinute,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    skip: (req) => {
      if (!adminToken) return false;
      const given = readCredential(req.headers.authorization, { basic: false });
      return given !== undefined && tokensMatch(given, adminToken);
    },
    handler: (req, res) => {
      const message = `too many dashboard requests: at most ${perMinute} a minute from one client; wait a minute and try again`;
      res.status(429).set('Retry-After', '60').set('Cache-Control', 'no-store');
      // The data routes answer JSON, the pages plain text.
      if (req.path.endsWith('/data')) res.json({ error: 'rate_limited', message });
      else res.type('text').send(message);
    },
  });
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
