import { describe, expect, it } from 'vitest';
import { buildHourChart, buildTypeChart } from '../../src/dashboard/charts.js';
import { chartIds, type DashboardData } from '../../src/dashboard/data.js';
import { describeFreshness, describeRun } from '../../src/dashboard/freshness.js';
import {
  nominalChartSize,
  renderDashboardPage,
  type DashboardView,
} from '../../src/dashboard/page.js';
import {
  buildOption,
  countPoints,
  formatNumber,
} from '../../src/dashboard/public/chart-options.js';
import { drawChartsAsSvg } from '../../src/dashboard/render-charts.js';

/** A small day of data, with a type name that tries to break out of the page. */
function sampleData(): DashboardData {
  const hostile = '</script><b>X&Y';
  const range = { from: '2026-01-01', to: '2026-01-15' };
  return {
    filter: { type: null, range, past30Days: range, allHistory: range },
    types: ['ARREST', hostile],
    totals: { range: 1234, past30Days: 56, allHistory: 1234567 },
    charts: {
      'past30-types': buildTypeChart([
        { type: 'ARREST', incidents: 3 },
        { type: hostile, incidents: 2 },
      ]),
      'past30-hours': buildHourChart(
        Array.from({ length: 24 }, (_, hour) => ({ hour, incidents: hour % 5 })),
      ),
    },
    changes: [],
    freshness: describeFreshness(
      {
        latestIncidentAt: '2026-01-15T12:00:00Z',
        latestSourceUpdateAt: '2026-01-15T13:00:00Z',
        lastSuccessfulSyncAt: '2026-01-15T14:00:00Z',
        anchorDay: '2026-01-15',
        incidents: 1234567,
        analyticsRefreshedAt: '2026-01-15T14:00:00Z',
      },
      new Date('2026-01-15T15:00:00Z'),
    ),
    runs: [
      describeRun({
        runId: 7,
        dataset: '3gki-wyrb',
        mode: 'window',
        trigger: 'cli',
        state: 'failed',
        createdAt: '2026-01-15T14:00:00Z',
        startedAt: '2026-01-15T14:00:00Z',
        endedAt: '2026-01-15T14:00:05Z',
        durationSeconds: 5,
        rowsExtracted: 10,
        rowsRejected: 1,
        rowsInserted: 9,
        rowsUpdated: 0,
        rowsUnchanged: 0,
        error: 'boom <b>',
      }),
    ],
  };
}

function view(overrides: Partial<DashboardView> = {}): DashboardView {
  return { links: {}, requested: {}, data: sampleData(), drawn: {}, ...overrides };
}

