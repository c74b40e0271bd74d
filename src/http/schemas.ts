import { z } from 'zod';
import { runMode, runState, runTrigger, stepName } from '../db/schema/enums.js';
import { listDatasetPipelines } from '../pipeline/datasets.js';

/**
 * The API's shapes, in zod. Request schemas validate what clients send (strict: unknown fields
 * are refused) and, with the response schemas, are the source of /api/openapi.json, so the
 * document cannot drift from what the server accepts.
 */

export const backfillWindowSizes = ['day', 'week', 'month'] as const;

const dateField = (name: string, meaning: string) =>
  z.iso
    .date({
      error: (issue) =>
        issue.input === undefined
          ? `required: ${meaning}, a date like 2025-01-31`
          : `expected a real calendar date like 2025-01-31 (YYYY-MM-DD, no time), got ${JSON.stringify(issue.input)}`,
    })
    .describe(`${name}: ${meaning} (YYYY-MM-DD, local time in America/New_York)`);

const datasetNames = listDatasetPipelines().flatMap(({ source }) => [source.shortName, source.id]);

/** A dataset by short name or Socrata id; the routes default to SOCRATA_DATASET without one. */
const datasetField = z
  .enum(datasetNames as [string, ...string[]], {
    error: (issue) =>
      `expected a dataset: one of ${datasetNames.join(', ')}; got ${JSON.stringify(issue.input)}`,
  })
  .optional()
  .describe('the dataset, by short name or Socrata id; default the Police Log (SOCRATA_DATASET)');

export const backfillRequest = z
  .strictObject({
    from: dateField('from', 'the first day to load, inclusive'),
    to: dateField('to', 'the day after the last day to load (the range is [from, to))'),
    window: z
      .enum(backfillWindowSizes, {
        error: (issue) =>
          `expected one of ${backfillWindowSizes.join(', ')}, got ${JSON.stringify(issue.input)}`,
      })
      .default('month')
      .describe('how the range is cut into windows, each its own chain of steps; default month'),
    dataset: datasetField,
    allowDeletes: z
      .boolean({ error: 'expected true or false' })
      .optional()
      .describe(
        'confirm that a window may mark more than DELETE_GUARD of the rows held in it deleted (or all of them, when the source answers none); default false',
      ),
  })
  .meta({
    title: 'BackfillRequest',
    examples: [
      { from: '2025-01-01', to: '2026-01-01', window: 'month' },
      { dataset: 'crime-reports', from: '2024-01-01', to: '2025-01-01' },
    ],
  });
export type BackfillRequest = z.output<typeof backfillRequest>;

/** Retry takes no options; a body, if sent, must be an empty object. */
export const emptyRequest = z.strictObject({}).meta({ title: 'EmptyRequest' });

/** An incremental sync names its dataset, or none (SOCRATA_DATASET); no body means the default. */
export const syncRequest = z
  .strictObject({ dataset: datasetField })
  .meta({ title: 'SyncRequest', examples: [{}, { dataset: 'crime-reports' }] });

/** A reconciliation names its dataset, or none (SOCRATA_DATASET), and may confirm mass removals. */
export const reconciliationRequest = z
  .strictObject({
    dataset: datasetField,
    allowDeletes: z
      .boolean({ error: 'expected true or false' })
      .optional()
      .describe(
        'confirm that it may mark more than DELETE_GUARD of the rows we hold deleted (or all of them, when the source lists none); default false',
      ),
  })
  .meta({
    title: 'ReconciliationRequest',
    examples: [{}, { dataset: 'crime-reports' }, { allowDeletes: true }],
  });
export type ReconciliationRequest = z.output<typeof reconciliationRequest>;

const positiveId = (what: string) =>
  z
    .string({ error: `expected ${what}: a positive whole number` })
    .regex(/^[1-9]\d{0,14}$/, { error: `expected ${what}: a positive whole number` })
    .transform(Number);

export const runIdParams = z.strictObject({ id: positiveId('a run id').describe('the run id') });

export const maxPageSize = 200;
export const defaultPageSize = 50;

export const runListQuery = z.strictObject({
  limit: z
    .string({ error: `expected a whole number from 1 to ${maxPageSize}` })
    .regex(/^\d{1,4}$/, { error: `expected a whole number from 1 to ${maxPageSize}` })
    .transform(Number)
    .refine((value) => value >= 1 && value <= maxPageSize, {
      error: `expected a whole number from 1 to ${maxPageSize}`,
    })
    .optional()
    .describe(`runs per page, 1–${maxPageSize}; default ${defaultPageSize}`),
  state: z
    .enum(runState.enumValues, {
      error: (issue) =>
        `expected one of ${runState.enumValues.join(', ')}, got ${JSON.stringify(issue.input)}`,
    })
    .optional()
    .describe('only runs in this state'),
  before: positiveId('a run id to page from')
    .optional()
    .describe('the next page: runs older than this id (the `next` link gives it)'),
  dataset: datasetField.describe('only runs of this dataset (short name or Socrata id)'),
});
export type RunListQuery = z.output<typeof runListQuery>;

