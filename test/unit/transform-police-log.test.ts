import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { incidentsTarget, transformPoliceLogRow } from '../../src/pipeline/targets/incidents.js';
import { createRowValidator, type ValidRow } from '../../src/pipeline/validate-row.js';
import { formatRunSummary } from '../../src/pipeline/summary.js';
import { policeLog } from '../../src/source/datasets/police-log.js';

/** The 20 real rows from the reference pull (descriptions shortened, names replaced). */
const sample = JSON.parse(
  readFileSync(new URL('../fixtures/police-log-sample.json', import.meta.url), 'utf8'),
) as ValidRow[];

const asRecord = (row: ValidRow) =>
  Object.fromEntries(
    incidentsTarget.columns.map((column, index) => [column, transformPoliceLogRow(row)[index]]),
  );

describe('transformPoliceLogRow', () => {
  it('turns every real sample row into an incident that passes validation first', () => {
    const validate = createRowValidator(policeLog);
    for (const row of sample) {
      expect(validate(row).ok).toBe(true);
      expect(transformPoliceLogRow(row)).toHaveLength(incidentsTarget.columns.length);
    }
  });

  it('splits statute and intersection, trims padding, keeps the instant and the local parts', () => {
    const intersection = asRecord(sample.find((row) => row.id === '25001929')!);
    expect(intersection).toMatchObject({
      id: '25001929',
      occurred_at: '2025-03-06T10:01:00.000-05:00',
      occurred_local: '2025-03-06T10:01:00.000',
      local_date: '2025-03-06',
      local_hour: 10,
      local_weekday: 4,
      local_time_kind: 'regular',
      type: 'INCIDENT',
      subtype: 'LARCENY UNDER $1200 C266 S30(1)',
      offense: 'LARCENY UNDER $1200',
      statute: 'C266 S30(1)',
      location: 'MASSACHUSETTS AVE & WESTERN AVE',
      location_street: 'MASSACHUSETTS AVE',
      location_cross_street: 'WESTERN AVE',
      source_updated_at: '2025-03-11T09:35:52.000-04:00',
      source_updated_local: '2025-03-11T09:35:52.000',
    });
    const padded = asRecord(sample.find((row) => row.id === '25011431')!);
    expect(padded).toMatchObject({
      location: 'AMES ST',
      location_street: 'AMES ST',
      location_cross_street: null,
      description: null,
    });
    const noSubtype = asRecord(sample.find((row) => row.id === '25000010')!);
    expect(noSubtype).toMatchObject({ subtype: null, offense: null, statute: null });
  });

  it('lists content columns without the key or the raw cursor', () => {
    expect(incidentsTarget.contentColumns).not.toContain('id');
    expect(incidentsTarget.contentColumns).not.toContain('source_updated_local');
    expect(incidentsTarget.contentColumns).toContain('source_updated_at');
  });
});

describe('formatRunSummary', () => {
  it('shows per-step rows and time, and the outcome in words', () => {
    const text = formatRunSummary(
      {
        id: 7,
        state: 'completed',
        windowCount: 1,
        rowsExtracted: 10_000,
        rowsRejected: 3,
        rowsDuplicate: 65,
        rowsInserted: 9_932,
        rowsUpdated: 0,
        rowsUnchanged: 0,
        rowsDeleted: 0,
        rowsRestored: 0,
        sourceFieldsAdded: ['neighborhood'],
        error: null,
        durationMs: 2_500,
      },
      [
        {
          step: 'extract',
          rowsIn: 10_000,
          rowsOut: 10_000,
          durationMs: 500,
          windows: 1,
          completed: 1,
        },
      ],
    );
    expect(text).toMatch(/extract\s+1\s+10,000\s+10,000\s+0\.5 s\s+20,000/);
    expect(text).toMatch(/Run 7 completed in 2\.5 s: 10,000 rows read, 9,932 inserted/);
    expect(text).toMatch(/fields the definition does not know: neighborhood/);
  });

  it('says how many rows the source no longer serves and how many it served again', () => {
    const run = {
      id: 8,
      state: 'completed' as const,
      windowCount: 1,
      rowsExtracted: 960,
      rowsRejected: 0,
      rowsDuplicate: 0,
      rowsInserted: 0,
      rowsUpdated: 0,
      rowsUnchanged: 959,
      rowsDeleted: 40,
      rowsRestored: 1,
      sourceFieldsAdded: null,
      error: null,
      durationMs: 1_000,
    };
    expect(formatRunSummary(run, [])).toMatch(
      /959 unchanged, .*; 40 no longer at the source \(marked deleted\), 1 served again \(restored\)\./,
    );
    expect(formatRunSummary({ ...run, rowsDeleted: 0, rowsRestored: 0 }, [])).not.toMatch(
      /marked deleted/,
    );
  });
});
