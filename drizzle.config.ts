import { defineConfig } from 'drizzle-kit';

// Generating migrations needs no database; applying them is `cpd migrate`, which takes an advisory
// lock and can start the embedded PostgreSQL.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema/index.ts',
  out: './drizzle',
  schemaFilter: ['public', 'staging', 'analytics'],
  dbCredentials: { url: process.env.DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/postgres' },
});
