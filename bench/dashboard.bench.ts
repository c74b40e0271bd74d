/**
 * Dashboard benchmark: 1,000,000 incidents (bulk filled over two years), one refresh of the
 * analytics views, then every dashboard query and every analytics view timed (p95 ≤ 50 ms), and
 * the first render of `/` in headless Chromium (navigation until the page, every chart drawn by the
 * server, is parsed and painted; ≤ 1 s), and until the page's ECharts has taken the charts over.
 *
 *   npm run bench -- dashboard          BENCH_INCIDENTS=200000 to try a smaller table
 */
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { loadPoliceLogData } from '../src/dashboard/data.js';
import type { Extent } from '../src/dashboard/filter.js';
import {
  queryDailyCounts,
  queryExtent,
  queryFreshness,
  queryHourCounts,
  queryHourWeekdayGrid,
  queryIncidentTypes,
  queryMonthlyCounts,
  queryRecentRuns,
  querySignificantChanges,
  queryTopLocations,
  queryTotal,
  queryTypeCounts,
  type ChartFilter,
} from '../src/dashboard/queries.js';
import { refreshAnalytics } from '../src/db/refresh-analytics.js';
import { launchChromium, waitForDashboard, waitForLiveCharts } from '../test/support/browser.js';
import { fillIncidents } from '../test/support/bulk-incidents.js';
import { startDashboardServer } from '../test/support/dashboard-server.js';
import { createTestDatabase } from '../test/support/database.js';
import { peakRssMb, percentile, report } from './support.js';

/** The page's globals the timing reads (see the first render below). */
interface BenchPage {
  document: { body: object; addEventListener(type: string, listener: () => void): void };
  MutationObserver: new (callback: () => void) => {
    observe(target: object, options: { attributeFilter: string[] }): void;
  };
  requestAnimationFrame(callback: () => void): void;
  performance: { now(): number };
  renderedAt?: number;
  liveAt?: number;
}

const incidents = Number(process.env.BENCH_INCIDENTS ?? 1_000_000);
const lastDay = '2026-01-15';
const runsPerQuery = 60;
const renders = 9;
const queryTargetMs = 50;
const renderTargetMs = 1_000;

async function time<T>(work: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const result = await work();
  return [result, performance.now() - started];
}

/** p95 over runs that cycle through the given variants, after one warm-up run of each. */
async function measure(variants: (() => Promise<unknown>)[]): Promise<number> {
  for (const variant of variants) await variant();
  const durations: number[] = [];
  for (let run = 0; run < runsPerQuery; run += 1) {
    const [, ms] = await time(variants[run % variants.length]!);
    durations.push(ms);
  }
  return percentile(
    durations.sort((a, b) => a - b),
    95,
  );
}

