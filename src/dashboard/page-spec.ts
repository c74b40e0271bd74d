import type { ChartData, Unit } from './charts.js';
import type { DashboardQuery, ResolvedFilter } from './filter.js';
import type { Queryable, SignificantChange } from './queries.js';

/**
 * What makes one dataset's dashboard page: its address, words, sections of charts, and how it
 * loads its data. The page (page.ts), the router (router.ts) and the cache are the same for every
 * dataset; a dataset brings one of these (pages/).
 */

export interface CardSpec {
  id: string;
  title: string;
  /** A row of its own. */
  wide?: boolean;
  /** Twice as tall, for a long list of bars. */
  tall?: boolean;
  /** A map: its box keeps the map's aspect ratio (chart-options.js mapAspect). */
  map?: boolean;
}

export interface SectionSpec {
  id: string;
  title: string;
  /** Says which filters the section follows; `{anchor}` becomes the anchor day. */
  note: string;
  cards: CardSpec[];
}

/** The facts of the freshness card, in words. */
export interface DescribedFreshness {
  lines: { label: string; value: string }[];
  summary: string;
}

/** What a page's queries answer for one filter: the part that changes only with the data. */
export interface PageData<Facts = unknown> {
  /** The filter as applied; null when nothing is loaded yet. */
  filter: ResolvedFilter | null;
  types: string[];
  totals: { range: number; past30Days: number; allHistory: number };
  charts: Record<string, ChartData>;
  changes: SignificantChange[];
  /** Freshness facts from the data, described per request (ages depend on the clock). */
  facts: Facts;
}

export interface DatasetPage<Facts = unknown> {
  /** Short name, as in `/datasets/<name>`. */
  name: string;
  /** The Socrata id: the run ledger's and the data version's name for the dataset. */
  sourceId: string;
  /** Where the page is served, and its JSON. */
  path: string;
  dataPath: string;
  /** The page's name in the list of datasets. */
  label: string;
  title: string;
  lede: string;
  unit: Unit;
  /** The type filter's label, e.g. "Incident type". */
  typeLabel: string;
  /** Says which filter applies where, under the form. */
  filterHint: string;
  totalLabels: { range: string; past30Days: string; allHistory: string };
  sections: SectionSpec[];
  /** Runs every chart's query for one filter. */
  loadData(db: Queryable, query: DashboardQuery): Promise<PageData<Facts>>;
  describeFreshness(
    facts: Facts,
    lastSuccessfulSyncAt: string | null,
    now: Date,
  ): DescribedFreshness;
}
