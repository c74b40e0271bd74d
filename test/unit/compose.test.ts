import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parse as parseConnectionString } from 'pg-connection-string';
import { envSchema, parseConfig } from '../../src/config.js';
import { buildDatabaseSpec } from '../../src/metabase/plan.js';
import { projectRoot } from '../support/cli.js';

/**
 * Docker is not available on these machines, so compose.yaml and the Dockerfile are kept right by
 * reading them: the file parses, every service the README names exists, the app services set only
 * variables the app reads and every one it needs, and the stack's wiring holds.
 */

interface Service {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  environment?: Record<string, unknown>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: unknown };
  ports?: string[];
  container_name?: string;
  volumes?: string[];
  restart?: string;
}

const read = (file: string) => readFileSync(join(projectRoot, file), 'utf8');
// Compose reads YAML merge keys (`<<: *app`), a YAML 1.1 feature the parser must be told about.
const compose = parse(read('compose.yaml'), { merge: true }) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
};
const services = compose.services;
const appServices = Object.entries(services).filter(([, service]) => service.build !== undefined);
const configKeys = new Set(Object.keys(envSchema.shape));

function readmeServices(): string[] {
  const readme = read('README.md');
  const section = /^## Full stack \(compose\)\n([\s\S]*?)(?=^## |(?![\s\S]))/m.exec(readme)?.[1];
  if (!section) throw new Error('README.md has no "## Full stack (compose)" section');
  return [...section.matchAll(/^\| `([a-z-]+)` +\|/gm)].map((match) => match[1]!);
}

describe('compose.yaml', () => {
  it('names in the README exactly the services it defines', () => {
    const named = readmeServices();
    expect(named.length).toBeGreaterThan(0);
    expect(named.sort()).toEqual(Object.keys(services).sort());
  });

  it('has the services the stack needs', () => {
    for (const name of [
      'postgres',
      'redis',
      'metabase',
      'metabase-db',
      'migrate',
      'server',
      'worker',
      'provision',
    ])
      expect(services, name).toHaveProperty(name);
    expect(appServices.map(([name]) => name).sort()).toEqual([
      'migrate',
      'provision',
      'server',
      'worker',
    ]);
  });

  it('sets in app services only variables the app reads', () => {
    for (const [name, service] of appServices)
      for (const key of Object.keys(service.environment ?? {}))
        expect(configKeys.has(key), `${name} sets ${key}, which src/config.ts does not read`).toBe(
          true,
        );
  });

  it('gives each app service the variables it needs', () => {
    const env = (name: string) => Object.keys(services[name]?.environment ?? {});
    expect(env('migrate')).toContain('DATABASE_URL');
    expect(env('server')).toEqual(
      expect.arrayContaining(['DATABASE_URL', 'REDIS_URL', 'ADMIN_TOKEN', 'HOST', 'PORT']),
    );
    expect(env('worker')).toEqual(expect.arrayContaining(['DATABASE_URL', 'REDIS_URL']));
    expect(env('provision')).toEqual(
      expect.arrayContaining([
        'METABASE_URL',
        'METABASE_ADMIN_EMAIL',
        'METABASE_ADMIN_PASSWORD',
        'METABASE_DATABASE_URL',
      ]),
    );
    // Inside the network, services are reached by name, never at 127.0.0.1.
    for (const [name, service] of appServices)
      for (const [key, value] of Object.entries(service.environment ?? {}))
        expect(String(value), `${name} ${key}`).not.toMatch(/127\.0\.0\.1|localhost:(5432|6379)/);
  });

  it('runs the cpd commands DESIGN.md names', () => {
    expect(services.migrate?.command).toEqual(['migrate']);
    expect(services.server?.command).toEqual(['server']);
    expect(services.worker?.command).toEqual(['worker']);
    expect(services.provision?.command).toEqual(['metabase', 'provision']);
  });

  it('lets workers scale: no fixed container name, no host port', () => {
    expect(services.worker?.container_name).toBeUndefined();
    expect(services.worker?.ports).toBeUndefined();
  });

  it('keeps Redis append-only and never evicting', () => {
    const command = ([] as string[]).concat(services.redis?.command ?? []).join(' ');
    expect(command).toMatch(/--appendonly yes/);
    expect(command).toMatch(/--maxmemory-policy noeviction/);
  });

  it('starts things in order: health checks and one-shot steps that must succeed', () => {
    const condition = (service: string, on: string) =>
      services[service]?.depends_on?.[on]?.condition;
    for (const name of ['postgres', 'redis', 'metabase-db', 'metabase', 'server'])
      expect(services[name]?.healthcheck, name).toBeDefined();
    expect(condition('migrate', 'postgres')).toBe('service_healthy');
    for (const name of ['server', 'worker']) {
      expect(condition(name, 'postgres')).toBe('service_healthy');
      expect(condition(name, 'redis')).toBe('service_healthy');
      expect(condition(name, 'migrate')).toBe('service_completed_successfully');
    }
    expect(condition('metabase', 'metabase-db')).toBe('service_healthy');
    expect(condition('provision', 'metabase')).toBe('service_healthy');
    expect(condition('provision', 'migrate')).toBe('service_completed_successfully');
    expect(services.migrate?.restart).toBe('no');
    expect(services.provision?.restart).toBe('no');
  });

  it('keeps data in named volumes, Metabase in a database of its own', () => {
    for (const [name, mount] of [
      ['postgres', '/var/lib/postgresql/data'],
      ['metabase-db', '/var/lib/postgresql/data'],
      ['redis', '/data'],
    ] as const) {
      const volume = services[name]?.volumes?.find((v) => v.endsWith(`:${mount}`))?.split(':')[0];
      expect(volume, name).toBeDefined();
      expect(compose.volumes).toHaveProperty(volume!);
    }
    expect(services.metabase?.environment).toMatchObject({
      MB_DB_TYPE: 'postgres',
      MB_DB_HOST: 'metabase-db',
    });
  });

  it('takes secrets from .env, and .env.example lists each with every variable the app reads', () => {
    const example = read('.env.example');
    const listed = new Set([...example.matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]));
    const interpolated = new Set(
      [...read('compose.yaml').matchAll(/\$\{([A-Z][A-Z0-9_]*)/g)].map((m) => m[1]),
    );
    for (const name of [...interpolated, ...configKeys])
      expect(listed.has(name), `.env.example lacks ${name}`).toBe(true);
    // Each variable has a comment above it (or shares one with the lines right above).
    const lines = example.split('\n');
    lines.forEach((line, index) => {
      if (/^[A-Z]/.test(line)) {
        let above = index - 1;
        while (above >= 0 && /^[A-Z]/.test(lines[above]!)) above -= 1;
        expect(lines[above], `${line} has no comment`).toMatch(/^#/);
      }
    });
    for (const secret of ['POSTGRES_PASSWORD', 'METABASE_DB_PASSWORD', 'ADMIN_TOKEN'])
      expect(interpolated.has(secret)).toBe(true);
  });
});

/** Compose's interpolation of `${NAME}`, `${NAME:-default}` and `${NAME:?error}`, from `env`. */
function interpolate(value: unknown, env: Record<string, string>): string {
  return String(value).replace(
    /\$\{([A-Z][A-Z0-9_]*)(?::([-?])([^}]*))?\}/g,
    (_, name: string, kind?: string, rest?: string) => {
      const found = env[name];
      if (found !== undefined && found !== '') return found;
      if (kind === '?') throw new Error(`compose would stop: ${rest ?? name}`);
      return kind === '-' ? (rest ?? '') : '';
    },
  );
}

