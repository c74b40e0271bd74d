import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeCopyLine,
  decodeCopyValue,
  encodeCopyLine,
  encodeCopyValue,
} from '../../src/pipeline/copy-text.js';

describe('COPY text format', () => {
  it('escapes what would break a line or a column, and writes NULL as \\N', () => {
    expect(encodeCopyValue('a\tb\nc\\d\re')).toBe('a\\tb\\nc\\\\d\\re');
    expect(encodeCopyValue(null)).toBe('\\N');
    expect(encodeCopyValue(42)).toBe('42');
    expect(encodeCopyLine(['x', null, 3])).toBe('x\t\\N\t3\n');
  });

  it('decodes what PostgreSQL writes, octal and hex escapes included', () => {
    expect(decodeCopyValue('\\N')).toBeNull();
    expect(decodeCopyValue('a\\\\b\\tc\\101\\x42')).toBe('a\\b\tcAB');
  });

  it('round-trips any line of values (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.option(fc.string(), { nil: null }), { minLength: 1, maxLength: 6 }),
        (values) => {
          const line = encodeCopyLine(values);
          expect(line.endsWith('\n')).toBe(true);
          expect(line.slice(0, -1).includes('\n')).toBe(false);
          expect(decodeCopyLine(line.slice(0, -1))).toEqual(values);
        },
      ),
    );
  });
});
