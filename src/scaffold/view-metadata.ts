import { z } from 'zod';
import { UserError } from '../errors.js';
import type { SodaFieldType } from '../source/dataset.js';

/**
 * Socrata's metadata document (`GET /api/views/<id>.json`), the part onboarding reads: the name
 * and the real columns (system fields are not listed). Extra keys are ignored, absent optional
 * ones are fine (shared/reference/crime-reports.md §8).
 */
export const viewDocument = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string().optional(),
  columns: z.array(
    z.object({
      fieldName: z.string(),
      name: z.string().optional(),
      dataTypeName: z.string(),
      position: z.number().optional(),
      description: z.string().optional(),
      flags: z.array(z.string()).optional(),
    }),
  ),
  metadata: z
    .object({ rowIdentifier: z.union([z.string(), z.number()]).optional() })
    .loose()
    .optional(),
});
export type ViewDocument = z.infer<typeof viewDocument>;

/**
 * The three vocabularies of type names (metadata `dataTypeName`, the `X-SODA2-Types` header and
 * the catalog's `columns_datatype`) → ours. Money, percent and stars are numbers; email, phone,
 * html and the like are text with a display format.
 */
const typeNames: Record<string, SodaFieldType> = {
  text: 'text',
  html: 'text',
  email: 'text',
  phone: 'text',
  flag: 'text',
  drop_down_list: 'text',
  number: 'number',
  money: 'number',
  percent: 'number',
  stars: 'number',
  double: 'number',
  calendar_date: 'calendar_date',
  'calendar date': 'calendar_date',
  floating_timestamp: 'calendar_date',
  date: 'fixed_timestamp',
  fixed_timestamp: 'fixed_timestamp',
  checkbox: 'checkbox',
  boolean: 'checkbox',
  point: 'point',
  location: 'location',
  url: 'url',
};

export function fieldTypeOf(dataTypeName: string): SodaFieldType | undefined {
  return typeNames[dataTypeName.trim().toLowerCase()];
}

/** Reads and checks a metadata document; a UserError saying what is wrong otherwise. */
export function parseViewDocument(input: unknown, datasetId: string): ViewDocument {
  const parsed = viewDocument.safeParse(input);
  if (!parsed.success) {
    throw new UserError(
      'scaffold.bad-metadata',
      `the metadata of ${datasetId} (/api/views/${datasetId}.json) is not a Socrata view document: ${parsed.error.issues
        .slice(0, 3)
        .map((issue) => `${issue.path.join('.') || 'document'}: ${issue.message}`)
        .join('; ')}; check the dataset id and SOCRATA_BASE_URL`,
    );
  }
  return parsed.data;
}
