/**
 * What the pipeline knows about a Socrata dataset, as data. Adding a dataset starts here: describe
 * its fields, its natural key, the field the incremental cursor follows, the field backfill windows
 * cut on, and the time zone its floating timestamps are in.
 */

/**
 * SODA's own type names, as listed in the X-SODA2-Types header (`calendar_date` is the metadata's
 * name for a floating timestamp). In SODA JSON, text, numbers and both timestamps are strings;
 * a checkbox is a JSON boolean; a point is a GeoJSON object, a location an object of strings
 * (`latitude`, `longitude`, `human_address`), a url an object (`url`, `description`).
 */
export type SodaFieldType =
  | 'text'
  | 'number'
  | 'floating_timestamp'
  | 'calendar_date'
  | 'fixed_timestamp'
  | 'checkbox'
  | 'point'
  | 'location'
  | 'url';

export interface SourceField {
  /** The SODA key; a system field (`:id`, `:updated_at`) when it starts with a colon. */
  name: string;
  type: SodaFieldType;
  /** A row without this field is rejected; a source that drops it altogether fails the run. */
  required: boolean;
  /** Longer values are rejected as implausible (a runaway field, a concatenation bug upstream). */
  maxLength?: number;
  /** `integer`: a text field that must hold only digits (the Police Log's `id`). */
  format?: 'integer';
}

export interface DatasetDefinition {
  /** Socrata 4x4 id, e.g. `3gki-wyrb`. */
  id: string;
  /** Kebab-case name commands and routes accept besides the id, e.g. `police-log`. */
  shortName: string;
  title: string;
  fields: readonly SourceField[];
  /** Field whose value identifies a row across versions. */
  naturalKey: string;
  /**
   * Field the incremental cursor follows: the source's per-row update stamp, or the system field
   * `:updated_at` for a dataset without one (then listed in `fields` as a `fixed_timestamp`).
   */
  cursorField: string;
  /** Field backfill windows are cut on. */
  windowField: string;
  /** IANA zone of the dataset's floating timestamps. */
  timeZone: string;
}

/** Field names the definition lists, in order. */
export function fieldNames(definition: DatasetDefinition): string[] {
  return definition.fields.map((field) => field.name);
}

export interface FieldDrift {
  /** Fields the source has and the definition does not: recorded on the run, not fatal. */
  added: string[];
  /** Fields the definition has and the source does not. */
  missing: string[];
  /** The missing fields the definition requires: the contract is broken. */
  missingRequired: string[];
}

export function isSystemField(name: string): boolean {
  return name.startsWith(':');
}

/**
 * Compares the source's field list (X-SODA2-Fields) with the definition. System fields are
 * ignored on both sides: every dataset has them, and the header lists them only when selected.
 */
export function compareFields(
  definition: DatasetDefinition,
  sourceFields: readonly string[],
): FieldDrift {
  const known = new Set(fieldNames(definition));
  const present = new Set(sourceFields.filter((name) => !isSystemField(name)));
  const missing = definition.fields.filter(
    (field) => !isSystemField(field.name) && !present.has(field.name),
  );
  return {
    added: [...present].filter((name) => !known.has(name)).sort(),
    missing: missing.map((field) => field.name),
    missingRequired: missing.filter((field) => field.required).map((field) => field.name),
  };
}

/** One line for a log or a warning, or undefined when the source matches the definition. */
export function describeFieldDrift(drift: FieldDrift): string | undefined {
  const parts: string[] = [];
  if (drift.added.length > 0) parts.push(`new in the source: ${drift.added.join(', ')}`);
  if (drift.missing.length > 0) {
    const required =
      drift.missingRequired.length > 0 ? ` (required: ${drift.missingRequired.join(', ')})` : '';
    parts.push(`gone from the source: ${drift.missing.join(', ')}${required}`);
  }
  return parts.length === 0
    ? undefined
    : `the source's fields differ from the dataset definition; ${parts.join('; ')}`;
}
