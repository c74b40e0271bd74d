import { formatCount } from './charts.js';
import type { DashboardData } from './data.js';
import type { RunView } from './freshness.js';
import type { CardSpec, DatasetPage, DescribedFreshness, SectionSpec } from './page-spec.js';
import { policeLogPage } from './pages/police-log.js';
import { mapAspect } from './public/chart-options.js';
import type { ChartSize, DrawnChart } from './render-charts.js';

/**
 * The dashboard's HTML, drawn on the server for one filter: totals, summaries, freshness, runs,
 * and every chart as SVG (render-charts.ts), so the page shows everything as it arrives. The
 * script (dashboard.js) then makes the charts live from the chart data the page carries as JSON.
 * The filters are a plain GET form: a new filter is a new page, and the page works without
 * script. Everything is served from this app (no CDN), and there is no inline script, so a strict
 * Content Security Policy (script-src 'self') allows it.
 */

export interface DashboardLinks {
  /** Bull Board, e.g. /admin/queues. */
  bullBoard?: string;
  /** Metabase's public URL, when one is configured. */
  metabase?: string;
}

/**
 * What the server draws each chart at: its size on a 1280-pixel-wide screen, where a wide card
 * has a row to itself and the others of its section share one (dashboard.css). The SVG scales
 * to other screens until the live chart, drawn at the container's own size, replaces it.
 */
const rowWidths = [1182, 566, 361] as const; // a card's width, one, two or three to a row

export function nominalChartSize(id: string, page: DatasetPage = policeLogPage): ChartSize {
  const section = page.sections.find((one) => one.cards.some((card) => card.id === id));
  const card = section?.cards.find((one) => one.id === id);
  let size: ChartSize;
  if (!section || card?.wide) size = { width: rowWidths[0], height: 300 };
  else {
    const sharing = section.cards.filter((one) => !one.wide).length;
    size = { width: rowWidths[Math.min(sharing, rowWidths.length) - 1]!, height: 260 };
  }
  if (card?.map) return { width: size.width, height: Math.round(size.width / mapAspect) };
  return card?.tall ? { width: size.width, height: 480 } : size;
}

/** A dataset's page in the list of datasets every page shows. */
export interface DatasetLink {
  label: string;
  path: string;
}

export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char]!,
  );
}

/** What one request shows: the data for its filter, or why there is none. */
export interface DashboardView {
  links: DashboardLinks;
  /** Every dataset's page; the current one is marked. */
  datasets?: DatasetLink[];
  /** The filter as the address gave it, for the form. */
  requested: { from?: string; to?: string; type?: string };
  data: DashboardData<DescribedFreshness> | null;
  drawn: Partial<Record<string, DrawnChart>>;
  /** Why the data is missing, in words a visitor can act on. */
  error?: string;
}

function renderCard(card: CardSpec, view: DashboardView, page: DatasetPage): string {
  const drawn = view.drawn[card.id];
  const summary = view.data
    ? (view.data.charts[card.id]?.summary ?? `No ${page.unit.many} loaded yet.`)
    : 'Not available.';
  return `
        <article class="card${card.wide ? ' card-wide' : ''}">
          <h3 id="${card.id}-title">${escapeHtml(card.title)}</h3>
          <div class="chart${card.map ? ' chart-map' : ''}${card.tall ? ' chart-tall' : ''}" id="${card.id}" data-chart="${card.id}" role="img"
               aria-labelledby="${card.id}-title" aria-describedby="${card.id}-summary"
               data-points="${drawn?.points ?? 0}">${drawn?.svg ?? ''}</div>
          <p class="summary" id="${card.id}-summary">${escapeHtml(summary)}</p>
        </article>`;
}

