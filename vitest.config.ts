import { defineConfig } from 'vitest/config';

// Two projects: `unit` (pure logic, no servers, fast) and `integration` (real PostgreSQL and
// Redis; each file makes its own database and queue prefix, so runs never collide).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          // Unit tests first; projects with different worker counts need their own group.
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          // Two cores: a few files at a time keeps Postgres and Redis timings sane.
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
