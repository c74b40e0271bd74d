import { incidentAnalytics } from './incidents.js';
import type { AnalyticsSpec } from './rollups.js';

/**
 * Each dataset's rollups, by Socrata id. A dataset without an entry has no maintained analytics:
 * its loads record no changes for them.
 */
const specs: Record<string, AnalyticsSpec> = {
  '3gki-wyrb': incidentAnalytics,
};

export function analyticsSpecOf(datasetId: string): AnalyticsSpec | undefined {
  return specs[datasetId];
}

/** Every dataset with analytics, with its spec. */
export function listAnalyticsSpecs(): Array<{ datasetId: string; spec: AnalyticsSpec }> {
  return Object.entries(specs).map(([datasetId, spec]) => ({ datasetId, spec }));
}
