import {
  createRowValidator,
  type RejectReason,
  type TextRow,
} from '../../src/pipeline/validate-row.js';
import { policeLogPipeline } from '../../src/pipeline/targets/incidents.js';
import { normalizeStamp } from '../../src/pipeline/windows.js';

/**
 * The source's truth: what the incidents table must hold once the rows a source serves are
 * loaded. Per natural key, the valid row with the latest update stamp (on equal stamps, the later
 * in the source's order, which is `:id` order), transformed with the product's own transform.
 * Pure: the rows are given, so the rule is tested without servers.
 */

export interface TruthRow {
  id: string;
  stamp: string;
  /** The transform's values, in `incidentsTarget.columns` order. */
  values: ReadonlyArray<string | number | null>;
}

export interface Truth {
  rows: Map<string, TruthRow>;
  /** Rows the source served, valid or not. */
  served: number;
  /** Rows the validator refuses, by reason. */
  rejected: Map<RejectReason, number>;
  /** Valid rows that lost to a later version of their id. */
  superseded: number;
  /**
   * Every key the source serves, valid row or not, as the table keys it: a window read counts a
   * key as still there whatever its row is like, so none of these may be marked deleted.
   */
  servedKeys: Set<string>;
}

export type SourceRow = Record<string, unknown>;

const { source: definition, target } = policeLogPipeline;
const validate = createRowValidator(definition);

export function computeTruth(rows: Iterable<SourceRow>): Truth {
  const winners = new Map<
    string,
    { stamp: string; order: string; row: Record<string, string | null | undefined> }
  >();
  const rejected = new Map<RejectReason, number>();
  const servedKeys = new Set<string>();
  let served = 0;
  let superseded = 0;
  for (const row of rows) {
    served += 1;
    const servedKey = tableKeyOf(row[definition.naturalKey]);
    if (servedKey !== undefined) servedKeys.add(servedKey);
    const verdict = validate(row);
    if (!verdict.ok) {
      rejected.set(verdict.reason, (rejected.get(verdict.reason) ?? 0) + 1);
      continue;
    }
    // The table's key is a number: ids that differ only in leading zeros are one incident.
    const valid = verdict.row as TextRow;
    const key = BigInt(valid[definition.naturalKey]!).toString();
    const stamp = normalizeStamp(valid[definition.cursorField]!);
    const order = typeof row[':id'] === 'string' ? row[':id'] : '';
    const previous = winners.get(key);
    if (previous) {
      superseded += 1;
      const newer = stamp > previous.stamp || (stamp === previous.stamp && order > previous.order);
      if (!newer) continue;
    }
    winners.set(key, { stamp, order, row: valid });
  }
  const truthRows = new Map<string, TruthRow>();
  for (const [id, winner] of winners) {
    truthRows.set(id, { id, stamp: winner.stamp, values: target.transform(winner.row) });
  }
  return { rows: truthRows, served, rejected, superseded, servedKeys };
}

/** A source key as the table's numeric key prints it (`0098` is incident 98); others as given. */
export function tableKeyOf(value: unknown): string | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  return /^[0-9]+$/.test(value) ? BigInt(value).toString() : value;
}

export function countRejected(truth: Truth): number {
  let total = 0;
  for (const count of truth.rejected.values()) total += count;
  return total;
}
