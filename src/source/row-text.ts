import { createRowArrayReader } from './row-reader.js';

/**
 * A SODA page kept as the source's own JSON text, cut into chunks of whole rows, so extract can
 * stage rows without parsing or re-encoding any of them (pure). Each chunk is a JSON array
 * (`[{…}\n,{…}\n,{…}]`) that later steps parse in one call.
 *
 * Socrata writes one row per line (`[{…}\n,{…}\n,{…}]\n`); a newline byte is never part of a JSON
 * string, so lines are found natively and each is checked to hold exactly one row: it opens with
 * `{` (after `[` or `,`), closes with `}` (before the final `]`), and no `},{` occurs anywhere in
 * the page (the mark of several rows on one line). A page that is not laid out so (another
 * layout, a broken or cut-off body, an HTML page) goes through the full reader, which parses
 * every row and says what is wrong; its rows are then written out again as JSON text. Either way
 * the row count is exact, which paging depends on.
 *
 * What framing cannot see, a line that is not valid JSON inside, is found when the chunk is
 * parsed: that row is quarantined as malformed with its text (validate), never silently dropped.
 */

export interface RowTextChunk {
  /** A JSON array of `rows` rows, as UTF-8 bytes. */
  json: Buffer;
  rows: number;
}

export interface RowTextPage {
  chunks: RowTextChunk[];
  rows: number;
}

const newline = 0x0a;
const openBrace = 0x7b;
const closeBrace = 0x7d;
const openBracket = 0x5b;
const closeBracket = 0x5d;
const comma = 0x2c;
const severalRowsOnALine = Buffer.from('},{');

function isBlank(byte: number): boolean {
  return byte === 0x20 || byte === 0x0d || byte === 0x09 || byte === newline;
}

/** Default chunk size: big enough that per-chunk costs vanish, small enough to stream. */
export const defaultChunkBytes = 1 << 20;

/**
 * The page's rows as chunks of JSON text. Throws BodyError (from the full reader) when the body
 * is not a whole list of rows. Mutates `body`: the separators at chunk boundaries become the
 * brackets of each chunk's array, so no row is copied.
 */
export function splitRowText(body: Buffer, chunkBytes = defaultChunkBytes): RowTextPage {
  return splitSocrataLayout(body, chunkBytes) ?? reencode(body, chunkBytes);
}

/** Socrata's row-per-line layout, or undefined when the page is not in it. */
function splitSocrataLayout(body: Buffer, chunkBytes: number): RowTextPage | undefined {
  let start = 0;
  let end = body.length;
  while (start < end && isBlank(body[start]!)) start += 1;
  while (end > start && isBlank(body[end - 1]!)) end -= 1;
  if (end - start < 2 || body[start] !== openBracket || body[end - 1] !== closeBracket) return;
  if (end - start === 2) return { chunks: [], rows: 0 };
  if (body.indexOf(severalRowsOnALine, start) >= 0) return;

  const chunks: RowTextChunk[] = [];
  let rows = 0;
  /** Where the current chunk's opening separator (`[` or `,`) is, and its rows so far. */
  let chunkStart = start;
  let chunkRows = 0;
  // The separator byte (`[` for the first row, `,` for the others) begins each line.
  let lineStart = start;
  for (;;) {
    const nextNewline = body.indexOf(newline, lineStart);
    const lineEnd = nextNewline < 0 || nextNewline > end ? end : nextNewline;
    let last = lineEnd - 1;
    while (last > lineStart && isBlank(body[last]!)) last -= 1;
    const isLastLine = lineEnd === end;
    if (isLastLine) {
      // The final row's line ends with `}]`.
      if (body[last] !== closeBracket) return;
      last -= 1;
      while (last > lineStart && isBlank(body[last]!)) last -= 1;
    }
    const separator = rows === 0 ? openBracket : comma;
    let first = lineStart;
    if (body[first] !== separator) return;
    first += 1;
    while (first < last && isBlank(body[first]!)) first += 1;
    if (body[first] !== openBrace || body[last] !== closeBrace || last <= first) return;
    rows += 1;
    chunkRows += 1;
    // The chunk closes after this row when it is big enough, or at the end of the page.
    if (isLastLine || last + 1 - chunkStart >= chunkBytes) {
      chunks.push({ json: closeChunk(body, chunkStart, last + 1), rows: chunkRows });
      if (isLastLine) return { chunks, rows };
      chunkStart = nextLineStart(body, lineEnd, end);
      if (chunkStart < 0) return;
      chunkRows = 0;
    }
    lineStart = nextLineStart(body, lineEnd, end);
    if (lineStart < 0) return;
  }
}

/** The first non-blank byte after a line's end, or -1 when there is none before `end`. */
function nextLineStart(body: Buffer, lineEnd: number, end: number): number {
  let at = lineEnd + 1;
  while (at < end && isBlank(body[at]!)) at += 1;
  return at < end ? at : -1;
}

/**
 * The bytes from a chunk's separator to its last row's `}`, as a JSON array: the separator
 * becomes `[` and the byte after the row (a newline, blank or the page's `]`) becomes `]`.
 */
function closeChunk(body: Buffer, separatorAt: number, afterLastRow: number): Buffer {
  body[separatorAt] = openBracket;
  if (afterLastRow < body.length && body[afterLastRow] !== closeBracket) {
    body[afterLastRow] = closeBracket;
    return body.subarray(separatorAt, afterLastRow + 1);
  }
  if (afterLastRow < body.length) return body.subarray(separatorAt, afterLastRow + 1);
  return Buffer.concat([body.subarray(separatorAt, afterLastRow), Buffer.from(']')]);
}

/** Any other layout: parsed by the full reader (which refuses broken bodies), written out again. */
function reencode(body: Buffer, chunkBytes: number): RowTextPage {
  const reader = createRowArrayReader();
  reader.push(body);
  const parsed = reader.finish();
  const chunks: RowTextChunk[] = [];
  let lines: string[] = [];
  let size = 0;
  const flush = () => {
    chunks.push({ json: Buffer.from(`[${lines.join('\n,')}]`), rows: lines.length });
    lines = [];
    size = 0;
  };
  for (const row of parsed) {
    const line = JSON.stringify(row);
    lines.push(line);
    size += line.length;
    if (size >= chunkBytes) flush();
  }
  if (lines.length > 0) flush();
  return { chunks, rows: parsed.length };
}
