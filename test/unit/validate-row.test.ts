import { describe, expect, it } from 'vitest';
import { createRowValidator, sanitizeForJsonb } from '../../src/pipeline/validate-row.js';
import { policeLog } from '../../src/source/datasets/police-log.js';

const validate = createRowValidator(policeLog);
const good = {
  ':id': 'row-abcd.efgh_ijkl',
  date_time: '2025-03-06T01:07:00.000',
  id: '25001925',
  type: 'INCIDENT',
  subtype: 'LARCENY FROM BUILDING C266 S20',
  location: 'NEWPORT RD',
  description: 'Police responded to the 0 block of Newport Rd.',
  last_updated: '2025-03-11T09:35:52.000',
};

describe('createRowValidator', () => {
  it('accepts a good row, keeping only the defined fields', () => {
    const verdict = validate(good);
    expect(verdict.ok).toBe(true);
    if (verdict.ok)
      expect(Object.keys(verdict.row).sort()).toEqual([
        'date_time',
        'description',
        'id',
        'last_updated',
        'location',
        'subtype',
        'type',
      ]);
  });

  it('accepts absent and null optional fields', () => {
    const { subtype: _subtype, ...withoutSubtype } = good;
    expect(validate(withoutSubtype).ok).toBe(true);
    expect(validate({ ...good, description: null }).ok).toBe(true);
  });

  it.each([
    ['missing_field', { ...good, date_time: undefined }],
    ['missing_field', { ...good, type: null }],
    ['missing_field', { ...good, type: '  ' }],
    ['wrong_type', { ...good, type: 12 }],
    ['wrong_type', { ...good, location: ['A'] }],
    ['bad_timestamp', { ...good, date_time: '2025-02-30T00:00:00.000' }],
    ['bad_timestamp', { ...good, last_updated: '03/11/2025' }],
    ['non_numeric_id', { ...good, id: '25-001925' }],
    ['text_too_long', { ...good, description: 'x'.repeat(10_001) }],
    ['nul_byte', { ...good, subtype: 'A\u0000B' }],
    ['not_an_object', ['a row']],
    ['not_an_object', null],
  ])('rejects %s', (reason, row) => {
    const verdict = validate(row);
    expect(verdict.ok).toBe(false);
    if (!verdict.ok) {
      expect(verdict.reason).toBe(reason);
      expect(verdict.detail.length).toBeGreaterThan(5);
    }
  });

  it('names every problem in the detail, the first as the reason', () => {
    const verdict = validate({ ...good, id: 'x', date_time: 'y' });
    expect(verdict).toMatchObject({ ok: false, reason: 'bad_timestamp' });
    if (!verdict.ok) expect(verdict.detail).toMatch(/date_time .*; id /);
  });
});

describe('sanitizeForJsonb', () => {
  it('replaces NULs anywhere and says so', () => {
    expect(sanitizeForJsonb({ a: 'x\u0000', 'k\u0000': ['\u0000'] })).toEqual({
      value: { a: 'x\uFFFD', 'k\uFFFD': ['\uFFFD'] },
      replaced: true,
    });
    expect(sanitizeForJsonb({ a: 'x' })).toEqual({ value: { a: 'x' }, replaced: false });
  });
});
