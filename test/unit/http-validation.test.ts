import { describe, expect, it } from 'vitest';
import { checkBackfillRange, localDateOf } from '../../src/http/backfill-rules.js';
import {
  backfillRequest,
  emptyRequest,
  runIdParams,
  runListQuery,
} from '../../src/http/schemas.js';
import { invalidRequest, parseInput } from '../../src/http/validation.js';

const limits = { today: '2026-01-15', maxDays: 3_660, timeZone: 'America/New_York' };

function fieldsOf(schema: Parameters<typeof parseInput>[0], input: unknown, root = 'body') {
  const parsed = parseInput(schema, input, root);
  return parsed.ok ? [] : parsed.fields;
}

describe('backfill requests', () => {
  it('takes from and to, and a window that defaults to month', () => {
    expect(parseInput(backfillRequest, { from: '2025-01-01', to: '2025-02-01' }, 'body')).toEqual({
      ok: true,
      value: { from: '2025-01-01', to: '2025-02-01', window: 'month' },
    });
    expect(
      parseInput(backfillRequest, { from: '2024-02-29', to: '2025-02-01', window: 'day' }, 'body')
        .ok,
    ).toBe(true);
  });

  it.each([
    [{ to: '2025-02-01' }, 'from', /required/],
    [{ from: 20250101, to: '2025-02-01' }, 'from', /real calendar date.*got 20250101/],
    [{ from: '2025-02-30', to: '2025-03-01' }, 'from', /real calendar date/],
    [{ from: '2025-01-01T00:00:00', to: '2025-03-01' }, 'from', /no time/],
    [{ from: '2025-1-1', to: '2025-03-01' }, 'from', /YYYY-MM-DD/],
    [{ from: '2025-01-01', to: null }, 'to', /real calendar date/],
    [
      { from: '2025-01-01', to: '2025-03-01', window: 'year' },
      'window',
      /one of day, week, month.*"year"/,
    ],
    [{ from: '2025-01-01', to: '2025-03-01', window: 'all' }, 'window', /one of day, week, month/],
    [
      { from: '2025-01-01', to: '2025-03-01', colour: 'red' },
      'colour',
      /unknown field; accepted: from, to, window/,
    ],
    [[], 'body', /expected a JSON object with from, to, window/],
    [undefined, 'body', /expected a JSON object/],
  ])('refuses %j, naming %s', (input, field, message) => {
    const fields = fieldsOf(backfillRequest, input);
    expect(fields).toHaveLength(1);
    expect(fields[0]!.field).toBe(field);
    expect(fields[0]!.message).toMatch(message);
  });

  it('names every bad field at once, each unknown field by name', () => {
    const fields = fieldsOf(backfillRequest, { from: 'yesterday', a: 1, b: 2 });
    expect(fields.map((problem) => problem.field).sort()).toEqual(['a', 'b', 'from', 'to']);
  });

  it('puts the fields in the message too', () => {
    const error = invalidRequest([{ field: 'to', message: 'must be after from' }]);
    expect(error).toMatchObject({
      status: 400,
      code: 'request.invalid',
      message: 'the request is invalid: to: must be after from',
    });
  });
});

describe('backfill range rules', () => {
  it('accepts an ordered range up to tomorrow', () => {
    expect(checkBackfillRange({ from: '2025-01-01', to: '2026-01-16' }, limits)).toEqual([]);
  });

  it('refuses a reversed or empty range, saying how to ask for one day', () => {
    for (const range of [
      { from: '2025-02-01', to: '2025-01-01' },
      { from: '2025-02-01', to: '2025-02-01' },
    ]) {
      const problems = checkBackfillRange(range, limits);
      expect(problems).toEqual([
        {
          field: 'to',
          message: expect.stringMatching(/must be after from.*to=2025-02-02/) as string,
        },
      ]);
    }
  });

  it('refuses an end in the future', () => {
    expect(checkBackfillRange({ from: '2025-01-01', to: '2026-01-17' }, limits)).toEqual([
      { field: 'to', message: expect.stringMatching(/future: at most 2026-01-16/) as string },
    ]);
  });

  it('refuses a span over the maximum, and says how long it was', () => {
    expect(
      checkBackfillRange({ from: '2015-01-01', to: '2025-01-02' }, { ...limits, maxDays: 3_000 }),
    ).toEqual([
      {
        field: 'from',
        message: expect.stringMatching(
          /spans 3,654 days; .* at most 3,000 \(BACKFILL_MAX_DAYS\)/,
        ) as string,
      },
    ]);
    expect(
      checkBackfillRange({ from: '2025-01-01', to: '2025-01-31' }, { ...limits, maxDays: 30 }),
    ).toEqual([]);
  });

  it("takes today in the source's time zone, not UTC", () => {
    // 02:00 UTC on the 16th is still the evening of the 15th in Cambridge.
    expect(localDateOf(new Date('2026-01-16T02:00:00Z'), 'America/New_York')).toBe('2026-01-15');
    expect(localDateOf(new Date('2026-01-16T06:00:00Z'), 'America/New_York')).toBe('2026-01-16');
  });
});

describe('other inputs', () => {
  it('takes an empty body for syncs and retries, and nothing else', () => {
    expect(parseInput(emptyRequest, {}, 'body').ok).toBe(true);
    expect(fieldsOf(emptyRequest, { force: true })).toEqual([
      { field: 'force', message: 'unknown field; no fields are accepted here' },
    ]);
  });

  it('reads run ids and list parameters from strings', () => {
    expect(parseInput(runIdParams, { id: '42' }, 'path')).toEqual({ ok: true, value: { id: 42 } });
    expect(
      parseInput(runListQuery, { limit: '10', state: 'failed', before: '99' }, 'query'),
    ).toEqual({
      ok: true,
      value: { limit: 10, state: 'failed', before: 99 },
    });
    expect(parseInput(runListQuery, {}, 'query')).toEqual({ ok: true, value: {} });
  });

  it.each([
    [runIdParams, { id: 'abc' }, 'id'],
    [runIdParams, { id: '0' }, 'id'],
    [runIdParams, { id: '1e3' }, 'id'],
    [runListQuery, { limit: '0' }, 'limit'],
    [runListQuery, { limit: '201' }, 'limit'],
    [runListQuery, { limit: ['1', '2'] }, 'limit'],
    [runListQuery, { state: 'done' }, 'state'],
    [runListQuery, { page: '2' }, 'page'],
  ])('refuses %#: %j', (schema, input, field) => {
    expect(fieldsOf(schema, input, 'query').map((problem) => problem.field)).toEqual([field]);
  });
});
