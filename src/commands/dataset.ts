import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import type { Config } from '../config.js';
import { UserError } from '../errors.js';
import { planScaffold, type ScaffoldPlan } from '../scaffold/generate.js';
import { parseViewDocument, type ViewDocument } from '../scaffold/view-metadata.js';
import { datasets } from '../source/datasets/index.js';
import { runCommand } from './run-command.js';

interface ScaffoldFlags {
  name: string;
  key?: string;
  cursor?: string;
  window?: string;
  root?: string;
}

export function registerDatasetCommand(program: Command): void {
  const dataset = program.command('dataset').description('Add datasets to this deployment');
  dataset
    .command('scaffold')
    .description(
      "Write a dataset's starting files (source definition, Drizzle table, mapping, registration) from its Socrata metadata at SOCRATA_BASE_URL/api/views/<id>.json; then run npm run db:generate and review them",
    )
    .argument('<socrata-id>', 'the dataset id, e.g. xuad-73uj')
    .requiredOption('--name <name>', 'kebab-case short name, e.g. building-permits')
    .option(
      '--key <field>',
      'the field that identifies a row (default: the row identifier, or :id)',
    )
    .option('--cursor <field>', 'the update stamp incremental syncs follow', ':updated_at')
    .option('--window <field>', 'the timestamp backfills cut on (default: the first timestamp)')
    .option('--root <dir>', 'the project to write into (default: the working directory)')
    .action(
      runCommand('dataset scaffold', async (config, id: string, flags: ScaffoldFlags) => {
        if (!/^[a-z0-9]{4}-[a-z0-9]{4}$/.test(id))
          throw new UserError(
            'scaffold.bad-id',
            `${JSON.stringify(id)} is not a Socrata id like xuad-73uj`,
          );
        const known = Object.values(datasets).find(
          (definition) => definition.id === id || definition.shortName === flags.name,
        );
        if (known)
          throw new UserError(
            'scaffold.exists',
            `this deployment already has ${known.shortName} (${known.id}); choose another id or --name`,
          );
        const view = await fetchView(config, id);
        const plan = planScaffold(view, {
          datasetId: id,
          name: flags.name,
          ...(flags.key !== undefined && { key: flags.key }),
          ...(flags.cursor !== undefined && { cursor: flags.cursor }),
          ...(flags.window !== undefined && { window: flags.window }),
        });
        const root = resolve(flags.root ?? process.cwd());
        await applyPlan(root, plan);
        process.stdout.write(
          [
            `Scaffolded ${flags.name} (${id}, "${view.name}"):`,
            ...plan.summary.map((line) => `  ${line}`),
            ...plan.files.map((file) => `  wrote ${file.path}`),
            'Next: review the files, then npm run db:generate (writes the migration), then',
            `  npx cpd sync --dataset ${flags.name}`,
            '',
          ].join('\n'),
        );
      }),
    );
}

async function fetchView(config: Config, id: string): Promise<ViewDocument> {
  const url = `${config.SOCRATA_BASE_URL.replace(/\/+$/, '')}/api/views/${id}.json`;
  let response: Response;
  try {
    response = await fetch(url, {
      headers: {
        accept: 'application/json',
        ...(config.SOCRATA_APP_TOKEN && { 'x-app-token': config.SOCRATA_APP_TOKEN }),
      },
      signal: AbortSignal.timeout(config.SOCRATA_TIMEOUT_MS),
    });
  } catch (error) {
    throw new UserError(
      'scaffold.unreachable',
      `cannot reach ${url} (${error instanceof Error ? error.message : String(error)}); check SOCRATA_BASE_URL`,
    );
  }
  if (!response.ok) {
    throw new UserError(
      'scaffold.no-metadata',
      `${url} answered HTTP ${response.status}; check the dataset id and SOCRATA_BASE_URL`,
    );
  }
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    throw new UserError('scaffold.bad-metadata', `${url} did not answer JSON`);
  }
  return parseViewDocument(body, id);
}

/** Writes the files (never over existing ones) and inserts each registration before its marker. */
async function applyPlan(root: string, plan: ScaffoldPlan): Promise<void> {
  for (const file of plan.files) {
    if (existsSync(resolve(root, file.path)))
      throw new UserError(
        'scaffold.file-exists',
        `${file.path} exists already; remove it or choose another --name`,
      );
  }
  const edits = new Map<string, string>();
  for (const registration of plan.registrations) {
    const path = resolve(root, registration.path);
    const text = edits.get(path) ?? (await readFile(path, 'utf8'));
    if (!text.includes(registration.marker))
      throw new UserError(
        'scaffold.no-marker',
        `${registration.path} has no "${registration.marker}" line to register the dataset at; add it back, or register by hand`,
      );
    if (text.includes(registration.line)) continue;
    edits.set(
      path,
      text.replace(
        registration.marker,
        `${registration.line.trimStart()}\n${indentOf(text, registration.marker)}${registration.marker}`,
      ),
    );
  }
  for (const file of plan.files) {
    const path = resolve(root, file.path);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, await format(file.content, path));
  }
  for (const [path, text] of edits) await writeFile(path, text);
}

function indentOf(text: string, marker: string): string {
  const at = text.indexOf(marker);
  const lineStart = text.lastIndexOf('\n', at) + 1;
  return text.slice(lineStart, at);
}

/** Prettier's formatting when it is installed (a checkout); the text as generated otherwise. */
async function format(text: string, path: string): Promise<string> {
  try {
    const prettier = await import('prettier');
    const options = (await prettier.resolveConfig(path)) ?? {};
    return await prettier.format(text, { ...options, filepath: path });
  } catch {
    return text;
  }
}
