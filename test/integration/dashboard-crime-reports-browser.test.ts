import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crimeReportChartIds } from '../../src/dashboard/pages/crime-reports.js';
import {
  launchChromium,
  saveScreenshot,
  waitForDashboard,
  waitForLiveCharts,
  type PageGlobals,
} from '../support/browser.js';
import { projectRoot } from '../support/cli.js';
import { generateCrimeReports, insertCrimeReports } from '../support/crime-report-fixtures.js';
import { startDashboardServer, type DashboardServer } from '../support/dashboard-server.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

/**
 * The Crime Reports page in headless Chromium, over generated rows written straight into
 * crime_reports (no Crime Reports sync exists on this branch yet), reached from `/`.
 */
describe('the Crime Reports dashboard in headless Chromium', () => {
  let database: TestDatabase;
  let server: DashboardServer;
  let browser: Browser;
  const problems: string[] = [];

  async function openPage(viewport: { width: number; height: number }, mobile = false) {
    const context = await browser.newContext({
      viewport,
      isMobile: mobile,
      hasTouch: mobile,
      deviceScaleFactor: mobile ? 2 : 1,
    });
    const page = await context.newPage();
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    return page;
  }

  async function readCharts(page: Page) {
    return page.evaluate(() => {
      const { document } = globalThis as unknown as PageGlobals;
      return Array.from(document.querySelectorAll('[data-chart]')).map((element) => ({
        id: element.id,
        points: Number(element.dataset.points),
        shapes: element.querySelectorAll('svg path, svg rect').length,
        texts: Array.from(element.querySelectorAll('svg text')).map((text) => text.textContent),
        summary: document.getElementById(`${element.id}-summary`)?.textContent ?? '',
      }));
    });
  }

  async function readTotal(page: Page, id: string): Promise<number> {
    const shown = await page.evaluate((totalId) => {
      const { document } = globalThis as unknown as PageGlobals;
      return document.getElementById(`total-${totalId}`)?.textContent ?? '';
    }, id);
    return Number(shown.replace(/,/g, ''));
  }

  beforeAll(async () => {
    database = await createTestDatabase();
    await insertCrimeReports(
      database.pool,
      generateCrimeReports({ seed: 3, rows: 9_000, from: '2023-01-01', to: '2026-11-01' }),
    );
    server = await startDashboardServer(database.pool);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await database?.drop();
  });

  it('is linked from /, and draws every chart with data, the map included', async () => {
    const page = await openPage({ width: 1280, height: 900 });
    await page.goto(`${server.url}/`);
    await waitForDashboard(page);
    await Promise.all([
      page.waitForURL((url) => url.pathname === '/datasets/crime-reports'),
      page.click('nav.datasets a[href="/datasets/crime-reports"]'),
    ]);
    await waitForDashboard(page);
    await waitForLiveCharts(page);
    expect(await page.title()).toBe('Cambridge Crime Reports');

    const charts = await readCharts(page);
    expect(charts.map((chart) => chart.id).sort()).toEqual([...crimeReportChartIds].sort());
    for (const chart of charts) {
      expect(chart.points, chart.id).toBeGreaterThan(0);
      expect(chart.shapes, chart.id).toBeGreaterThan(2);
      expect(chart.summary, chart.id).not.toMatch(/^(Loading|No reports)/);
    }
    const chart = (id: string) => charts.find((one) => one.id === id)!;
    const { rows: areas } = await database.pool.query<{ areas: number; places: number }>(
      `select count(distinct reporting_area)::int as areas, count(distinct neighborhood)::int as places
         from crime_reports where deleted_at is null and latitude is not null`,
    );
    // One point per reporting area and a label per neighborhood, all 13 named on the map.
    expect(chart('crime-map').points).toBe(areas[0]!.areas + areas[0]!.places);
    expect(areas[0]!.places).toBe(13);
    expect(chart('crime-map').texts).toEqual(expect.arrayContaining(['Cambridgeport', 'MIT']));
    expect(chart('crime-monthly').texts).toEqual(
      expect.arrayContaining(['Reports', '3-month average', '12-month average']),
    );
    expect(chart('crime-hours').points).toBe(24);
    expect(chart('crime-weekdays').points).toBe(7);
    expect(chart('crime-changes').texts).toEqual(expect.arrayContaining(['z = 3', 'z = -3']));

    const { rows } = await database.pool.query<{ live: number }>(
      'select count(*)::int as live from crime_reports where deleted_at is null',
    );
    expect(rows[0]!.live).toBeLessThan(9_000); // the generator marks some rows deleted
    expect(await readTotal(page, 'history')).toBe(rows[0]!.live);
    const freshness = await page.textContent('#freshness-summary');
    expect(freshness).toMatch(/^Reports through 2026-10-31, [\d,]+ days before today/);

    await page.hover('#crime-map');
    await saveScreenshot(page, 'dashboard-crime-reports.png');

    await page.selectOption('#filter-type', 'Larceny of Bicycle');
    await Promise.all([
      page.waitForURL((url) => url.search === '?type=Larceny+of+Bicycle'),
      page.click('button[type="submit"]'),
    ]);
    await waitForDashboard(page);
    const { rows: bicycles } = await database.pool.query<{ count: number }>(
      `select count(*)::int as count from crime_reports
        where deleted_at is null and crime = 'Larceny of Bicycle'`,
    );
    expect(await readTotal(page, 'history')).toBe(bicycles[0]!.count);
    expect(new URL(page.url()).pathname).toBe('/datasets/crime-reports');
    await page.close();
  });

  it('fits a 390 px phone without sideways scrolling, every chart drawn', async () => {
    const page = await openPage({ width: 390, height: 844 }, true);
    await page.goto(`${server.url}/datasets/crime-reports`);
    await waitForDashboard(page);
    await waitForLiveCharts(page);
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
    await saveScreenshot(page, 'dashboard-crime-reports-phone.png');
    await page.locator('#where').screenshot({
      path: join(projectRoot, 'test-results', 'dashboard-crime-reports-phone-where.png'),
    });
    await page.close();
  });

  it('logged no error', () => {
    expect(problems).toEqual([]);
  });
});
