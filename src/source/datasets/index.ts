import { UserError } from '../../errors.js';
import type { DatasetDefinition } from '../dataset.js';
import { policeLog } from './police-log.js';

/** Every dataset this deployment can sync, by Socrata id. */
export const datasets: Record<string, DatasetDefinition> = {
  [policeLog.id]: policeLog,
};

export function getDataset(id: string): DatasetDefinition {
  const definition = datasets[id];
  if (!definition) {
    throw new UserError(
      'dataset.unknown',
      `no dataset definition for ${id}; known: ${Object.keys(datasets).join(', ')} (add one under src/source/datasets/)`,
    );
  }
  return definition;
}
