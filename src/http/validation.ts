import { z } from 'zod';
import { HttpError, type FieldProblem } from './errors.js';

/** zod issues as the API's field problems, and the 400 that carries them. Pure. */

export type Parsed<T> = { ok: true; value: T } | { ok: false; fields: FieldProblem[] };

/**
 * One problem per bad field: an unknown field is named itself (with what is accepted instead), a
 * problem with the whole input is named after `root` (body, query).
 */
export function describeIssues(
  issues: readonly z.core.$ZodIssue[],
  root: string,
  known: readonly string[] = [],
): FieldProblem[] {
  return issues.flatMap((issue): FieldProblem[] => {
    const prefix = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      const accepted =
        known.length > 0 ? `; accepted: ${known.join(', ')}` : '; no fields are accepted here';
      return issue.keys.map((key) => ({
        field: prefix ? `${prefix}.${key}` : key,
        message: `unknown field${accepted}`,
      }));
    }
    if (issue.path.length === 0 && issue.code === 'invalid_type') {
      const fields = known.length > 0 ? ` with ${known.join(', ')}` : ' (or nothing)';
      return [{ field: root, message: `expected a JSON object${fields}` }];
    }
    return [{ field: prefix || root, message: issue.message }];
  });
}

export function parseInput<Schema extends z.ZodType>(
  schema: Schema,
  input: unknown,
  root: string,
): Parsed<z.output<Schema>> {
  const result = schema.safeParse(input);
  if (result.success) return { ok: true, value: result.data };
  const known = schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
  return { ok: false, fields: describeIssues(result.error.issues, root, known) };
}

/** A 400 whose message lists the fields, so a client that shows only the message still helps. */
export function invalidRequest(fields: FieldProblem[]): HttpError {
  const list = fields.map((problem) => `${problem.field}: ${problem.message}`).join('; ');
  return new HttpError(400, 'request.invalid', `the request is invalid: ${list}`, fields);
}

/** Parses or throws the 400. */
export function requireValid<Schema extends z.ZodType>(
  schema: Schema,
  input: unknown,
  root: string,
): z.output<Schema> {
  const parsed = parseInput(schema, input, root);
  if (!parsed.ok) throw invalidRequest(parsed.fields);
  return parsed.value;
}
