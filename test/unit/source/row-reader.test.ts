import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BodyError, createRowArrayReader } from '../../../src/source/row-reader.js';

function readAll(chunks: (string | Uint8Array)[]): Record<string, unknown>[] {
  const reader = createRowArrayReader();
  for (const chunk of chunks) reader.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return reader.finish();
}

function problemOf(body: string): string | undefined {
  try {
    readAll([body]);
    return undefined;
  } catch (error) {
    if (error instanceof BodyError) return error.problem;
    throw error;
  }
}

/** Splits bytes at the given cut points (sorted, deduplicated, within range). */
function split(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
  const parts: Buffer[] = [];
  let from = 0;
  for (const point of points) {
    parts.push(bytes.subarray(from, point));
    from = point;
  }
  parts.push(bytes.subarray(from));
  return parts;
}

// Values that stress the scanner: quotes, backslashes, braces and brackets inside strings,
// multi-byte characters that chunks can cut in half, and nested values (Socrata location columns).
const value = fc.oneof(
  fc.string({
    unit: fc.constantFrom('"', '\\', '{', '}', '[', ']', ',', 'a', 'é', '€', '😀', '\n', ' '),
  }),
  fc.string({ unit: 'grapheme' }),
  fc.record({ latitude: fc.string(), human_address: fc.string() }),
  fc.array(fc.string(), { maxLength: 3 }),
);
const rowsArbitrary = fc.array(
  fc.dictionary(fc.string({ minLength: 1, maxLength: 12 }), value, { maxKeys: 8 }),
  { maxLength: 12 },
);

describe('createRowArrayReader', () => {
  it("reads SODA's layout and compact JSON alike", () => {
    const rows = [
      { ':id': 'row-1', id: '25000001' },
      { ':id': 'row-2', description: 'a } b { "c" \\ d' },
    ];
    expect(readAll(['[' + rows.map((row) => JSON.stringify(row)).join('\n,') + ']\n'])).toEqual(
      rows,
    );
    expect(readAll([JSON.stringify(rows)])).toEqual(rows);
    expect(readAll([JSON.stringify(rows, null, 2)])).toEqual(rows);
    expect(readAll(['[]\n'])).toEqual([]);
    expect(readAll([' \n[ ] '])).toEqual([]);
  });

  it('gives the same rows however the body is laid out and cut into chunks', () => {
    // Socrata's one row per line takes the fast path; rows spread over lines, or other
    // separators, make the reader switch to scanning wherever they first appear.
    const separator = fc.constantFrom('\n,', '\n,', '\n,', ',', ',\n', '\n,\n', ' , ');
    fc.assert(
      fc.property(
        rowsArbitrary,
        fc.array(fc.tuple(separator, fc.boolean()), { minLength: 12, maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        fc.constantFrom('[', '[\n', ' \n['),
        (rows, layout, cuts, opening) => {
          const parts = rows.map((row, index) => {
            const [before, pretty] = layout[index]!;
            const json = pretty ? JSON.stringify(row, null, 1) : JSON.stringify(row);
            return index === 0 ? json : `${before}${json}`;
          });
          const body = Buffer.from(`${opening}${parts.join('')}]\n`);
          expect(readAll(split(body, cuts))).toEqual(rows);
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('scans a body written on one very long line', () => {
    const rows = Array.from({ length: 3_000 }, (_, index) => ({
      id: String(index),
      text: 'x"\\'.repeat(100),
    }));
    const body = Buffer.from(JSON.stringify(rows));
    expect(body.length).toBeGreaterThan(1 << 20);
    const size = 65_536;
    const chunks = Array.from({ length: Math.ceil(body.length / size) }, (_, index) =>
      body.subarray(index * size, (index + 1) * size),
    );
    expect(readAll(chunks)).toEqual(rows);
    expect(() => readAll(chunks.slice(0, -1))).toThrow(BodyError);
  });

  it('gives the same rows when fed one byte at a time', () => {
    const rows = [{ a: 'x"y\\"z', b: { c: ['}', '{'] } }, { d: '€😀' }];
    const body = Buffer.from(JSON.stringify(rows));
    expect(readAll([...body].map((byte) => Uint8Array.of(byte)))).toEqual(rows);
  });

  it('never accepts a body cut short, wherever it is cut, whatever the layout', () => {
    fc.assert(
      fc.property(rowsArbitrary, fc.nat(), fc.boolean(), (rows, cut, pretty) => {
        const body = Buffer.from(
          pretty
            ? `${JSON.stringify(rows, null, 1)}\n`
            : `[${rows.map((row) => JSON.stringify(row)).join('\n,')}]\n`,
        );
        // Every strict prefix that drops the closing bracket is incomplete.
        const end = cut % (body.length - 1);
        expect(() => readAll([body.subarray(0, end)])).toThrow(BodyError);
      }),
      { numRuns: 1_000 },
    );
  });

  it('names what is wrong with a body that is not a list of rows', () => {
    expect(problemOf('<!DOCTYPE html><html><title>Maintenance</title></html>')).toBe('html');
    expect(problemOf('{"code":"not_found","error":true,"message":"Not found"}')).toBe('not-rows');
    expect(problemOf('[1, 2]')).toBe('not-rows');
    expect(problemOf('["a"]')).toBe('not-rows');
    expect(problemOf('[{"a":"1"}')).toBe('truncated');
    expect(problemOf('[{"a":"1"},')).toBe('truncated');
    expect(problemOf('[{"a":"1"')).toBe('truncated');
    expect(problemOf('')).toBe('truncated');
    expect(problemOf('[{"a":"1"} {"b":"2"}]')).toBe('malformed');
    expect(problemOf('[{"a":"1"},]')).toBe('malformed');
    expect(problemOf('[,{"a":"1"}]')).toBe('malformed');
    expect(problemOf('[{"a":"1"}] trailing')).toBe('malformed');
    expect(problemOf('[{"a": nope}]')).toBe('malformed');
    expect(problemOf('null')).toBe('malformed');
    expect(problemOf('[{"a":"1"}]')).toBeUndefined();
    // The same faults in Socrata's one-row-per-line layout.
    expect(problemOf('[{"a":"1"}\n,{"b":"2"}\n,')).toBe('truncated');
    expect(problemOf('[{"a":"1"}\n,{"b":"2"}\n,]\n')).toBe('malformed');
    expect(problemOf('[{"a":"1"}\n,"b"]\n')).toBe('not-rows');
    expect(problemOf('[{"a":"1"}\n,{"b":"2"}]\n]\n')).toBe('malformed');
    expect(problemOf('[{"a":"1"}\n,{"b": x}]\n')).toBe('malformed');
    expect(problemOf('<html>\n<title>Down</title>\n</html>\n')).toBe('html');
    expect(problemOf('[\n,{"a":"1"}]\n')).toBe('malformed');
    expect(readAll(['[{"a":"1"}\n,\n', '{"b":"2"}]\n'])).toEqual([{ a: '1' }, { b: '2' }]);
  });
});
