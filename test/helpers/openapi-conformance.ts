import { compileErrors, dereference, validate } from '@readme/openapi-parser';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';

/**
 * Checks responses against the server's own OpenAPI document: the status is documented for
 * the operation (or is one of the document's path-wide answers, 404 and 405), the content type
 * is the documented one, and the body validates against the documented schema (JSON Schema
 * 2020-12, Ajv with formats).
 */
interface Response {
  content?: Record<string, { schema?: unknown }>;
}
export interface Operation {
  method: string;
  path: string;
  parameters: Array<{ name: string; in: string; required?: boolean; schema?: unknown }>;
  requestBody?: { content: Record<string, { schema?: { example?: unknown } }> };
  responses: Record<string, Response>;
  security?: unknown[];
}

/** Answers any path may give besides its operations' own (the document's description). */
const pathWide = new Set(['404', '405']);

export interface Conformance {
  operations: Operation[];
  /** Throws, naming the operation, when the response does not match the document. */
  check(operation: Operation, res: LightMyRequestResponse): void;
}

export async function loadConformance(app: FastifyInstance): Promise<Conformance> {
  const raw = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
  const valid = await validate(structuredClone(raw));
  if (!valid.valid) throw new Error(compileErrors(valid));
  const doc = (await dereference(structuredClone(raw))) as unknown as {
    paths: Record<string, Record<string, Omit<Operation, 'method' | 'path'>>>;
  };
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
  addFormats.default(ajv);
  const validators = new Map<unknown, ValidateFunction>();
  const validatorFor = (schema: unknown) => {
    let v = validators.get(schema);
    if (!v) {
      v = ajv.compile(schema as object);
      validators.set(schema, v);
    }
    return v;
  };
  const operations = Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => ({
      ...op,
      parameters: op.parameters ?? [],
      method: method.toUpperCase(),
      path,
    })),
  );
  const problem: Response = { content: { 'application/problem+json': {} } };

  return {
    operations,
    check(operation, res) {
      const label = `${operation.method} ${operation.path} -> ${res.statusCode}`;
      const status = String(res.statusCode);
      const documented =
        operation.responses[status] ?? (pathWide.has(status) ? problem : undefined);
      if (!documented)
        throw new Error(`${label}: status not documented (${res.body.slice(0, 200)})`);
      if (status === '405' && !res.headers.allow) throw new Error(`${label}: no Allow header`);
      const content = documented.content;
      if (!content || operation.method === 'HEAD') return;
      const type =
        String(res.headers['content-type'] ?? '')
          .split(';')[0]
          ?.trim() ?? '';
      const media = content[type];
      if (!media)
        throw new Error(`${label}: content type ${type}, documented ${Object.keys(content)}`);
      const schema =
        media.schema ??
        (type === 'application/problem+json'
          ? Object.values(operation.responses).find((r) => r.content?.[type]?.schema)?.content?.[
              type
            ]?.schema
          : undefined);
      if (!schema) return;
      const validateBody = validatorFor(schema);
      if (!validateBody(res.json()))
        throw new Error(
          `${label}: body does not match the document: ${ajv.errorsText(validateBody.errors)} in ${res.body.slice(0, 300)}`,
        );
    },
  };
}
