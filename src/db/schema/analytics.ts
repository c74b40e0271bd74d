import { pgSchema } from 'drizzle-orm/pg-core';

/** Views for the dashboards (built-in page and Metabase); defined in SQL migrations. */
export const analytics = pgSchema('analytics');
