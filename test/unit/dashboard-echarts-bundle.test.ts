import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildEchartsBundle, echartsBundlePath } from '../../scripts/build-echarts.js';

describe("the dashboard's committed ECharts bundle", () => {
  // Fails after an echarts, zrender or esbuild upgrade, or a change to the script's list of
  // charts and components, until the bundle is rebuilt.
  it('is exactly what scripts/build-echarts.ts builds from the installed packages', async () => {
    const committed = readFileSync(echartsBundlePath, 'utf8');
    const rebuilt = await buildEchartsBundle();
    // Not toBe(rebuilt): a failure would print two 600 kB strings.
    expect(
      committed === rebuilt,
      'src/dashboard/public/vendor/echarts.min.js is stale: run `npm run build:echarts` and commit it',
    ).toBe(true);
  }, 30_000);
});
