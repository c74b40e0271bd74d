import { describe, expect, it } from 'vitest';
import { buildOpenApiDocument, jsonSchemaOf } from '../../src/http/openapi.js';
import { backfillRequest } from '../../src/http/schemas.js';

const document = buildOpenApiDocument({ version: '1.2.3' });

describe('the OpenAPI document', () => {
  it('is OpenAPI 3.1 and lists every route', () => {
    expect(document.openapi).toBe('3.1.0');
    expect(document.info.version).toBe('1.2.3');
    expect(Object.keys(document.paths).sort()).toEqual(
      [
        '/api/backfills',
        '/api/reconciliations',
        '/api/runs',
        '/api/runs/{id}',
        '/api/runs/{id}/retry',
        '/api/syncs',
        '/healthz',
        '/metrics',
        '/readyz',
      ].sort(),
    );
  });

  it('takes the backfill body from the zod schema that validates it, unknown fields refused', () => {
    const body = document.components.schemas.BackfillRequest;
    expect(body).toEqual(jsonSchemaOf(backfillRequest, 'input'));
    expect(body).toMatchObject({
      type: 'object',
      required: ['from', 'to'],
      additionalProperties: false,
      properties: {
        from: { type: 'string', format: 'date' },
        window: { enum: ['day', 'week', 'month'], default: 'month' },
      },
    });
    expect(body).not.toHaveProperty('$schema');
  });

  it('marks writes as needing the admin token, and reads as open', () => {
    expect(document.paths['/api/backfills'].post.security).toEqual([{ adminToken: [] }]);
    expect(document.paths['/api/runs/{id}/retry'].post.security).toEqual([{ adminToken: [] }]);
    expect(document.paths['/api/runs'].get).not.toHaveProperty('security');
    expect(document.components.securitySchemes.adminToken).toMatchObject({
      type: 'http',
      scheme: 'bearer',
    });
  });

  it('describes the parameters from their schemas', () => {
    const parameters = document.paths['/api/runs'].get.parameters;
    expect(
      parameters.map((parameter) => [parameter.name, parameter.in, parameter.required]),
    ).toEqual([
      ['limit', 'query', false],
      ['state', 'query', false],
      ['before', 'query', false],
      ['dataset', 'query', false],
    ]);
    expect(parameters.find((parameter) => parameter.name === 'state')?.schema).toMatchObject({
      enum: expect.arrayContaining(['failed', 'completed']) as string[],
    });
    expect(document.paths['/api/runs/{id}'].get.parameters).toEqual([
      expect.objectContaining({
        name: 'id',
        in: 'path',
        required: true,
        schema: expect.objectContaining({
          type: 'string',
          pattern: expect.any(String) as string,
        }) as object,
      }),
    ]);
  });

  it('refers only to schemas it defines', () => {
    const refs = [
      ...JSON.stringify(document).matchAll(/"\$ref":"#\/components\/schemas\/(\w+)"/g),
    ].map((match) => match[1]!);
    expect(refs.length).toBeGreaterThan(10);
    for (const name of refs) expect(document.components.schemas).toHaveProperty(name);
  });
});
