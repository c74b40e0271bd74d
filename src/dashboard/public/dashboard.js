// The dashboard page's script: reads the filter from the address, fetches /dashboard/data, and
// draws each chart with ECharts (SVG renderer). The server shapes the data and writes the
// summaries; this only draws. Every chart marks its container when drawn (data-rendered and
// data-points, read from the chart's own series), and <body data-state> says when all are, so
// tests and benchmarks can wait for a real render.
/* global document, window, fetch, URLSearchParams, FormData, Option, ResizeObserver */

// ECharts is most of the page's script: it loads and compiles while the first data request is
// under way, rather than before it starts.
let echartsModule;

const colors = {
  primary: '#2b6cb0',
  average7: '#c05621',
  average28: '#6b46c1',
  negative: '#b83280',
  axis: '#4a5568',
  grid: '#e2e8f0',
  threshold: '#718096',
  heat: ['#f7fafc', '#bee3f8', '#63b3ed', '#2b6cb0', '#1a365d'],
};
const filterNames = ['from', 'to', 'type'];
const charts = new Map();
let generation = 0;
/** The data's first and anchor days, once known. */
let dataExtent = null;

const $ = (id) => document.getElementById(id);

/**
 * A number as en-US writes it: 1,234,567, at most three decimals, as Intl.NumberFormat would
 * (but never "-0"). Not Intl itself: a page's first NumberFormat loads locale data for 30–60 ms,
 * on the way to the first chart.
 */
function formatNumber(value) {
  const [whole, fraction] = String(Math.round(Math.abs(value) * 1000) / 1000).split('.');
  const sign = value < 0 && (whole !== '0' || fraction) ? '-' : '';
  return `${sign}${whole.replace(/\B(?=(\d{3})+$)/g, ',')}${fraction ? `.${fraction}` : ''}`;
}

function fontFamily() {
  return window.getComputedStyle(document.body).fontFamily;
}

function readFilter() {
  const params = new URLSearchParams(window.location.search);
  return Object.fromEntries(filterNames.map((name) => [name, params.get(name) ?? '']));
}

function filterQuery(filter) {
  const params = new URLSearchParams();
  for (const name of filterNames) if (filter[name]) params.set(name, filter[name]);
  return params.toString();
}

async function load() {
  const current = ++generation;
  document.body.dataset.state = 'loading';
  const query = filterQuery(readFilter());
  try {
    const request = fetch(`/dashboard/data${query ? `?${query}` : ''}`, {
      headers: { accept: 'application/json' },
    });
    echartsModule ??= import('./vendor/echarts.min.js');
    const response = await request;
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(body.message ?? `the server answered ${response.status}`);
    if (current !== generation) return;
    $('error').hidden = true;
    await render(body, await echartsModule);
    if (current !== generation) return;
    document.body.dataset.generation = String(current);
    document.body.dataset.state = 'ready';
  } catch (error) {
    if (current !== generation) return;
    $('error').textContent = `Could not load the dashboard: ${error.message}`;
    $('error').hidden = false;
    document.body.dataset.state = 'error';
  }
}

async function render(data, echarts) {
  renderFilters(data);
  renderTotals(data);
  renderFreshness(data.freshness);
  renderRuns(data.runs);
  const anchor = data.filter?.allHistory.to ?? 'the anchor day';
  for (const span of document.querySelectorAll('[data-field="anchor-day"]'))
    span.textContent = anchor;
  const elements = Array.from(document.querySelectorAll('[data-chart]'));
  for (const element of elements) {
    $(`${element.id}-summary`).textContent =
      data.charts[element.dataset.chart]?.summary ?? 'No incidents loaded yet.';
  }
  // Every chart's size read in one pass, once the text around them is final and before any is
  // drawn: ECharts would otherwise measure its container as it starts, and each measurement
  // after the previous chart was drawn makes the browser lay the page out again.
  const sizes = elements.map((element) => ({
    width: element.clientWidth,
    height: element.clientHeight,
  }));
  await Promise.all(
    elements.map((element, index) =>
      drawChart(echarts, element, sizes[index], data.charts[element.dataset.chart]),
    ),
  );
}

function renderFilters(data) {
  const requested = readFilter();
  const select = $('filter-type');
  const options = ['', ...data.types];
  if (requested.type && !data.types.includes(requested.type)) options.push(requested.type);
  select.replaceChildren(
    ...options.map((type) => new Option(type || 'All types', type, false, type === requested.type)),
  );
  dataExtent = data.filter?.allHistory ?? null;
  // No min or max on the inputs: a shared address with dates outside the data must stay editable.
  $('filter-from').value = requested.from || dataExtent?.from || '';
  $('filter-to').value = requested.to || dataExtent?.to || '';
}

