import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * The browser's files: served as they are (router.ts), and the chart code the server draws with
 * too (render-charts.ts). Not compiled, so the same folder from src/dashboard and dist/dashboard.
 */
export const publicDir = fileURLToPath(new URL('../../src/dashboard/public/', import.meta.url));

/** Only the parts of ECharts the page uses, built by scripts/build-echarts.ts. */
export const echartsFile = join(publicDir, 'vendor', 'echarts.min.js');

/** A public file as an address `import()` takes. */
export function publicModuleUrl(file: string): string {
  return pathToFileURL(file).href;
}
