/**
 * Text clean-up for source values: pure, and cheap enough to run on every row.
 */

const whitespaceRun = /\s+/g;
/** Anything normalizeText would change inside an already trimmed value. */
const untidyInside = /\s\s|[^\S ]/;

/** Trims and collapses every run of whitespace to one space; empty becomes null. */
export function normalizeText(value: string | undefined): string | null {
  if (value === undefined) return null;
  // Most values are already tidy (or only padded at the end): skip the regular expression then.
  const trimmed = value.trim();
  if (trimmed === '') return null;
  return untidyInside.test(trimmed) ? trimmed.replace(whitespaceRun, ' ') : trimmed;
}

/** As normalizeText, in upper case: codes and place names are published in capitals. */
export function normalizeCode(value: string | undefined): string | null {
  const normalized = normalizeText(value);
  return normalized === null ? null : normalized.toUpperCase();
}

const horizontalWhitespace = /[^\S\n]+/g;
const manyNewlines = /\n{3,}/g;
/** Whitespace normalizeNarrative replaces: every kind but the space and the line feed. */
const otherWhitespace = /[^\S \n]/;

/** Any whitespace but a space, or two spaces: what a narrative without line breaks never has. */
const oddWhitespace = /[^\S ]| {2}/;

/**
 * Whether normalizeNarrative would change anything inside an already trimmed value. Most
 * narratives are one paragraph of single spaces, which one scan tells (a third of the cost of the
 * five below, on the million descriptions of a large window); the others are looked at closely:
 * native substring searches and one character class, about half the cost of one regular
 * expression with the same alternatives.
 */
function isUntidyNarrative(text: string): boolean {
  if (!oddWhitespace.test(text)) return false;
  return (
    text.includes('  ') ||
    text.includes(' \n') ||
    text.includes('\n ') ||
    text.includes('\n\n\n') ||
    otherWhitespace.test(text)
  );
}

/**
 * Narrative text keeps its paragraphs: line endings become `\n`, runs of spaces one space, at
 * most one blank line in a row, trimmed; empty becomes null.
 */
export function normalizeNarrative(value: string | undefined): string | null {
  if (value === undefined) return null;
  const trimmed = value.trim();
  if (trimmed === '') return null;
  if (!isUntidyNarrative(trimmed)) return trimmed;
  const normalized = trimmed
    .replace(/\r\n?/g, '\n')
    .replace(horizontalWhitespace, ' ')
    .replace(/ ?\n ?/g, '\n')
    .replace(manyNewlines, '\n\n')
    .trim();
  return normalized === '' ? null : normalized;
}

export interface LocationParts {
  street: string | null;
  crossStreet: string | null;
}

/** `MASSACHUSETTS AVE & WESTERN AVE` → street and cross street; anything else is one street. */
export function splitIntersection(location: string | null): LocationParts {
  if (location === null) return { street: null, crossStreet: null };
  const at = location.indexOf('&');
  if (at < 0) return { street: location, crossStreet: null };
  const street = location.slice(0, at).trim();
  const crossStreet = location.slice(at + 1).trim();
  if (street === '' || crossStreet === '') return { street: location, crossStreet: null };
  return { street, crossStreet };
}

export interface OffenseParts {
  offense: string | null;
  statute: string | null;
}

/**
 * Massachusetts General Laws citations at the end of a subtype: `C266 S30A`, `C266 S30(1)`,
 * `C94C S32A(C)`, `C90 S24(2)(A)`.
 */
const trailingStatute = /\s*\b(C\d+[A-Z]?\s+S\d+[A-Z]?(?:\([0-9A-Z]+\))*)$/;

/** `LARCENY UNDER $1200 C266 S30(1)` → offense `LARCENY UNDER $1200`, statute `C266 S30(1)`. */
export function splitStatute(subtype: string | null): OffenseParts {
  if (subtype === null) return { offense: null, statute: null };
  const match = trailingStatute.exec(subtype);
  if (!match) return { offense: subtype, statute: null };
  const offense = subtype.slice(0, match.index).trim();
  return { offense: offense === '' ? null : offense, statute: match[1]!.replace(/\s+/, ' ') };
}
