/**
 * Reads a SODA JSON body, an array of row objects, as it streams in, so a 50,000-row page never
 * exists as one 30 MB string beside its parsed rows. A body that is not a whole array of objects
 * (an HTML page, an error object, a cut-off download) is refused with a reason.
 *
 * Two ways to find where rows end:
 * - Fast: Socrata writes one row per line (`[{…}\n,{…}\n,{…}]\n`). A raw newline byte is never
 *   part of a JSON string or of a multi-byte character, so everything up to a chunk's last newline
 *   can be handed to JSON.parse at once. JSON.parse checks it, and rows are kept only when the
 *   whole region parses as complete rows.
 * - General: when a region does not (another layout, a row spread over lines, a broken body), a
 *   byte scanner takes over from that region, tracking strings, escapes and nesting, and parses
 *   each row as its closing brace arrives.
 */

export type BodyProblem = 'html' | 'not-rows' | 'truncated' | 'malformed';

export class BodyError extends Error {
  override name = 'BodyError';
  constructor(
    readonly problem: BodyProblem,
    message: string,
  ) {
    super(message);
  }
}

export interface RowArrayReader {
  push(chunk: Uint8Array): void;
  /** The rows, once the whole body has been pushed; throws BodyError if it was not complete. */
  finish(): Record<string, unknown>[];
}

type Row = Record<string, unknown>;

const newline = 0x0a;
const quote = 0x22;
const backslash = 0x5c;
const openBrace = 0x7b;
const closeBrace = 0x7d;
const openBracket = 0x5b;
const closeBracket = 0x5d;
const comma = 0x2c;
const lessThan = 0x3c;
/** A line this long without a newline is not Socrata's layout: scan instead of buffering it. */
const maxLineBytes = 1 << 20;

function isWhitespace(byte: number): boolean {
  return byte === 0x20 || byte === newline || byte === 0x0d || byte === 0x09;
}

function isRow(value: unknown): value is Row {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function toBuffer(input: Uint8Array): Buffer {
  return Buffer.isBuffer(input)
    ? input
    : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
}

/** Where the scanner starts: at the beginning, or between rows after the fast path gave up. */
interface ScanStart {
  opened: boolean;
  closed: boolean;
  rowsSoFar: number;
}

function createScanner(rows: Row[], start: ScanStart) {
  let phase: 'start' | 'array' | 'done' = start.closed ? 'done' : start.opened ? 'array' : 'start';
  /** In the array: a row may come next (after `[` or `,`), rather than `,` or `]`. */
  let expectRow = start.rowsSoFar === 0;
  /** Rows whose closing brace has been seen (parsing a chunk's rows waits for its end). */
  let completed = start.rowsSoFar;
  /** Nesting inside the current row; 0 between rows. */
  let depth = 0;
  let inString = false;
  let escaped = false;
  /** Pieces of the current row that arrived in earlier chunks. */
  let pending: Buffer[] = [];

  /** Parses one row, or several written as the inside of a list (rows and the commas between). */
  function emit(text: string, several: boolean): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(several ? `[${text}]` : text);
    } catch (error) {
      throw new BodyError(
        'malformed',
        `a row after row ${rows.length} is not valid JSON (${(error as Error).message})`,
      );
    }
    if (!several) rows.push(parsed as Row);
    else for (const row of parsed as Row[]) rows.push(row);
  }

  function push(bytes: Buffer): void {
    const n = bytes.length;
    let rowStart = depth > 0 ? 0 : -1;
    // Rows that begin and end in this chunk are parsed together, in one call, at its end.
    let batchStart = -1;
    let batchEnd = -1;
    let i = 0;
    while (i < n) {
      if (depth > 0) {
        if (inString) {
          if (escaped) {
            escaped = false;
            i += 1;
            continue;
          }
          // The hot loop: most bytes are string contents.
          let c = bytes[i]!;
          while (c !== quote && c !== backslash && ++i < n) c = bytes[i]!;
          if (i >= n) break;
          if (c === backslash) escaped = true;
          else inString = false;
          i += 1;
          continue;
        }
        const c = bytes[i]!;
        if (c === quote) inString = true;
        else if (c === openBrace || c === openBracket) depth += 1;
        else if (c === closeBrace || c === closeBracket) {
          depth -= 1;
          if (depth === 0) {
            completed += 1;
            if (pending.length > 0) {
              pending.push(bytes.subarray(0, i + 1));
              emit(Buffer.concat(pending).toString('utf8'), false);
              pending = [];
            } else {
              if (batchStart < 0) batchStart = rowStart;
              batchEnd = i + 1;
            }
            rowStart = -1;
          }
        }
        i += 1;
        continue;
      }
      const c = bytes[i]!;
      i += 1;
      if (isWhitespace(c)) continue;
      if (phase === 'start') {
        if (c === openBracket) phase = 'array';
        else if (c === lessThan) throw new BodyError('html', 'an HTML page instead of JSON');
        else if (c === openBrace)
          throw new BodyError('not-rows', 'a JSON object instead of a list of rows');
        else throw new BodyError('malformed', 'a body that is not JSON');
      } else if (phase === 'array') {
        if (c === openBrace && expectRow) {
          depth = 1;
          rowStart = i - 1;
          expectRow = false;
        } else if (c === comma && !expectRow) expectRow = true;
        else if (c === closeBracket && (!expectRow || completed === 0)) phase = 'done';
        else if (c === comma || c === closeBracket || c === openBrace) {
          throw new BodyError(
            'malformed',
            `misplaced "${String.fromCharCode(c)}" after row ${completed}`,
          );
        } else
          throw new BodyError(
            'not-rows',
            `a list with something other than rows after row ${completed}`,
          );
      } else throw new BodyError('malformed', 'text after the end of the list');
    }
    if (batchStart >= 0) emit(bytes.toString('utf8', batchStart, batchEnd), true);
    if (depth > 0) pending.push(bytes.subarray(rowStart));
  }

  return {
    push,
    isDone: () => phase === 'done',
    completed: () => completed,
  };
}

