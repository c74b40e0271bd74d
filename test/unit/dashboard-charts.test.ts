import { describe, expect, it } from 'vitest';
import {
  buildChangesChart,
  buildDailyChart,
  buildGridChart,
  buildHourChart,
  buildLocationChart,
  buildMonthlyChart,
  buildTypeChart,
} from '../../src/dashboard/charts.js';
import {
  describeAge,
  describeFreshness,
  describeRun,
  formatLocalTime,
} from '../../src/dashboard/freshness.js';

describe('chart data and summaries', () => {
  const days = [
    { day: '2026-01-13', incidents: 10, avg7d: null, avg28d: null },
    { day: '2026-01-14', incidents: 30, avg7d: 14.14, avg28d: null },
    { day: '2026-01-15', incidents: 5, avg7d: 13.57, avg28d: 12.5 },
  ];

  it('daily: the series, and the busiest and quietest days in words', () => {
    const chart = buildDailyChart(days, false);
    expect(chart).toMatchObject({ kind: 'line', x: ['2026-01-13', '2026-01-14', '2026-01-15'] });
    expect(chart.kind === 'line' && chart.series).toEqual([
      { name: 'Incidents', values: [10, 30, 5] },
    ]);
    expect(chart.summary).toBe(
      '45 incidents over 3 days (2026-01-13 to 2026-01-15), 15.0 a day. Busiest day: 2026-01-14 with 30; quietest: 2026-01-15 with 5.',
    );
  });

  it('daily with averages: three series, and the latest averages in words', () => {
    const chart = buildDailyChart(days, true);
    expect(chart.kind === 'line' && chart.series.map((s) => s.values)).toEqual([
      [10, 30, 5],
      [null, 14.14, 13.57],
      [null, null, 12.5],
    ]);
    expect(chart.summary).toMatch(
      /On 2026-01-15 the 7-day average was 13\.6 a day and the 28-day average 12\.5\.$/,
    );
  });

  it('says so when there is nothing to show', () => {
    expect(buildDailyChart([], true).summary).toBe('No incidents in this period.');
    expect(buildHourChart([{ hour: 0, incidents: 0 }]).summary).toBe(
      'No incidents in this period.',
    );
    expect(buildLocationChart([]).summary).toMatch(/No incidents with a location/);
  });

  it('types: shares, with tiny ones as <1%, and how many more there are', () => {
    const chart = buildTypeChart([
      { type: 'INCIDENT', incidents: 6904 },
      { type: 'ARREST', incidents: 238 },
      { type: 'TRAFFIC', incidents: 121 },
      { type: 'SP', incidents: 8 },
      { type: 'ASSIST', incidents: 4 },
      { type: 'INVESTIGATIONS', incidents: 1 },
    ]);
    expect(chart.summary).toBe(
      '7,276 incidents: INCIDENT 6,904 (95%), ARREST 238 (3%), TRAFFIC 121 (2%), SP 8 (<1%), ASSIST 4 (<1%), and 1 more type.',
    );
  });

  it('hours and months: labels and extremes', () => {
    const hours = buildHourChart(
      Array.from({ length: 24 }, (_, hour) => ({ hour, incidents: hour === 16 ? 50 : 2 })),
    );
    expect(hours.kind === 'bar' && hours.x.slice(0, 3)).toEqual(['00:00', '01:00', '02:00']);
    expect(hours.summary).toBe(
      'Busiest hour: 16:00–16:59 with 50 (52%). Quietest: 00:00–00:59 with 2.',
    );
    const months = buildMonthlyChart([
      { month: '2025-12-01', incidents: 530 },
      { month: '2026-01-01', incidents: 340 },
    ]);
    expect(months.kind === 'line' && months.x).toEqual(['2025-12', '2026-01']);
    expect(months.summary).toMatch(/Busiest month: 2025-12 with 530; quietest: 2026-01 with 340/);
  });

  it('grid: [hour, weekday index, count] cells, and the busiest time named', () => {
    const chart = buildGridChart([
      { weekday: 1, hour: 0, incidents: 1 },
      { weekday: 3, hour: 16, incidents: 9 },
      { weekday: 7, hour: 4, incidents: 0 },
    ]);
    expect(chart.kind === 'heatmap' && chart.cells).toEqual([
      [0, 0, 1],
      [16, 2, 9],
      [4, 6, 0],
    ]);
    expect(chart.kind === 'heatmap' && chart.y).toEqual([
      'Mon',
      'Tue',
      'Wed',
      'Thu',
      'Fri',
      'Sat',
      'Sun',
    ]);
    expect(chart.summary).toBe(
      'Busiest time of the week: Wednesday 16:00–16:59 with 9. Quietest: Sunday 04:00–04:59 with 0.',
    );
  });

  it('changes: the z-scores with their bounds, and the significant ones in words', () => {
    const changes = [
      { type: 'ASSIST', current28d: 16, previous28d: 4, z: 4, significant: true },
      { type: 'TRAFFIC', current28d: 1, previous28d: 9, z: -4, significant: true },
      { type: 'ARREST', current28d: 10, previous28d: 3, z: 2.86, significant: false },
    ];
    const chart = buildChangesChart(changes, '2025-11-05');
    expect(chart.kind === 'bar' && chart.thresholds).toEqual([-3, 3]);
    expect(chart.summary).toBe(
      '2 types of 3 changed significantly (|z| ≥ 3) in the 28 days to 2025-11-05 against the 28 days before: ASSIST up (16 against 4, z = 4.0); TRAFFIC down (1 against 9, z = -4.0).',
    );
    expect(buildChangesChart(changes.slice(2), '2025-11-05').summary).toMatch(
      /^No type changed significantly/,
    );
  });
});

