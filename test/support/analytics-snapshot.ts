import type pg from 'pg';
import { incidentAnalytics } from '../../src/analytics/incidents.js';

/** Every analytics view of the contract (docs/analytics.md) and every maintained table. */
export const analyticsRelations = [
  ...incidentAnalytics.rollups.map((rollup) => rollup.table),
  incidentAnalytics.extent.table,
  'analytics.daily_counts',
  'analytics.monthly_counts',
  'analytics.type_counts',
  'analytics.hour_counts',
  'analytics.hour_weekday_grid',
  'analytics.top_locations',
  'analytics.yoy_weekly',
  'analytics.significant_changes',
  'analytics.freshness',
  'analytics.deleted_incidents',
];

/** When, not what: differs between two computations of the same numbers, or two runs. */
const volatileColumns = ['analytics_refreshed_at', 'last_successful_sync_at'];

/** Every row of every analytics relation, in a stable order, as comparable JSON text. */
export async function snapshotAnalytics(pool: pg.Pool): Promise<Record<string, string[]>> {
  const snapshot: Record<string, string[]> = {};
  for (const relation of analyticsRelations) {
    const { rows } = await pool.query<{ row: string }>(
      `select (to_jsonb(t) - $1::text[])::text as row from ${relation} t order by 1`,
      [volatileColumns],
    );
    snapshot[relation] = rows.map((row) => row.row);
  }
  return snapshot;
}

/** How many times the rollups were rebuilt from the table (refresh_state.rebuilds). */
export async function rebuildCount(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(
    'select rebuilds::int as n from analytics.refresh_state',
  );
  return rows[0]!.n;
}

export async function pendingChanges(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(
    'select count(*)::int as n from analytics.pending_changes',
  );
  return rows[0]!.n;
}
