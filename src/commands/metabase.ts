import type { Command } from 'commander';
import type { Config } from '../config.js';
import { UserError } from '../errors.js';
import { createLogger } from '../logger.js';
import { MetabaseClient } from '../metabase/client.js';
import { buildDatabaseSpec } from '../metabase/plan.js';
import { provisionMetabase, type ProvisionReport } from '../metabase/provision.js';
import { metabaseSpec } from '../metabase/spec.js';
import { runCommand } from './run-command.js';

export function registerMetabaseCommand(program: Command): void {
  const metabase = program
    .command('metabase')
    .description(
      'Metabase: the CPD Incident Trends and Cambridge Crime Reports dashboards, set up with no clicks',
    );
  metabase
    .command('provision')
    .description(
      'Set Metabase up (first-run setup or login), add our database, and create or update the collection, cards and dashboards; safe to repeat',
    )
    .action(
      runCommand('metabase provision', async (config) => {
        const settings = readSettings(config);
        const log = createLogger(config.LOG_LEVEL, { command: 'metabase provision' });
        const client = new MetabaseClient({
          baseUrl: settings.url,
          waitMs: config.METABASE_WAIT_SECONDS * 1_000,
          onRetry: (reason, attempt) =>
            log.info({ reason, attempt }, `waiting for Metabase at ${settings.url}`),
        });
        const report = await provisionMetabase({
          client,
          spec: metabaseSpec,
          database: buildDatabaseSpec(settings.databaseUrl, metabaseSpec.databaseName),
          admin: {
            email: settings.email,
            password: settings.password,
            siteName: config.METABASE_SITE_NAME,
          },
          syncWaitMs: config.METABASE_WAIT_SECONDS * 1_000,
        });
        process.stdout.write(formatReport(report, settings.email, settings.publicUrl));
      }),
    );
}

function readSettings(config: Config) {
  const missing = [
    config.METABASE_URL ? undefined : 'METABASE_URL (e.g. http://localhost:3001)',
    config.METABASE_ADMIN_EMAIL ? undefined : 'METABASE_ADMIN_EMAIL',
    config.METABASE_ADMIN_PASSWORD ? undefined : 'METABASE_ADMIN_PASSWORD',
  ].filter((name) => name !== undefined);
  if (missing.length > 0 || !config.METABASE_URL)
    throw new UserError(
      'metabase.unconfigured',
      `set ${missing.join(', ')} to provision Metabase (on a fresh Metabase they become its admin account), then run cpd metabase provision again`,
    );
  const databaseUrl = config.METABASE_DATABASE_URL ?? config.DATABASE_URL;
  if (!databaseUrl)
    throw new UserError(
      'metabase.unconfigured',
      'set METABASE_DATABASE_URL (or DATABASE_URL) to the PostgreSQL that Metabase should read; the embedded PostgreSQL is not reachable by Metabase',
    );
  return {
    url: config.METABASE_URL,
    publicUrl: (config.METABASE_PUBLIC_URL ?? config.METABASE_URL).replace(/\/+$/, ''),
    email: config.METABASE_ADMIN_EMAIL ?? '',
    password: config.METABASE_ADMIN_PASSWORD ?? '',
    databaseUrl,
  };
}

export function formatReport(report: ProvisionReport, email: string, publicUrl: string): string {
  const lines = [
    report.session === 'setup'
      ? `Metabase was fresh: set it up with admin ${email}.`
      : `Logged in to Metabase as ${email}.`,
  ];
  for (const object of report.objects)
    lines.push(
      `${object.outcome.padEnd(9)} ${object.kind.padEnd(10)} ${JSON.stringify(object.name)} (id ${object.id})`,
    );
  const count = (outcome: string) =>
    report.objects.filter((object) => object.outcome === outcome).length;
  lines.push(
    `${count('created')} created, ${count('updated')} updated, ${count('unchanged')} unchanged.`,
    ...report.dashboards.map(
      (dashboard) => `Dashboard: ${publicUrl}/dashboard/${dashboard.id} (${dashboard.name})`,
    ),
  );
  return `${lines.join('\n')}\n`;
}
