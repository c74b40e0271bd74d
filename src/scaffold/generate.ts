import { UserError } from '../errors.js';
import type { SodaFieldType, SourceField } from '../source/dataset.js';
import { fieldTypeOf, type ViewDocument } from './view-metadata.js';

/**
 * `cpd dataset scaffold`, the pure part: a Socrata metadata document and the user's choices →
 * the starting files of a dataset (source definition, Drizzle table, mapping) and the lines that
 * register it. Every column is typed from the metadata; the mapping copies each field into its
 * column as its type needs, and is the user's to refine.
 */

export interface ScaffoldOptions {
  datasetId: string;
  /** Kebab-case short name, e.g. `building-permits`: file names, the table (`building_permits`). */
  name: string;
  key?: string;
  cursor?: string;
  window?: string;
}

export interface ScaffoldPlan {
  files: Array<{ path: string; content: string }>;
  /** Lines to insert before a marker comment in an existing file. */
  registrations: Array<{ path: string; marker: string; line: string }>;
  summary: string[];
}

const identifier = /^[a-z_][a-z0-9_]*$/;
const kebab = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;

/** System fields the definition may list, with their types and the columns they land in. */
const systemFields: Record<string, { type: SodaFieldType; column: string }> = {
  ':id': { type: 'text', column: 'source_row_id' },
  ':created_at': { type: 'fixed_timestamp', column: 'source_created_at' },
  ':updated_at': { type: 'fixed_timestamp', column: 'source_updated_at' },
};

const columnOf = (field: string) => systemFields[field]?.column ?? field;
const camel = (text: string) =>
  text.replace(/[-_:]+([a-z0-9])/g, (_, char: string) => char.toUpperCase()).replace(/^:/, '');
const pascal = (text: string) => camel(text).replace(/^./, (char) => char.toUpperCase());

interface PlannedField extends SourceField {
  column: string;
}

function planFields(view: ViewDocument, options: ScaffoldOptions) {
  const skipped: string[] = [];
  const columns = [...view.columns]
    .filter((column) => !(column.flags ?? []).includes('hidden'))
    .sort((a, b) => (a.position ?? 0) - (b.position ?? 0));
  const fields: PlannedField[] = [];
  for (const column of columns) {
    const type = fieldTypeOf(column.dataTypeName);
    if (!identifier.test(column.fieldName) || type === undefined) {
      skipped.push(`${column.fieldName} (${column.dataTypeName})`);
      continue;
    }
    fields.push({ name: column.fieldName, type, required: false, column: column.fieldName });
  }
  const rowIdentifier = view.metadata?.rowIdentifier;
  const identified =
    typeof rowIdentifier === 'string' && fields.some((field) => field.name === rowIdentifier)
      ? rowIdentifier
      : undefined;
  const key = options.key ?? identified ?? ':id';
  const cursor = options.cursor ?? ':updated_at';
  const firstTimestamp = fields.find(
    (field) => field.type === 'calendar_date' || field.type === 'fixed_timestamp',
  );
  const window = options.window ?? firstTimestamp?.name ?? ':created_at';
  const system = [':id', cursor, window, key].filter(
    (name, index, all) => name in systemFields && all.indexOf(name) === index,
  );
  const all: PlannedField[] = [
    ...system.map((name) => ({
      name,
      type: systemFields[name]!.type,
      required: false,
      column: systemFields[name]!.column,
    })),
    ...fields,
  ];
  for (const [flag, name] of [
    ['--key', key],
    ['--cursor', cursor],
    ['--window', window],
  ] as const) {
    if (!all.some((field) => field.name === name)) {
      throw new UserError(
        'scaffold.unknown-field',
        `${flag} ${name}: the dataset has no such field; its fields: ${all.map((field) => field.name).join(', ')}`,
      );
    }
  }
  const typeOf = (name: string) => all.find((field) => field.name === name)!.type;
  if (!['fixed_timestamp', 'calendar_date', 'number', 'text'].includes(typeOf(cursor))) {
    throw new UserError(
      'scaffold.bad-cursor',
      `--cursor ${cursor} is a ${typeOf(cursor)}; the cursor must be a timestamp or a number (default :updated_at)`,
    );
  }
  if (!['fixed_timestamp', 'calendar_date'].includes(typeOf(window))) {
    throw new UserError(
      'scaffold.bad-window',
      `--window ${window} is a ${typeOf(window)}; backfill windows cut on a timestamp field`,
    );
  }
  for (const field of all) if (field.name === key || field.name === cursor) field.required = true;
  return { fields: all, key, cursor, window, skipped };
}

