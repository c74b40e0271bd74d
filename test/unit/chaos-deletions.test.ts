import { describe, expect, it } from 'vitest';
import { accountIds, type HeldId } from '../chaos/deletions.js';
import { computeTruth } from '../chaos/truth.js';

const sourceRow = (id: string, overrides: Record<string, unknown> = {}) => ({
  ':id': `row-${id}`,
  date_time: '2025-06-15T14:30:00.000',
  id,
  type: 'INCIDENT',
  last_updated: '2025-07-01T10:00:00.000',
  ...overrides,
});
const held = (id: string, deleted = false): HeldId => ({ id, deleted });
const zero = { lost: 0, unexpected: 0, wronglyDeleted: 0, wronglyKept: 0 };

describe("the fault suite's deletion accounting", () => {
  const truth = computeTruth([sourceRow('1'), sourceRow('2'), sourceRow('3')]);

  it('finds nothing wrong when the table holds what the source serves and marks what it removed', () => {
    const result = accountIds(
      [held('1'), held('2'), held('3'), held('7', true)],
      truth,
      new Set(['7']),
    );
    expect(result).toEqual({ ...zero, examples: [] });
  });

  it('counts a row marked deleted that the source still serves as wrongly deleted, not lost', () => {
    const result = accountIds([held('1'), held('2', true), held('3')], truth);
    expect(result).toMatchObject({ ...zero, wronglyDeleted: 1 });
    expect(result.examples).toEqual(['wrongly deleted 2']);
  });

  it('counts a removed row that is not marked as wrongly kept, not unexpected', () => {
    const result = accountIds(
      [held('1'), held('2'), held('3'), held('7'), held('8', true)],
      truth,
      new Set(['7', '8']),
    );
    expect(result).toMatchObject({ ...zero, wronglyKept: 1 });
    expect(result.examples).toEqual(['wrongly kept 7']);
  });

  it('counts a removed row gone from the table as wrongly deleted: a mark, never a physical delete', () => {
    const result = accountIds([held('1'), held('2'), held('3')], truth, new Set(['7']));
    expect(result).toMatchObject({ ...zero, wronglyDeleted: 1 });
    expect(result.examples).toEqual(['wrongly deleted 7']);
  });

  it('treats a removed id the source serves again as served: it must be restored', () => {
    const back = computeTruth([sourceRow('1'), sourceRow('2'), sourceRow('3'), sourceRow('7')]);
    const kept = accountIds(
      [held('1'), held('2'), held('3'), held('7', true)],
      back,
      new Set(['7']),
    );
    expect(kept).toMatchObject({ ...zero, wronglyDeleted: 1 });
    const restored = accountIds([held('1'), held('2'), held('3'), held('7')], back, new Set(['7']));
    expect(restored).toMatchObject(zero);
  });

  it('accepts a row removed while the runs read the source either way, but not gone', () => {
    const rows = [held('1'), held('2'), held('3')];
    const pending = new Set(['7', '8']);
    expect(accountIds([...rows, held('7'), held('8', true)], truth, new Set(), pending)).toEqual({
      ...zero,
      examples: [],
    });
    expect(accountIds([...rows, held('7')], truth, new Set(), pending)).toMatchObject({
      ...zero,
      wronglyDeleted: 1,
    });
  });

  it('keeps lost and unexpected meaning what they did: a missing served row, a phantom marked or not', () => {
    const result = accountIds([held('1'), held('2'), held('9'), held('10', true)], truth);
    expect(result).toMatchObject({ ...zero, lost: 1, unexpected: 2 });
    expect(result.examples).toEqual(['lost 3', 'unexpected 9', 'unexpected 10']);
  });

  it('counts a key served only by an invalid row as served: marking it is a false alarm', () => {
    const withInvalid = computeTruth([
      sourceRow('1'),
      sourceRow('0002', { date_time: 'not a date' }),
    ]);
    expect(withInvalid.servedKeys).toEqual(new Set(['1', '2']));
    expect(accountIds([held('1'), held('2', true)], withInvalid)).toMatchObject({
      ...zero,
      wronglyDeleted: 1,
    });
    // Held and not marked, but with no valid row to match: unexpected, as before deletions.
    expect(accountIds([held('1'), held('2')], withInvalid)).toMatchObject({
      ...zero,
      unexpected: 1,
    });
  });

  it('gives at most three examples of each kind, in numeric order', () => {
    const many = ['12', '3', '11', '10', '4'].map((id) => held(id, true));
    const result = accountIds(many, computeTruth([]), new Set());
    expect(result.unexpected).toBe(5);
    expect(result.examples).toEqual(['unexpected 3', 'unexpected 4', 'unexpected 10']);
  });
});
