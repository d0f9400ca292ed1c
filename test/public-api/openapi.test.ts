import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../helpers/app.ts';
import { buildApiTestApp } from '../helpers/workspaces.ts';

interface Operation {
  requestBody?: {
    content: { 'application/json': { schema: { $ref?: string; example?: unknown } } };
  };
  responses: Record<
    string,
    { content?: { 'application/json'?: { schema: Record<string, unknown> } } }
  >;
  security?: unknown[];
}

describe('OpenAPI document of /api/v1', () => {
  let t: TestApp;
  let doc: {
    paths: Record<string, Record<string, Operation>>;
    components: { schemas: Record<string, { example?: unknown }> };
  };
  beforeAll(async () => {
    t = await buildApiTestApp();
    doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
  });
  afterAll(async () => t.close());

  const resources = [
    'organisations',
    'containers',
    'projects',
    'tasks',
    'categories',
    'labels',
    'routine_blocks',
    'reviews',
    'daily_notes',
  ];

  it('documents the contract’s paths (no trailing slash; daily notes keyed by date)', () => {
    for (const r of resources) {
      expect(Object.keys(doc.paths[`/api/v1/${r}`] ?? {}).sort()).toEqual(['get', 'post']);
      const item = r === 'daily_notes' ? '{date}' : '{id}';
      expect(Object.keys(doc.paths[`/api/v1/${r}/${item}`] ?? {}).sort()).toEqual([
        'delete',
        'get',
        'patch',
      ]);
    }
  });

  it('every operation has an example request body (POST/PATCH) and an example response', () => {
    for (const [path, ops] of Object.entries(doc.paths)) {
      if (!path.startsWith('/api/v1/') || path === '/api/v1/me') continue;
      for (const [method, op] of Object.entries(ops)) {
        const label = `${method.toUpperCase()} ${path}`;
        expect(op.security, label).toBeDefined();
        if (method === 'post' || method === 'patch') {
          const schema = op.requestBody?.content['application/json'].schema;
          const ref = schema?.$ref?.split('/').pop();
          const example = ref ? doc.components.schemas[ref]?.example : schema?.example;
          expect(example, label).toBeDefined();
        }
        const success = op.responses[method === 'post' ? '201' : '200'];
        expect(success?.content?.['application/json']?.schema.example, label).toBeDefined();
        for (const status of ['401', '403', '429'])
          expect(op.responses[status], `${label} ${status}`).toBeDefined();
      }
    }
  });
});
