/**
 * Whether a reconciliation's key listing is the whole dataset (pure). A listing is the truth only
 * when it is exact: any row it lacks would be marked deleted, so a listing cut short (a page that
 * came back empty, a body cut off and not noticed, paging that shifted because the source changed
 * while it ran) must be told from a complete one before anything is marked. Its pages overlap by
 * a row (joinOverlappingPage), which shows any shift between two pages; the source's own count,
 * asked just after the last page, shows a listing that ended early.
 *
 * The count is not also asked before: with the overlap, rows the source adds or removes while the
 * listing runs are either seen or shift the pages (and are caught), so a count taken before would
 * only make the listing of a busy dataset, whose count changes every minute, never exact.
 */

export interface KeyListingTally {
  /** `count(*)` of the source just after the listing's last page. */
  counted: number;
  /** Rows the listing returned. */
  listed: number;
  /** Distinct `:id` among them. */
  distinctIds: number;
  /** Rows without a `:id` (every Socrata row has one). */
  withoutId: number;
  /** Rows without the natural key. */
  withoutKey: number;
  /** The key's field name, for messages. */
  keyField: string;
}

export type KeyListingVerdict = { complete: true } | { complete: false; reason: string };

const formatCount = (value: number) => value.toLocaleString('en-US');

export function judgeKeyListing(tally: KeyListingTally): KeyListingVerdict {
  const { counted, listed, distinctIds, withoutId, withoutKey, keyField } = tally;
  if (listed !== counted) {
    return {
      complete: false,
      reason: `the listing returned ${formatCount(listed)} rows where the source counts ${formatCount(counted)}${listed < counted ? ' (cut short, or the source grew meanwhile)' : ' (the source removed rows meanwhile)'}`,
    };
  }
  if (withoutId > 0) {
    return {
      complete: false,
      reason: `${formatCount(withoutId)} rows of the listing have no :id, so it is not an answer to the key listing`,
    };
  }
  if (distinctIds !== listed) {
    return {
      complete: false,
      reason: `the listing repeats ${formatCount(listed - distinctIds)} rows (the same :id twice), so its pages shifted and others may be missing`,
    };
  }
  if (listed > 0 && withoutKey === listed) {
    return {
      complete: false,
      reason: `no row of the listing has the key field ${keyField}, so it is not this dataset's answer`,
    };
  }
  return { complete: true };
}

/**
 * Pages of a listing overlap by one row: each page after the first is asked for from the last row
 * of the one before, and must start with it. Offset paging skips a row, unseen by any count, when
 * the source removes one before the offset while adding one after it between two pages; the
 * overlap shows that shift (and an empty page) at once. Returns the page's new rows, or why the
 * listing cannot go on.
 */
export function joinOverlappingPage(
  previous: { lastId: string; endsAt: number },
  rows: readonly Record<string, unknown>[],
): { ok: true; rows: Record<string, unknown>[] } | { ok: false; reason: string } {
  const from = formatCount(previous.endsAt - 1);
  const first = rows[0];
  if (!first) {
    return {
      ok: false,
      reason: `the page from row ${from} came back empty after a full one (cut short)`,
    };
  }
  if (first[':id'] !== previous.lastId) {
    return {
      ok: false,
      reason: `the page from row ${from} does not start with the row the one before ended with (${previous.lastId}, found ${JSON.stringify(first[':id'] ?? null)}): the source changed while the listing ran`,
    };
  }
  return { ok: true, rows: rows.slice(1) };
}
