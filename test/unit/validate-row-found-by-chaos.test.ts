import { describe, expect, it } from 'vitest';
import { createRowValidator, sanitizeForJsonb } from '../../src/pipeline/validate-row.js';
import { policeLog } from '../../src/source/datasets/police-log.js';

/** Regressions for rows the fault suite's bad-row corpus found (test/chaos/bad-rows.ts). */
const validate = createRowValidator(policeLog);
const good = {
  date_time: '2025-03-06T01:07:00.000',
  id: '25001925',
  type: 'INCIDENT',
  last_updated: '2025-03-11T09:35:52.000',
};

describe('timestamps the pipeline cannot place in time', () => {
  it.each([
    ['1850-06-15T14:30:00.000', 'date_time'],
    ['1899-12-31T23:59:59.000', 'date_time'],
    ['0000-06-15T14:30:00.000', 'date_time'],
    ['1850-06-15T14:30:00.000', 'last_updated'],
  ])('refuses %s in %s as a bad timestamp, saying why', (stamp, field) => {
    const verdict = validate({ ...good, [field]: stamp });
    expect(verdict).toMatchObject({ ok: false, reason: 'bad_timestamp' });
    if (!verdict.ok) expect(verdict.detail).toContain(`${field} is before 1900`);
  });

  it('accepts 1900 and later', () => {
    expect(validate({ ...good, date_time: '1900-01-01T00:00:00.000' }).ok).toBe(true);
    expect(validate({ ...good, date_time: '2999-12-31T23:59:59' }).ok).toBe(true);
  });
});

describe('sanitizeForJsonb and lone surrogates', () => {
  it('replaces a lone surrogate, in values and keys, and says so', () => {
    expect(sanitizeForJsonb({ a: 'x\ud800y', ['k\udc00']: ['\udbff'] })).toEqual({
      value: { a: 'x\uFFFDy', 'k\uFFFD': ['\uFFFD'] },
      replaced: true,
    });
  });

  it('keeps a surrogate pair (an emoji) as it is', () => {
    expect(sanitizeForJsonb({ a: 'police 🚓' })).toEqual({
      value: { a: 'police 🚓' },
      replaced: false,
    });
  });
});
