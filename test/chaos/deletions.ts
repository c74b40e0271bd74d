import type { Truth } from './truth.js';

/**
 * The table's ids against the source's truth, deletions included. Pure: the ids the table holds
 * (and whether each is marked deleted) are given, so every rule is tested without servers.
 *
 * A row the source removed must stay in the table, marked deleted; a row it serves must not be
 * marked. So an id falls in exactly one of these:
 * - served by the source (any row, valid or not, carries its key): held and not marked, or it was
 *   *wrongly deleted*; held without a valid row to match, it is *unexpected*;
 * - removed by the source (and known to be, `removed`): marked deleted, or it was *wrongly kept*;
 *   no longer held at all, it was *wrongly deleted* (physically);
 * - removed while the runs read the source (`pending`): the read of its window may have come
 *   before or after, so marked or not are both right, but it must still be held;
 * - neither: a phantom, *unexpected*, marked or not.
 * A valid id of the source's that the table does not hold is *lost*.
 */
export interface HeldId {
  id: string;
  deleted: boolean;
}

export interface IdAccounting {
  lost: number;
  unexpected: number;
  /** Rows marked deleted that the source still serves, and removed rows physically gone. */
  wronglyDeleted: number;
  /** Rows the source removed before the last complete read of their window, not marked deleted. */
  wronglyKept: number;
  /** A few ids of each kind, for the report of a failure. */
  examples: string[];
}

const examplesPerKind = 3;

export function accountIds(
  held: Iterable<HeldId>,
  truth: Pick<Truth, 'rows' | 'servedKeys'>,
  /** Ids the table held that the source has removed since; an id served again is not one. */
  removed: ReadonlySet<string> = new Set(),
  /** Ids the table held that the source removed while the runs were reading it. */
  pending: ReadonlySet<string> = new Set(),
): IdAccounting {
  const found: Record<'lost' | 'unexpected' | 'wronglyDeleted' | 'wronglyKept', string[]> = {
    lost: [],
    unexpected: [],
    wronglyDeleted: [],
    wronglyKept: [],
  };
  const holding = new Set<string>();
  for (const { id, deleted } of held) {
    holding.add(id);
    if (truth.servedKeys.has(id)) {
      if (deleted) found.wronglyDeleted.push(id);
      else if (!truth.rows.has(id)) found.unexpected.push(id);
    } else if (removed.has(id)) {
      if (!deleted) found.wronglyKept.push(id);
    } else if (!pending.has(id)) found.unexpected.push(id);
  }
  for (const id of truth.rows.keys()) if (!holding.has(id)) found.lost.push(id);
  for (const id of new Set([...removed, ...pending]))
    if (!holding.has(id) && !truth.servedKeys.has(id)) found.wronglyDeleted.push(id);

  const labels = {
    lost: 'lost',
    unexpected: 'unexpected',
    wronglyDeleted: 'wrongly deleted',
    wronglyKept: 'wrongly kept',
  } as const;
  const examples = (Object.keys(labels) as (keyof typeof labels)[]).flatMap((kind) =>
    found[kind]
      .sort(byNumber)
      .slice(0, examplesPerKind)
      .map((id) => `${labels[kind]} ${id}`),
  );
  return {
    lost: found.lost.length,
    unexpected: found.unexpected.length,
    wronglyDeleted: found.wronglyDeleted.length,
    wronglyKept: found.wronglyKept.length,
    examples,
  };
}

function byNumber(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}
