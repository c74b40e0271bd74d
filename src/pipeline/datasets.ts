import { UserError } from '../errors.js';
import { describeKnownDatasets } from '../source/datasets/index.js';
import type { DatasetPipeline } from './target.js';
import { crimeReportsPipeline } from './targets/crime-reports.js';
import { policeLogPipeline } from './targets/incidents.js';
// cpd dataset scaffold: imports

/** Every dataset this deployment can sync: its source definition and where it lands. */
const pipelines: DatasetPipeline[] = [
  policeLogPipeline,
  crimeReportsPipeline,
  // cpd dataset scaffold: pipelines
];

const byId = new Map(pipelines.map((pipeline) => [pipeline.source.id, pipeline]));

/** The pipeline of a dataset named by its Socrata id or short name (`xuad-73uj`, `crime-reports`). */
export function getDatasetPipeline(idOrName: string): DatasetPipeline {
  const pipeline =
    byId.get(idOrName) ?? pipelines.find((candidate) => candidate.source.shortName === idOrName);
  if (!pipeline) {
    throw new UserError(
      'dataset.unknown',
      `no pipeline for dataset ${idOrName}; known: ${describeKnownDatasets()}. Register one in src/pipeline/datasets.ts`,
    );
  }
  return pipeline;
}

/** Every registered pipeline. */
export function listDatasetPipelines(): readonly DatasetPipeline[] {
  return pipelines;
}
