import type { RunTotals, StepTotals } from './ledger/index.js';

/** The end-of-run report `cpd sync` prints: pure, so it is tested without a run. */

const number = (value: number) => value.toLocaleString('en-US');
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export function formatRunSummary(run: RunTotals, steps: StepTotals[]): string {
  const header = ['step', 'windows', 'rows in', 'rows out', 'time', 'rows/s'];
  const body = steps.map((step) => [
    step.step,
    step.completed === step.windows ? `${step.windows}` : `${step.completed}/${step.windows}`,
    number(step.rowsIn),
    number(step.rowsOut),
    seconds(step.durationMs),
    step.durationMs > 0 ? number(Math.round((step.rowsIn / step.durationMs) * 1000)) : '–',
  ]);
  const widths = header.map((_, column) =>
    Math.max(...[header, ...body].map((row) => row[column]!.length)),
  );
  const line = (row: string[]) =>
    row
      .map((cell, column) =>
        column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!),
      )
      .join('  ');
  const table = [
    line(header),
    line(widths.map((width) => '─'.repeat(width))),
    ...body.map(line),
  ].join('\n');
  const outcome =
    `Run ${run.id} ${run.state} in ${seconds(run.durationMs ?? 0)}: ` +
    `${number(run.rowsExtracted)} rows read, ${number(run.rowsInserted)} inserted, ${number(run.rowsUpdated)} updated, ` +
    `${number(run.rowsUnchanged)} unchanged, ${number(run.rowsRejected)} rejected, ${number(run.rowsDuplicate)} duplicate ids superseded` +
    (run.rowsDeleted > 0 || run.rowsRestored > 0
      ? `; ${number(run.rowsDeleted)} no longer at the source (marked deleted), ${number(run.rowsRestored)} served again (restored).`
      : '.');
  const drift = run.sourceFieldsAdded?.length
    ? `\nThe source has fields the definition does not know: ${run.sourceFieldsAdded.join(', ')}.`
    : '';
  return `${table}\n\n${outcome}${drift}\n`;
}
