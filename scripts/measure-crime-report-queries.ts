/**
 * Times every query of the Crime Reports dashboard page on 110,000 generated reports (the real
 * dataset's size), to check that plain views suffice (drizzle/0006_crime_reports_analytics.sql):
 * each query should stay within 50 ms at p95. Prints one line per query; run once after changing
 * the views or the queries:
 *
 *   npx tsx scripts/measure-crime-report-queries.ts
 */
import { performance } from 'node:perf_hooks';
import * as queries from '../src/dashboard/crime-report-queries.js';
import { createTestDatabase } from '../test/support/database.js';
import { generateCrimeReports, insertCrimeReports } from '../test/support/crime-report-fixtures.js';

const rounds = 40;
const database = await createTestDatabase();
try {
  await insertCrimeReports(
    database.pool,
    generateCrimeReports({ seed: 1, rows: 110_000, from: '2009-01-01', to: '2026-11-01' }),
  );
  await database.pool.query('analyze crime_reports');
  const all = { from: '2009-01-01', to: '2026-10-31', type: null };
  const someYear = { from: '2020-03-15', to: '2021-06-30', type: 'Larceny of Bicycle' };
  const cases: [string, () => Promise<unknown>][] = [
    ['extent', () => queries.queryCrimeExtent(database.pool)],
    ['types', () => queries.queryCrimeTypes(database.pool)],
    [
      'totals',
      () =>
        queries.queryCrimeTotals(database.pool, null, all, {
          from: '2026-10-02',
          to: '2026-10-31',
        }),
    ],
    ['monthly (all)', () => queries.queryCrimeMonthly(database.pool, all)],
    ['monthly (range, crime)', () => queries.queryCrimeMonthly(database.pool, someYear)],
    ['crime types', () => queries.queryCrimeTypeCounts(database.pool, all)],
    ['neighborhoods', () => queries.queryNeighborhoodCounts(database.pool, all)],
    ['area points', () => queries.queryAreaPoints(database.pool, all)],
    ['hours', () => queries.queryCrimeHours(database.pool, all)],
    ['weekdays', () => queries.queryCrimeWeekdays(database.pool, all)],
    ['delays', () => queries.queryReportDelays(database.pool, all)],
    ['changes', () => queries.queryCrimeChanges(database.pool)],
    ['freshness', () => queries.queryCrimeFreshness(database.pool)],
    ['runs', () => queries.queryCrimeRuns(database.pool)],
  ];
  for (const [name, run] of cases) {
    await run();
    const times: number[] = [];
    for (let i = 0; i < rounds; i += 1) {
      const start = performance.now();
      await run();
      times.push(performance.now() - start);
    }
    times.sort((a, b) => a - b);
    const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]!;
    process.stdout.write(
      `${name.padEnd(24)} median ${at(0.5).toFixed(1).padStart(6)} ms   p95 ${at(0.95).toFixed(1).padStart(6)} ms\n`,
    );
  }
} finally {
  await database.drop();
}
