import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chartIds } from '../../src/dashboard/data.js';
import {
  launchChromium,
  saveScreenshot,
  waitForDashboard,
  waitForLiveCharts,
  type PageGlobals,
} from '../support/browser.js';
import { startFakeSoda } from '../support/fake-soda/index.js';
import { stepDepsFor, syncInProcess, wholeRange } from '../support/pipeline.js';
import { generatePoliceLog } from '../support/police-log-generator.js';
import { startDashboardServer, type DashboardServer } from '../support/dashboard-server.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

/**
 * What the page is shown over: a real sync (`cpd sync`'s flow, in this process) of two years of
 * generated Police Log rows from the fake SODA server, which refreshes the analytics views as it
 * ends.
 */
async function fillDatabase(database: TestDatabase): Promise<void> {
  const fake = await startFakeSoda({
    rows: [...generatePoliceLog({ seed: 5, rows: 12_000, from: '2024-01-01' })],
  });
  try {
    const { run, error } = await syncInProcess(stepDepsFor(database, fake), wholeRange);
    expect(error).toBeUndefined();
    expect(run.state).toBe('completed');
    expect(run.rowsInserted).toBeGreaterThan(11_000);
  } finally {
    await fake.close();
  }
}

interface Totals {
  range: number;
  past30: number;
  history: number;
}

async function readTotals(page: Page): Promise<Totals> {
  const text = await page.evaluate(() => {
    const { document } = globalThis as unknown as PageGlobals;
    const read = (id: string) => document.getElementById(`total-${id}`)?.textContent ?? '';
    return { range: read('range'), past30: read('past30'), history: read('history') };
  });
  const parse = (shown: string) => Number(shown.replace(/,/g, ''));
  return { range: parse(text.range), past30: parse(text.past30), history: parse(text.history) };
}

/**
 * Every chart, as the page reports it (how many points its series hold) and as its SVG
 * shows it: shapes, texts, and the colours its shapes are filled with.
 */
async function readCharts(page: Page) {
  return page.evaluate(() => {
    const { document } = globalThis as unknown as PageGlobals;
    return Array.from(document.querySelectorAll('[data-chart]')).map((element) => {
      const shapes = Array.from(element.querySelectorAll('svg path, svg rect'));
      return {
        id: element.id,
        points: Number(element.dataset.points),
        shapes: shapes.length,
        fills: new Set(shapes.map((shape) => shape.getAttribute('fill'))).size,
        texts: Array.from(element.querySelectorAll('svg text')).map((text) => text.textContent),
        summary: document.getElementById(`${element.id}-summary`)?.textContent ?? '',
      };
    });
  });
}

