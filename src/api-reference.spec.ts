// docs/rest.md against the code: its route reference is exactly what the OpenAPI document of the
// application renders to, and every route in that document describes itself fully.
import { readFileSync } from 'node:fs';
import type { OpenAPIObject } from '@nestjs/swagger';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildOpenApiDocument } from './api-reference.js';
import { renderRestRoutes, routesOf, withGeneratedRoutes } from './core/http/rest-reference.js';

let document: OpenAPIObject;

beforeAll(async () => {
  document = await buildOpenApiDocument();
}, 60_000);

describe('docs/rest.md', () => {
  it('is current: `npm run docs:rest` rewrites it from the OpenAPI document', () => {
    const page = readFileSync('docs/rest.md', 'utf8');
    expect(withGeneratedRoutes(page, renderRestRoutes(document))).toBe(page);
  });
});

describe('every route of the OpenAPI document', () => {
  it('has a summary, a success answer with its shape, and a tag', () => {
    const undocumented = routesOf(document)
      .filter(({ operation }) => {
        const success = Object.entries(operation.responses).filter(([status]) => status.startsWith('2'));
        return !operation.summary || !operation.tags?.length || !success.some(([, r]) => r.description);
      })
      .map(({ method, path }) => `${method} ${path}`);
    expect(undocumented).toEqual([]);
  });

  it('documents each field of its request body (no DTO without @ApiProperty)', () => {
    const bare = routesOf(document)
      .filter(({ operation }) => {
        const schema = operation.requestBody?.content?.['application/json']?.schema;
        if (!schema?.$ref) return false;
        const model = document.components?.schemas?.[schema.$ref.split('/').pop()!] as { properties?: object };
        return Object.keys(model?.properties ?? {}).length === 0;
      })
      .map(({ method, path }) => `${method} ${path}`);
    expect(bare).toEqual([]);
  });

  it('keeps the paths the clients of the source documents call', () => {
    const paths = routesOf(document).map(({ method, path }) => `${method} ${path}`);
    expect(paths).toEqual(
      expect.arrayContaining([
        'POST /api/v1/auth/login',
        'POST /api/v1/webhooks/partners/{partnerId}',
        'POST /api/websocket/test-notification',
        'GET /api/v1/market/{pair}/depth',
      ]),
    );
  });
});