describe('renderDashboardPage', () => {
  it('has a container and a summary for every chart, once', () => {
    const html = renderDashboardPage(view());
    for (const id of chartIds) {
      expect(html.match(new RegExp(`data-chart="${id}"`, 'g')), id).toHaveLength(1);
      expect(html).toContain(`id="${id}-summary"`);
    }
    expect(html.match(/data-chart="/g)).toHaveLength(chartIds.length);
    expect(html).toContain('<body data-state="ready">');
  });

  it('shows the totals, freshness, runs and filter of the request, escaped', () => {
    const html = renderDashboardPage(view({ requested: { type: 'ARREST', from: '2026-01-05' } }));
    expect(html).toMatch(/id="total-history"[^>]*>1,234,567</);
    expect(html).toMatch(/id="total-past30"[^>]*data-value="56"/);
    expect(html).toContain('<dd>1,234,567</dd>');
    // The page is public: a run's error as anonymous readers see it (redactRunError).
    expect(html).toContain(
      '<td>run.failed: the step failed; the full error is shown to admins (send the admin token)</td>',
    );
    expect(html).not.toContain('boom');
    expect(html).toContain('<option value="ARREST" selected>ARREST</option>');
    expect(html).toContain('value="2026-01-05" data-default="2026-01-01"');
    expect(html).toContain('value="2026-01-15" data-default="2026-01-15"');
    expect(html).toContain('&lt;/script&gt;&lt;b&gt;X&amp;Y');
    // Only the page's own script element and its data block: the hostile type closed neither.
    expect(html.match(/<\/script>/g)).toHaveLength(2);
  });

  it('carries the chart data as JSON the script can read back exactly', () => {
    const data = sampleData();
    const html = renderDashboardPage(view({ data }));
    const json = /<script type="application\/json" id="chart-data">(.*?)<\/script>/s.exec(
      html,
    )?.[1];
    expect(JSON.parse(json!)).toEqual(JSON.parse(JSON.stringify(data.charts)));
  });

  it('shows why there is no data, and no chart, when there is none', () => {
    const html = renderDashboardPage(
      view({ data: null, error: 'from: expected a date as YYYY-MM-DD' }),
    );
    expect(html).toContain('<body data-state="error">');
    expect(html).toMatch(/role="alert">Could not load the dashboard: from: expected a date/);
    expect(html).toContain('data-points="0"');
    expect(html).not.toContain('<svg');
  });

  it('links Bull Board and Metabase when given, escaped, and leaves them out when not', () => {
    const html = renderDashboardPage(
      view({ links: { bullBoard: '/admin/queues', metabase: 'https://bi.example/?q="x"&<y>' } }),
    );
    expect(html).toContain('<a href="/admin/queues">');
    expect(html).toContain('href="https://bi.example/?q=&quot;x&quot;&amp;&lt;y&gt;"');
    const bare = renderDashboardPage(view());
    expect(bare).not.toContain('Bull Board');
    expect(bare).not.toContain('Metabase');
  });
});

describe('the charts drawn on the server', () => {
  it('draws each chart with data as a scalable SVG, counting its points', async () => {
    const { charts } = sampleData();
    const drawn = await drawChartsAsSvg(charts, nominalChartSize);
    expect(Object.keys(drawn).sort()).toEqual(['past30-hours', 'past30-types']);
    const hours = drawn['past30-hours']!;
    expect(hours.points).toBe(24);
    expect(hours.svg).toMatch(/^<svg[^>]*viewBox="0 0 361 260"/);
    // 24 bars, whatever else the axes draw.
    expect(hours.svg.match(/<path/g)!.length).toBeGreaterThanOrEqual(24);
    expect(drawn['past30-types']!.svg).toContain('&lt;/script&gt;&lt;b&gt;X&amp;Y');
  });

  it('remembers a drawing by its data and size, and draws again when either changes', async () => {
    const hours = (peak: number) =>
      buildHourChart(
        Array.from({ length: 24 }, (_, hour) => ({ hour, incidents: hour === peak ? 9 : 1 })),
      );
    const first = (await drawChartsAsSvg({ 'past30-hours': hours(3) }, nominalChartSize))[
      'past30-hours'
    ]!;
    const again = (await drawChartsAsSvg({ 'past30-hours': hours(3) }, nominalChartSize))[
      'past30-hours'
    ]!;
    expect(again).toBe(first);
    const changed = (await drawChartsAsSvg({ 'past30-hours': hours(20) }, nominalChartSize))[
      'past30-hours'
    ]!;
    expect(changed.svg).not.toBe(first.svg);
    const resized = (
      await drawChartsAsSvg({ 'past30-hours': hours(3) }, () => ({ width: 500, height: 200 }))
    )['past30-hours']!;
    expect(resized.svg).toMatch(/viewBox="0 0 500 200"/);
  });

  it('counts points as a drawn chart shows them: gaps are not points', () => {
    const option = buildOption({
      kind: 'line',
      x: ['Jan', 'Feb', 'Mar'],
      series: [{ name: 'Incidents', values: [1, null, 3] }],
      summary: '',
    });
    expect(countPoints(option)).toBe(2);
  });

  it('writes numbers as en-US does', () => {
    expect([1234567, -0.0001, 2.5, -1234.5678].map(formatNumber)).toEqual([
      '1,234,567',
      '0',
      '2.5',
      '-1,234.568',
    ]);
  });
});