describe('the dashboard in headless Chromium', () => {
  let database: TestDatabase;
  let server: DashboardServer;
  let browser: Browser;
  const requested: string[] = [];
  const problems: string[] = [];

  /** SQL's own counts for the three totals: a range (inclusive days) and a type. */
  async function countIncidents(from: string | null, to: string | null, type: string | null) {
    const { rows } = await database.pool.query<Totals>(
      `with anchor as (select max(local_date) as day from incidents)
       select count(*) filter (where local_date between coalesce($1::date, '-infinity')
                                                    and coalesce($2::date, 'infinity'))::int as range,
              count(*) filter (where local_date > anchor.day - 30)::int as past30,
              count(*)::int as history
         from incidents, anchor where $3::text is null or type = $3`,
      [from, to, type],
    );
    return rows[0]!;
  }

  async function openPage(
    viewport: { width: number; height: number },
    { mobile = false, script = true } = {},
  ) {
    const context = await browser.newContext({
      viewport,
      isMobile: mobile,
      hasTouch: mobile,
      deviceScaleFactor: mobile ? 2 : 1,
      javaScriptEnabled: script,
    });
    const page = await context.newPage();
    page.on('request', (request) => requested.push(request.url()));
    // Script errors and Content Security Policy refusals both surface here.
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    await page.goto(`${server.url}/`);
    if (script) {
      await waitForDashboard(page);
      await waitForLiveCharts(page);
    }
    return page;
  }

  /** Every chart drawn with its data, and what ECharts' components add to them. */
  function expectEveryChartDrawn(charts: Awaited<ReturnType<typeof readCharts>>) {
    expect(charts.map((chart) => chart.id).sort()).toEqual([...chartIds].sort());
    for (const chart of charts) {
      expect(chart.points, chart.id).toBeGreaterThan(0);
      expect(chart.shapes, chart.id).toBeGreaterThan(chart.id === 'changes' ? 2 : 5);
      expect(chart.summary, chart.id).not.toMatch(/^(Loading|No incidents)/);
    }
    const chart = (id: string) => charts.find((one) => one.id === id)!;
    expect(chart('range-grid').points).toBe(168);
    // The page's ECharts is built with only the components it uses, and one left out draws
    // nothing, silently.
    expect(chart('range-daily').texts).toEqual(
      expect.arrayContaining(['Incidents', '7-day average', '28-day average']), // legend
    );
    expect(chart('changes').texts).toEqual(expect.arrayContaining(['z = 3', 'z = -3'])); // markLine
    expect(chart('range-grid').fills).toBeGreaterThan(5); // visualMap: cells shaded by their counts
  }

  /** Applies the filter form and waits for the page it leads to. */
  async function applyFilters(page: Page, expectedSearch: string) {
    await Promise.all([
      page.waitForURL((url) => url.search === expectedSearch),
      page.click('button[type="submit"]'),
    ]);
    await waitForDashboard(page);
  }

  beforeAll(async () => {
    database = await createTestDatabase();
    await fillDatabase(database);
    server = await startDashboardServer(database.pool, {
      bullBoard: '/admin/queues',
      metabase: 'http://127.0.0.1:1/metabase',
    });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await database?.drop();
  });

  it('arrives with every chart drawn by the server, before any script runs', async () => {
    const page = await openPage({ width: 1280, height: 900 }, { script: false });
    const state = await page.evaluate(() => {
      const { document } = globalThis as unknown as PageGlobals;
      return document.body.dataset.state;
    });
    expect(state).toBe('ready');
    expectEveryChartDrawn(await readCharts(page));
    expect(await readTotals(page)).toEqual(await countIncidents(null, null, null));
    await saveScreenshot(page, 'dashboard-server-drawn.png');
    await page.close();
  });

  it('draws every chart live with data, shows SQL totals, and follows the type filter', async () => {
    const page = await openPage({ width: 1280, height: 900 });

    const charts = await readCharts(page);
    expectEveryChartDrawn(charts);
    // Live: the tooltip is the chart container's own HTML, beside ECharts' drawing.
    await page.hover('#past30-hours');
    await page.waitForFunction(
      () => {
        const { document } = globalThis as unknown as PageGlobals;
        const chart = document.getElementById('past30-hours');
        return Array.from(chart?.querySelectorAll(':scope > div:not(:first-child)') ?? []).some(
          (tooltip) => /Incidents\s*[\d,]+/.test(tooltip.textContent ?? ''),
        );
      },
      undefined,
      { timeout: 5_000 },
    );

    const all = await countIncidents(null, null, null);
    expect(all.history).toBeGreaterThan(11_000);
    expect(await readTotals(page)).toEqual(all);
    await saveScreenshot(page, 'dashboard.png');

    // Dates left at the data's own bounds stay out of the address.
    await page.selectOption('#filter-type', 'ARREST');
    await applyFilters(page, '?type=ARREST');
    const arrests = await countIncidents(null, null, 'ARREST');
    expect(arrests.history).toBeGreaterThan(0);
    expect(arrests.history).toBeLessThan(all.history);
    expect(await readTotals(page)).toEqual(arrests);
    expect(await page.inputValue('#filter-type')).toBe('ARREST');
    const historyTypes = (await readCharts(page)).find((chart) => chart.id === 'history-types');
    expect(historyTypes?.points).toBe(1);

    await page.fill('#filter-from', '2025-06-01');
    await page.fill('#filter-to', '2025-08-31');
    await applyFilters(page, '?from=2025-06-01&to=2025-08-31&type=ARREST');
    expect(await readTotals(page)).toEqual(
      await countIncidents('2025-06-01', '2025-08-31', 'ARREST'),
    );
    await waitForLiveCharts(page);

    await Promise.all([page.waitForURL((url) => url.search === ''), page.click('#filter-reset')]);
    await waitForDashboard(page);
    expect(await readTotals(page)).toEqual(all);
    await page.close();
  });

  it('fits a 390 px phone without sideways scrolling', async () => {
    const page = await openPage({ width: 390, height: 844 }, { mobile: true });
    const widths = await page.evaluate(() => {
      const { document } = globalThis as unknown as PageGlobals;
      return {
        scroll: document.documentElement.scrollWidth,
        client: document.documentElement.clientWidth,
      };
    });
    expect(widths.client).toBe(390);
    expect(widths.scroll).toBeLessThanOrEqual(390);
    for (const chart of await readCharts(page)) expect(chart.points, chart.id).toBeGreaterThan(0);
    await saveScreenshot(page, 'dashboard-phone.png');
    await page.close();
  });

  it('made no request off this machine, and logged no error', () => {
    expect(problems).toEqual([]);
    expect(requested.length).toBeGreaterThan(3);
    const offHost = requested.filter((url) => {
      const { protocol, hostname } = new URL(url);
      return protocol !== 'data:' && hostname !== '127.0.0.1';
    });
    expect(offHost).toEqual([]);
  });
});
