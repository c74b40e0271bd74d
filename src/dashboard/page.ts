import type { ChartId } from './data.js';

/**
 * The dashboard's HTML: a static shell the script module fills from /dashboard/data. Everything
 * is served from this app (no CDN), and there is no inline script, so a strict Content Security
 * Policy (script-src 'self') allows it.
 */

export interface DashboardLinks {
  /** Bull Board, e.g. /admin/queues. */
  bullBoard?: string;
  /** Metabase's public URL, when one is configured. */
  metabase?: string;
}

interface CardSpec {
  id: ChartId;
  title: string;
  wide?: boolean;
}

interface SectionSpec {
  id: string;
  title: string;
  /** Says which filters the section follows; `{anchor}` becomes the anchor day. */
  note: string;
  cards: CardSpec[];
}

const sections: SectionSpec[] = [
  {
    id: 'past30',
    title: 'Past 30 days',
    note: 'The 30 days to {anchor}, the day of the latest incident. Follows the type filter, not the date range.',
    cards: [
      { id: 'past30-daily', title: 'Incidents by day' },
      { id: 'past30-types', title: 'Incidents by type' },
      { id: 'past30-hours', title: 'Incidents by hour of day' },
    ],
  },
  {
    id: 'history',
    title: 'All history',
    note: 'Every incident loaded. Follows the type filter, not the date range.',
    cards: [
      { id: 'history-monthly', title: 'Incidents by month' },
      { id: 'history-types', title: 'Incidents by type' },
      { id: 'history-hours', title: 'Incidents by hour of day' },
    ],
  },
  {
    id: 'range',
    title: 'Selected range',
    note: 'Follows both the date range and the type filter.',
    cards: [
      { id: 'range-daily', title: 'Daily incidents with 7- and 28-day averages', wide: true },
      { id: 'range-grid', title: 'Weekly rhythm: hour of day by weekday' },
      { id: 'range-locations', title: 'Top locations' },
    ],
  },
  {
    id: 'changes-section',
    title: 'Significant changes',
    note: 'Each type’s last 28 days to {anchor} against the 28 days before, as a Poisson z-score 2·(√current − √previous); |z| ≥ 3 is flagged. Covers every type, whatever the filters.',
    cards: [{ id: 'changes', title: 'Change by type (z-score)', wide: true }],
  },
];

export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char]!,
  );
}

function renderNote(note: string): string {
  return escapeHtml(note).replace(
    '{anchor}',
    '<span data-field="anchor-day">the anchor day</span>',
  );
}

function renderCard(card: CardSpec): string {
  return `
        <article class="card${card.wide ? ' card-wide' : ''}">
          <h3 id="${card.id}-title">${escapeHtml(card.title)}</h3>
          <div class="chart" id="${card.id}" data-chart="${card.id}" role="img"
               aria-labelledby="${card.id}-title" aria-describedby="${card.id}-summary"></div>
          <p class="summary" id="${card.id}-summary">Loading…</p>
        </article>`;
}

function renderSection(section: SectionSpec): string {
  return `
    <section class="section" id="${section.id}" aria-labelledby="${section.id}-heading">
      <h2 id="${section.id}-heading">${escapeHtml(section.title)}</h2>
      <p class="section-note">${renderNote(section.note)}</p>
      <div class="cards cards-${section.cards.length}">${section.cards.map(renderCard).join('')}
      </div>
    </section>`;
}

function renderLinks(links: DashboardLinks): string {
  const items = [
    links.bullBoard ? `<a href="${escapeHtml(links.bullBoard)}">Job queues (Bull Board)</a>` : '',
    links.metabase ? `<a href="${escapeHtml(links.metabase)}">Metabase</a>` : '',
  ].filter(Boolean);
  return items.length ? `<nav class="links" aria-label="Other tools">${items.join('')}</nav>` : '';
}

