import { incidentUnit } from '../charts.js';
import { loadPoliceLogData, type PoliceLogFacts } from '../data.js';
import { describeFreshness } from '../freshness.js';
import type { DatasetPage, SectionSpec } from '../page-spec.js';

/** The Police Log's page: `/`, the first dataset's. */

const sections: SectionSpec[] = [
  {
    id: 'past30',
    title: 'Past 30 days',
    note: 'The 30 days to {anchor}, the day of the latest incident. Follows the type filter, not the date range.',
    cards: [
      { id: 'past30-daily', title: 'Incidents by day' },
      { id: 'past30-types', title: 'Incidents by type' },
      { id: 'past30-hours', title: 'Incidents by hour of day' },
    ],
  },
  {
    id: 'history',
    title: 'All history',
    note: 'Every incident loaded. Follows the type filter, not the date range.',
    cards: [
      { id: 'history-monthly', title: 'Incidents by month' },
      { id: 'history-types', title: 'Incidents by type' },
      { id: 'history-hours', title: 'Incidents by hour of day' },
    ],
  },
  {
    id: 'range',
    title: 'Selected range',
    note: 'Follows both the date range and the type filter.',
    cards: [
      { id: 'range-daily', title: 'Daily incidents with 7- and 28-day averages', wide: true },
      { id: 'range-grid', title: 'Weekly rhythm: hour of day by weekday' },
      { id: 'range-locations', title: 'Top locations' },
    ],
  },
  {
    id: 'changes-section',
    title: 'Significant changes',
    note: 'Each type’s last 28 days to {anchor} against the 28 days before, as a Poisson z-score 2·(√current − √previous); |z| ≥ 3 is flagged. Covers every type, whatever the filters.',
    cards: [{ id: 'changes', title: 'Change by type (z-score)', wide: true }],
  },
];

export const policeLogPage: DatasetPage<PoliceLogFacts> = {
  name: 'police-log',
  sourceId: '3gki-wyrb',
  path: '/',
  dataPath: '/dashboard/data',
  label: 'Police Log',
  title: 'CPD Incident Trends',
  lede: 'Cambridge (MA) Police Department Daily Police Log',
  unit: incidentUnit,
  typeLabel: 'Incident type',
  filterHint:
    'The date range applies to “Selected range”; the type applies to every chart but “Significant changes”. Past 30 days and all history keep their own dates.',
  totalLabels: { range: 'Selected range', past30Days: 'Past 30 days', allHistory: 'All history' },
  sections,
  loadData: loadPoliceLogData,
  describeFreshness: (facts, lastSuccessfulSyncAt, now) =>
    describeFreshness({ ...facts, lastSuccessfulSyncAt }, now),
};