function renderTotals(data) {
  const type = data.filter?.type;
  const what = type ? `${type} incidents` : 'incidents';
  const ranges = {
    range: data.filter?.range,
    past30: data.filter?.past30Days,
    history: data.filter?.allHistory,
  };
  const values = {
    range: data.totals.range,
    past30: data.totals.past30Days,
    history: data.totals.allHistory,
  };
  for (const id of Object.keys(values)) {
    const output = $(`total-${id}`);
    output.value = formatNumber(values[id]);
    output.textContent = formatNumber(values[id]);
    output.dataset.value = String(values[id]);
    const range = ranges[id];
    $(`total-${id}-detail`).textContent = range ? `${what}, ${range.from} to ${range.to}` : what;
  }
}

function renderFreshness(freshness) {
  $('freshness-summary').textContent = freshness.summary;
  $('freshness').replaceChildren(
    ...freshness.lines.flatMap(({ label, value }) => {
      const term = document.createElement('dt');
      term.textContent = label;
      const detail = document.createElement('dd');
      detail.textContent = value;
      return [term, detail];
    }),
  );
}

function renderRuns(runs) {
  const body = $('runs');
  if (runs.length === 0) {
    const row = body.insertRow();
    const cell = row.insertCell();
    cell.colSpan = 10;
    cell.className = 'empty';
    cell.textContent = 'No runs yet.';
    body.replaceChildren(row);
    return;
  }
  body.replaceChildren(
    ...runs.map((run) => {
      const row = document.createElement('tr');
      const cells = [
        `#${run.runId}`,
        run.state,
        `${run.mode} (${run.trigger})`,
        run.startedLocal,
        run.durationText,
        formatNumber(run.rowsInserted),
        formatNumber(run.rowsUpdated),
        formatNumber(run.rowsUnchanged),
        formatNumber(run.rowsRejected),
        run.error ?? '',
      ];
      for (const text of cells) {
        const cell = row.insertCell();
        cell.textContent = text;
      }
      row.dataset.state = run.state;
      return row;
    }),
  );
}

function drawChart(echarts, element, size, data) {
  element.dataset.rendered = 'false';
  if (!data) {
    charts.get(element.id)?.clear();
    element.dataset.points = '0';
    element.dataset.rendered = 'true';
    return Promise.resolve();
  }
  let chart = charts.get(element.id);
  if (!chart) {
    chart = echarts.init(element, null, { renderer: 'svg', ...size });
    charts.set(element.id, chart);
    // Redraw on a real change of size only: the observer also reports the first layout.
    let drawnSize = size;
    new ResizeObserver(() => {
      const now = { width: element.clientWidth, height: element.clientHeight };
      if (now.width !== drawnSize.width || now.height !== drawnSize.height) {
        drawnSize = now;
        chart.resize(now);
      }
    }).observe(element);
  }
  const finished = new Promise((resolve) => {
    const done = () => {
      chart.off('finished', done);
      const series = chart.getOption().series ?? [];
      const points = series.reduce(
        (total, one) => total + (one.data ?? []).filter((point) => point != null).length,
        0,
      );
      element.dataset.points = String(points);
      element.dataset.rendered = 'true';
      resolve();
    };
    chart.on('finished', done);
  });
  chart.setOption(buildOption(data), { notMerge: true });
  return finished;
}

const base = {
  animation: false,
  aria: { enabled: false },
  // The page's own font, named: ECharts measures labels with it to keep them inside the chart.
  textStyle: { fontFamily: fontFamily(), color: colors.axis },
  // Axis labels stay inside the chart's box however long they are.
  grid: {
    left: 12,
    right: 28,
    top: 16,
    bottom: 8,
    outerBoundsMode: 'same',
    outerBoundsContain: 'axisLabel',
  },
  tooltip: { confine: true },
};

function valueAxis() {
  return {
    type: 'value',
    minInterval: 1,
    splitLine: { lineStyle: { color: colors.grid } },
    axisLabel: { hideOverlap: true, formatter: (value) => formatNumber(value) },
  };
}

/** A value axis that always shows the thresholds, so a bar can be judged against them. */
function thresholdAxis(thresholds) {
  if (!thresholds) return valueAxis();
  const low = Math.min(...thresholds);
  const high = Math.max(...thresholds);
  return {
    ...valueAxis(),
    minInterval: 0,
    min: (extent) => Math.floor(Math.min(extent.min, low - 0.5)),
    max: (extent) => Math.ceil(Math.max(extent.max, high + 0.5)),
  };
}

