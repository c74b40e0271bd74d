/**
 * Analytics benchmark (issue 14): what keeping the rollups from each load's changes costs, against
 * re-computing them over the whole table as the materialised views did.
 *
 * On 1,000,000 bulk-filled incidents: the full rebuild (`cpd analytics rebuild`); a real load of
 * 100 changed rows (loadWindow, whose transaction now carries the rollup delta) and the old
 * `REFRESH MATERIALIZED VIEW CONCURRENTLY` of every view it replaced (the old definitions,
 * recreated in a scratch schema); a load of the same rows again (no change). Then a 1M-row first
 * load into an empty table, with the delta against the same two statements without it.
 *
 *   npm run bench -- analytics          BENCH_INCIDENTS=200000 to try a smaller table
 */
import { performance } from 'node:perf_hooks';
import type pg from 'pg';
import { incidentAnalytics } from '../src/analytics/incidents.js';
import { rebuildAnalytics } from '../src/db/refresh-analytics.js';
import { getDatasetPipeline } from '../src/pipeline/datasets.js';
import { createRun, readWindowSpec } from '../src/pipeline/ledger/index.js';
import { recreateStagingTable, stagingTable } from '../src/pipeline/staging.js';
import type { StepDeps } from '../src/pipeline/steps/context.js';
import { buildLoadSql, loadWindow } from '../src/pipeline/steps/load.js';
import { fillIncidents } from '../test/support/bulk-incidents.js';
import { createTestDatabase } from '../test/support/database.js';
import { silentLog } from '../test/support/pipeline.js';
import { report } from './support.js';

const incidents = Number(process.env.BENCH_INCIDENTS ?? 1_000_000);
const pipeline = getDatasetPipeline('3gki-wyrb');
const { target } = pipeline;

async function time<T>(work: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const result = await work();
  return [result, performance.now() - started];
}

/** The materialised views of drizzle/0001 and 0004, as they were, over the same table. */
const oldViews = [
  `create materialized view old.incident_rollup as
   select local_date as day, local_hour as hour, extract(isodow from local_date)::smallint as weekday, type, count(*)::int as incidents
     from public.incidents group by local_date, local_hour, type`,
  `create unique index on old.incident_rollup (day, hour, type)`,
  `create materialized view old.incident_daily as
   select day, weekday, type, sum(incidents)::int as incidents from old.incident_rollup group by day, weekday, type`,
  `create unique index on old.incident_daily (day, type)`,
  `create materialized view old.hour_weekday_monthly as
   select date_trunc('month', day)::date as month, weekday, hour, type, sum(incidents)::int as incidents
     from old.incident_rollup group by 1, 2, 3, 4`,
  `create unique index on old.hour_weekday_monthly (month, weekday, hour, type)`,
  `create materialized view old.location_daily as
   select local_date as day, type, left(location, 300) as location, count(*)::int as incidents
     from public.incidents where location is not null and location <> '' group by 1, 2, 3`,
  `create unique index on old.location_daily (day, type, location)`,
  `create materialized view old.location_monthly as
   select date_trunc('month', day)::date as month, type, location, sum(incidents)::int as incidents
     from old.location_daily group by 1, 2, 3`,
  `create unique index on old.location_monthly (month, type, location)`,
  `create materialized view old.type_counts as
   with anchor as (select max(local_date) as anchor_day from public.incidents)
   select i.type, i.offense, i.statute, count(*)::int as incidents,
          count(*) filter (where i.local_date > a.anchor_day - 30)::int as last_30_days
     from public.incidents i cross join anchor a group by i.type, i.offense, i.statute`,
  `create unique index on old.type_counts (type, offense, statute) nulls not distinct`,
  `create materialized view old.top_locations as
   with anchor as (select max(day) as anchor_day from old.incident_daily),
   counted as (
     select d.location, sum(d.incidents)::int as incidents,
            coalesce(sum(d.incidents) filter (where d.day > a.anchor_day - 30), 0)::int as last_30_days
       from old.location_daily d cross join anchor a group by d.location),
   ranked as (select c.*, row_number() over (order by c.incidents desc, c.location)::int as rank from counted c)
   select location, incidents, last_30_days, rank from ranked where rank <= 100`,
  `create unique index on old.top_locations (location)`,
  `create materialized view old.incident_extent as
   select true as singleton, max(occurred_at) as latest_incident_at, max(source_updated_at) as latest_source_update_at
     from public.incidents`,
  `create unique index on old.incident_extent (singleton)`,
];
const oldViewNames = oldViews
  .map((statement) => /materialized view (old\.\w+)/.exec(statement)?.[1])
  .filter((name): name is string => name !== undefined);

const database = await createTestDatabase();
const deps: StepDeps = {
  pool: database.pool,
  source: undefined as unknown as StepDeps['source'],
  settings: { rejectThreshold: 0.05 },
  log: silentLog,
};

