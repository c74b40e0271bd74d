import { redactRunError } from '../pipeline/redact-run-error.js';
import { policeLog } from '../source/datasets/police-log.js';
import type { Freshness, RunHealth } from './queries.js';

/** How old the data is, in words, and times as the source's readers know them. Pure. */

const localTime = new Intl.DateTimeFormat('en-CA', {
  timeZone: policeLog.timeZone,
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});

/** `2026-01-15 16:05`, in the source's time zone (America/New_York). */
export function formatLocalTime(iso: string): string {
  const parts = Object.fromEntries(
    localTime.formatToParts(new Date(iso)).map((part) => [part.type, part.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}`;
}

const units: [limitMs: number, unitMs: number, name: string][] = [
  [3_600_000, 60_000, 'minute'],
  [86_400_000, 3_600_000, 'hour'],
  [14 * 86_400_000, 86_400_000, 'day'],
  [61 * 86_400_000, 7 * 86_400_000, 'week'],
  [730 * 86_400_000, 30.44 * 86_400_000, 'month'],
  [Number.POSITIVE_INFINITY, 365.25 * 86_400_000, 'year'],
];

/** "just now", "5 minutes ago", "3 days ago", "2 months ago"; "in the future" for clock skew. */
export function describeAge(iso: string, now: Date): string {
  const elapsed = now.getTime() - new Date(iso).getTime();
  if (elapsed < -60_000) return 'in the future';
  if (elapsed < 60_000) return 'just now';
  for (const [limit, unit, name] of units) {
    if (elapsed < limit) {
      const count = Math.floor(elapsed / unit);
      return `${count} ${name}${count === 1 ? '' : 's'} ago`;
    }
  }
  return 'long ago';
}

export interface FreshnessView extends Freshness {
  /** One line per fact, in words. */
  lines: { label: string; value: string }[];
  summary: string;
}

export function describeFreshness(freshness: Freshness, now: Date): FreshnessView {
  const when = (iso: string | null, never: string) =>
    iso ? `${describeAge(iso, now)} (${formatLocalTime(iso)})` : never;
  const lines = [
    { label: 'Latest incident', value: when(freshness.latestIncidentAt, 'none loaded yet') },
    {
      label: 'Latest source update',
      value: when(freshness.latestSourceUpdateAt, 'none loaded yet'),
    },
    {
      label: 'Last successful sync',
      value: when(freshness.lastSuccessfulSyncAt, 'never'),
    },
    { label: 'Incidents loaded', value: freshness.incidents.toLocaleString('en-US') },
  ];
  const summary = freshness.latestIncidentAt
    ? `Data through ${freshness.anchorDay}: the latest incident was ${describeAge(freshness.latestIncidentAt, now)}; ` +
      (freshness.lastSuccessfulSyncAt
        ? `last successful sync ${describeAge(freshness.lastSuccessfulSyncAt, now)}.`
        : 'no sync has succeeded yet.')
    : 'No incidents loaded yet: run cpd sync to fetch the police log.';
  return { ...freshness, lines, summary };
}

export interface RunView extends RunHealth {
  startedLocal: string;
  durationText: string;
}

export function describeRun(run: RunHealth): RunView {
  return {
    ...run,
    // The dashboard is public: a run's error as anonymous readers may see it.
    error: redactRunError(run.error),
    startedLocal: formatLocalTime(run.startedAt ?? run.createdAt),
    durationText: run.durationSeconds === null ? '—' : formatDuration(run.durationSeconds),
  };
}

function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  return minutes < 60
    ? `${minutes} min ${Math.round(seconds % 60)} s`
    : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}
