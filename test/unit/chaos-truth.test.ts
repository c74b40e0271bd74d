import { describe, expect, it } from 'vitest';
import { incidentsTarget } from '../../src/pipeline/targets/incidents.js';
import { buildBadRowCorpus, loadedIdOf } from '../chaos/bad-rows.js';
import { computeTruth, countRejected } from '../chaos/truth.js';

const row = (overrides: Record<string, unknown>) => ({
  ':id': 'row-aaaa',
  date_time: '2025-06-15T14:30:00.000',
  id: '25000001',
  type: 'INCIDENT',
  last_updated: '2025-07-01T10:00:00.000',
  ...overrides,
});
const descriptionOf = (values: ReadonlyArray<unknown>) =>
  values[incidentsTarget.columns.indexOf('description')];

describe("the fault suite's truth", () => {
  it('keeps, per id, the valid row with the latest stamp, wherever it comes', () => {
    const truth = computeTruth([
      row({ description: 'newer', last_updated: '2025-07-02T10:00:00.000' }),
      row({ description: 'older' }),
      row({ id: '25000002', description: 'alone' }),
    ]);
    expect(truth.rows.size).toBe(2);
    expect(descriptionOf(truth.rows.get('25000001')!.values)).toBe('newer');
    expect(truth.superseded).toBe(1);
  });

  it('breaks a tie of stamps by the source order (:id), as the pipeline does', () => {
    const truth = computeTruth([
      row({ ':id': 'row-bbbb', description: 'later in order' }),
      row({ ':id': 'row-aaaa', description: 'earlier in order' }),
    ]);
    expect(descriptionOf(truth.rows.get('25000001')!.values)).toBe('later in order');
  });

  it('ignores invalid rows, even a newer version of a valid one, and counts them by reason', () => {
    const truth = computeTruth([
      row({ description: 'valid' }),
      row({ date_time: 'not a date', last_updated: '2025-09-01T00:00:00.000' }),
      row({ id: 'x1', description: 'bad id' }),
    ]);
    expect(descriptionOf(truth.rows.get('25000001')!.values)).toBe('valid');
    expect(Object.fromEntries(truth.rejected)).toEqual({ bad_timestamp: 1, non_numeric_id: 1 });
    expect(countRejected(truth)).toBe(2);
    expect(truth.served).toBe(3);
  });

  it('keys on the number the table keys on: ids differing in leading zeros are one incident', () => {
    const truth = computeTruth([
      row({ id: '0025000001', description: 'padded, older' }),
      row({ description: 'newer', last_updated: '2025-07-02T10:00:00.000' }),
    ]);
    expect([...truth.rows.keys()]).toEqual(['25000001']);
    expect(descriptionOf(truth.rows.get('25000001')!.values)).toBe('newer');
  });
});

describe('the bad-row corpus', () => {
  const corpus = buildBadRowCorpus();

  it('has at least 30 kinds, each named once, each with an expectation', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(30);
    expect(new Set(corpus.map((kind) => kind.name)).size).toBe(corpus.length);
    for (const kind of corpus) {
      expect(kind.expect.loaded ?? kind.expect.rejected, kind.name).toBeDefined();
      expect(
        kind.rows.every((row) => row.chaos_kind === kind.name || Object.keys(row).length === 1),
      ).toBe(true);
    }
  });

  it('covers what the issue names: missing and extra fields, wrong types, timestamps, sizes, NUL, Unicode, duplicates', () => {
    const names = corpus.map((kind) => kind.name).join('\n');
    for (const topic of [
      /missing/,
      /extra field/,
      /as a JSON number/,
      /DST/,
      /10,001/,
      /NUL/,
      /surrogate/,
      /right-to-left/,
      /emoji/,
      /duplicate id/,
    ]) {
      expect(names).toMatch(topic);
    }
  });

  it('gives every loaded kind an id of its own', () => {
    const ids = corpus.filter((kind) => kind.expect.loaded).map(loadedIdOf);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
