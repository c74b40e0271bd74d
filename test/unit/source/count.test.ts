import { describe, expect, it } from 'vitest';
import { readCount } from '../../../src/source/client.js';

describe('readCount', () => {
  it('reads the one count of a count(*) answer', () => {
    expect(readCount([{ row_count: '7276' }])).toBe(7_276);
    expect(readCount([{ row_count: '0' }])).toBe(0);
    expect(readCount([{ row_count: 12 }])).toBe(12);
  });

  it('refuses anything else: no row, several, another column, not a whole number', () => {
    for (const answer of [
      [],
      [{ row_count: '1' }, { row_count: '2' }],
      [{ count: '7276' }],
      [{ row_count: '-1' }],
      [{ row_count: '12.5' }],
      [{ row_count: '' }],
      [{ id: '25001925', ':id': 'row-abcd.efgh_ijkl' }],
    ]) {
      expect(readCount(answer), JSON.stringify(answer)).toBeUndefined();
    }
  });
});
