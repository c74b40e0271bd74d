import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { projectRoot } from './cli.js';

/** Debian's Chromium (`apt-get install chromium`; .ci/run installs it), driven by playwright-core. */
export const chromiumPath = '/usr/bin/chromium';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

/** Screenshots go to test-results/ (gitignored); returns the path written. */
export async function saveScreenshot(page: Page, name: string): Promise<string> {
  const folder = join(projectRoot, 'test-results');
  await mkdir(folder, { recursive: true });
  const path = join(folder, name);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/**
 * The little of the DOM the tests read. Page functions run in the browser; TypeScript here knows
 * only Node's globals, so they reach the page's through this type: `const { document } =
 * globalThis as unknown as PageGlobals;` inside the function (the cast is gone once compiled).
 */
export interface PageElement {
  id: string;
  textContent: string | null;
  dataset: Record<string, string | undefined>;
  getAttribute(name: string): string | null;
  querySelectorAll(selector: string): ArrayLike<PageElement>;
}

export interface PageGlobals {
  document: {
    readyState: string;
    body: PageElement;
    documentElement: PageElement & { scrollWidth: number; clientWidth: number };
    getElementById(id: string): PageElement | null;
    querySelectorAll(selector: string): ArrayLike<PageElement>;
  };
  location: { search: string };
}

/**
 * Waits until the dashboard shows its data (the server sends it drawn: this is the page's first
 * render), and throws with the page's own message when it shows an error instead.
 */
export async function waitForDashboard(page: Page): Promise<void> {
  await page.waitForFunction(
    () => {
      const { document } = globalThis as unknown as PageGlobals;
      // The whole document parsed, not just <body>'s opening tag: the charts come after it.
      if (document.readyState === 'loading') return false;
      const state = document.body.dataset.state;
      return state === 'error' || state === 'ready';
    },
    undefined,
    { timeout: 30_000 },
  );
  const state = await page.evaluate(() => {
    const { document } = globalThis as unknown as PageGlobals;
    return {
      state: document.body.dataset.state,
      error: document.getElementById('error')?.textContent ?? '',
    };
  });
  if (state.state === 'error') throw new Error(`the dashboard shows an error: ${state.error}`);
}

/** Waits until the page's script has made every chart live (ECharts, tooltips, own size). */
export async function waitForLiveCharts(page: Page): Promise<void> {
  await page.waitForFunction(
    () => {
      const { document } = globalThis as unknown as PageGlobals;
      return document.body.dataset.live !== undefined;
    },
    undefined,
    { timeout: 30_000 },
  );
  const live = await page.evaluate(() => {
    const { document } = globalThis as unknown as PageGlobals;
    return document.body.dataset.live;
  });
  if (live !== 'true') throw new Error('the page could not bring its charts to life');
}
