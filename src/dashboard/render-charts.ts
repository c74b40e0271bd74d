import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { ChartData } from './charts.js';
import type { ChartId } from './data.js';
import type * as ChartOptions from './public/chart-options.js';
import { echartsFile, publicDir, publicModuleUrl } from './public-files.js';

/**
 * The charts drawn here, on the server, as SVG inside the page: a visitor sees every chart as
 * soon as the HTML arrives, where drawing them in the browser waits for ECharts to download,
 * compile and draw (most of a second on a laptop). The browser then brings them to life with the
 * same options (dashboard.js), for tooltips and its own size.
 *
 * Both sides use the same files: the browser's own ECharts build and its chart-options.js,
 * imported from the public folder (public-files.ts).
 *
 * A drawing depends only on the chart's data and size, and the data changes only when a load
 * refreshes the analytics views, so drawings are remembered by a digest of both: drawing all ten
 * takes 120–150 ms of the server's CPU, finding them takes a millisecond.
 */

export interface ChartSize {
  width: number;
  height: number;
}

export interface DrawnChart {
  /** An `<svg>` with a viewBox, so it scales to its container until the live chart replaces it. */
  svg: string;
  /** Data points the chart's series hold, gaps left out. */
  points: number;
}

interface ServerChart {
  setOption(option: unknown): void;
  renderToSVGString(options: { useViewBox: boolean }): string;
  dispose(): void;
}

interface ChartLibrary {
  init(
    dom: null,
    theme: null,
    options: { renderer: 'svg'; ssr: true; width: number; height: number },
  ): ServerChart;
}

let loading: Promise<{ echarts: ChartLibrary; options: typeof ChartOptions }> | undefined;

function loadLibraries() {
  loading ??= Promise.all([
    import(publicModuleUrl(echartsFile)) as Promise<ChartLibrary>,
    import(publicModuleUrl(join(publicDir, 'chart-options.js'))) as Promise<typeof ChartOptions>,
  ])
    .then(([echarts, options]) => ({ echarts, options }))
    .catch((error: unknown) => {
      // Not remembered: a fixed install draws on the next request.
      loading = undefined;
      throw error;
    });
  return loading;
}

/** Drawings remembered, the most recently used last; a few filters' worth of pages. */
const remembered = new Map<string, DrawnChart>();
const rememberedLimit = 200;

function remember(key: string, drawing: DrawnChart): void {
  remembered.set(key, drawing);
  if (remembered.size > rememberedLimit) remembered.delete(remembered.keys().next().value!);
}

function recall(key: string): DrawnChart | undefined {
  const drawing = remembered.get(key);
  if (drawing) {
    remembered.delete(key);
    remembered.set(key, drawing);
  }
  return drawing;
}

/** Draws each chart that has data at its nominal size; charts without data are left out. */
export async function drawChartsAsSvg(
  charts: Partial<Record<ChartId, ChartData>>,
  sizeOf: (id: ChartId) => ChartSize,
): Promise<Partial<Record<ChartId, DrawnChart>>> {
  const { echarts, options } = await loadLibraries();
  const drawn: Partial<Record<ChartId, DrawnChart>> = {};
  for (const [id, data] of Object.entries(charts) as [ChartId, ChartData][]) {
    const size = sizeOf(id);
    const key = createHash('sha256')
      .update(JSON.stringify([size, data]))
      .digest('base64url');
    const known = recall(key);
    if (known) {
      drawn[id] = known;
      continue;
    }
    // Drawing is synchronous (up to 40 ms for the heatmap): the server's other requests (the
    // API, health checks) get their turn between charts.
    await new Promise((resolve) => setImmediate(resolve));
    const option = options.buildOption(data);
    const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, ...size });
    try {
      chart.setOption(option);
      drawn[id] = {
        svg: chart.renderToSVGString({ useViewBox: true }),
        points: options.countPoints(option),
      };
      remember(key, drawn[id]);
    } finally {
      chart.dispose();
    }
  }
  return drawn;
}
