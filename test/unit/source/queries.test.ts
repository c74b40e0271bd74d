import { describe, expect, it } from 'vitest';
import { UserError } from '../../../src/errors.js';
import type { DatasetDefinition } from '../../../src/source/dataset.js';
import { crimeReports } from '../../../src/source/datasets/crime-reports.js';
import { policeLog } from '../../../src/source/datasets/police-log.js';
import {
  incrementalQuery,
  keyListingQuery,
  normalizeFloatingTimestamp,
  windowQuery,
} from '../../../src/source/queries.js';

describe('normalizeFloatingTimestamp', () => {
  it('accepts dates and partial times, in the canonical form Socrata returns', () => {
    expect(normalizeFloatingTimestamp('2025-03-09')).toBe('2025-03-09T00:00:00.000');
    expect(normalizeFloatingTimestamp('2025-03-09T02:30')).toBe('2025-03-09T02:30:00.000');
    expect(normalizeFloatingTimestamp('2025-03-09T02:30:15')).toBe('2025-03-09T02:30:15.000');
    expect(normalizeFloatingTimestamp('2025-03-09T02:30:15.5')).toBe('2025-03-09T02:30:15.500');
    expect(normalizeFloatingTimestamp('2025-03-09T02:30:15.123')).toBe('2025-03-09T02:30:15.123');
    expect(normalizeFloatingTimestamp('2024-02-29')).toBe('2024-02-29T00:00:00.000');
  });

  it('refuses what is not a real calendar time', () => {
    for (const bad of [
      '2025-02-29',
      '2025-13-01',
      '2025-04-31',
      '2025-01-01T24:00',
      '2025-1-1',
      'yesterday',
      '',
      "2025-01-01' OR '1",
    ]) {
      expect(normalizeFloatingTimestamp(bad), bad).toBeUndefined();
    }
  });
});

describe('windowQuery', () => {
  it('selects the window [from, to) on the window field, ordered by :id', () => {
    expect(windowQuery(policeLog, { from: '2025-03-01', to: '2025-04-01T12:00' })).toEqual({
      select: ':*, *',
      where: "date_time >= '2025-03-01T00:00:00.000' AND date_time < '2025-04-01T12:00:00.000'",
      order: ':id',
    });
  });

  it('refuses bad dates and empty windows with a message naming the option', () => {
    expect(() => windowQuery(policeLog, { from: '2025-02-30', to: '2025-04-01' })).toThrow(
      /--from "2025-02-30" is not a date/,
    );
    expect(() => windowQuery(policeLog, { from: '2025-01-01', to: 'soon' })).toThrow(
      /--to "soon" is not a date/,
    );
    expect(() => windowQuery(policeLog, { from: '2025-04-01', to: '2025-04-01' })).toThrow(
      /not before --to/,
    );
    const reversed = () => windowQuery(policeLog, { from: '2025-05-01', to: '2025-04-01' });
    expect(reversed).toThrow(UserError);
    expect(reversed).toThrow(expect.objectContaining({ code: 'query.empty-window' }));
  });
});

describe('incrementalQuery', () => {
  it('follows the cursor field with :id as tie-breaker', () => {
    expect(incrementalQuery(policeLog, { since: '2025-06-01T15:00:07' })).toEqual({
      select: ':*, *',
      where: "last_updated >= '2025-06-01T15:00:07.000'",
      order: 'last_updated, :id',
    });
  });

  it('reads everything when there is no cursor yet', () => {
    expect(incrementalQuery(policeLog, {})).toEqual({
      select: ':*, *',
      order: 'last_updated, :id',
    });
  });
});

describe('keyListingQuery', () => {
  it('selects the key the definition names and :id, nothing else, ordered by :id', () => {
    expect(keyListingQuery(policeLog)).toEqual({ select: 'id, :id', order: ':id' });
    expect(keyListingQuery(crimeReports)).toEqual({ select: 'file_number, :id', order: ':id' });
  });

  it('lists :id once for a dataset keyed by it', () => {
    const keyedByRow: DatasetDefinition = { ...policeLog, naturalKey: ':id' };
    expect(keyListingQuery(keyedByRow)).toEqual({ select: ':id', order: ':id' });
  });
});