const database = await createTestDatabase();
let allMet = true;
try {
  process.stdout.write(`filling ${incidents.toLocaleString('en-US')} incidents…\n`);
  const [, fillMs] = await time(() =>
    fillIncidents(database.pool, { count: incidents, lastDay, days: 745 }),
  );
  report('bulk fill (one INSERT … SELECT)', fillMs / 1000, 's');
  const [, vacuumMs] = await time(() => database.pool.query('vacuum analyze incidents'));
  report('vacuum analyze incidents', vacuumMs / 1000, 's');
  const [, refreshMs] = await time(() => refreshAnalytics(database.pool));
  report('refreshAnalytics after the load', refreshMs / 1000, 's');
  const [, noopMs] = await time(() => refreshAnalytics(database.pool));
  report('refreshAnalytics with nothing changed', noopMs, 'ms');
  await database.pool.query('vacuum analyze analytics.incident_rollup, analytics.incident_daily');
  await database.pool.query(
    `insert into pipeline_runs (dataset, mode, trigger, state, dedupe_key, created_at)
     select '3gki-wyrb', 'incremental', 'schedule', 'completed', 'bench-' || g,
            now() - g * interval '1 hour'
       from generate_series(1, 2000) g`,
  );

  const extent: Extent = (await queryExtent(database.pool))!;
  const all: ChartFilter = { from: extent.firstDay, to: extent.anchorDay, type: null };
  const arrests: ChartFilter = { ...all, type: 'ARREST' };
  const midMonths: ChartFilter = { from: '2024-05-17', to: '2025-09-12', type: null };
  const past30: ChartFilter = { from: '2025-12-17', to: extent.anchorDay, type: null };
  const filters = [all, arrests, midMonths];
  const db = database.pool;

  process.stdout.write(
    `\nqueries (p95 of ${runsPerQuery}; filters: all, ARREST, mid-month range)\n`,
  );
  const queries: [string, (filter: ChartFilter) => Promise<unknown>][] = [
    ['extent', () => queryExtent(db)],
    ['incident types', () => queryIncidentTypes(db)],
    ['total', (f) => queryTotal(db, f)],
    ['daily counts + averages', (f) => queryDailyCounts(db, f)],
    ['daily counts, past 30 days', (f) => queryDailyCounts(db, { ...past30, type: f.type })],
    ['monthly counts', (f) => queryMonthlyCounts(db, f)],
    ['type counts', (f) => queryTypeCounts(db, f)],
    ['hour counts', (f) => queryHourCounts(db, f, extent)],
    ['hour × weekday grid', (f) => queryHourWeekdayGrid(db, f, extent)],
    ['top locations', (f) => queryTopLocations(db, f, extent)],
    ['significant changes', () => querySignificantChanges(db)],
    ['freshness', () => queryFreshness(db)],
    ['recent runs', () => queryRecentRuns(db)],
  ];
  for (const [name, query] of queries) {
    const p95 = await measure(filters.map((filter) => () => query(filter)));
    allMet = report(`query: ${name}`, p95, 'ms', { max: queryTargetMs }) && allMet;
  }
  const wholePage = await measure([() => loadPoliceLogData(db, {})]);
  report('all of /dashboard/data (queries in parallel)', wholePage, 'ms');

  process.stdout.write(
    `\nthe views of docs/analytics.md, as Metabase cards read them (p95 of ${runsPerQuery})\n`,
  );
  const viewQueries: [string, string][] = [
    // The rollup is a base for filtered cards, not a table to read whole: a year by type and hour.
    [
      'incident_rollup, one year by type and hour',
      `select type, hour, sum(incidents) from analytics.incident_rollup
        where day > (select max(day) from analytics.incident_daily) - 365 group by type, hour`,
    ],
    ...[
      'daily_counts',
      'monthly_counts',
      'type_counts',
      'hour_counts',
      'hour_weekday_grid',
      'top_locations',
      'yoy_weekly',
      'significant_changes',
      'freshness',
    ].map((view): [string, string] => [view, `select * from analytics.${view}`]),
    ['run_health, latest 50', 'select * from analytics.run_health limit 50'],
  ];
  for (const [name, sql] of viewQueries) {
    const p95 = await measure([() => db.query(sql)]);
    allMet = report(`view: ${name}`, p95, 'ms', { max: queryTargetMs }) && allMet;
  }

  process.stdout.write(`\nfirst render of / (new browser context each time: nothing cached)\n`);
  const server = await startDashboardServer(db);
  const browser = await launchChromium();
  try {
    const getPage = () => fetch(`${server.url}/`).then((answer) => answer.text());
    const [, coldMs] = await time(getPage);
    report('server: / with its data, every chart drawn (first request)', coldMs, 'ms');
    const pageMs = await measure([getPage]);
    report('server: / with its data, drawings remembered (p95)', pageMs, 'ms');
    const renderMs: number[] = [];
    const liveMs: number[] = [];
    for (let run = 0; run <= renders; run += 1) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();
      // Timed in the page, from the start of its navigation: the first render is the first
      // frame after the page is parsed (every chart is in it: the server draws them); live is
      // when the page's ECharts has taken them over. The page's script waits for that frame
      // before it starts, so neither figure holds the other back.
      await page.addInitScript(() => {
        const page = globalThis as unknown as BenchPage;
        page.document.addEventListener('DOMContentLoaded', () => {
          page.requestAnimationFrame(() => (page.renderedAt = page.performance.now()));
          new page.MutationObserver(() => (page.liveAt ??= page.performance.now())).observe(
            page.document.body,
            { attributeFilter: ['data-live'] },
          );
        });
      });
      await page.goto(`${server.url}/`, { waitUntil: 'domcontentloaded' });
      await waitForDashboard(page);
      await waitForLiveCharts(page);
      const { rendered, live } = await page.evaluate(() => {
        const page = globalThis as unknown as BenchPage;
        return { rendered: page.renderedAt, live: page.liveAt };
      });
      // The first is the server's own first request (it compresses ECharts once); not counted.
      if (run > 0) {
        renderMs.push(rendered ?? Number.NaN);
        liveMs.push(live ?? Number.NaN);
      }
      await context.close();
    }
    renderMs.sort((a, b) => a - b);
    liveMs.sort((a, b) => a - b);
    // Rendering is CPU-bound in Chromium, so other work on the machine shows here first; the
    // median of the cold loads is the figure judged, the slowest is printed beside it.
    report('machine load average while rendering (1 min)', loadavg()[0]!, '');
    allMet =
      report(`first render of /: median of ${renders}`, percentile(renderMs, 50), 'ms', {
        max: renderTargetMs,
      }) && allMet;
    report(`first render of /: slowest of ${renders}`, renderMs.at(-1)!, 'ms');
    report(`charts live (ECharts in the page): median of ${renders}`, percentile(liveMs, 50), 'ms');
  } finally {
    await browser.close();
    await server.close();
  }
  report('peak RSS (this process)', await peakRssMb(), 'MB');
} finally {
  await database.drop();
}
process.exit(allMet ? 0 : 1);
