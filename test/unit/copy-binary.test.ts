import { describe, expect, it } from 'vitest';
import {
  binaryCopyHeader,
  binaryCopyTrailer,
  createBinaryCopyReader,
  encodeBinaryRow,
} from '../../src/pipeline/copy-binary.js';

const rows: Array<Array<number | Buffer | null>> = [
  [1, 0, 3, Buffer.from('[{"a":"b\\tc"}]')],
  [2, 3, 1, Buffer.from('')],
  [-5, null, 2_147_483_647, Buffer.from('é\n\\')],
];

function stream(): Buffer {
  return Buffer.concat([binaryCopyHeader, ...rows.flatMap(encodeBinaryRow), binaryCopyTrailer]);
}

function int4(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeInt32BE(value);
  return buffer;
}

const expected = rows.map((row) =>
  row.map((field) => (typeof field === 'number' ? int4(field) : field)),
);

describe('binary COPY', () => {
  it('reads back what it writes, however the stream is cut into chunks', () => {
    const whole = stream();
    for (const size of [1, 2, 7, 19, 64, whole.length]) {
      const reader = createBinaryCopyReader();
      const read: Array<Array<Buffer | null>> = [];
      for (let at = 0; at < whole.length; at += size)
        read.push(...reader.push(whole.subarray(at, at + size)));
      reader.finish();
      expect(read).toEqual(expected);
    }
  });

  it('says when the stream was cut short or is not binary COPY', () => {
    const whole = stream();
    const cut = createBinaryCopyReader();
    cut.push(whole.subarray(0, whole.length - 5));
    expect(() => cut.finish()).toThrow(/cut short/);
    expect(() => createBinaryCopyReader().push(Buffer.from('1\t2\n'.repeat(10)))).toThrow(
      /not a binary COPY stream/,
    );
  });
});
