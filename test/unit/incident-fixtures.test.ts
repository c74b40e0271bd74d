import { describe, expect, it } from 'vitest';
import { buildIncident } from '../support/incident-fixtures.js';

// The view tests trust these rows to say what the source would; check the builder itself.
describe('buildIncident', () => {
  it('derives the instant and local parts of an ordinary wall time', () => {
    expect(
      buildIncident({
        id: 1,
        local: '2025-03-06T01:07',
        subtype: 'LARCENY FROM BUILDING C266 S20',
      }),
    ).toMatchObject({
      occurred_at: '2025-03-06T06:07:00.000Z',
      occurred_local: '2025-03-06 01:07',
      local_date: '2025-03-06',
      local_hour: 1,
      local_weekday: 4,
      local_time_kind: 'regular',
      offense: 'LARCENY FROM BUILDING',
      statute: 'C266 S20',
    });
  });

  it('reads a time in the spring-forward gap with the offset before it', () => {
    expect(buildIncident({ id: 1, local: '2025-03-09T02:30' })).toMatchObject({
      occurred_at: '2025-03-09T07:30:00.000Z',
      local_hour: 2,
      local_weekday: 7,
      local_time_kind: 'nonexistent',
    });
  });

  it('tells the two fall-back 01:30s apart', () => {
    const earlier = buildIncident({ id: 1, local: '2025-11-02T01:30', occurrence: 'earlier' });
    const later = buildIncident({ id: 2, local: '2025-11-02T01:30', occurrence: 'later' });
    expect([earlier.occurred_at, later.occurred_at]).toEqual([
      '2025-11-02T05:30:00.000Z',
      '2025-11-02T06:30:00.000Z',
    ]);
    expect([earlier.local_time_kind, later.local_time_kind]).toEqual(['ambiguous', 'ambiguous']);
    expect(later.local_hour).toBe(1);
  });

  it('splits an intersection and keeps a subtype without a statute whole', () => {
    expect(
      buildIncident({
        id: 1,
        local: '2025-06-01T12:00',
        location: 'MASSACHUSETTS AVE & WESTERN AVE',
        subtype: 'WARRANT ARREST',
      }),
    ).toMatchObject({
      location_street: 'MASSACHUSETTS AVE',
      location_cross_street: 'WESTERN AVE',
      offense: 'WARRANT ARREST',
      statute: null,
    });
  });
});
