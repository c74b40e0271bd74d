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
 * Reads a binary COPY stream as rows of fields (each a Buffer, or null), chunk by chunk as they
 * arrive. The buffers returned share memory with the input only when a field lies within one
 * chunk; call `finish` at the end to check the stream was whole.
 */
export function createBinaryCopyReader(): {
  push(chunk: Buffer): Array<Array<Buffer | null>>;
  finish(): void;
} {
  let pending: Buffer = Buffer.alloc(0);
  let headerSeen = false;
  let ended = false;
  return {
    push(chunk) {
      const data = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      const rows: Array<Array<Buffer | null>> = [];
      let at = 0;
      if (!headerSeen) {
        if (data.length < headerBytes) {
          pending = data;
          return rows;
        }
        if (!data.subarray(0, signature.length).equals(signature))
          throw new Error('not a binary COPY stream');
        at = headerBytes + data.readInt32BE(signature.length + 4);
        headerSeen = true;
      }
      for (;;) {
        if (data.length - at < 2) break;
        const count = data.readInt16BE(at);
        if (count === -1) {
          ended = true;
          at = data.length;
          break;
        }
        // Check the whole row is here before taking any of it.
        let end = at + 2;
        let complete = true;
        for (let field = 0; field < count; field++) {
          if (data.length - end < 4) {
            complete = false;
            break;
          }
          const length = data.readInt32BE(end);
          end += 4 + Math.max(0, length);
          if (end > data.length) {
            complete = false;
            break;
          }
        }
        if (!complete) break;
        const row: Array<Buffer | null> = [];
        let field = at + 2;
        for (let index = 0; index < count; index++) {
          const length = data.readInt32BE(field);
          field += 4;
          if (length < 0) row.push(null);
          else {
            row.push(data.subarray(field, field + length));
            field += length;
          }
        }
        rows.push(row);
        at = end;
      }
      // What is left is the start of a row still arriving; copied so the chunk can go.
      pending = at >= data.length ? Buffer.alloc(0) : Buffer.from(data.subarray(at));
      return rows;
    },
    finish() {
      if (!ended || pending.length > 0) throw new Error('the binary COPY stream was cut short');
    },
  };
}
