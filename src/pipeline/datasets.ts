import { UserError } from '../errors.js';
import type { DatasetPipeline } from './target.js';
import { policeLogPipeline } from './targets/incidents.js';

/** Every dataset this deployment can sync: its source definition and where it lands. */
const pipelines: Record<string, DatasetPipeline> = {
  [policeLogPipeline.source.id]: policeLogPipeline,
};

export function getDatasetPipeline(datasetId: string): DatasetPipeline {
  const pipeline = pipelines[datasetId];
  if (!pipeline) {
    throw new UserError(
      'dataset.unknown',
      `no pipeline for dataset ${datasetId} (SOCRATA_DATASET); known: ${Object.keys(pipelines).join(', ')}. Add one in src/pipeline/datasets.ts`,
    );
  }
  return pipeline;
}