/** The Drizzle column of a field. */
function drizzleColumn(field: PlannedField, primary: boolean): string {
  const name = `'${field.column}'`;
  const base =
    primary || field.type === 'text'
      ? `text(${name})`
      : field.type === 'number'
        ? `numeric(${name})`
        : field.type === 'calendar_date' || field.type === 'floating_timestamp'
          ? `timestamp(${name}, { mode: 'string' })`
          : field.type === 'fixed_timestamp'
            ? `timestamp(${name}, { withTimezone: true, mode: 'string' })`
            : field.type === 'checkbox'
              ? `boolean(${name})`
              : `jsonb(${name})`;
  return `${base}${primary ? '.primaryKey()' : field.required ? '.notNull()' : ''}`;
}

/** The transform's expression for a field's value. */
function valueExpression(field: PlannedField): string {
  const value = `row[${JSON.stringify(field.name)}]`;
  switch (field.type) {
    case 'calendar_date':
    case 'floating_timestamp':
      return field.required ? `normalizeStamp(${value})` : `nullable(${value}, normalizeStamp)`;
    case 'fixed_timestamp':
      return field.required
        ? `normalizeFixedStamp(${value})`
        : `nullable(${value}, normalizeFixedStamp)`;
    case 'checkbox':
      return `nullable(${value}, String)`;
    case 'point':
    case 'location':
    case 'url':
      return `nullable(${value}, (item) => JSON.stringify(item))`;
    default:
      return field.required ? value : `${value} ?? null`;
  }
}