function renderSection(section: SectionSpec, view: DashboardView, page: DatasetPage): string {
  const anchor = view.data?.filter?.allHistory.to;
  const note = escapeHtml(section.note).replace(
    '{anchor}',
    `<span data-field="anchor-day">${anchor ?? 'the anchor day'}</span>`,
  );
  return `
    <section class="section" id="${section.id}" aria-labelledby="${section.id}-heading">
      <h2 id="${section.id}-heading">${escapeHtml(section.title)}</h2>
      <p class="section-note">${note}</p>
      <div class="cards cards-${section.cards.length}">${section.cards.map((card) => renderCard(card, view, page)).join('')}
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

function renderDatasets(datasets: DatasetLink[] | undefined, page: DatasetPage): string {
  if (!datasets || datasets.length < 2) return '';
  const items = datasets.map((dataset) =>
    dataset.path === page.path
      ? `<a href="${escapeHtml(dataset.path)}" aria-current="page">${escapeHtml(dataset.label)}</a>`
      : `<a href="${escapeHtml(dataset.path)}">${escapeHtml(dataset.label)}</a>`,
  );
  return `<nav class="datasets" aria-label="Datasets">${items.join('')}</nav>`;
}

/**
 * The form: the dates shown are the request's, or the data's own bounds, which the script leaves
 * out of the address when unchanged (data-default) so a shared address stays short.
 */
function renderFilters(view: DashboardView, page: DatasetPage): string {
  const extent = view.data?.filter?.allHistory;
  const date = (name: 'from' | 'to', label: string) => {
    const value = view.requested[name] || extent?.[name] || '';
    return `<label>${label} <input type="date" name="${name}" id="filter-${name}" value="${escapeHtml(value)}" data-default="${escapeHtml(extent?.[name] ?? '')}"></label>`;
  };
  const requestedType = view.requested.type ?? '';
  const types = ['', ...(view.data?.types ?? [])];
  if (requestedType && !types.includes(requestedType)) types.push(requestedType);
  const options = types
    .map(
      (type) =>
        `<option value="${escapeHtml(type)}"${type === requestedType ? ' selected' : ''}>${escapeHtml(type || 'All types')}</option>`,
    )
    .join('');
  return `
    <form class="filters" id="filters" method="get" action="${escapeHtml(page.path)}" aria-describedby="filters-hint">
      ${date('from', 'From')}
      ${date('to', 'To')}
      <label>${escapeHtml(page.typeLabel)}
        <select name="type" id="filter-type">${options}</select>
      </label>
      <div class="filter-buttons">
        <button type="submit">Apply</button>
        <a class="button" href="${escapeHtml(page.path)}" id="filter-reset">Reset</a>
      </div>
      <p class="hint" id="filters-hint">${escapeHtml(page.filterHint)}</p>
    </form>`;
}

function renderTotals(data: DashboardView['data'], page: DatasetPage): string {
  const type = data?.filter?.type;
  const what = type ? `${type} ${page.unit.many}` : page.unit.many;
  const labels = page.totalLabels;
  const total = (
    id: string,
    label: string,
    value: number | undefined,
    range?: { from: string; to: string },
  ) => `
      <div class="total">
        <span class="total-label" id="total-${id}-label">${label}</span>
        <output class="total-value" id="total-${id}" data-total="${id}" data-value="${value ?? ''}" aria-labelledby="total-${id}-label">${value === undefined ? '–' : formatCount(value)}</output>
        <span class="total-detail" id="total-${id}-detail">${escapeHtml(range ? `${what}, ${range.from} to ${range.to}` : what)}</span>
      </div>`;
  return `
    <section class="totals" aria-label="Totals for the current filter">${total('range', labels.range, data?.totals.range, data?.filter?.range)}${total('past30', labels.past30Days, data?.totals.past30Days, data?.filter?.past30Days)}${total('history', labels.allHistory, data?.totals.allHistory, data?.filter?.allHistory)}
    </section>`;
}

function renderFreshness(data: DashboardView['data']): string {
  return (data?.freshness.lines ?? [])
    .map(({ label, value }) => `<dt>${escapeHtml(label)}</dt><dd>${escapeHtml(value)}</dd>`)
    .join('');
}

function renderRuns(runs: RunView[] | undefined): string {
  if (!runs?.length) return '<tr><td colspan="10" class="empty">No runs yet.</td></tr>';
  return runs
    .map((run) => {
      const cells = [
        `#${run.runId}`,
        run.state,
        `${run.mode} (${run.trigger})`,
        run.startedLocal,
        run.durationText,
        formatCount(run.rowsInserted),
        formatCount(run.rowsUpdated),
        formatCount(run.rowsUnchanged),
        formatCount(run.rowsRejected),
        run.error ?? '',
      ];
      return `<tr data-state="${escapeHtml(run.state)}">${cells.map((cell) => `<td>${escapeHtml(cell)}</td>`).join('')}</tr>`;
    })
    .join('');
}

/**
 * The charts' data for the script, as JSON the HTML parser cannot end early: every `<` is
 * escaped, so no value (an incident type, say) can close the element.
 */
function renderChartData(data: DashboardView['data']): string {
  const json = JSON.stringify(data?.charts ?? {}).replace(/</g, '\\u003c');
  return `<script type="application/json" id="chart-data">${json}</script>`;
}

export function renderDashboardPage(
  view: DashboardView,
  page: DatasetPage = policeLogPage,
): string {
  const { data, error } = view;
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${escapeHtml(page.title)}</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="/dashboard/assets/dashboard.css">
  <script type="module" src="/dashboard/assets/dashboard.js"></script>
  <link rel="modulepreload" href="/dashboard/assets/vendor/echarts.min.js">
</head>
<body data-state="${error ? 'error' : 'ready'}">
  <header class="masthead">
    <div>
      <h1>${escapeHtml(page.title)}</h1>
      <p class="lede">${escapeHtml(page.lede)}</p>
    </div>
    ${renderLinks(view.links)}
    ${renderDatasets(view.datasets, page)}
  </header>
  <main>
    <p class="freshness-line" id="freshness-summary">${escapeHtml(data?.freshness.summary ?? '')}</p>
    <div class="error" id="error" role="alert"${error ? '' : ' hidden'}>${escapeHtml(error ? `Could not load the dashboard: ${error}` : '')}</div>${renderFilters(view, page)}${renderTotals(data, page)}${page.sections.map((section) => renderSection(section, view, page)).join('')}
    <section class="section" id="pipeline" aria-labelledby="pipeline-heading">
      <h2 id="pipeline-heading">Data and pipeline</h2>
      <div class="cards cards-pipeline">
        <article class="card">
          <h3>Freshness</h3>
          <dl class="facts" id="freshness">${renderFreshness(data)}</dl>
        </article>
        <article class="card">
          <h3 id="runs-title">Recent runs</h3>
          <div class="table-scroll" tabindex="0" aria-labelledby="runs-title">
            <table class="runs">
              <thead><tr><th scope="col">Run</th><th scope="col">State</th><th scope="col">Mode</th><th scope="col">Started</th><th scope="col">Took</th><th scope="col">New</th><th scope="col">Changed</th><th scope="col">Same</th><th scope="col">Rejected</th><th scope="col">Error</th></tr></thead>
              <tbody id="runs">${renderRuns(data?.runs)}</tbody>
            </table>
          </div>
        </article>
      </div>
    </section>
  </main>
  ${renderChartData(data)}
</body>
</html>
`;
}