describe('compose.yaml with secrets that are not URL-safe', () => {
  const password = 'p@ss/w#rd:1%';
  const env = {
    POSTGRES_PASSWORD: password,
    METABASE_DB_PASSWORD: 'mb@db/#1',
    METABASE_ENCRYPTION_SECRET_KEY: 'k'.repeat(32),
    ADMIN_TOKEN: 't'.repeat(24),
    METABASE_ADMIN_EMAIL: 'admin@example.org',
    METABASE_ADMIN_PASSWORD: 'Admin-password-2024',
  };
  const environmentOf = (name: string) =>
    Object.fromEntries(
      Object.entries(services[name]?.environment ?? {}).map(([key, value]) => [
        key,
        interpolate(value, env),
      ]),
    );

  it('never puts a password into a URL', () => {
    for (const [name, service] of Object.entries(services))
      for (const [key, value] of Object.entries(service.environment ?? {}))
        expect(String(value), `${name} ${key}`).not.toMatch(/:\/\/[^\s]*\$\{/);
  });

  it('hands the app and provisioning a password with @ / # : % as it is', () => {
    for (const name of ['migrate', 'server', 'worker']) {
      const config = parseConfig(environmentOf(name));
      expect(parseConnectionString(config.DATABASE_URL!), name).toMatchObject({
        user: 'cpd',
        password,
        host: 'postgres',
        database: 'cpd',
      });
    }
    const provision = parseConfig(environmentOf('provision'));
    expect(buildDatabaseSpec(provision.METABASE_DATABASE_URL!, 'x').details).toMatchObject({
      host: 'postgres',
      user: 'cpd',
      password,
      dbname: 'cpd',
    });
    expect(environmentOf('metabase').MB_DB_PASS).toBe(env.METABASE_DB_PASSWORD);
  });

  it('has Metabase encrypt what it stores, with a key from .env that compose requires', () => {
    const key = services.metabase?.environment?.MB_ENCRYPTION_SECRET_KEY;
    expect(String(key)).toMatch(/^\$\{METABASE_ENCRYPTION_SECRET_KEY:\?/);
    expect(environmentOf('metabase').MB_ENCRYPTION_SECRET_KEY).toBe(
      env.METABASE_ENCRYPTION_SECRET_KEY,
    );
    expect(() => interpolate(key, { ...env, METABASE_ENCRYPTION_SECRET_KEY: '' })).toThrow(
      /set METABASE_ENCRYPTION_SECRET_KEY in \.env/,
    );
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  const stages = dockerfile.split(/^FROM /m).slice(1);

  it('builds in one stage and runs from another, without dev dependencies, as a non-root user', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const [build, runtime] = [stages[0]!, stages.at(-1)!];
    expect(build).toMatch(/npm ci\b/);
    expect(build).toMatch(/npm run build/);
    expect(runtime).toMatch(/npm ci [^\n]*--omit=dev/);
    expect(runtime).toMatch(/COPY --from=build \/app\/dist/);
    expect(runtime).toMatch(/COPY drizzle /);
    expect(runtime).toMatch(/COPY bin /);
    expect(runtime).toMatch(/CPD_USE_DIST=1/);
    const user = /^USER (\S+)/m.exec(runtime)?.[1];
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^(root|0)$/);
    expect(runtime).toMatch(/ENTRYPOINT \["node", "--max-old-space-size=\d+", "bin\/cpd\.js"\]/);
  });

  it('keeps secrets and local state out of the build context', () => {
    const ignored = read('.dockerignore').split('\n');
    for (const entry of ['.env', 'node_modules', '.cpd', '.git']) expect(ignored).toContain(entry);
  });
});
