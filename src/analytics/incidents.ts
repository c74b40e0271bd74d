import type { AnalyticsSpec, Dimension } from './rollups.js';

/**
 * The Police Log's rollups (tables in drizzle/0007_analytics_follow_changes.sql; the views over
 * them are the contract in docs/analytics.md). Local parts always come from the columns the
 * transform derived from the source's wall time, never from occurred_at, so DST days land where
 * the source put them.
 */

const day: Dimension = { name: 'day', type: 'date', sql: 'local_date' };
const type: Dimension = { name: 'type', type: 'text', sql: 'type' };
const passed = (name: string, sqlType: string): Dimension => ({
  name,
  type: sqlType,
  sql: `"${name}"`,
});
// On a timestamp, not a date: date_trunc would convert a date through the session's time zone.
const monthOf: Dimension = {
  name: 'month',
  type: 'date',
  sql: `date_trunc('month', day::timestamp)`,
};

export const incidentAnalytics: AnalyticsSpec = {
  table: 'incidents',
  columns: [
    'local_date',
    'local_hour',
    'type',
    'offense',
    'statute',
    'location',
    'occurred_at',
    'occurred_local',
    'source_updated_at',
  ],
  countColumn: 'incidents',
  rollups: [
    // The base of every filtered count: (local day, hour, type). The weekday is computed from the
    // day so one day can never have two.
    {
      table: 'analytics.incident_rollup',
      key: [day, { name: 'hour', type: 'smallint', sql: 'local_hour' }, type],
      attributes: [{ name: 'weekday', type: 'smallint', sql: 'extract(isodow from local_date)' }],
    },
    {
      table: 'analytics.incident_daily',
      from: 'analytics.incident_rollup',
      key: [passed('day', 'date'), passed('type', 'text')],
      attributes: [passed('weekday', 'smallint')],
    },
    {
      table: 'analytics.hour_weekday_monthly',
      from: 'analytics.incident_rollup',
      key: [
        monthOf,
        passed('weekday', 'smallint'),
        passed('hour', 'smallint'),
        passed('type', 'text'),
      ],
    },
    // Locations are cut to 300 characters so the keys stay within a B-tree entry whatever the
    // source sends.
    {
      table: 'analytics.location_daily',
      where: `location is not null and location <> ''`,
      key: [day, type, { name: 'location', type: 'text', sql: 'left(location, 300)' }],
    },
    {
      table: 'analytics.location_monthly',
      from: 'analytics.location_daily',
      key: [monthOf, passed('type', 'text'), passed('location', 'text')],
    },
    {
      table: 'analytics.location_totals',
      from: 'analytics.location_monthly',
      key: [passed('location', 'text')],
    },
    // No offense or statute is '' here (NULL in type_counts): keys compared with =, so the deltas
    // join by hash and by index.
    {
      table: 'analytics.type_daily',
      key: [
        day,
        type,
        { name: 'offense', type: 'text', sql: `coalesce(offense, '')` },
        { name: 'statute', type: 'text', sql: `coalesce(statute, '')` },
      ],
    },
    {
      table: 'analytics.type_totals',
      from: 'analytics.type_daily',
      key: [passed('type', 'text'), passed('offense', 'text'), passed('statute', 'text')],
    },
  ],
  extent: {
    table: 'analytics.incident_extent',
    maxima: [
      {
        column: 'latest_incident_at',
        sql: 'occurred_at',
        // The latest instant is on the latest local day (New York's clock never moves across
        // midnight), and the window column's BRIN index finds that day's rows.
        recomputeWhere: `occurred_local >= (select max(day) from analytics.incident_daily)`,
      },
      { column: 'latest_source_update_at', sql: 'source_updated_at' },
    ],
  },
};
