import type { FlowJob, FlowJobNode } from 'bullmq';
import type { StepName } from '../db/schema/enums.js';
import { stepOrder } from '../pipeline/ledger.js';
import { jobOptionsFor } from './catalogue.js';
import { runJobId, stepJobId } from './names.js';

/**
 * A run as a BullMQ flow: the run job is the parent of one chain per window, and in a chain each
 * step is the parent of the one before it (children run first): load ← transform ← validate ←
 * extract. A step that fails for good fails its chain and the run (failParentOnFailure); the
 * ledger records where. Pure: it only builds the description FlowProducer.add takes.
 */
export function buildRunFlow(run: { id: number; windowCount: number }, backoffScale = 1): FlowJob {
  const windows = Array.from({ length: run.windowCount }, (_, windowIndex) =>
    buildChain(run.id, windowIndex, backoffScale),
  );
  return {
    name: 'run',
    queueName: 'flows',
    data: { runId: run.id },
    opts: { jobId: runJobId(run.id), ...jobOptionsFor('run', backoffScale) },
    children: windows,
  };
}

function buildChain(runId: number, windowIndex: number, backoffScale: number): FlowJobNode {
  let chain: FlowJobNode | undefined;
  for (const step of stepOrder) chain = stepNode(runId, windowIndex, step, backoffScale, chain);
  return chain!;
}

function stepNode(
  runId: number,
  windowIndex: number,
  step: StepName,
  backoffScale: number,
  child: FlowJobNode | undefined,
): FlowJobNode {
  const node = {
    name: step,
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
