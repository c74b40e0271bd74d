import { once } from 'node:events';
import type { Writable } from 'node:stream';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { createLogger } from '../logger.js';
import { createSodaClientFromConfig, type SodaClientEvent } from '../source/client.js';
import { compareFields, describeFieldDrift } from '../source/dataset.js';
import { getDataset } from '../source/datasets/index.js';
import { windowQuery } from '../source/queries.js';
import { addDatasetOption, datasetOf } from './dataset-option.js';
import { runCommand } from './run-command.js';

/** Lines per write: large enough to be cheap, small enough that backpressure can act. */
const linesPerWrite = 1_000;

async function writeOut(stream: Writable, text: string): Promise<void> {
  if (!stream.write(text)) await once(stream, 'drain');
}

export function registerFetchCommand(program: Command): void {
  const command = program
    .command('fetch')
    .description(
      "Print a window's source rows as NDJSON on stdout, for inspection (needs no database or Redis)",
    );
  addDatasetOption(command)
    .requiredOption(
      '--from <date>',
      'start, inclusive: YYYY-MM-DD or YYYY-MM-DDTHH:mm:ss, local time of the dataset',
    )
    .requiredOption('--to <date>', 'end, exclusive, in the same form')
    .action(
      runCommand(
        'fetch',
        async (config, options: { from: string; to: string; dataset?: string }) => {
          const definition = getDataset(datasetOf(config, options));
          // Built before any request, so a bad date fails at once.
          const query = windowQuery(definition, options);
          const log = createLogger(config.LOG_LEVEL, { command: 'fetch', dataset: definition.id });
          const bar = process.stderr.isTTY
            ? new cliProgress.SingleBar(
                {
                  stream: process.stderr,
                  format: `${definition.id} [${options.from}, ${options.to}) {value} rows, {pages} pages, {retries} retries`,
                  hideCursor: true,
                },
                cliProgress.Presets.shades_classic,
              )
            : undefined;
          let rows = 0;
          let pages = 0;
          let retries = 0;
          const onEvent = (event: SodaClientEvent) => {
            if (event.type !== 'retry') return;
            retries += 1;
            if (bar) bar.update({ retries });
            else
              log.warn(
                { offset: event.offset, attempt: event.attempt, delayMs: event.delayMs },
                `retrying: ${event.reason}`,
              );
          };
          const client = createSodaClientFromConfig(config, onEvent);

          // A reader that goes away (`cpd fetch … | head`) ends the fetch quietly, as for any filter.
          const controller = new AbortController();
          let readerGone = false;
          process.stdout.on('error', () => {
            readerGone = true;
            controller.abort();
          });

          const started = performance.now();
          try {
            for await (const page of client.pages(definition.id, query, controller.signal)) {
              if (page.offset === 0) {
                const drift =
                  page.fields && describeFieldDrift(compareFields(definition, page.fields));
                if (drift) log.warn({ fields: page.fields }, drift);
                bar?.start(Number.POSITIVE_INFINITY, 0, { pages: 0, retries });
              }
              for (let i = 0; i < page.rows.length; i += linesPerWrite) {
                const lines = page.rows
                  .slice(i, i + linesPerWrite)
                  .map((row) => JSON.stringify(row));
                await writeOut(process.stdout, `${lines.join('\n')}\n`);
              }
              rows += page.rows.length;
              pages += 1;
              bar?.update(rows, { pages });
            }
            await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
          } catch (error) {
            if (readerGone) return 0;
            throw error;
          } finally {
            bar?.stop();
            // Retry warnings must reach stderr before the command's last line and exit.
            await new Promise<void>((resolve) => log.flush(() => resolve()));
          }
          const seconds = ((performance.now() - started) / 1000).toFixed(1);
          if (bar)
            process.stderr.write(
              `${rows} rows in ${pages} pages (${retries} retries) in ${seconds} s\n`,
            );
          else log.info({ rows, pages, retries, seconds: Number(seconds) }, `fetched ${rows} rows`);
          await new Promise<void>((resolve) => log.flush(() => resolve()));
        },
      ),
    );
}
