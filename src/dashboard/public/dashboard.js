// The dashboard page's script. The server sends the page whole, every chart already drawn as
// SVG (src/dashboard/render-charts.ts); this brings the charts to life: ECharts (SVG renderer)
// draws each one again from the chart data the page carries, at its container's own size, with
// tooltips, and follows later changes of size. <body data-live> says when every chart is live.
// The filters are a plain GET form; this only keeps unchanged dates out of the address.
/* global document, window, ResizeObserver */
import { buildOption } from './chart-options.js';

const $ = (id) => document.getElementById(id);

async function bringChartsToLife() {
  const charts = JSON.parse($('chart-data')?.textContent || '{}');
  const elements = Array.from(document.querySelectorAll('[data-chart]')).filter(
    (element) => charts[element.dataset.chart],
  );
  if (elements.length === 0) return;
  const echarts = await import('./vendor/echarts.min.js');
  // Every size read in one pass before any chart is drawn: each measurement after a drawing
  // would make the browser lay the page out again.
  const sizes = elements.map((element) => ({
    width: element.clientWidth,
    height: element.clientHeight,
  }));
  elements.forEach((element, index) =>
    drawLive(echarts, element, sizes[index], charts[element.dataset.chart]),
  );
  document.body.dataset.live = 'true';
}

function drawLive(echarts, element, size, data) {
  const option = buildOption(data);
  // The server's drawing stays until this one replaces it, in the same task: ECharts draws
  // synchronously, so no frame shows an empty chart.
  element.replaceChildren();
  const chart = echarts.init(element, null, { renderer: 'svg', ...size });
  chart.setOption(option);
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

// A date left at the data's own bound is no filter, and no type is all types: both stay out of
// the address, so it stays short and shareable.
$('filters')?.addEventListener('formdata', (event) => {
  for (const name of ['from', 'to']) {
    const input = $(`filter-${name}`);
    if (input && (input.value === '' || input.value === input.dataset.default))
      event.formData.delete(name);
  }
  if (!event.formData.get('type')) event.formData.delete('type');
});

// Only once the server's drawings are on screen: the first frame is painted before this work
// (a few hundred milliseconds on a laptop) holds the page's thread.
const afterFirstPaint = () =>
  new Promise((resolve) => window.requestAnimationFrame(() => window.setTimeout(resolve, 0)));

afterFirstPaint()
  .then(bringChartsToLife)
  .catch((error) => {
    document.body.dataset.live = 'false';
    // The server's drawings stay; only tooltips and resizing are missing.
    window.console.warn(`the charts could not be brought to life: ${error.message}`);
  });
