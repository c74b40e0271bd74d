import { describe, expect, it } from 'vitest';
import { describeConnectionError } from '../../src/http/dependency.js';
import { toHistogramValues } from '../../src/http/ledger-histogram.js';

describe('ledger histograms', () => {
  it('turn per-bucket counts into cumulative buckets, +Inf, sum and count', () => {
    const values = toHistogramValues(
      'x_seconds',
      [1, 5],
      [{ labels: { step: 'load' }, counts: [2, 3, 1], sum: 17.5 }],
    );
    expect(values).toEqual([
      { metricName: 'x_seconds_bucket', labels: { step: 'load', le: 1 }, value: 2 },
      { metricName: 'x_seconds_bucket', labels: { step: 'load', le: 5 }, value: 5 },
      { metricName: 'x_seconds_bucket', labels: { step: 'load', le: '+Inf' }, value: 6 },
      { metricName: 'x_seconds_sum', labels: { step: 'load' }, value: 17.5 },
      { metricName: 'x_seconds_count', labels: { step: 'load' }, value: 6 },
    ]);
  });

  it('count missing buckets as empty', () => {
    const values = toHistogramValues('x', [1, 5], [{ labels: {}, counts: [], sum: 0 }]);
    expect(values.map((value) => value.value)).toEqual([0, 0, 0, 0, 0]);
  });
});

describe('connection errors', () => {
  it('say what kind of failure, never where', () => {
    expect(
      describeConnectionError(
        Object.assign(new Error('connect ECONNREFUSED 10.1.2.3:6379'), { code: 'ECONNREFUSED' }),
      ),
    ).toBe('connection refused');
    expect(describeConnectionError(new Error('WRONGPASS invalid username-password pair'))).toBe(
      'authentication failed',
    );
    const described = describeConnectionError(
      new Error('cannot reach redis://user:secret@cache.internal:6379 at 10.1.2.3:6379'),
    );
    expect(described).not.toMatch(/secret|10\.1\.2\.3|cache\.internal/);
  });
});