function buildOption(data) {
  if (data.kind === 'heatmap') return heatmapOption(data);
  if (data.kind === 'bar') return barOption(data);
  return lineOption(data);
}

function lineOption(data) {
  const daily = /^\d{4}-\d{2}-\d{2}$/.test(data.x[0] ?? '');
  const lineColors = [colors.primary, colors.average7, colors.average28];
  return {
    ...base,
    grid: { ...base.grid, top: data.series.length > 1 ? 40 : 16 },
    legend: data.series.length > 1 ? { top: 0, left: 0, itemWidth: 18 } : undefined,
    tooltip: { ...base.tooltip, trigger: 'axis' },
    xAxis: daily
      ? { type: 'time', axisLabel: { hideOverlap: true } }
      : { type: 'category', data: data.x, axisLabel: { hideOverlap: true } },
    yAxis: valueAxis(),
    series: data.series.map((series, index) => ({
      name: series.name,
      type: 'line',
      data: daily ? data.x.map((day, i) => [day, series.values[i]]) : series.values,
      showSymbol: data.x.length <= 40,
      connectNulls: false,
      color: lineColors[index % lineColors.length],
      lineStyle: { width: index === 0 ? 1.5 : 2.5, type: index === 2 ? 'dashed' : 'solid' },
      z: index === 0 ? 1 : 2,
    })),
  };
}

function barOption(data) {
  const categoryAxis = {
    type: 'category',
    data: data.x,
    axisTick: { alignWithLabel: true },
    axisLabel: data.horizontal
      ? { width: 140, overflow: 'truncate' }
      : { hideOverlap: true, rotate: data.x.length > 4 && data.x.length < 12 ? 30 : 0 },
  };
  const values = data.series[0]?.values ?? [];
  const series = {
    name: data.series[0]?.name ?? '',
    type: 'bar',
    data: data.thresholds
      ? values.map((value) => ({
          value,
          itemStyle: { color: value < 0 ? colors.negative : colors.primary },
        }))
      : values,
    color: colors.primary,
    barMaxWidth: 36,
  };
  if (data.thresholds) {
    series.markLine = {
      silent: true,
      symbol: 'none',
      label: { position: 'insideEndTop', formatter: (item) => `z = ${item.value}` },
      lineStyle: { color: colors.threshold, type: 'dashed' },
      data: data.thresholds.map((value) => ({ yAxis: value })),
    };
  }
  return {
    ...base,
    tooltip: { ...base.tooltip, trigger: 'axis', axisPointer: { type: 'shadow' } },
    xAxis: data.horizontal ? valueAxis() : categoryAxis,
    yAxis: data.horizontal ? { ...categoryAxis, inverse: true } : thresholdAxis(data.thresholds),
    series: [series],
  };
}

function heatmapOption(data) {
  const max = Math.max(1, ...data.cells.map((cell) => cell[2]));
  return {
    ...base,
    grid: { ...base.grid, bottom: 48 },
    tooltip: {
      ...base.tooltip,
      formatter: (item) =>
        `${data.y[item.value[1]]} ${data.x[item.value[0]]}: ${formatNumber(item.value[2])}`,
    },
    xAxis: {
      type: 'category',
      data: data.x,
      splitArea: { show: false },
      axisLabel: { hideOverlap: true },
    },
    yAxis: { type: 'category', data: data.y, inverse: true },
    visualMap: {
      min: 0,
      max,
      orient: 'horizontal',
      left: 'center',
      bottom: 0,
      itemHeight: 120,
      itemWidth: 12,
      calculable: false,
      text: [formatNumber(max), '0'],
      textGap: 6,
      inRange: { color: colors.heat },
    },
    series: [
      { name: 'Incidents', type: 'heatmap', data: data.cells, emphasis: { disabled: true } },
    ],
  };
}

$('filters').addEventListener('submit', (event) => {
  event.preventDefault();
  const form = new FormData(event.currentTarget);
  const filter = Object.fromEntries(
    filterNames.map((name) => [name, String(form.get(name) ?? '')]),
  );
  // A date left at the data's own bound is no filter: keep the address short and shareable.
  for (const name of ['from', 'to']) if (filter[name] === dataExtent?.[name]) filter[name] = '';
  const query = filterQuery(filter);
  window.history.pushState(null, '', `${window.location.pathname}${query ? `?${query}` : ''}`);
  void load();
});

$('filter-reset').addEventListener('click', () => {
  window.history.pushState(null, '', window.location.pathname);
  void load();
});

window.addEventListener('popstate', () => void load());

void load();
