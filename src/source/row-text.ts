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
 * The page's rows as chunks of JSON text. The body comes whole, or as segments of whole lines in
 * order (collectRowText: each segment but the last ends with a newline), which become chunks of
 * their own (a chunk never spans two). Throws BodyError (from the full reader) when the body is
 * not a whole list of rows. Mutates the body: the separators at chunk boundaries become the
 * brackets of each chunk's array, so no row is copied.
 */
export function splitRowText(
  body: Buffer | readonly Buffer[],
  chunkBytes = defaultChunkBytes,
): RowTextPage {
  const segments = Buffer.isBuffer(body) ? [body] : body;
  return (
    splitSocrataLayout(segments, chunkBytes) ??
    reencode(segments.length === 1 ? segments[0]! : Buffer.concat(segments), chunkBytes)
  );
}

/**
 * Gathers a body as it arrives into segments of whole lines of about `chunkBytes`, for
 * splitRowText. Copying each part once into a segment the size of a chunk costs a tenth of
 * joining a whole page (50,000 rows, 27 MB) into one buffer, whose fresh memory the system must
 * map page by page, and a page is never held twice.
 */
export function collectRowText(chunkBytes = defaultChunkBytes): {
  push(part: Buffer): void;
  /** The segments, the last one included; call once, after the last part. */
  finish(): Buffer[];
  readonly bytes: number;
} {
  const segments: Buffer[] = [];
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let bytes = 0;
  return {
    push(part) {
      pending.push(part);
      pendingBytes += part.length;
      bytes += part.length;
      if (pendingBytes < chunkBytes) return;
      const newlineAt = part.lastIndexOf(newline);
      if (newlineAt < 0) return;
      const rest = part.subarray(newlineAt + 1);
      pending[pending.length - 1] = part.subarray(0, newlineAt + 1);
      segments.push(Buffer.concat(pending, pendingBytes - rest.length));
      pending = rest.length > 0 ? [rest] : [];
      pendingBytes = rest.length;
    },
    finish() {
      if (pendingBytes > 0) segments.push(Buffer.concat(pending, pendingBytes));
      pending = [];
      pendingBytes = 0;
      return segments;
    },
    get bytes() {
      return bytes;
    },
  };
}

/** Socrata's row-per-line layout, or undefined when the page is not in it. */
function splitSocrataLayout(
  segments: readonly Buffer[],
  chunkBytes: number,
): RowTextPage | undefined {
  // Where the page's text is: from its `[` in the first segment with any, to its `]` in the last.
  const first = segments.findIndex((segment) => firstNonBlank(segment, 0) < segment.length);
  if (first < 0) return;
  let last = segments.length - 1;
  while (lastNonBlank(segments[last]!) < 0) last -= 1;
  const pageStart = firstNonBlank(segments[first]!, 0);
  const pageEnd = lastNonBlank(segments[last]!) + 1;
  if (segments[first]![pageStart] !== openBracket || segments[last]![pageEnd - 1] !== closeBracket)
    return;
  if (first === last && pageEnd - pageStart === 2) return { chunks: [], rows: 0 };
  if (first === last && pageEnd - pageStart < 2) return;
  // Segments end at a newline, so no `},{` spans two.
  for (let index = first; index <= last; index += 1)
    if (segments[index]!.indexOf(severalRowsOnALine) >= 0) return;

  const chunks: RowTextChunk[] = [];
  let rows = 0;
  for (let index = first; index <= last; index += 1) {
    const body = segments[index]!;
    const start = index === first ? pageStart : firstNonBlank(body, 0);
    const end = index === last ? pageEnd : body.length;
    if (start >= end) continue;
    const isLastSegment = index === last;
    /** Where the current chunk's opening separator (`[` or `,`) is, and its rows so far. */
    let chunkStart = start;
    let chunkRows = 0;
    // The separator byte (`[` for the first row, `,` for the others) begins each line.
    let lineStart = start;
    for (;;) {
      const nextNewline = body.indexOf(newline, lineStart);
      const lineEnd = nextNewline < 0 || nextNewline > end ? end : nextNewline;
      let lastByte = lineEnd - 1;
      while (lastByte > lineStart && isBlank(body[lastByte]!)) lastByte -= 1;
      const isLastLine = isLastSegment && lineEnd === end;
      if (isLastLine) {
        // The final row's line ends with `}]`.
        if (body[lastByte] !== closeBracket) return;
        lastByte -= 1;
        while (lastByte > lineStart && isBlank(body[lastByte]!)) lastByte -= 1;
      }
      const separator = rows === 0 ? openBracket : comma;
      let firstByte = lineStart;
      if (body[firstByte] !== separator) return;
      firstByte += 1;
      while (firstByte < lastByte && isBlank(body[firstByte]!)) firstByte += 1;
      if (body[firstByte] !== openBrace || body[lastByte] !== closeBrace || lastByte <= firstByte)
        return;
      rows += 1;
      chunkRows += 1;
      const nextLine = isLastLine ? -1 : nextLineStart(body, lineEnd, end);
      if (!isLastLine && nextLine < 0 && isLastSegment) return;
      // The chunk closes after this row when it is big enough, or at its segment's end.
      if (nextLine < 0 || lastByte + 1 - chunkStart >= chunkBytes) {
        chunks.push({ json: closeChunk(body, chunkStart, lastByte + 1), rows: chunkRows });
        if (nextLine < 0) break;
        chunkStart = nextLine;
        chunkRows = 0;
      }
      lineStart = nextLine;
    }
  }
  return { chunks, rows };
}

function firstNonBlank(body: Buffer, from: number): number {
  let at = from;
  while (at < body.length && isBlank(body[at]!)) at += 1;
  return at;
}

/** The last non-blank byte's index, or -1 when there is none. */
function lastNonBlank(body: Buffer): number {
  let at = body.length - 1;
  while (at >= 0 && isBlank(body[at]!)) at -= 1;
  return at;
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
