import pg from 'pg';

/**
 * What a Metabase schema sync learns about a PostgreSQL database: its tables, views and
 * materialised views with their columns. The fake Metabase really connects, as Metabase does, so
 * a database it cannot reach fails the same way.
 */

export interface ConnectionDetails {
  host?: unknown;
  port?: unknown;
  dbname?: unknown;
  user?: unknown;
  password?: unknown;
  ssl?: unknown;
}

export interface IntrospectedColumn {
  schema: string;
  table: string;
  column: string;
  databaseType: string;
}

export function introspectPostgres(details: ConnectionDetails): Promise<IntrospectedColumn[]> {
  return queryPostgres<IntrospectedColumn>(
    details,
    `select n.nspname as schema, c.relname as table, a.attname as column,
            format_type(a.atttypid, a.atttypmod) as "databaseType"
       from pg_class c
       join pg_namespace n on n.oid = c.relnamespace
       join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
      where c.relkind in ('r', 'v', 'm', 'p', 'f')
        and n.nspname not in ('pg_catalog', 'information_schema')
        and n.nspname not like 'pg_toast%'
      order by 1, 2, a.attnum`,
  );
}

/** One query on a connection of its own, made from Metabase's connection details. */
export async function queryPostgres<Row extends object = Record<string, unknown>>(
  details: ConnectionDetails,
  sql: string,
): Promise<Row[]> {
  const client = new pg.Client({
    host: text(details.host) ?? 'localhost',
    port: Number(details.port ?? 5432),
    database: text(details.dbname),
    user: text(details.user),
    password: typeof details.password === 'string' ? details.password : undefined,
    ssl: details.ssl === true ? { rejectUnauthorized: false } : undefined,
    connectionTimeoutMillis: 5_000,
  });
  await client.connect();
  try {
    return (await client.query<Row>(sql)).rows;
  } finally {
    await client.end();
  }
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
}
