import type { Command } from 'commander';

/**
 * `--dataset <name>`, as every command that works on one dataset takes it: a short name
 * (`crime-reports`) or a Socrata id (`xuad-73uj`); without it, SOCRATA_DATASET (the Police Log).
 */
export function addDatasetOption(command: Command): Command {
  return command.option(
    '--dataset <name>',
    'the dataset: a short name (police-log, crime-reports) or a Socrata id; default SOCRATA_DATASET',
  );
}

export function datasetOf(config: { SOCRATA_DATASET: string }, options: { dataset?: string }) {
  return options.dataset ?? config.SOCRATA_DATASET;
}
