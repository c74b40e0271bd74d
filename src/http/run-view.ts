import type { RunState } from '../db/schema/enums.js';
import { stepOrder, stepsOfRun, type RunListRow, type StepRow } from '../pipeline/ledger/index.js';
import type { RunSummary, StepView, WindowView } from './schemas.js';

/** Ledger rows as the API shows them. Pure. */

export const runPath = (id: number) => `/api/runs/${id}`;

export function runLinks(id: number, bullBoardPath: string) {
  return {
    self: runPath(id),
    retry: `${runPath(id)}/retry`,
    bullBoard: `${bullBoardPath}/queue/flows/run-${id}`,
  };
}

export function toRunSummary(row: RunListRow): RunSummary {
  return {
    id: row.id,
    dataset: row.dataset,
    mode: row.mode,
    trigger: row.trigger,
    state: row.state,
    range:
      row.rangeFrom && row.rangeTo
        ? { from: row.rangeFrom, to: row.rangeTo, window: row.windowSize }
        : null,
    cursorFrom: row.cursorFrom,
    windowCount: row.windowCount,
    stepsCompleted: row.stepsCompleted,
    stepsTotal: stepsOfRun(row.windowCount),
    counts: {
      extracted: row.rowsExtracted,
      rejected: row.rowsRejected,
      duplicate: row.rowsDuplicate,
      inserted: row.rowsInserted,
      updated: row.rowsUpdated,
      unchanged: row.rowsUnchanged,
      deleted: row.rowsDeleted,
      restored: row.rowsRestored,
    },
    error: row.error,
    createdAt: row.createdAt.toISOString(),
    startedAt: row.startedAt?.toISOString() ?? null,
    endedAt: row.endedAt?.toISOString() ?? null,
    durationMs: row.durationMs,
    links: { self: runPath(row.id) },
  };
}

/**
 * A chain's state from its steps': a failure anywhere is the chain's; otherwise the step in
 * progress says what the chain is doing; all completed is completed.
 */
export function chainState(states: readonly RunState[]): RunState {
  for (const state of ['crashed', 'failed', 'cancelled', 'running', 'retrying'] as const) {
    if (states.includes(state)) return state;
  }
  if (states.length > 0 && states.every((state) => state === 'completed')) return 'completed';
  if (states.includes('completed')) return 'running';
  return states.includes('pending') ? 'pending' : 'scheduled';
}

/** Steps grouped by window, in window order and then in the order the chain runs them. */
export function groupStepsByWindow(rows: readonly StepRow[]): WindowView[] {
  const windows = new Map<
    number,
    { start: string | null; end: string | null; steps: StepView[] }
  >();
  const sorted = [...rows].sort(
    (a, b) =>
      a.windowIndex - b.windowIndex || stepOrder.indexOf(a.step) - stepOrder.indexOf(b.step),
  );
  for (const row of sorted) {
    const { windowIndex, windowStart, windowEnd, startedAt, endedAt, ...step } = row;
    let window = windows.get(windowIndex);
    if (!window)
      windows.set(windowIndex, (window = { start: windowStart, end: windowEnd, steps: [] }));
    window.steps.push({
      ...step,
      startedAt: startedAt?.toISOString() ?? null,
      endedAt: endedAt?.toISOString() ?? null,
    });
  }
  return [...windows].map(([index, window]) => ({
    index,
    start: window.start,
    end: window.end,
    state: chainState(window.steps.map((step) => step.state)),
    steps: window.steps,
  }));
}
