import { buildIncident, type IncidentInput, type IncidentRow } from './incident-fixtures.js';

/**
 * A small history whose analytics were worked out by hand (the numbers are in
 * test/integration/analytics-views.test.ts). The anchor day is Wednesday 2025-11-05, so:
 * last 30 days = 2025-10-07 … 11-05; current 28 days = 10-09 … 11-05; previous 28 = 09-11 … 10-08.
 * It has both DST days: 2025-03-09 (02:30 does not exist) and 2025-11-02 (01:30 happens twice),
 * and evening incidents whose UTC instant falls on the next day.
 */
export const fixtureAnchorDay = '2025-11-05';

export function buildAnalyticsFixture(): IncidentRow[] {
  const rows: IncidentRow[] = [];
  let nextId = 25_000_001;
  const add = (count: number, input: Omit<IncidentInput, 'id'>) => {
    for (let i = 0; i < count; i += 1) rows.push(buildIncident({ id: nextId++, ...input }));
  };
  const noon = (day: string) => `${day}T12:00`;

  // Saturday evening: 2025-03-09 02:15 UTC, but the source's day is the 8th.
  add(1, { local: '2025-03-08T21:15', location: 'BROADWAY' });
  // In the spring-forward gap.
  add(1, { local: '2025-03-09T02:30', location: 'BROADWAY' });
  add(2, { local: noon('2025-03-10') });
  add(3, {
    local: noon('2025-03-14'),
    type: 'SP',
    subtype: 'SPECIAL PATROL',
    location: 'CAMBRIDGE ST & HAMPSHIRE ST',
  });

  const traffic = { type: 'TRAFFIC', subtype: 'MOTOR VEHICLE CRASH' };
  add(1, { local: noon('2025-09-10'), ...traffic }); // anchor − 56: in neither 28-day window
  add(1, { local: noon('2025-09-11'), ...traffic }); // anchor − 55: previous window starts
  add(1, { local: noon('2025-10-07'), ...traffic }); // anchor − 29: last 30 days start
  add(7, { local: noon('2025-10-08'), ...traffic }); // anchor − 28: previous window ends
  add(1, { local: noon('2025-10-09'), ...traffic }); // anchor − 27: current window starts

  const arrest = { type: 'ARREST', subtype: 'WARRANT ARREST', location: null };
  add(3, { local: noon('2025-10-06'), ...arrest }); // anchor − 30: not in the last 30 days
  add(10, { local: noon('2025-10-20'), ...arrest });

  const assist = { type: 'ASSIST', subtype: 'ASSIST OTHER AGENCY', location: 'MAIN ST' };
  add(4, { local: noon('2025-09-15'), ...assist });
  add(16, { local: noon('2025-10-31'), ...assist });

  add(1, { local: noon('2025-10-01'), subtype: null });
  // Fall-back night: the same wall time twice, then an evening that is the 3rd in UTC.
  add(1, { local: '2025-11-02T01:30', occurrence: 'earlier', location: 'BROADWAY' });
  add(1, { local: '2025-11-02T01:30', occurrence: 'later', location: 'BROADWAY' });
  add(1, { local: '2025-11-02T23:30', location: 'BROADWAY' });
  add(1, { local: noon(fixtureAnchorDay), sourceUpdatedAt: '2025-11-07T20:30:00.000Z' });
  return rows;
}
