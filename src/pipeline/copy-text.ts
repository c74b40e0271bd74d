/**
 * PostgreSQL's COPY text format, both ways: one row per line, columns separated by tabs, `\N` for
 * NULL, and backslash escapes for backslash, tab, newline and carriage return. Pure; the staging
 * module streams it.
 */

const needsEscape = /[\\\t\n\r]/;
const escapeChars = /[\\\t\n\r]/g;
const escapes: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** One value as a COPY text field. */
export function encodeCopyValue(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return '\\N';
  if (typeof value !== 'string') return String(value);
  return needsEscape.test(value) ? value.replace(escapeChars, (char) => escapes[char]!) : value;
}

/** One row as a COPY text line, newline included. */
export function encodeCopyLine(
  values: ReadonlyArray<string | number | boolean | null | undefined>,
): string {
  let line = encodeCopyValue(values[0]);
  for (let i = 1; i < values.length; i++) line += `\t${encodeCopyValue(values[i])}`;
  return `${line}\n`;
}

const unescapes: Record<string, string> = {
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  '\\': '\\',
};

/** One COPY text field back to its value. */
export function decodeCopyValue(field: string): string | null {
  if (field === '\\N') return null;
  if (!field.includes('\\')) return field;
  return field.replace(/\\(x[0-9a-fA-F]{1,2}|[0-7]{1,3}|.)/g, (_, code: string) => {
    if (code.length > 1 && code[0] === 'x') return String.fromCharCode(parseInt(code.slice(1), 16));
    if (/^[0-7]/.test(code)) return String.fromCharCode(parseInt(code, 8));
    return unescapes[code] ?? code;
  });
}

/** A COPY text line (without its newline) back to its values. */
export function decodeCopyLine(line: string): Array<string | null> {
  return line.split('\t').map(decodeCopyValue);
}
