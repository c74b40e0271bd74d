import type { FlowJob, FlowJobNode } from 'bullmq';
import type { StepName } from '../db/schema/enums.js';
import { stepOrder } from '../pipeline/ledger/index.js';
import { jobOptionsFor } from './catalogue.js';
import { jobNameOf, runJobId, stepJobId } from './names.js';

/**
 * A run as a BullMQ flow: the run job is the parent of one chain per window, and in a chain each
 * step is the parent of the one before it (children run first): load ← transform ← validate ←
 * extract. A step that fails for good fails its chain and the run (failParentOnFailure); the
 * ledger records where. Pure: it only builds the description FlowProducer.add takes.
 */
export function buildRunFlow(
  run: { id: number; windowCount: number },
  backoffScale = 1,
  datasetShortName?: string,
): FlowJob {
  const windows = Array.from({ length: run.windowCount }, (_, windowIndex) =>
    buildChain(run.id, windowIndex, backoffScale, datasetShortName),
  );
  return {
    name: jobNameOf('run', datasetShortName),
    queueName: 'flows',
    data: { runId: run.id },
    opts: { jobId: runJobId(run.id), ...jobOptionsFor('run', backoffScale) },
    children: windows,
  };
}

function buildChain(
  runId: number,
  windowIndex: number,
  backoffScale: number,
  datasetShortName: string | undefined,
): FlowJobNode {
  let chain: FlowJobNode | undefined;
  for (const step of stepOrder)
    chain = stepNode(runId, windowIndex, step, backoffScale, chain, datasetShortName);
  return chain!;
}

function stepNode(
  runId: number,
  windowIndex: number,
  step: StepName,
  backoffScale: number,
  child: FlowJobNode | undefined,
  datasetShortName: string | undefined,
): FlowJobNode {
  const node = {
    name: jobNameOf(step, datasetShortName),
    queueName: step,
    data: { runId, windowIndex },
    opts: {
      jobId: stepJobId(runId, windowIndex, step),
      failParentOnFailure: true,
      ...jobOptionsFor(step, backoffScale),
    },
  };
  return child ? { ...node, children: [child] } : node;
}
