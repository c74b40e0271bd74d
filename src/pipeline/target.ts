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
  /** Template of the per-window staging table transform writes (`staging.<name>`). */
  cleanTemplate: string;
  /**
   * Columns transform produces, in the order `transform` returns values. They exist in both the
   * clean template and the target table, except `cursorColumn`, which exists only in staging.
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
  /** Stored column holding the source's window field: a window read is the truth for the rows whose value is in it. */
  windowColumn: string;
  /** Pure: one validated source row → the values of `columns`. */
  transform(row: ValidRow): ReadonlyArray<string | number | null>;
}

export interface DatasetPipeline {
  source: DatasetDefinition;
  /** Template of the per-window raw staging table: `row_number`, one text column per source field, `extra_fields`, `raw_json`. */
  rawTemplate: string;
  target: TargetTable;
}
