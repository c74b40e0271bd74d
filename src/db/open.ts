import type { Config } from '../config.js';
import {
  assertReachable,
  createDatabase,
  type CreateDatabaseOptions,
  type Database,
} from './client.js';
import { startEmbeddedPostgres } from './embedded.js';

export interface OpenedDatabase extends Database {
  /** True when this is the embedded PostgreSQL (DATABASE_URL unset). */
  embedded: boolean;
}

/**
 * The database the configuration names, checked reachable; with DATABASE_URL unset, the embedded
 * PostgreSQL under the data folder, started if needed and stopped on close when no other
 * process still uses it.
 */
export async function openDatabase(
  config: Pick<Config, 'DATABASE_URL' | 'dataDir'>,
  options: CreateDatabaseOptions & { log?: (message: string) => void } = {},
): Promise<OpenedDatabase> {
  if (config.DATABASE_URL) {
    const database = createDatabase(config.DATABASE_URL, options);
    try {
      await assertReachable(database);
    } catch (error) {
      await database.close();
      throw error;
    }
    return { ...database, embedded: false };
  }
  const cluster = await startEmbeddedPostgres(config.dataDir, options.log);
  const database = createDatabase(cluster.url, options);
  return {
    ...database,
    label: `embedded PostgreSQL (${database.label})`,
    embedded: true,
    async close() {
      await database.close();
      await cluster.release();
    },
  };
}
