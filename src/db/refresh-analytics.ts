import type pg from 'pg';

/**
 * The materialised analytics views, in dependency order (the daily and monthly rollups are built
 * from the finer ones). Defined in drizzle/0001_analytics_views.sql.
 */
export const materializedAnalyticsViews = [
  'analytics.incident_rollup',
  'analytics.incident_daily',
  'analytics.hour_weekday_monthly',
  'analytics.location_daily',
  'analytics.location_monthly',
  'analytics.type_counts',
  'analytics.top_locations',
  'analytics.incident_extent',
] as const;

/** Any constant will do, as long as nothing else in the database uses it for another lock. */
const refreshLockKey = 4_243_117_002;

/**
 * Brings the materialised analytics views up to date with `incidents`. The pipeline calls it after
 * each run that changed incidents.
 *
 * Cheap when nothing changed: the load notes each window that really changed rows in
 * `analytics.pending_changes`, and triggers on `incidents` note any other writer's statements; with none pending this is two small statements.
 * Safe from several processes at once: a session advisory lock makes the second caller wait for
 * the first, then find nothing pending. The lock is taken before the transaction starts, so the
 * transaction's snapshot sees the first caller's commit.
 * Consistent: one repeatable-read transaction consumes the marks and refreshes every view from
 * the same snapshot, so a change committed meanwhile keeps its mark for the next call, and a
 * failed refresh rolls its marks back. CONCURRENTLY keeps the views readable throughout.
 */
export async function refreshAnalytics(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('select pg_advisory_lock($1)', [refreshLockKey]);
    await client.query('begin isolation level repeatable read');
    const consumed = await client.query('delete from analytics.pending_changes');
    if (consumed.rowCount) {
      for (const view of materializedAnalyticsViews) {
        await client.query(`refresh materialized view concurrently ${view}`);
      }
      await client.query('update analytics.refresh_state set refreshed_at = now()');
    }
    await client.query('commit');
    await client.query('select pg_advisory_unlock($1)', [refreshLockKey]);
    client.release();
  } catch (error) {
    // Discarding the connection ends its session: the transaction rolls back (the marks stay for
    // the next call) and the lock is released, whatever state the failure left them in.
    client.release(true);
    throw error;
  }
}