function renderTotal(id: string, label: string): string {
  return `
      <div class="total">
        <span class="total-label" id="total-${id}-label">${label}</span>
        <output class="total-value" id="total-${id}" data-total="${id}" aria-labelledby="total-${id}-label">–</output>
        <span class="total-detail" id="total-${id}-detail"></span>
      </div>`;
}

/** Where the page takes the data preload of each request (see withDataPreload). */
const dataPreloadMarker = '<!-- data preload -->';

/** The filters the page's script reads from its address, in the order it writes them. */
const filterNames = ['from', 'to', 'type'] as const;

/**
 * The page with its data already asked for: the script would ask only once it has run, after
 * the page and ECharts are parsed. The address is the one the script builds from the same query
 * (dashboard.js, filterQuery), so the browser hands the script this response; were they ever to
 * differ, the script would simply ask again.
 */
export function withDataPreload(page: string, query: Record<string, unknown>): string {
  const params = new URLSearchParams();
  for (const name of filterNames) {
    const value = query[name];
    if (typeof value === 'string' && value !== '') params.set(name, value);
  }
  const search = params.toString();
  const href = `/dashboard/data${search ? `?${search}` : ''}`;
  return page.replace(
    dataPreloadMarker,
    `<link rel="preload" as="fetch" crossorigin="anonymous" href="${escapeHtml(href)}">`,
  );
}

export function renderDashboardPage(links: DashboardLinks): string {
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>CPD Incident Trends</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="/dashboard/assets/dashboard.css">
  <script type="module" src="/dashboard/assets/dashboard.js"></script>
  <!-- ECharts is most of the page's weight: fetched and compiled while the page parses, rather
       than once dashboard.js runs and imports it. -->
  <link rel="modulepreload" href="/dashboard/assets/vendor/echarts.min.js">
  ${dataPreloadMarker}
</head>
<body data-state="loading">
  <header class="masthead">
    <div>
      <h1>CPD Incident Trends</h1>
      <p class="lede">Cambridge (MA) Police Department Daily Police Log</p>
    </div>
    ${renderLinks(links)}
  </header>
  <main>
    <p class="freshness-line" id="freshness-summary" aria-live="polite">Loading…</p>
    <div class="error" id="error" role="alert" hidden></div>
    <form class="filters" id="filters" aria-describedby="filters-hint">
      <label>From <input type="date" name="from" id="filter-from"></label>
      <label>To <input type="date" name="to" id="filter-to"></label>
      <label>Incident type
        <select name="type" id="filter-type"><option value="">All types</option></select>
      </label>
      <div class="filter-buttons">
        <button type="submit">Apply</button>
        <button type="button" id="filter-reset">Reset</button>
      </div>
      <p class="hint" id="filters-hint">The date range applies to “Selected range”; the type applies to every chart but “Significant changes”. Past 30 days and all history keep their own dates.</p>
    </form>
    <section class="totals" aria-label="Totals for the current filter">${renderTotal('range', 'Selected range')}${renderTotal('past30', 'Past 30 days')}${renderTotal('history', 'All history')}
    </section>${sections.map(renderSection).join('')}
    <section class="section" id="pipeline" aria-labelledby="pipeline-heading">
      <h2 id="pipeline-heading">Data and pipeline</h2>
      <div class="cards cards-pipeline">
        <article class="card">
          <h3>Freshness</h3>
          <dl class="facts" id="freshness"></dl>
        </article>
        <article class="card">
          <h3 id="runs-title">Recent runs</h3>
          <div class="table-scroll" tabindex="0" aria-labelledby="runs-title">
            <table class="runs">
              <thead><tr><th scope="col">Run</th><th scope="col">State</th><th scope="col">Mode</th><th scope="col">Started</th><th scope="col">Took</th><th scope="col">New</th><th scope="col">Changed</th><th scope="col">Same</th><th scope="col">Rejected</th><th scope="col">Error</th></tr></thead>
              <tbody id="runs"></tbody>
            </table>
          </div>
        </article>
      </div>
    </section>
  </main>
</body>
</html>
`;
}
