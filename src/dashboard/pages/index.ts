import type { DatasetPage } from '../page-spec.js';
import { crimeReportsPage } from './crime-reports.js';
import { policeLogPage } from './police-log.js';

/** Every dataset's page, the Police Log (`/`) first. */
export const datasetPages: readonly DatasetPage[] = [policeLogPage, crimeReportsPage];