let runs = 0;
/** A one-window incremental run whose clean staging holds what `fill` puts there. */
async function stageRun(fill: (client: pg.PoolClient, clean: string) => Promise<void>) {
  runs += 1;
  const { run } = await createRun(database.pool, {
    dataset: pipeline.source.id,
    mode: 'incremental',
    trigger: 'cli',
    dedupeKey: `bench-${runs}`,
    windows: [{ index: 0 }],
  });
  const client = await database.pool.connect();
  try {
    await recreateStagingTable(client, 'clean', run.id, 0, pipeline.target);
    await fill(client, stagingTable('clean', run.id, 0));
    await client.query(`analyze ${stagingTable('clean', run.id, 0)}`);
  } finally {
    client.release();
  }
  return readWindowSpec(database.pool, run.id, 0);
}

const content = target.contentColumns.map((column) => `"${column}"`).join(', ');
const stampText = `to_char(source_updated_at at time zone 'America/New_York', 'YYYY-MM-DD"T"HH24:MI:SS.MS')`;

try {
  process.stdout.write(`filling ${incidents.toLocaleString('en-US')} incidents…\n`);
  await fillIncidents(database.pool, { count: incidents, lastDay: '2026-01-15', days: 745 });
  await database.pool.query('vacuum analyze incidents');
  const [, rebuildMs] = await time(() =>
    rebuildAnalytics(database.pool, pipeline.source.id, incidentAnalytics),
  );
  report('full rebuild (cpd analytics rebuild)', rebuildMs / 1000, 's');

  await database.pool.query('create schema old');
  for (const statement of oldViews) await database.pool.query(statement);
  const refreshOld = async () => {
    for (const view of oldViewNames)
      await database.pool.query(`refresh materialized view concurrently ${view}`);
  };

  // 100 rows changed at the source: another type and location, a later stamp.
  const changed = await stageRun(async (client, clean) => {
    await client.query(
      `insert into ${clean} (row_number, id, ${content}, source_updated_local)
       select row_number() over (), id, ${target.contentColumns
         .map((column) =>
           column === 'type'
             ? `case when type = 'ARREST' then 'INCIDENT' else 'ARREST' end`
             : column === 'location'
               ? `'BENCH ST'`
               : column === 'source_updated_at'
                 ? `source_updated_at + interval '1 day'`
                 : `"${column}"`,
         )
         .join(
           ', ',
         )}, to_char((source_updated_at + interval '1 day') at time zone 'America/New_York', 'YYYY-MM-DD"T"HH24:MI:SS.MS')
         from incidents where id % ${Math.floor(incidents / 100)} = 7 limit 100`,
    );
  });
  const [changedLoad, changedMs] = await time(() => loadWindow(deps, { spec: changed, pipeline }));
  report(
    `load of 100 changed rows (${changedLoad.counts.updated} updated), delta included`,
    changedMs,
    'ms',
  );
  const [, refreshMs] = await time(refreshOld);
  report('old: refresh of every materialised view after it', refreshMs / 1000, 's');
  const same = await stageRun(async (client, clean) => {
    await client.query(
      `insert into ${clean} (row_number, id, ${content}, source_updated_local)
       select row_number() over (), id, ${content}, ${stampText} from incidents where location = 'BENCH ST'`,
    );
  });
  const [, sameMs] = await time(() => loadWindow(deps, { spec: same, pipeline }));
  report('load of the same 100 rows again (nothing changed)', sameMs, 'ms');
  await database.pool.query('drop schema old cascade');

  // A first load of the whole table, into an empty one.
  const first = await stageRun(async (client, clean) => {
    await client.query(
      `insert into ${clean} (row_number, id, ${content}, source_updated_local)
       select row_number() over (order by id), id, ${content}, ${stampText} from incidents`,
    );
  });
  await database.pool.query('truncate incidents');
  await rebuildAnalytics(database.pool, pipeline.source.id, incidentAnalytics);
  await database.pool.query('vacuum analyze incidents');
  const clean = stagingTable('clean', first.runId, 0);
  const bare = buildLoadSql(target, clean);
  const [, bareMs] = await time(async () => {
    const client = await database.pool.connect();
    try {
      await client.query('begin');
      await client.query(`set local work_mem = '1GB'`);
      await client.query(`set local random_page_cost = 1.1`);
      await client.query(bare.update, [first.runId]);
      await client.query(bare.insert, [first.runId]);
      await client.query('rollback');
    } finally {
      client.release();
    }
  });
  await database.pool.query('vacuum incidents');
  report('1M first load: update + insert, no analytics', bareMs / 1000, 's');
  const [firstLoad, firstMs] = await time(() => loadWindow(deps, { spec: first, pipeline }));
  report(
    `1M first load: loadWindow with the delta (${firstLoad.counts.inserted?.toLocaleString('en-US')} rows)`,
    firstMs / 1000,
    's',
  );
  report('  added by the delta', (firstMs - bareMs) / 1000, 's');
  const { rows } = await database.pool.query<{ counted: number }>(
    'select incidents::int as counted from analytics.freshness',
  );
  report('  incidents counted by the analytics', rows[0]!.counted, 'rows');
} finally {
  await database.drop();
}
