import { formatCount } from './charts.js';
import type { ChartId, DashboardData } from './data.js';
import type { RunView } from './freshness.js';
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

/**
 * What the server draws each chart at: its size on a 1280-pixel-wide screen, where a wide card
 * has a row to itself and the others of its section share one (dashboard.css). The SVG scales
 * to other screens until the live chart, drawn at the container's own size, replaces it.
 */
const rowWidths = [1182, 566, 361] as const; // a card's width, one, two or three to a row

export function nominalChartSize(id: ChartId): ChartSize {
  const section = sections.find((one) => one.cards.some((card) => card.id === id));
  const card = section?.cards.find((one) => one.id === id);
  if (!section || card?.wide) return { width: rowWidths[0], height: 300 };
  const sharing = section.cards.filter((one) => !one.wide).length;
  return { width: rowWidths[Math.min(sharing, rowWidths.length) - 1]!, height: 260 };
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
  /** The filter as the address gave it, for the form. */
  requested: { from?: string; to?: string; type?: string };
  data: DashboardData | null;
  drawn: Partial<Record<ChartId, DrawnChart>>;
  /** Why the data is missing, in words a visitor can act on. */
  error?: string;
}

function renderCard(card: CardSpec, view: DashboardView): string {
  const drawn = view.drawn[card.id];
  const summary = view.data
    ? (view.data.charts[card.id]?.summary ?? 'No incidents loaded yet.')
    : 'Not available.';
  return `
        <article class="card${card.wide ? ' card-wide' : ''}">
          <h3 id="${card.id}-title">${escapeHtml(card.title)}</h3>
          <div class="chart" id="${card.id}" data-chart="${card.id}" role="img"
               aria-labelledby="${card.id}-title" aria-describedby="${card.id}-summary"
               data-points="${drawn?.points ?? 0}">${drawn?.svg ?? ''}</div>
          <p class="summary" id="${card.id}-summary">${escapeHtml(summary)}</p>
        </article>`;
}

function renderSection(section: SectionSpec, view: DashboardView): string {
  const anchor = view.data?.filter?.allHistory.to;
  const note = escapeHtml(section.note).replace(
    '{anchor}',
    `<span data-field="anchor-day">${anchor ?? 'the anchor day'}</span>`,
  );
  return `
    <section class="section" id="${section.id}" aria-labelledby="${section.id}-heading">
      <h2 id="${section.id}-heading">${escapeHtml(section.title)}</h2>
      <p class="section-note">${note}</p>
      <div class="cards cards-${section.cards.length}">${section.cards.map((card) => renderCard(card, view)).join('')}
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

/**
 * The form: the dates shown are the request's, or the data's own bounds, which the script leaves
 * out of the address when unchanged (data-default) so a shared address stays short.
 */
function renderFilters(view: DashboardView): string {
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
    <form class="filters" id="filters" method="get" action="/" aria-describedby="filters-hint">
      ${date('from', 'From')}
      ${date('to', 'To')}
      <label>Incident type
        <select name="type" id="filter-type">${options}</select>
      </label>
      <div class="filter-buttons">
        <button type="submit">Apply</button>
        <a class="button" href="/" id="filter-reset">Reset</a>
      </div>
      <p class="hint" id="filters-hint">The date range applies to “Selected range”; the type applies to every chart but “Significant changes”. Past 30 days and all history keep their own dates.</p>
    </form>`;
}

function renderTotals(data: DashboardData | null): string {
  const type = data?.filter?.type;
  const what = type ? `${type} incidents` : 'incidents';
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
    <section class="totals" aria-label="Totals for the current filter">${total('range', 'Selected range', data?.totals.range, data?.filter?.range)}${total('past30', 'Past 30 days', data?.totals.past30Days, data?.filter?.past30Days)}${total('history', 'All history', data?.totals.allHistory, data?.filter?.allHistory)}
    </section>`;
}

function renderFreshness(data: DashboardData | null): string {
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
function renderChartData(data: DashboardData | null): string {
  const json = JSON.stringify(data?.charts ?? {}).replace(/</g, '\\u003c');
  return `<script type="application/json" id="chart-data">${json}</script>`;
}

export function renderDashboardPage(view: DashboardView): string {
  const { data, error } = view;
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>CPD Incident Trends</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="/dashboard/assets/dashboard.css">
  <script type="module" src="/dashboard/assets/dashboard.js"></script>
  <link rel="modulepreload" href="/dashboard/assets/vendor/echarts.min.js">
</head>
<body data-state="${error ? 'error' : 'ready'}">
  <header class="masthead">
    <div>
      <h1>CPD Incident Trends</h1>
      <p class="lede">Cambridge (MA) Police Department Daily Police Log</p>
    </div>
    ${renderLinks(view.links)}
  </header>
  <main>
    <p class="freshness-line" id="freshness-summary">${escapeHtml(data?.freshness.summary ?? '')}</p>
    <div class="error" id="error" role="alert"${error ? '' : ' hidden'}>${escapeHtml(error ? `Could not load the dashboard: ${error}` : '')}</div>${renderFilters(view)}${renderTotals(data)}${sections.map((section) => renderSection(section, view)).join('')}
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