export function planScaffold(view: ViewDocument, options: ScaffoldOptions): ScaffoldPlan {
  if (!kebab.test(options.name)) {
    throw new UserError(
      'scaffold.bad-name',
      `--name ${JSON.stringify(options.name)}: expected a kebab-case name like building-permits`,
    );
  }
  const { fields, key, cursor, window, skipped } = planFields(view, options);
  const table = options.name.replaceAll('-', '_');
  const constName = camel(options.name);
  const Pascal = pascal(options.name);
  const keyField = fields.find((field) => field.name === key)!;
  const cursorField = fields.find((field) => field.name === cursor)!;
  const content = fields.filter((field) => field.name !== key);

  const definition = `import type { DatasetDefinition } from '../dataset.js';

/**
 * ${view.name} (Socrata ${options.datasetId}), scaffolded from its metadata (/api/views/${options.datasetId}.json).
 * Review: which fields are required, the longest plausible text (maxLength), the key, the cursor.${
   skipped.length > 0
     ? `\n * Not listed (no type mapped; they arrive as extra fields): ${skipped.join(', ')}.`
     : ''
 }
 */
export const ${constName} = {
  id: ${JSON.stringify(options.datasetId)},
  shortName: ${JSON.stringify(options.name)},
  title: ${JSON.stringify(view.name)},
  fields: [
${fields
  .map(
    (field) =>
      `    { name: ${JSON.stringify(field.name)}, type: ${JSON.stringify(field.type)}, required: ${field.required} },`,
  )
  .join('\n')}
  ],
  naturalKey: ${JSON.stringify(key)},
  cursorField: ${JSON.stringify(cursor)},
  windowField: ${JSON.stringify(window)},
  timeZone: 'America/New_York',
} as const satisfies DatasetDefinition;
`;

  const schemaBody = `/** ${view.name} (Socrata ${options.datasetId}): one row per ${key}. Scaffolded; review the types. */
export const ${constName}ContentColumns = {
${content.map((field) => `  ${field.column}: ${drizzleColumn(field, false)},`).join('\n')}
};

export const ${constName}Table = pgTable(${JSON.stringify(table)}, {
  ${keyField.column}: ${drizzleColumn(keyField, true)},
  ...${constName}ContentColumns,
  first_seen_run_id: bigint('first_seen_run_id', { mode: 'number' }),
  last_changed_run_id: bigint('last_changed_run_id', { mode: 'number' }),
  loaded_at: timestamp('loaded_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
  deleted_at: timestamp('deleted_at', { withTimezone: true, mode: 'string' }),
  deleted_run_id: bigint('deleted_run_id', { mode: 'number' }),
});
`;
  const builders = ['bigint', 'boolean', 'jsonb', 'numeric', 'pgTable', 'text', 'timestamp'];
  const imports = builders.filter((name) => schemaBody.includes(`${name}(`));
  const schema = `import { ${imports.join(', ')} } from 'drizzle-orm/pg-core';\n\n${schemaBody}`;

  const columns = [keyField, ...content].map((field) => field.column);
  const stamp =
    cursorField.type === 'fixed_timestamp'
      ? `normalizeFixedStamp(row[${JSON.stringify(cursor)}])`
      : cursorField.type === 'calendar_date'
        ? `normalizeStamp(row[${JSON.stringify(cursor)}])`
        : `row[${JSON.stringify(cursor)}]`;
  const usesStamp = (name: string) =>
    fields.some((field) =>
      name === 'normalizeStamp' ? field.type === 'calendar_date' : field.type === 'fixed_timestamp',
    ) ||
    (name === 'normalizeStamp'
      ? cursorField.type === 'calendar_date'
      : cursorField.type === 'fixed_timestamp');
  const windowImports = ['normalizeFixedStamp', 'normalizeStamp'].filter(usesStamp);
  const mapping = `import { ${constName} } from '../../source/datasets/${options.name}.js';
import type { DatasetPipeline, TargetTable } from '../target.js';
import type { RowOf, ValidRow } from '../validate-row.js';
${windowImports.length > 0 ? `import { ${windowImports.join(', ')} } from '../windows.js';\n` : ''}
/** ${view.name} rows → \`${table}\` (src/db/schema/${options.name}.ts). Scaffolded: refine freely. */

const columns = [
${[...columns, 'source_updated_stamp'].map((column) => `  ${JSON.stringify(column)},`).join('\n')}
] as const;

/** A value or NULL, converted when present. */
function nullable<T>(value: T | null | undefined, convert: (value: T) => string): string | null {
  return value === null || value === undefined ? null : convert(value);
}

/** Pure: a validated row as a \`${table}\` row, in the order of \`columns\`. */
export function transform${Pascal}Row(input: ValidRow): Array<string | number | null> {
  const row = input as RowOf<typeof ${constName}>;
  return [
${[keyField, ...content].map((field) => `    ${field.name === key ? `row[${JSON.stringify(key)}]` : valueExpression(field)},`).join('\n')}
    ${stamp},
  ];
}

export const ${constName}Target: TargetTable = {
  table: ${JSON.stringify(table)},
  keyColumn: ${JSON.stringify(keyField.column)},
  windowColumn: ${JSON.stringify(columnOf(window))},
  columns,
  contentColumns: columns.filter(
    (column) => column !== ${JSON.stringify(keyField.column)} && column !== 'source_updated_stamp',
  ),
  cursorColumn: 'source_updated_stamp',
  versionColumn: ${JSON.stringify(cursorField.column)},
  transform: transform${Pascal}Row,
};

export const ${constName}Pipeline: DatasetPipeline = {
  source: ${constName},
  target: ${constName}Target,
};
`;

  return {
    files: [
      { path: `src/source/datasets/${options.name}.ts`, content: definition },
      { path: `src/db/schema/${options.name}.ts`, content: schema },
      { path: `src/pipeline/targets/${options.name}.ts`, content: mapping },
    ],
    registrations: [
      {
        path: 'src/source/datasets/index.ts',
        marker: '// cpd dataset scaffold: imports',
        line: `import { ${constName} } from './${options.name}.js';`,
      },
      {
        path: 'src/source/datasets/index.ts',
        marker: '// cpd dataset scaffold: definitions',
        line: `  [${constName}.id]: ${constName},`,
      },
      {
        path: 'src/pipeline/datasets.ts',
        marker: '// cpd dataset scaffold: imports',
        line: `import { ${constName}Pipeline } from './targets/${options.name}.js';`,
      },
      {
        path: 'src/pipeline/datasets.ts',
        marker: '// cpd dataset scaffold: pipelines',
        line: `  ${constName}Pipeline,`,
      },
      {
        path: 'src/db/schema/index.ts',
        marker: '// cpd dataset scaffold: tables',
        line: `export * from './${options.name}.js';`,
      },
    ],
    summary: [
      `${fields.length} fields (${fields.map((field) => `${field.name}: ${field.type}`).join(', ')})`,
      `key ${key}, cursor ${cursor}, window ${window}, table ${table}`,
      ...(skipped.length > 0 ? [`not mapped: ${skipped.join(', ')}`] : []),
    ],
  };
}
