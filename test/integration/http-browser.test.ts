import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refreshAnalytics } from '../../src/db/refresh-analytics.js';
import { launchChromium, waitForDashboard, type PageGlobals } from '../support/browser.js';
import { fillIncidents } from '../support/bulk-incidents.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import type { FakeSoda } from '../support/fake-soda/index.js';
import { startTestApp, testAdminToken, type TestApp } from '../support/http-app.js';
import { startTestQueue, type TestQueue } from '../support/queue.js';

/**
 * The dashboard and Bull Board as the real app serves them, behind its helmet headers, in
 * headless Chromium: both must work under its Content Security Policy.
 */
describe('the app in a browser', () => {
  let database: TestDatabase;
  let queue: TestQueue;
  let app: TestApp;
  let browser: Browser;

  beforeAll(async () => {
    database = await createTestDatabase();
    await fillIncidents(database.pool, { count: 3_000, lastDay: '2026-01-15', days: 400 });
    await refreshAnalytics(database.pool);
    queue = startTestQueue(database, { url: 'http://127.0.0.1:9' } as FakeSoda, { workers: false });
    await queue.orchestrator.requestRun({ mode: 'incremental', lookbackHours: 72 }, 'api');
    app = await startTestApp(database, queue.orchestrator);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await queue?.close();
    await database?.drop();
  });

  /** A page whose script errors and CSP refusals are collected (the network is not: no internet here). */
  async function open(path: string, credentials?: { username: string; password: string }) {
    const context = await browser.newContext(credentials ? { httpCredentials: credentials } : {});
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error' && !/Failed to load resource: net::ERR_/.test(message.text()))
        problems.push(message.text());
    });
    const response = await page.goto(`${app.url}${path}`);
    return { page, problems, status: response?.status() };
  }

  it('draws the dashboard at /', async () => {
    const { page, problems, status } = await open('/');
    expect(status).toBe(200);
    await waitForDashboard(page);
    const drawn = await page.evaluate(() => {
      const { document } = globalThis as unknown as PageGlobals;
      // Drawn with data: an SVG of the chart, whose series hold points.
      return Array.from(document.querySelectorAll('[data-chart]')).filter(
        (chart) => Number(chart.dataset.points) > 0 && chart.querySelectorAll('svg').length > 0,
      ).length;
    });
    expect(drawn).toBeGreaterThan(5);
    expect(problems).toEqual([]);
  });

  it('shows Bull Board and its queues to a browser that logs in with the token', async () => {
    const { page, problems, status } = await open('/admin/queues', {
      username: 'ops',
      password: testAdminToken,
    });
    expect(status).toBe(200);
    await page.getByText('extract', { exact: true }).first().waitFor({ timeout: 30_000 });
    const text = await textOf(page);
    for (const name of ['flows', 'extract', 'validate', 'transform', 'load'])
      expect(text).toContain(name);
    expect(problems).toEqual([]);
  });
});

async function textOf(page: Page): Promise<string> {
  return page.evaluate(
    () => (globalThis as unknown as PageGlobals).document.body.textContent ?? '',
  );
}
