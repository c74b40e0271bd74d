import { describe, expect, it } from 'vitest';
import type { RunState, StepName } from '../../src/db/schema/enums.js';
import { chainState, groupStepsByWindow, toRunSummary } from '../../src/http/run-view.js';
import type { RunListRow, StepRow } from '../../src/pipeline/ledger/index.js';

function step(windowIndex: number, name: StepName, state: RunState): StepRow {
  return {
    windowIndex,
    windowStart: `2025-0${windowIndex + 1}-01T00:00:00`,
    windowEnd: `2025-0${windowIndex + 2}-01T00:00:00`,
    step: name,
    state,
    attempts: state === 'scheduled' ? 0 : 1,
    rowsIn: null,
    rowsOut: null,
    counts: null,
    error: state === 'failed' ? 'source refused' : null,
    jobId: null,
    startedAt: state === 'scheduled' ? null : new Date('2026-01-01T00:00:00Z'),
    endedAt: null,
    durationMs: null,
  };
}

describe('chain state', () => {
  it.each<[RunState[], RunState]>([
    [['completed', 'completed', 'completed', 'completed'], 'completed'],
    [['failed', 'scheduled', 'scheduled', 'scheduled'], 'failed'],
    [['completed', 'running', 'scheduled', 'scheduled'], 'running'],
    [['completed', 'retrying', 'scheduled', 'scheduled'], 'retrying'],
    [['completed', 'scheduled', 'scheduled', 'scheduled'], 'running'],
    [['scheduled', 'scheduled', 'scheduled', 'scheduled'], 'scheduled'],
    [['pending', 'scheduled', 'scheduled', 'scheduled'], 'pending'],
    [['completed', 'crashed', 'scheduled', 'scheduled'], 'crashed'],
  ])('%j is %s', (states, expected) => {
    expect(chainState(states)).toBe(expected);
  });
});

describe('steps by window', () => {
  it('groups in window order, steps in chain order, whatever order they come in', () => {
    const rows = [
      step(1, 'load', 'scheduled'),
      step(0, 'validate', 'completed'),
      step(1, 'extract', 'failed'),
      step(0, 'extract', 'completed'),
    ];
    const windows = groupStepsByWindow(rows);
    expect(
      windows.map((window) => ({
        index: window.index,
        state: window.state,
        steps: window.steps.map((s) => s.step),
      })),
    ).toEqual([
      { index: 0, state: 'completed', steps: ['extract', 'validate'] },
      { index: 1, state: 'failed', steps: ['extract', 'load'] },
    ]);
    expect(windows[1]).toMatchObject({ start: '2025-02-01T00:00:00', end: '2025-03-01T00:00:00' });
    expect(windows[1]!.steps[0]).toMatchObject({
      error: 'source refused',
      startedAt: '2026-01-01T00:00:00.000Z',
      endedAt: null,
    });
    expect(windows[1]!.steps[0]).not.toHaveProperty('windowIndex');
  });
});

describe('run summaries', () => {
  it('show the range of a window run, the counts, and progress in steps', () => {
    const row: RunListRow = {
      id: 7,
      dataset: '3gki-wyrb',
      mode: 'window',
      trigger: 'api',
      state: 'running',
      rangeFrom: '2025-01-01',
      rangeTo: '2025-04-01',
      windowSize: 'month',
      cursorFrom: null,
      windowCount: 3,
      stepsCompleted: 5,
      rowsExtracted: 10,
      rowsRejected: 1,
      rowsDuplicate: 0,
      rowsInserted: 9,
      rowsUpdated: 0,
      rowsUnchanged: 0,
      rowsDeleted: 2,
      rowsRestored: 1,
      error: null,
      createdAt: new Date('2026-01-01T00:00:00Z'),
      startedAt: null,
      endedAt: null,
      durationMs: null,
    };
    expect(toRunSummary(row)).toMatchObject({
      id: 7,
      range: { from: '2025-01-01', to: '2025-04-01', window: 'month' },
      stepsCompleted: 5,
      stepsTotal: 12,
      counts: { extracted: 10, rejected: 1, inserted: 9, deleted: 2, restored: 1 },
      createdAt: '2026-01-01T00:00:00.000Z',
      startedAt: null,
      links: { self: '/api/runs/7' },
    });
    expect(
      toRunSummary({ ...row, mode: 'incremental', rangeFrom: null, rangeTo: null }).range,
    ).toBeNull();
  });
});
