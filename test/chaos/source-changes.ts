import type { FakeSoda, SodaRow } from '../support/fake-soda/index.js';

/**
 * Corrections published by the source: a share of its rows republished with an amended
 * narrative and a later stamp, as the real Police Log does. A load after this must update exactly
 * these rows; one that keeps the old content leaves them stale.
 */
export function publishCorrections(
  fake: FakeSoda,
  options: {
    share: number;
    random: () => number;
    stamp: string;
    tag: string;
    filter?: (row: SodaRow) => boolean;
  },
): number {
  const revised: SodaRow[] = [];
  for (const row of fake.listRows()) {
    if (options.filter && !options.filter(row)) continue;
    if (options.random() >= options.share) continue;
    const own = Object.fromEntries(Object.entries(row).filter(([name]) => !name.startsWith(':')));
    revised.push({
      ...own,
      description: `${own.description ?? ''} Correction ${options.tag}.`.trim(),
      last_updated: options.stamp,
    });
  }
  fake.upsertRows(revised);
  return revised.length;
}

/** A source stamp `hours` after a base, in the floating format the source publishes. */
export function stampAfter(base: string, hours: number): string {
  return new Date(Date.parse(`${base}Z`) + hours * 3_600_000).toISOString().slice(0, 23);
}
