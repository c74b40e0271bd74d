/**
 * PostgreSQL's binary COPY format, both ways, for the few shapes staging needs (pure). A value
 * travels as its length and its bytes, so a megabyte of the source's JSON is written and read
 * back without being escaped, unescaped or even looked at.
 *
 * Layout: an 11-byte signature, a 4-byte flags field and a 4-byte header-extension length; then
 * per row a 2-byte field count and, per field, a 4-byte length (-1 for NULL) and the bytes;
 * then a 2-byte -1. Integers are big-endian.
 */

const signature = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
const headerBytes = signature.length + 8;

export const binaryCopyHeader: Buffer = Buffer.concat([signature, Buffer.alloc(8)]);
export const binaryCopyTrailer: Buffer = Buffer.from([0xff, 0xff]);

export type BinaryField = number | Buffer | null;

/**
 * One row's fields: numbers as int4, buffers as they are (bytea or UTF-8 text). Returns the
 * pieces to write in order, so a large buffer is handed on, not copied.
 */
export function encodeBinaryRow(fields: readonly BinaryField[]): Buffer[] {
  const pieces: Buffer[] = [];
  // The fixed-size parts between buffers: the field count, lengths and int4 values.
  let words: number[] = [];
  let head = true;
  const flush = () => {
    const piece = Buffer.allocUnsafe((head ? 2 : 0) + words.length * 4);
    let at = head ? piece.writeInt16BE(fields.length, 0) : 0;
    for (const word of words) at = piece.writeInt32BE(word, at);
    pieces.push(piece);
    words = [];
    head = false;
  };
  for (const field of fields) {
    if (field === null) words.push(-1);
    else if (typeof field === 'number') words.push(4, field);
    else {
      words.push(field.length);
      flush();
      pieces.push(field);
    }
  }
  if (head || words.length > 0) flush();
  return pieces;
}

/**
 * Bytes as they arrive, taken off the front in exact sizes. A piece is copied only when a value
 * spans several chunks, and then once: a megabyte value arriving in 64 KB chunks is joined at
 * the end, not re-joined with each chunk.
 */
function createByteQueue() {
  let pieces: Buffer[] = [];
  let available = 0;
  return {
    push(chunk: Buffer) {
      if (chunk.length === 0) return;
      pieces.push(chunk);
      available += chunk.length;
    },
    get available() {
      return available;
    },
    take(count: number): Buffer | undefined {
      if (count > available) return undefined;
      available -= count;
      const first = pieces[0];
      if (first && first.length >= count) {
        const taken = first.subarray(0, count);
        if (first.length === count) pieces.shift();
        else pieces[0] = first.subarray(count);
        return taken;
      }
      const taken = Buffer.allocUnsafe(count);
      let filled = 0;
      while (filled < count) {
        const piece = pieces[0]!;
        const part = Math.min(piece.length, count - filled);
        piece.copy(taken, filled, 0, part);
        filled += part;
        if (part === piece.length) pieces.shift();
        else pieces[0] = piece.subarray(part);
      }
      return taken;
    },
    clear() {
      pieces = [];
      available = 0;
    },
  };
}

/**
 * Reads a binary COPY stream as rows of fields (each a Buffer, or null), chunk by chunk as they
 * arrive. Returned buffers may share memory with the input; call `finish` at the end to check the
 * stream was whole.
 */
export function createBinaryCopyReader(): {
  push(chunk: Buffer): Array<Array<Buffer | null>>;
  finish(): void;
} {
  const queue = createByteQueue();
  let headerSeen = false;
  let ended = false;
  /** The row being read: its fields so far, how many are left, the length of the next one. */
  let row: Array<Buffer | null> = [];
  let fieldsLeft: number | undefined;
  let fieldLength: number | undefined;
  return {
    push(chunk) {
      queue.push(chunk);
      const rows: Array<Array<Buffer | null>> = [];
      for (;;) {
        if (ended) {
          queue.clear();
          break;
        }
        if (!headerSeen) {
          if (queue.available < headerBytes) break;
          const header = queue.take(headerBytes)!;
          if (!header.subarray(0, signature.length).equals(signature))
            throw new Error('not a binary COPY stream');
          const extension = header.readInt32BE(signature.length + 4);
          if (extension > 0 && queue.take(extension) === undefined)
            throw new Error('a binary COPY header extension this reader does not know');
          headerSeen = true;
          continue;
        }
        if (fieldsLeft === undefined) {
          const count = queue.take(2);
          if (!count) break;
          fieldsLeft = count.readInt16BE(0);
          if (fieldsLeft === -1) {
            ended = true;
            continue;
          }
          row = [];
        }
        if (fieldsLeft > 0) {
          if (fieldLength === undefined) {
            const length = queue.take(4);
            if (!length) break;
            fieldLength = length.readInt32BE(0);
          }
          if (fieldLength < 0) row.push(null);
          else {
            const value = queue.take(fieldLength);
            if (!value) break;
            row.push(value);
          }
          fieldLength = undefined;
          fieldsLeft -= 1;
          continue;
        }
        rows.push(row);
        fieldsLeft = undefined;
      }
      return rows;
    },
    finish() {
      if (!ended) throw new Error('the binary COPY stream was cut short');
    },
  };
}
