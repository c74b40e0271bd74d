import { z } from 'zod';
import {
  backfillRequest,
  emptyRequest,
  errorResponse,
  health,
  readiness,
  reconciliationRequest,
  retryAccepted,
  runAccepted,
  runDetail,
  runIdParams,
  runList,
  runListQuery,
} from './schemas.js';

/**
 * /api/openapi.json (OpenAPI 3.1, whose schemas are JSON Schema 2020-12), generated from the zod
 * schemas the server validates with. Pure; built once at start.
 */

type JsonSchema = Record<string, unknown> & {
  properties?: Record<string, unknown>;
  required?: string[];
};

/** A request schema as clients must send it, a response schema as the server sends it. */
export function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io,
  }) as JsonSchema;
  return rest;
}

function parametersOf(schema: z.ZodType, location: 'query' | 'path') {
  const object = jsonSchemaOf(schema, 'input');
  return Object.entries(object.properties ?? {}).map(([name, property]) => {
    const { description, ...propertySchema } = property as { description?: string };
    return {
      name,
      in: location,
      required: location === 'path' || (object.required ?? []).includes(name),
      ...(description !== undefined && { description }),
      schema: propertySchema,
    };
  });
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (name: string) => ({ content: { 'application/json': { schema: ref(name) } } });
const problem = (description: string) => ({ description, ...json('Error') });

const writeProblems = {
  '401': problem('no admin token, or a wrong one (Authorization: Bearer <ADMIN_TOKEN>)'),
  '403': problem('no ADMIN_TOKEN is set and the request is not from this machine'),
  '413': problem('body larger than 16 kB'),
  '415': problem('body not JSON'),
  '429': problem('too many writes from this client; see the RateLimit headers'),
  '503': problem('Redis (the job queue) or PostgreSQL cannot be reached; nothing was enqueued'),
};

const runAcceptedResponses = {
  '202': {
    description: 'a new run, enqueued',
    headers: { Location: { schema: { type: 'string' }, description: 'the run: GET it to follow' } },
    ...json('RunAccepted'),
  },
  '200': {
    description: 'an identical run is already active: that run, and no new work',
    ...json('RunAccepted'),
  },
};

export function buildOpenApiDocument(info: { version: string }) {
  const admin = [{ adminToken: [] }];
  return {
    openapi: '3.1.0',
    info: {
      title: 'cpd: Cambridge Police Log pipeline',
      version: info.version,
      description:
        'Enqueue backfills, syncs and reconciliations, follow runs and retry failed ones. Writes need `Authorization: Bearer <ADMIN_TOKEN>`; reads are open. Errors are `{ error: { code, message, fields } }`.',
    },
    components: {
      securitySchemes: {
        adminToken: { type: 'http', scheme: 'bearer', description: 'the value of ADMIN_TOKEN' },
      },
      schemas: {
        BackfillRequest: jsonSchemaOf(backfillRequest, 'input'),
        EmptyRequest: jsonSchemaOf(emptyRequest, 'input'),
        ReconciliationRequest: jsonSchemaOf(reconciliationRequest, 'input'),
        RunAccepted: jsonSchemaOf(runAccepted, 'output'),
        RetryAccepted: jsonSchemaOf(retryAccepted, 'output'),
        RunList: jsonSchemaOf(runList, 'output'),
        RunDetail: jsonSchemaOf(runDetail, 'output'),
        Error: jsonSchemaOf(errorResponse, 'output'),
        Health: jsonSchemaOf(health, 'output'),
        Readiness: jsonSchemaOf(readiness, 'output'),
      },
    },
    paths: {
      '/api/backfills': {
        post: {
          operationId: 'requestBackfill',
          summary: 'Backfill a date range',
          description:
            'Cuts [from, to) into windows and enqueues one chain of steps per window. The same range while a run for it is active returns that run (200) instead of a new one.',
          security: admin,
          requestBody: { required: true, ...json('BackfillRequest') },
          responses: {
            ...runAcceptedResponses,
            '400': problem('a field is missing or wrong; `fields` says which and why'),
            ...writeProblems,
          },
        },
      },
      '/api/syncs': {
        post: {
          operationId: 'requestSync',
          summary: 'Run an incremental sync now',
          description:
            'Everything the source changed since the cursor (minus the look-back). While one is active, returns it (200).',
          security: admin,
          requestBody: { required: false, ...json('EmptyRequest') },
          responses: {
            ...runAcceptedResponses,
            '400': problem('the body had fields; it takes none'),
            ...writeProblems,
          },
        },
      },
      '/api/reconciliations': {
        post: {
          operationId: 'requestReconciliation',
          summary: 'Notice rows the source removed',
          description:
            'Enqueues a reconciliation: one chain of steps that lists only the keys of the whole dataset (`$select=<key>, :id`, a few requests) and marks deleted the rows we hold that the listing lacks (kept, left out of the counts), restoring rows it lists again. A listing that is not exact (pages overlapping by a row, compared with the source’s count) marks nothing. More than DELETE_GUARD of the rows held, or an empty listing, fails the run unless `allowDeletes` is true. While one is active for the dataset, returns it (200).',
          security: admin,
          requestBody: { required: false, ...json('ReconciliationRequest') },
          responses: {
            ...runAcceptedResponses,
            '400': problem('a field is wrong; `fields` says which and why'),
            ...writeProblems,
          },
        },
      },
      '/api/runs': {
        get: {
          operationId: 'listRuns',
          summary: 'Runs, newest first',
          parameters: parametersOf(runListQuery, 'query'),
          responses: {
            '200': { description: 'one page of runs', ...json('RunList') },
            '400': problem('a bad parameter'),
          },
        },
      },
      '/api/runs/{id}': {
        get: {
          operationId: 'getRun',
          summary: 'One run: its state, counts, and each window’s steps',
          parameters: parametersOf(runIdParams, 'path'),
          responses: {
            '200': { description: 'the run', ...json('RunDetail') },
            '400': problem('the id is not a run id'),
            '404': problem('no such run'),
          },
        },
      },
      '/api/runs/{id}/retry': {
        post: {
          operationId: 'retryRun',
          summary: 'Retry a failed run',
          description:
            'Retries its failed steps and their failed ancestors, bottom-up; completed windows are not redone.',
          security: admin,
          parameters: parametersOf(runIdParams, 'path'),
          requestBody: { required: false, ...json('EmptyRequest') },
          responses: {
            '202': { description: 'retried', ...json('RetryAccepted') },
            '400': problem('the id is not a run id, or the body had fields'),
            '404': problem('no such run'),
            '409': problem('the run has not failed'),
            ...writeProblems,
          },
        },
      },
      '/healthz': {
        get: {
          operationId: 'health',
          summary: 'The process is up',
          responses: { '200': { description: 'up', ...json('Health') } },
        },
      },
      '/readyz': {
        get: {
          operationId: 'readiness',
          summary: 'PostgreSQL and Redis answer',
          responses: {
            '200': { description: 'ready', ...json('Readiness') },
            '503': { description: 'a dependency is down: which, and why', ...json('Readiness') },
          },
        },
      },
      '/metrics': {
        get: {
          operationId: 'metrics',
          summary: 'Prometheus metrics',
          responses: {
            '200': {
              description: 'Prometheus text format',
              content: { 'text/plain': { schema: { type: 'string' } } },
            },
          },
        },
      },
    },
  };
}
