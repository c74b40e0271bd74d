import { describe, expect, it } from 'vitest';
import {
  crimeReportsTarget,
  transformCrimeReportRow,
} from '../../src/pipeline/targets/crime-reports.js';
import { createRowValidator } from '../../src/pipeline/validate-row.js';
import { crimeReports } from '../../src/source/datasets/crime-reports.js';
import { generateCrimeReports } from '../support/crime-reports-generator.js';

const validate = createRowValidator(crimeReports);
const asRecord = (row: Record<string, unknown>) => {
  const values = transformCrimeReportRow(row as never);
  return Object.fromEntries(
    crimeReportsTarget.columns.map((column, index) => [column, values[index]]),
  );
};

describe('Crime Reports rows', () => {
  it('validates every generated row and maps it to every column', () => {
    for (const row of generateCrimeReports({ seed: 2, rows: 2_000 })) {
      const verdict = validate({ ':id': 'row-abcd.efgh_ijkl', ...row });
      expect(verdict.ok, JSON.stringify(row)).toBe(true);
      if (verdict.ok)
        expect(transformCrimeReportRow(verdict.row)).toHaveLength(
          crimeReportsTarget.columns.length,
        );
    }
  });

  it('maps a real row (reference §7) with its instants, form and :updated_at', () => {
    expect(
      asRecord({
        ':id': 'row-2x9k.abcd_efgh',
        ':updated_at': '2024-07-01T14:05:00Z',
        file_number: '2009-01324',
        date_of_report: '2009-02-21T09:59:00.000',
        crime_date_time: '02/20/2009 22:30 - 02/21/2009 10:00',
        crime: 'Auto Theft',
        reporting_area: '1109',
        neighborhood: 'North Cambridge',
        location: '400 RINDGE AVE, Cambridge, MA',
        reporting_area_lat: '42.3946',
      }),
    ).toMatchObject({
      file_number: '2009-01324',
      source_row_id: 'row-2x9k.abcd_efgh',
      reported_at: '2009-02-21T09:59:00.000-05:00',
      reported_date: '2009-02-21',
      occurrence_form: 'range',
      occurred_date: '2009-02-20',
      occurred_hour: 22,
      occurred_weekday: 5,
      crime: 'Auto Theft',
      latitude: '42.3946',
      longitude: null,
      source_updated_at: '2024-07-01T14:05:00.000Z',
      source_updated_stamp: '2024-07-01T14:05:00.000Z',
    });
  });

  it('loads a report without a readable time, never rejecting it', () => {
    const row = {
      ':id': 'row-1',
      ':updated_at': '2024-07-01T14:05:00.000Z',
      file_number: '2024-00001',
      date_of_report: '2024-01-01T00:39:00.000',
      crime: 'OUI',
    };
    for (const [text, form] of [
      [undefined, 'missing'],
      ['01/01/2024', 'date_only'],
      ['soon', 'unreadable'],
    ] as const) {
      const candidate = text === undefined ? row : { ...row, crime_date_time: text };
      const verdict = validate(candidate);
      expect(verdict.ok).toBe(true);
      expect(asRecord(candidate)).toMatchObject({
        occurrence_form: form,
        occurred_from: null,
        occurred_to: null,
        occurred_time_kind: null,
      });
    }
  });

  it('rejects a row whose stamps or coordinates are not what their types say', () => {
    const row = {
      ':id': 'row-1',
      ':updated_at': '2024-07-01T14:05:00.000Z',
      file_number: '2024-00001',
      date_of_report: '2024-01-01T00:39:00.000',
      crime: 'OUI',
    };
    expect(validate({ ...row, ':updated_at': '2024-07-01T14:05:00.000' })).toMatchObject({
      ok: false,
      reason: 'bad_timestamp',
    });
    expect(validate({ ...row, reporting_area_lat: 'north' })).toMatchObject({
      ok: false,
      reason: 'not_a_number',
    });
    expect(validate({ ...row, file_number: undefined })).toMatchObject({
      ok: false,
      reason: 'missing_field',
    });
  });
});

describe('the other SODA types', () => {
  const validateAll = createRowValidator({
    id: 'abcd-1234',
    shortName: 'every-type',
    title: 'every type',
    fields: [
      { name: 'flag', type: 'checkbox', required: false },
      { name: 'site', type: 'point', required: false },
      { name: 'address', type: 'location', required: false },
      { name: 'link', type: 'url', required: false },
    ],
    naturalKey: ':id',
    cursorField: ':updated_at',
    windowField: ':created_at',
    timeZone: 'America/New_York',
  });

  it('takes JSON booleans and objects as SODA serves them, and refuses other shapes', () => {
    expect(
      validateAll({
        flag: true,
        site: { type: 'Point', coordinates: [-71.1, 42.37] },
        address: { latitude: '42.37', human_address: '{"address": ""}' },
        link: { url: 'http://example.org' },
      }).ok,
    ).toBe(true);
    expect(validateAll({}).ok).toBe(true);
    expect(validateAll({ flag: 'yes' })).toMatchObject({ ok: false });
    expect(validateAll({ site: { type: 'Point', coordinates: ['a', 'b'] } })).toMatchObject({
      ok: false,
    });
    expect(validateAll({ link: 'http://example.org' })).toMatchObject({
      ok: false,
      reason: 'wrong_type',
    });
  });
});