// ---- responses ------------------------------------------------------------------------------

const timestamp = z.iso.datetime();
const count = z.number().int().nonnegative();

export const runCounts = z.object({
  extracted: count,
  rejected: count,
  duplicate: count,
  inserted: count,
  updated: count,
  unchanged: count,
  deleted: count.describe(
    'rows we held that a complete window read no longer served: marked deleted',
  ),
  restored: count.describe('rows marked deleted earlier that the source served again'),
});

export const runSummary = z
  .object({
    id: z.number().int().positive(),
    dataset: z.string(),
    mode: z.enum(runMode.enumValues),
    trigger: z.enum(runTrigger.enumValues),
    state: z.enum(runState.enumValues),
    range: z
      .object({ from: z.iso.date(), to: z.iso.date(), window: z.string().nullable() })
      .nullable()
      .describe('window mode: the requested [from, to) and window size'),
    cursorFrom: z.string().nullable().describe('incremental mode: the source stamp it reads from'),
    windowCount: count,
    stepsCompleted: count,
    stepsTotal: count,
    counts: runCounts,
    error: z.string().nullable(),
    createdAt: timestamp,
    startedAt: timestamp.nullable(),
    endedAt: timestamp.nullable(),
    durationMs: z.number().int().nullable(),
    links: z.object({ self: z.string() }),
  })
  .meta({ title: 'RunSummary' });
export type RunSummary = z.output<typeof runSummary>;

export const runList = z
  .object({
    runs: z.array(runSummary).describe('newest first'),
    next: z.string().nullable().describe('the next page, or null on the last'),
  })
  .meta({ title: 'RunList' });

export const stepView = z.object({
  step: z.enum(stepName.enumValues),
  state: z.enum(runState.enumValues),
  attempts: count,
  rowsIn: count.nullable(),
  rowsOut: count.nullable(),
  counts: z.record(z.string(), count).nullable(),
  error: z.string().nullable(),
  jobId: z.string().nullable(),
  startedAt: timestamp.nullable(),
  endedAt: timestamp.nullable(),
  durationMs: z.number().int().nullable(),
});
export type StepView = z.output<typeof stepView>;

export const windowView = z.object({
  index: count,
  start: z.string().nullable().describe('floating local time, inclusive; null for incremental'),
  end: z.string().nullable().describe('floating local time, exclusive'),
  state: z
    .enum(runState.enumValues)
    .describe("the window's chain: failed if a step failed, completed if all did"),
  steps: z.array(stepView).describe('extract, validate, transform, load'),
});
export type WindowView = z.output<typeof windowView>;

export const runDetail = runSummary
  .extend({
    cursorTo: z.string().nullable(),
    sourceFieldsAdded: z.array(z.string()).nullable(),
    windows: z.array(windowView),
    rejected: z.object({
      total: count,
      byReason: z.array(z.object({ reason: z.string(), count })),
    }),
    links: z.object({ self: z.string(), retry: z.string(), bullBoard: z.string() }),
  })
  .meta({ title: 'RunDetail' });
export type RunDetail = z.output<typeof runDetail>;

const runLinks = z.object({
  self: z.string(),
  retry: z.string(),
  bullBoard: z.string().describe("the run's parent job in Bull Board"),
});

export const runAccepted = z
  .object({
    runId: z.number().int().positive(),
    created: z
      .boolean()
      .describe('false: an identical run was already active, and is returned instead'),
    state: z.enum(runState.enumValues),
    windows: count.describe('windows the run is cut into'),
    links: runLinks,
  })
  .meta({ title: 'RunAccepted' });
export type RunAccepted = z.output<typeof runAccepted>;

export const retryAccepted = z
  .object({
    runId: z.number().int().positive(),
    retried: z
      .array(z.string())
      .describe('job ids retried, failed steps first, then their ancestors'),
    state: z.enum(runState.enumValues),
    links: runLinks,
  })
  .meta({ title: 'RetryAccepted' });

export const errorResponse = z
  .object({
    error: z.object({
      code: z.string().describe('stable and machine-readable, e.g. request.invalid'),
      message: z.string().describe('what went wrong and what to do'),
      fields: z.array(z.object({ field: z.string(), message: z.string() })),
    }),
  })
  .meta({ title: 'Error' });

export const health = z
  .object({ status: z.literal('ok'), uptimeSeconds: z.number() })
  .meta({ title: 'Health' });

export const readiness = z
  .object({
    ready: z.boolean(),
    postgres: z.string().describe('"ok" or "down: <why>"'),
    redis: z.string().describe('"ok" or "down: <why>"'),
  })
  .meta({ title: 'Readiness' });
export type Readiness = z.output<typeof readiness>;
