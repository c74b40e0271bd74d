import type { DatasetDefinition } from '../dataset.js';

/**
 * Cambridge Police Department Daily Police Log. Facts behind the limits: shared/reference in the
 * design notes (descriptions up to ~1,500 characters, locations padded to 670).
 */
export const policeLog = {
  id: '3gki-wyrb',
  shortName: 'police-log',
  title: 'Cambridge Police Department Daily Police Log',
  fields: [
    { name: 'date_time', type: 'floating_timestamp', required: true },
    { name: 'id', type: 'text', required: true, maxLength: 15, format: 'integer' },
    { name: 'type', type: 'text', required: true, maxLength: 100 },
    { name: 'subtype', type: 'text', required: false, maxLength: 500 },
    { name: 'location', type: 'text', required: false, maxLength: 1_000 },
    { name: 'description', type: 'text', required: false, maxLength: 10_000 },
    { name: 'last_updated', type: 'floating_timestamp', required: true },
  ],
  naturalKey: 'id',
  cursorField: 'last_updated',
  windowField: 'date_time',
  timeZone: 'America/New_York',
} as const satisfies DatasetDefinition;
