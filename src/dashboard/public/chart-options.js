// What each chart draws, as an ECharts option: the same module builds the server's first
// drawing of the page (src/dashboard/render-charts.ts, SVG strings) and the browser's live
// charts (dashboard.js), so the two cannot drift apart. Pure: no DOM, no globals.

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

/** The page's font (dashboard.css): ECharts measures labels with it to keep them in the chart. */
const pageFontFamily =
  "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif";

/**
 * A number as en-US writes it: 1,234,567, at most three decimals, as Intl.NumberFormat would
 * (but never "-0"). Not Intl itself: a page's first NumberFormat loads locale data for 30–60 ms.
 */
export function formatNumber(value) {
  const [whole, fraction] = String(Math.round(Math.abs(value) * 1000) / 1000).split('.');
  const sign = value < 0 && (whole !== '0' || fraction) ? '-' : '';
  return `${sign}${whole.replace(/\B(?=(\d{3})+$)/g, ',')}${fraction ? `.${fraction}` : ''}`;
}

const base = {
  animation: false,
  aria: { enabled: false },
  textStyle: { fontFamily: pageFontFamily, color: colors.axis },
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

/** The ECharts option for one chart's data (src/dashboard/charts.ts, ChartData). */
export function buildOption(data) {
  if (data.kind === 'map') return mapOption(data);
  if (data.kind === 'heatmap') return heatmapOption(data);
  if (data.kind === 'bar') return barOption(data);
  return lineOption(data);
}

/** How many data points an option's series hold (gaps left out): what a drawn chart shows. */
export function countPoints(option) {
  return (option.series ?? []).reduce(
    (total, series) => total + (series.data ?? []).filter((point) => point != null).length,
    0,
  );
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

/** Width over height of a map chart's box (dashboard.css gives .chart-map this aspect ratio). */
export const mapAspect = 4 / 3;

/**
 * Longitude and latitude bounds that show every point with a degree of latitude as long as a
 * degree of longitude is there (cos of the latitude), in a box of mapAspect: no map tiles, the
 * points' own spread is the map.
 */
function mapBounds(data) {
  const all = [...data.points, ...data.places];
  const lons = all.map((point) => point.longitude);
  const lats = all.map((point) => point.latitude);
  let [west, east] = [Math.min(...lons), Math.max(...lons)];
  let [south, north] = [Math.min(...lats), Math.max(...lats)];
  const lonScale = Math.cos((((south + north) / 2) * Math.PI) / 180);
  // Room at the sides for the names drawn at the outermost places.
  let width = Math.max((east - west) * lonScale, 0.002) * 1.35;
  let height = Math.max(north - south, 0.002) * 1.12;
  if (width / height < mapAspect) width = height * mapAspect;
  else height = width / mapAspect;
  const [midLon, midLat] = [(west + east) / 2, (south + north) / 2];
  west = midLon - width / lonScale / 2;
  east = midLon + width / lonScale / 2;
  south = midLat - height / 2;
  north = midLat + height / 2;
  return { west, east, south, north };
}

function mapOption(data) {
  if (data.points.length === 0) return { ...base, series: [] };
  const { west, east, south, north } = mapBounds(data);
  const max = Math.max(1, ...data.points.map((point) => point.value));
  const hidden = { show: false, axisLine: { show: false }, splitLine: { show: false } };
  // Equal margins on every side keep the plot's aspect that of the box.
  const margin = '2%';
  return {
    ...base,
    grid: {
      left: margin,
      right: margin,
      top: margin,
      bottom: margin,
      show: true,
      borderColor: colors.grid,
      backgroundColor: '#f8fafc',
    },
    tooltip: {
      ...base.tooltip,
      formatter: (item) =>
        item.seriesIndex === 0
          ? `Reporting area ${item.data.name}${item.data.group ? ` (${item.data.group})` : ''}: ${formatNumber(item.data.value[2])}`
          : item.data.name,
    },
    xAxis: { type: 'value', min: west, max: east, ...hidden },
    yAxis: { type: 'value', min: south, max: north, ...hidden },
    series: [
      {
        name: 'Reports',
        type: 'scatter',
        data: data.points.map((point) => ({
          name: point.name,
          group: point.group,
          value: [point.longitude, point.latitude, point.value],
        })),
        symbolSize: (value) => 4 + 24 * Math.sqrt(value[2] / max),
        itemStyle: { color: colors.primary, opacity: 0.55, borderColor: '#fff', borderWidth: 0.5 },
        emphasis: { itemStyle: { opacity: 0.9 } },
        z: 2,
      },
      {
        name: 'Neighborhoods',
        type: 'scatter',
        silent: true,
        symbolSize: 0,
        data: data.places.map((place) => ({
          name: place.name,
          value: [place.longitude, place.latitude],
        })),
        label: {
          show: true,
          formatter: (item) => item.name,
          fontSize: 11,
          fontWeight: 600,
          color: colors.axis,
          textBorderColor: '#fff',
          textBorderWidth: 3,
        },
        labelLayout: { hideOverlap: true },
        z: 3,
      },
    ],
  };
}