describe('freshness in words', () => {
  const now = new Date('2026-01-20T12:00:00Z');

  it.each([
    ['2026-01-20T11:59:30Z', 'just now'],
    ['2026-01-20T11:59:00Z', '1 minute ago'],
    ['2026-01-20T09:00:00Z', '3 hours ago'],
    ['2026-01-18T12:00:00Z', '2 days ago'],
    ['2025-12-30T12:00:00Z', '3 weeks ago'],
    ['2025-10-20T12:00:00Z', '3 months ago'],
    ['2023-01-20T12:00:00Z', '3 years ago'],
    ['2026-01-21T12:00:00Z', 'in the future'],
  ])('%s is %s', (then, words) => {
    expect(describeAge(then, now)).toBe(words);
  });

  it('shows instants in Cambridge time, both fall-back 01:30s included', () => {
    expect(formatLocalTime('2025-11-02T05:30:00Z')).toBe('2025-11-02 01:30');
    expect(formatLocalTime('2025-11-02T06:30:00Z')).toBe('2025-11-02 01:30');
    expect(formatLocalTime('2025-07-01T04:00:00Z')).toBe('2025-07-01 00:00');
  });

  it('says when no sync has succeeded and when nothing is loaded', () => {
    const fresh = describeFreshness(
      {
        latestIncidentAt: '2026-01-16T03:54:00.000Z',
        latestSourceUpdateAt: '2026-01-19T20:30:00.000Z',
        lastSuccessfulSyncAt: null,
        anchorDay: '2026-01-15',
        incidents: 7276,
        analyticsRefreshedAt: null,
      },
      now,
    );
    expect(fresh.summary).toBe(
      'Data through 2026-01-15: the latest incident was 4 days ago; no sync has succeeded yet.',
    );
    expect(fresh.lines).toContainEqual({ label: 'Last successful sync', value: 'never' });
    expect(fresh.lines).toContainEqual({ label: 'Incidents loaded', value: '7,276' });
    const empty = describeFreshness(
      {
        latestIncidentAt: null,
        latestSourceUpdateAt: null,
        lastSuccessfulSyncAt: null,
        anchorDay: null,
        incidents: 0,
        analyticsRefreshedAt: null,
      },
      now,
    );
    expect(empty.summary).toMatch(/No incidents loaded yet: run cpd sync/);
  });

  it('describes a run: when it started, locally, and how long it took', () => {
    const run = describeRun({
      runId: 7,
      dataset: '3gki-wyrb',
      mode: 'window',
      trigger: 'cli',
      state: 'completed',
      createdAt: '2026-01-20T14:00:00.000Z',
      startedAt: '2026-01-20T14:00:01.000Z',
      endedAt: '2026-01-20T14:02:06.000Z',
      durationSeconds: 125,
      rowsExtracted: 10,
      rowsRejected: 0,
      rowsInserted: 10,
      rowsUpdated: 0,
      rowsUnchanged: 0,
      error: null,
    });
    expect(run.startedLocal).toBe('2026-01-20 09:00');
    expect(run.durationText).toBe('2 min 5 s');
  });
});
