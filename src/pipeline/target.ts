import type { DatasetDefinition } from '../source/dataset.js';
import type { ValidRow } from './validate-row.js';

/**
 * Where a dataset lands and how its rows get there. Together with the source definition this is
 * all a dataset needs: the steps and the load SQL are generic over it.
 */
export interface TargetTable {
  /** The table rows are upserted into, keyed by `keyColumn`. */
  table: string;
  keyColumn: string;
  /**
   * Stored column holding the window field in the form window bounds use (floating local time):
   * what a complete window read is compared with (`incidents.occurred_local`).
   */
  windowColumn: string;
  /**
   * Columns transform produces, in the order `transform` returns values. They exist in the target
   * table (whose shape the clean staging table takes), except `cursorColumn`, which exists only
   * in staging.
   */
  columns: readonly string[];
  /** Columns compared to decide whether a row changed (all produced columns but key and cursor). */
  contentColumns: readonly string[];
  /** Staging column holding the source's update stamp as published: its maximum becomes the cursor. */
  cursorColumn: string;
  /**
   * Stored column holding the source's update instant: a staged version older than the stored
   * one never replaces it (two runs over the same rows may commit in either order).
   */
  versionColumn: string;
  /** Pure: one validated source row → the values of `columns`. */
  transform(row: ValidRow): ReadonlyArray<string | number | null>;
}

export interface DatasetPipeline {
  source: DatasetDefinition;
  target: TargetTable;
}
