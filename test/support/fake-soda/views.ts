import type { ColumnDefinition } from './store.js';

/**
 * Socrata's metadata document, `GET /api/views/<id>.json`, as the reference records it
 * (shared/reference/crime-reports.md §8): the keys a client reads, with `columns[]` listing only
 * the dataset's real columns (no system fields) in the metadata's own type names.
 */
export interface ViewColumn {
  id: number;
  name: string;
  dataTypeName: string;
  fieldName: string;
  position: number;
  renderTypeName: string;
  tableColumnId: number;
  description?: string;
  format?: Record<string, string>;
}

export interface ViewDocument {
  id: string;
  name: string;
  assetType: string;
  viewType: string;
  displayType?: string;
  createdAt: number;
  rowsUpdatedAt: number;
  viewLastModified: number;
  newBackend?: boolean;
  columns: ViewColumn[];
  metadata: { rowIdentifier: string | number; custom_fields?: Record<string, unknown> };
  [key: string]: unknown;
}

/** The pipeline's type names (X-SODA2-Types) → the metadata's (`dataTypeName`). */
const viewTypeNames: Record<string, string> = {
  text: 'text',
  number: 'number',
  floating_timestamp: 'calendar_date',
  fixed_timestamp: 'date',
  checkbox: 'checkbox',
  point: 'point',
  location: 'location',
  url: 'url',
};

/** `file_number` → `File Number`, as Socrata's display names read. */
function displayName(fieldName: string): string {
  return fieldName
    .split('_')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join(' ');
}

export function buildViewDocument(
  id: string,
  name: string,
  columns: readonly ColumnDefinition[],
): ViewDocument {
  // Fixed figures, not the clock: the document is the same on every run.
  const stamp = 1_735_700_000;
  return {
    id,
    name,
    assetType: 'dataset',
    viewType: 'tabular',
    displayType: 'table',
    createdAt: stamp - 86_400 * 365,
    rowsUpdatedAt: stamp,
    viewLastModified: stamp,
    newBackend: true,
    provenance: 'official',
    columns: columns
      .filter((column) => !column.name.startsWith(':'))
      .map((column, index) => ({
        id: 500_000 + index,
        name: displayName(column.name),
        dataTypeName: viewTypeNames[column.type] ?? 'text',
        fieldName: column.name,
        position: index + 1,
        renderTypeName: viewTypeNames[column.type] ?? 'text',
        tableColumnId: 900_000 + index,
        format: {},
      })),
    metadata: { rowIdentifier: '0' },
    rights: ['read'],
    flags: ['default', 'restorable'],
  };
}
