import { UserError } from '../../errors.js';
import type { DatasetDefinition } from '../dataset.js';
import { crimeReports } from './crime-reports.js';
import { policeLog } from './police-log.js';
// cpd dataset scaffold: imports

/** Every dataset this deployment can sync, by Socrata id. */
export const datasets: Record<string, DatasetDefinition> = {
  [policeLog.id]: policeLog,
  [crimeReports.id]: crimeReports,
  // cpd dataset scaffold: definitions
};

/** The definition named by its Socrata id or its short name (`3gki-wyrb` or `police-log`). */
export function getDataset(idOrName: string): DatasetDefinition {
  const definition =
    datasets[idOrName] ??
    Object.values(datasets).find((candidate) => candidate.shortName === idOrName);
  if (!definition) {
    throw new UserError(
      'dataset.unknown',
      `no dataset ${JSON.stringify(idOrName)}; known: ${describeKnownDatasets()} (add one with cpd dataset scaffold, or under src/source/datasets/)`,
    );
  }
  return definition;
}

/** `police-log (3gki-wyrb), crime-reports (xuad-73uj)`, for messages. */
export function describeKnownDatasets(): string {
  return Object.values(datasets)
    .map((definition) => `${definition.shortName} (${definition.id})`)
    .join(', ');
}
