import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DashboardData } from '../../src/dashboard/data.js';
import { refreshAnalytics } from '../../src/db/refresh-analytics.js';
import { buildAnalyticsFixture, fixtureAnchorDay } from '../support/analytics-fixture.js';
import { startDashboardServer, type DashboardServer } from '../support/dashboard-server.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { insertIncidents } from '../support/incident-fixtures.js';

describe('dashboard router', () => {
  let database: TestDatabase;
  let server: DashboardServer;

  beforeAll(async () => {
    database = await createTestDatabase();
    await insertIncidents(database.pool, buildAnalyticsFixture());
    await refreshAnalytics(database.pool);
    server = await startDashboardServer(database.pool, {
      bullBoard: '/admin/queues',
      metabase: 'http://metabase.example:3000/?a=1&b="2"',
    });
  });
  afterAll(async () => {
    await server.close();
    await database.drop();
  });

  async function getData(query = ''): Promise<DashboardData> {
    const response = await fetch(`${server.url}/dashboard/data${query}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    return (await response.json()) as DashboardData;
  }

  it('serves the page with its links, escaped, and only local assets', async () => {
    const response = await fetch(`${server.url}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await response.text();
    expect(html).toContain('href="/admin/queues"');
    expect(html).toContain('href="http://metabase.example:3000/?a=1&amp;b=&quot;2&quot;"');
    const sources = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1]!);
    const assets = sources.filter((source) => !source.startsWith('http://metabase.example'));
    expect(assets.length).toBeGreaterThan(3);
    for (const asset of assets) expect(asset).toMatch(/^(\/|data:)/);
    // No inline script: the one script element without src is data, which no browser runs.
    const inline = [...html.matchAll(/<script(?![^>]*\bsrc=)[^>]*>/g)].map((match) => match[0]);
    expect(inline).toEqual(['<script type="application/json" id="chart-data">']);
  });

  it('serves the page drawn: totals from SQL, every chart as SVG, for the filter asked', async () => {
    const page = async (query: string) => {
      const response = await fetch(`${server.url}/${query}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('cache-control')).toBe('no-store');
      return response.text();
    };
    const html = await page('');
    const { rows } = await database.pool.query<{ count: number }>(
      'select count(*)::int as count from incidents',
    );
    expect(html).toMatch(new RegExp(`id="total-history"[^>]*data-value="${rows[0]!.count}"`));
    expect(html.match(/<div class="chart"[^>]*data-points="[1-9]\d*"><svg/g)).toHaveLength(10);
    const data = await getData('?type=ARREST');
    const arrests = await page('?type=ARREST');
    expect(arrests).toMatch(
      new RegExp(`id="total-history"[^>]*data-value="${data.totals.allHistory}"`),
    );
    expect(arrests).toContain('<option value="ARREST" selected>');
  });

  it('answers a bad filter with the page and the reason, and status 400', async () => {
    const response = await fetch(`${server.url}/?from=2025-02-30`);
    expect(response.status).toBe(400);
    const html = await response.text();
    expect(html).toContain('<body data-state="error">');
    expect(html).toMatch(
      /role="alert">Could not load the dashboard: from: expected a date that exists/,
    );
  });

  it('serves the script, the styles and ECharts (gzipped, revalidated by ETag)', async () => {
    for (const [path, type] of [
      ['/dashboard/assets/dashboard.js', /javascript/],
      ['/dashboard/assets/dashboard.css', /text\/css/],
    ] as const) {
      const response = await fetch(`${server.url}${path}`);
      expect(response.status, path).toBe(200);
      expect(response.headers.get('content-type')).toMatch(type);
    }
    const echarts = await fetch(`${server.url}/dashboard/assets/vendor/echarts.min.js`, {
      headers: { 'accept-encoding': 'identity' },
    });
    expect(echarts.status).toBe(200);
    expect(echarts.headers.get('content-type')).toMatch(/^text\/javascript/);
    const raw = Buffer.from(await echarts.arrayBuffer());
    expect(raw.toString('utf8')).toMatch(/export\s*\{/);

    const { request } = await import('node:http');
    const gzipped = await new Promise<{ headers: Record<string, unknown>; body: Buffer }>(
      (resolve, reject) => {
        const req = request(
          `${server.url}/dashboard/assets/vendor/echarts.min.js`,
          { headers: { 'accept-encoding': 'gzip' } },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
          },
        );
        req.on('error', reject);
        req.end();
      },
    );
    expect(gzipped.headers['content-encoding']).toBe('gzip');
    expect(gzipped.body.length).toBeLessThan(raw.length / 2);
    expect(gunzipSync(gzipped.body).equals(raw)).toBe(true);

    // As a browser revalidates its cached copy (fetch would add `no-cache` to a bare condition).
    const again = await fetch(`${server.url}/dashboard/assets/vendor/echarts.min.js`, {
      headers: { 'if-none-match': echarts.headers.get('etag')!, 'cache-control': 'max-age=0' },
    });
    expect(again.status).toBe(304);
  });

  it('answers the totals and charts for the whole history by default', async () => {
    const data = await getData();
    expect(data.filter).toEqual({
      type: null,
      range: { from: '2025-03-08', to: fixtureAnchorDay },
      past30Days: { from: '2025-10-07', to: fixtureAnchorDay },
      allHistory: { from: '2025-03-08', to: fixtureAnchorDay },
    });
    expect(data.totals).toEqual({ range: 56, past30Days: 39, allHistory: 56 });
    expect(data.types).toEqual(['ARREST', 'ASSIST', 'INCIDENT', 'SP', 'TRAFFIC']);
    expect(Object.keys(data.charts).sort()).toEqual(
      [
        'changes',
        'history-hours',
        'history-monthly',
        'history-types',
        'past30-daily',
        'past30-hours',
        'past30-types',
        'range-daily',
        'range-grid',
        'range-locations',
      ].sort(),
    );
    expect(data.charts['past30-daily']?.kind).toBe('line');
    expect(
      data.charts['range-daily']?.kind === 'line' && data.charts['range-daily'].x,
    ).toHaveLength(243);
    expect(data.freshness.incidents).toBe(56);
    expect(data.changes.filter((change) => change.significant).map((c) => c.type)).toEqual([
      'ASSIST',
      'TRAFFIC',
    ]);
  });

  it('applies the type to every total, and the dates to the selected range only', async () => {
    const data = await getData('?type=TRAFFIC&from=2025-10-01&to=2025-10-31');
    // TRAFFIC: 1 + 7 + 1 in October; 9 in the last 30 days; 11 in all.
    expect(data.totals).toEqual({ range: 9, past30Days: 9, allHistory: 11 });
    const historyTypes = data.charts['history-types'];
    expect(historyTypes?.kind === 'bar' && historyTypes.x).toEqual(['TRAFFIC']);
  });

  it('answers a range outside the data with zeros', async () => {
    const data = await getData('?from=2030-01-01');
    expect(data.totals.range).toBe(0);
    expect(data.charts['range-locations']?.summary).toMatch(/No incidents/);
  });

  it.each([
    ['?from=2025-02-30', 'from', /calendar/],
    ['?to=yesterday', 'to', /YYYY-MM-DD/],
    ['?from=2025-10-02&to=2025-10-01', 'from', /after to/],
    ['?type=A&type=B', 'type', /one incident type/],
    ['?colour=blue', 'colour', /unknown parameter/],
    [`?type=${'X'.repeat(101)}`, 'type', /at most 100/],
  ])('rejects %s with 400 naming %s', async (query, parameter, message) => {
    const response = await fetch(`${server.url}/dashboard/data${query}`);
    expect(response.status).toBe(400);
    const body = (await response.json()) as { parameter: string; message: string };
    expect(body.parameter).toBe(parameter);
    expect(body.message).toMatch(message);
    expect(body.message.startsWith(`${parameter}: `)).toBe(true);
  });

  it('shows an empty dashboard, not an error, before anything is loaded', async () => {
    const empty = await createTestDatabase();
    const emptyServer = await startDashboardServer(empty.pool);
    try {
      const response = await fetch(`${emptyServer.url}/dashboard/data`);
      expect(response.status).toBe(200);
      const data = (await response.json()) as DashboardData;
      expect(data.filter).toBeNull();
      expect(data.totals).toEqual({ range: 0, past30Days: 0, allHistory: 0 });
      expect(data.freshness.summary).toMatch(/run cpd sync/);
      const page = await fetch(`${emptyServer.url}/`);
      expect(page.status).toBe(200);
      const html = await page.text();
      expect(html).toContain('<body data-state="ready">');
      expect(html).toContain('run cpd sync');
      expect(html).not.toContain('<svg');
    } finally {
      await emptyServer.close();
      await empty.drop();
    }
  });

  it('answers 503 when the database cannot be reached', async () => {
    const { createDatabase } = await import('../../src/db/client.js');
    const unreachable = createDatabase('postgres://nobody@127.0.0.1:1/none', {
      connectTimeoutMs: 1_000,
    });
    const downServer = await startDashboardServer(unreachable.pool);
    try {
      const response = await fetch(`${downServer.url}/dashboard/data`);
      expect(response.status).toBe(503);
      expect(((await response.json()) as { message: string }).message).toMatch(/try again/);
      const page = await fetch(`${downServer.url}/`);
      expect(page.status).toBe(503);
      expect(await page.text()).toMatch(/role="alert">Could not load the dashboard: .*try again/);
    } finally {
      await downServer.close();
      await unreachable.close();
    }
  });
});
