import { integer, text, type PgColumnBuilderBase } from 'drizzle-orm/pg-core';
import { staging } from './staging.js';

/**
 * A scaffolded dataset's staging templates: the raw table (`row_number`, one text column per
 * source field, `extra_fields`, `raw_json`) and the clean one (the target's columns and the
 * cursor's stamp as text). Interim, like staging.ts: the generic staging that derives from the
 * target table makes both unnecessary, and then this one function goes.
 */
export function stagingTemplatesFor<Columns extends Record<string, PgColumnBuilderBase>>(
  name: string,
  sourceFields: readonly string[],
  targetColumns: Columns,
) {
  const raw = staging.table(`raw_${name}`, {
    row_number: integer('row_number').notNull(),
    ...Object.fromEntries(sourceFields.map((field) => [field, text(field)])),
    extra_fields: text('extra_fields'),
    raw_json: text('raw_json'),
  });
  const clean = staging.table(`clean_${name}`, {
    row_number: integer('row_number').notNull(),
    ...targetColumns,
    source_updated_stamp: text('source_updated_stamp').notNull(),
  });
  return { raw, clean };
}
