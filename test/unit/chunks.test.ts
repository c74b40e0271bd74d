import { describe, expect, it } from 'vitest';
import { forEachPiece, transformChunk, validateChunk } from '../../src/pipeline/chunks.js';
import { decodeCopyLine } from '../../src/pipeline/copy-text.js';
import { policeLogPipeline, transformPoliceLogRow } from '../../src/pipeline/targets/incidents.js';
import { policeLog } from '../../src/source/datasets/police-log.js';
import { generatePoliceLog } from '../support/police-log-generator.js';

/** A staged chunk as extract writes it: the source's JSON lines as one array. */
function rawChunk(rows: unknown[]): Buffer {
  return Buffer.from(`[${rows.map((row) => JSON.stringify(row)).join('\n,')}]`);
}

const good = {
  date_time: '2025-06-03T10:00:00.000',
  id: '1',
  type: 'INCIDENT',
  last_updated: '2025-06-04T10:00:00.000',
};

/** The keys table's lines as values: row number, key, stamp, valid, reason, detail, payload. */
function keyRows(keyLines: string): Array<Array<string | null>> {
  return keyLines
    .split('\n')
    .filter((line) => line !== '')
    .map(decodeCopyLine);
}

describe('validateChunk', () => {
  it('counts every row and returns the bad ones with reason, key and payload', () => {
    const rows = [
      ...generatePoliceLog({ seed: 5, rows: 50 }),
      { ...good, id: 'A12' },
      { ...good, id: '2', type: 'NUL\u0000' },
      { ...good, id: '3', date_time: '2025-02-30T10:00:00.000' },
      { ...good, id: '4', description: 12, note: 'extra' },
      { id: '7' },
    ];
    const chunk = validateChunk(policeLog, rawChunk(rows), 1, rows.length);
    expect(chunk.rows).toBe(55);
    expect(chunk.rejected).toEqual([
      'non_numeric_id',
      'nul_byte',
      'bad_timestamp',
      'wrong_type',
      'missing_field',
    ]);
    const keys = keyRows(chunk.keyLines);
    expect(keys).toHaveLength(55);
    const bad = keys.filter((row) => row[3] === 'f');
    expect(bad.map(([rowNumber, key, , , reason]) => [rowNumber, reason, key])).toEqual([
      ['51', 'non_numeric_id', 'A12'],
      ['52', 'nul_byte', '2'],
      ['53', 'bad_timestamp', '3'],
      ['54', 'wrong_type', '4'],
      ['55', 'missing_field', '7'],
    ]);
    // Every good row keeps its key and stamp for the ranking of repeated ids.
    expect(keys[0]!.slice(0, 4)).toEqual(['1', rows[0]!.id, rows[0]!.last_updated, 't']);
    // Everything the source sent, as jsonb can hold it (the NUL shown as U+FFFD, and said so).
    expect(JSON.parse(bad[1]![6]!)).toEqual({ ...good, id: '2', type: 'NUL\uFFFD' });
    expect(bad[1]![5]).toMatch(/U\+FFFD/);
    expect(JSON.parse(bad[3]![6]!)).toEqual({ ...good, id: '4', description: 12, note: 'extra' });
  });

  it('quarantines a line that is not JSON with its text, and keeps the rest', () => {
    const text = `[${JSON.stringify(good)}\n,{"id":"2",broken}\n,${JSON.stringify({ ...good, id: '3' })}]`;
    const chunk = validateChunk(policeLog, Buffer.from(text), 10, 3);
    expect(chunk.rejected).toEqual(['malformed_json']);
    const keys = keyRows(chunk.keyLines);
    expect(keys.map((row) => [row[0], row[3]])).toEqual([
      ['10', 't'],
      ['11', 'f'],
      ['12', 't'],
    ]);
    expect(JSON.parse(keys[1]![6]!)).toBe('{"id":"2",broken}');
  });

  it('refuses a chunk whose row count differs from what extract counted', () => {
    expect(() => forEachPiece(rawChunk([good, good]), 1, 3, () => undefined)).toThrow(
      /holds 2 rows/,
    );
  });
});

describe('transformChunk', () => {
  it("writes each kept row's transform as a clean staging line, row number first", () => {
    const rows = [...generatePoliceLog({ seed: 9, rows: 40 })];
    const skipped = { rows: Int32Array.from([3, 7, 40]), at: 0 };
    const { pieces, rows: count } = transformChunk(
      policeLogPipeline,
      rawChunk(rows),
      1,
      40,
      skipped,
    );
    expect(count).toBe(37);
    const lines = Buffer.concat(pieces).toString('utf8').split('\n');
    expect(lines.pop()).toBe('');
    expect(lines.map(decodeCopyLine)).toEqual(
      rows
        .map((row, index) => [
          String(index + 1),
          ...transformPoliceLogRow(row).map((value) => (value === null ? null : String(value))),
        ])
        .filter(([rowNumber]) => !['3', '7', '40'].includes(rowNumber!)),
    );
  });
});
