import { describe, expect, it } from 'vitest';
import { validateChunk, transformChunk } from '../../src/pipeline/chunks.js';
import { decodeCopyLine } from '../../src/pipeline/copy-text.js';
import { createRawRowEncoder } from '../../src/pipeline/raw-rows.js';
import { transformPoliceLogRow } from '../../src/pipeline/targets/incidents.js';
import { policeLog } from '../../src/source/datasets/police-log.js';
import { generatePoliceLog } from '../support/police-log-generator.js';

/** Raw staging COPY text of the rows, as extract writes it and copyChunksOut reads it back. */
function rawChunk(rows: Record<string, unknown>[]): Buffer {
  const encode = createRawRowEncoder(policeLog);
  return Buffer.from(rows.map((row, index) => encode(index + 1, row)).join(''));
}

const good = {
  date_time: '2025-06-03T10:00:00.000',
  id: '1',
  type: 'INCIDENT',
  last_updated: '2025-06-04T10:00:00.000',
};

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
    const { rows: count, rejections } = validateChunk(policeLog.id, rawChunk(rows));
    expect(count).toBe(55);
    expect(
      rejections.map(({ rowNumber, reason, sourceKey }) => [rowNumber, reason, sourceKey]),
    ).toEqual([
      [51, 'non_numeric_id', 'A12'],
      [52, 'nul_byte', '2'],
      [53, 'bad_timestamp', '3'],
      [54, 'wrong_type', '4'],
      [55, 'missing_field', '7'],
    ]);
    // Everything the source sent, as jsonb can hold it (the NUL shown as U+FFFD, and said so).
    expect(JSON.parse(rejections[1]!.payloadJson)).toEqual({ ...good, id: '2', type: 'NUL\uFFFD' });
    expect(rejections[1]!.detail).toMatch(/U\+FFFD/);
    expect(JSON.parse(rejections[3]!.payloadJson)).toEqual({
      ...good,
      id: '4',
      description: 12,
      note: 'extra',
    });
  });
});

describe('transformChunk', () => {
  it("writes each row's transform as a clean staging line, row number first", () => {
    const rows = [...generatePoliceLog({ seed: 9, rows: 40 })];
    const { output, rows: count } = transformChunk(policeLog.id, rawChunk(rows));
    expect(count).toBe(40);
    const lines = output.toString('utf8').split('\n');
    expect(lines.pop()).toBe('');
    expect(lines.map(decodeCopyLine)).toEqual(
      rows.map((row, index) => [
        String(index + 1),
        ...transformPoliceLogRow(row).map((value) => (value === null ? null : String(value))),
      ]),
    );
  });
});
