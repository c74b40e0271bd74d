import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  parseConfig,
  reconcileCronOf,
  redactUrl,
  syncCronOf,
} from '../../src/config.js';
import { buildDatabaseSpec } from '../../src/metabase/plan.js';

function problemsOf(env: Record<string, string>): string[] {
  try {
    parseConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('parseConfig', () => {
  it('works with nothing set, using documented defaults', () => {
    const config = parseConfig({}, '/srv/app');
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.REDIS_URL).toBe('redis://127.0.0.1:6379');
    expect(config.SOCRATA_BASE_URL).toBe('https://data.cambridgema.gov');
    expect(config.SOCRATA_DATASET).toBe('3gki-wyrb');
    expect(config.QUEUE_PREFIX).toBe('{cpd}');
    expect(config.PORT).toBe(3000);
    expect(config.REJECT_THRESHOLD).toBe(0.05);
    expect(config.BULL_BOARD_READONLY).toBe(false);
    expect(config.dataDir).toBe('/srv/app/.cpd');
  });

  it('parses numbers and flags', () => {
    const config = parseConfig({
      PORT: '8080',
      BULL_BOARD_READONLY: 'true',
      REJECT_THRESHOLD: '0.2',
    });
    expect(config.PORT).toBe(8080);
    expect(config.BULL_BOARD_READONLY).toBe(true);
    expect(config.REJECT_THRESHOLD).toBe(0.2);
  });

  it('treats empty values as unset', () => {
    expect(parseConfig({ ADMIN_TOKEN: '', PORT: ' ' }).ADMIN_TOKEN).toBeUndefined();
  });

  it('reports one line per bad variable, naming it and what is expected', () => {
    const problems = problemsOf({
      REDIS_URL: 'localhost:6379',
      PORT: '99999',
      DATABASE_URL: 'mysql://x@y/z',
      SOCRATA_DATASET: 'police log',
    });
    expect(problems).toHaveLength(4);
    expect(problems.find((line) => line.startsWith('REDIS_URL:'))).toMatch(/redis:\/\//);
    expect(problems.find((line) => line.startsWith('PORT:'))).toMatch(/1 to 65535.*99999/);
    expect(problems.find((line) => line.startsWith('DATABASE_URL:'))).toMatch(/postgres/);
    expect(problems.find((line) => line.startsWith('SOCRATA_DATASET:'))).toMatch(/3gki-wyrb/);
  });

  it('never echoes a secret or a password in its messages', () => {
    const problems = problemsOf({
      ADMIN_TOKEN: 'short-secret',
      DATABASE_URL: 'mysql://user:hunter2@db/x',
    });
    const text = problems.join('\n');
    expect(text).toContain('ADMIN_TOKEN');
    expect(text).not.toContain('short-secret');
    expect(text).not.toContain('hunter2');
  });
});

describe('schedules', () => {
  it('reconciles weekly by default, and each dataset may have its own schedule or none', () => {
    const defaults = parseConfig({});
    expect(defaults.RECONCILE_CRON).toBe('0 4 * * 0');
    expect(reconcileCronOf(defaults, 'police-log')).toBe('0 4 * * 0');
    const config = parseConfig({
      RECONCILE_CRON: '30 3 * * 1',
      RECONCILE_CRON_CRIME_REPORTS: 'off',
      SYNC_CRON_CRIME_REPORTS: '5 6 * * *',
    });
    expect(reconcileCronOf(config, 'police-log')).toBe('30 3 * * 1');
    expect(reconcileCronOf(config, 'crime-reports')).toBe('off');
    // The two kinds of override stay apart.
    expect(syncCronOf(config, 'crime-reports')).toBe('5 6 * * *');
    expect(reconcileCronOf(parseConfig({ RECONCILE_CRON: 'off' }), 'police-log')).toBe('off');
  });

  it('refuses a schedule that is not a cron expression, naming the variable', () => {
    expect(problemsOf({ RECONCILE_CRON: 'weekly' })).toEqual([
      'RECONCILE_CRON: expected a cron expression of 5 or 6 fields, e.g. "0 4 * * 0", or off (got "weekly")',
    ]);
    expect(problemsOf({ RECONCILE_CRON_POLICE_LOG: 'sometimes' })[0]).toMatch(
      /^RECONCILE_CRON_POLICE_LOG: expected a cron expression/,
    );
  });
});

describe('database passwords apart from their URLs', () => {
  it('go into the URL encoded, so @ / # : and % in them stay the password', async () => {
    const { parse } = await import('pg-connection-string');
    const password = 'p@ss/w#rd:50%?';
    const config = parseConfig({
      DATABASE_URL: 'postgres://cpd@postgres:5432/cpd',
      DATABASE_PASSWORD: password,
      METABASE_DATABASE_URL: 'postgres://cpd:old@db.example:5433/cpd',
      METABASE_DATABASE_PASSWORD: password,
    });
    // As node-postgres reads it, and as provisioning hands it to Metabase.
    expect(parse(config.DATABASE_URL!)).toMatchObject({
      user: 'cpd',
      password,
      host: 'postgres',
      port: '5432',
      database: 'cpd',
    });
    expect(buildDatabaseSpec(config.METABASE_DATABASE_URL!, 'x').details).toMatchObject({
      host: 'db.example',
      port: 5433,
      user: 'cpd',
      password,
      dbname: 'cpd',
    });
  });

  it('leave the URLs alone when unset', () => {
    const url = 'postgres://cpd:plain@postgres:5432/cpd';
    expect(parseConfig({ DATABASE_URL: url }).DATABASE_URL).toBe(url);
  });
});

describe('redactUrl', () => {
  it('hides the password and keeps the rest', () => {
    expect(redactUrl('postgres://app:s3cret@db:5432/cpd')).toBe('postgres://app:***@db:5432/cpd');
    expect(redactUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
  });
});