export function createRowArrayReader(): RowArrayReader {
  const rows: Row[] = [];
  let bytesSeen = 0;
  // The fast path's state.
  let opened = false;
  let closed = false;
  /** Bytes after the last newline seen: the start of a line still arriving. */
  let line: Buffer[] = [];
  let lineBytes = 0;
  let scanner: ReturnType<typeof createScanner> | undefined;

  /** Takes a run of whole lines as rows; false, with nothing taken, when they are not whole rows. */
  function takeLines(region: Buffer): boolean {
    let text = region.toString('utf8').trim();
    if (text === '') return true;
    if (closed) return false;
    // A comma joins a row to the one before: it needs a row on each side.
    let joined = false;
    if (!opened) {
      if (text[0] !== '[') return false;
      opened = true;
      text = text.slice(1);
    } else if (text[0] === ',' && rows.length > 0) {
      joined = true;
      text = text.slice(1);
    } else if (rows.length > 0) return false;
    const closing = text.endsWith(']');
    if (closing) text = text.slice(0, -1);
    let parsed: unknown;
    try {
      parsed = JSON.parse(`[${text}]`);
    } catch {
      return false;
    }
    const batch = parsed as unknown[];
    if ((joined && batch.length === 0) || !batch.every(isRow)) return false;
    for (const row of batch) rows.push(row);
    if (closing) closed = true;
    return true;
  }

  function scan(bytes: Buffer): void {
    scanner ??= createScanner(rows, { opened, closed, rowsSoFar: rows.length });
    scanner.push(bytes);
  }

  return {
    push(input) {
      const bytes = toBuffer(input);
      bytesSeen += bytes.length;
      if (scanner) return scan(bytes);
      const last = bytes.lastIndexOf(newline);
      if (last < 0) {
        line.push(bytes);
        lineBytes += bytes.length;
        if (lineBytes > maxLineBytes) {
          const region = Buffer.concat(line);
          line = [];
          lineBytes = 0;
          scan(region);
        }
        return;
      }
      const head = bytes.subarray(0, last + 1);
      const region = line.length > 0 ? Buffer.concat([...line, head]) : head;
      const tail = bytes.subarray(last + 1);
      line = tail.length > 0 ? [tail] : [];
      lineBytes = tail.length;
      const before = { opened, closed };
      if (!takeLines(region)) {
        ({ opened, closed } = before);
        const rest = line;
        line = [];
        lineBytes = 0;
        scan(region);
        for (const piece of rest) scan(piece);
      }
    },
    finish() {
      if (!scanner && lineBytes > 0) {
        const region = Buffer.concat(line);
        const before = { opened, closed };
        if (!takeLines(region)) {
          ({ opened, closed } = before);
          scan(region);
        }
      }
      if (scanner ? scanner.isDone() : closed) return rows;
      if (bytesSeen === 0) throw new BodyError('truncated', 'an empty body');
      const complete = scanner ? scanner.completed() : rows.length;
      throw new BodyError(
        'truncated',
        `a list cut off after ${complete} complete rows (${bytesSeen} bytes)`,
      );
    },
  };
}
