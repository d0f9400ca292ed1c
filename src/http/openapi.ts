import fastifySwagger from '@fastify/swagger';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import {
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Config } from '../config.ts';
import { docsContentSecurityPolicy } from './security.ts';

const description = `The MONOid API server.

- **Public REST API** under \`/api/v1\`, authenticated with an API key:
  \`Authorization: Bearer mo_...\`. Scopes: GET needs \`read\`, POST/PUT/PATCH need \`write\`,
  DELETE needs \`delete\`.
- **Settings API** under \`/api/settings\`, called by the MONOid web UI with a Clerk session.
- **Webhooks** under \`/webhooks\` from Clerk, Linear and Notion, verified by signature.

Every error is \`application/problem+json\` (RFC 9457) with \`code\`, \`requestId\`,
\`error: true\` and \`message\`; validation errors add \`errors: [{ path, message }]\`.

Beyond each operation's own responses, any path can answer, in the same problem shape:
- **404** \`NOT_FOUND\` for a path no operation serves, and for a path parameter that is malformed,
  cannot be decoded or is longer than 200 characters;
- **405** (code \`BAD_REQUEST\`) with an \`Allow\` header for a known path with a method it does
  not serve (\`TRACE\`, \`QUERY\`, \`PUT\`, ...).
A request with \`Content-Type: application/json\` and an empty body is treated as \`{}\`.`;

type OpenApiDocument = ReturnType<typeof jsonSchemaTransformObject>;
interface OperationObject {
  parameters?: Array<{ in: string }>;
  requestBody?: unknown;
  security?: unknown[];
  responses?: Record<string, { description?: string; content?: Record<string, unknown> }>;
}

const problemContent = {
  'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } },
};

/** Operations whose requests Fastify parses a body of, if one is sent: all but GET and HEAD. */
const mayCarryBody = (op: OperationObject, method: string) =>
  op.requestBody !== undefined || (method !== 'get' && method !== 'head');

/**
 * Refusals that come from the shared plumbing rather than from a route's own schema, and the
 * operations they can reach: the router (malformed or over-long path parameters), body parsing,
 * query validation, authentication, the rate limiters and the database.
 */
const sharedRefusals: Array<{
  status: string;
  description: string;
  applies: (path: string, op: OperationObject, method: string) => boolean;
}> = [
  {
    status: '400',
    description:
      'Bad request: malformed JSON, a query or body that fails validation, or a NUL character in a path parameter',
    applies: (path, op, method) =>
      mayCarryBody(op, method) ||
      path.includes('{') ||
      (op.parameters ?? []).some((p) => p.in === 'query'),
  },
  {
    status: '401',
    description: 'Missing or invalid credentials (`WWW-Authenticate` says which)',
    applies: (_path, op) => (op.security ?? []).length > 0,
  },
  {
    status: '404',
    description: 'No item with this id, or a malformed, undecodable or over-long (> 200) id',
    applies: (path) => path.includes('{'),
  },
  {
    status: '413',
    description: 'The request body is too large',
    applies: (_path, op, method) => mayCarryBody(op, method),
  },
  {
    status: '415',
    description: 'The request body is not of a supported content type',
    applies: (_path, op, method) => mayCarryBody(op, method),
  },
  {
    status: '429',
    description: 'Rate limited: `Retry-After` says when to retry',
    applies: (path) => path.startsWith('/api/') || path.startsWith('/webhooks/'),
  },
  {
    status: '503',
    description: 'The database is unavailable: retry after `Retry-After`',
    applies: (path) => path !== '/healthz',
  },
];

/**
 * Makes the document say what the wire does: every error is served as
 * `application/problem+json`, and every operation lists the shared refusals that can reach it.
 */
function documentErrors(document: OpenApiDocument): OpenApiDocument {
  const paths = (document as { paths?: Record<string, Record<string, OperationObject>> }).paths;
  for (const [path, item] of Object.entries(paths ?? {})) {
    for (const [method, op] of Object.entries(item)) {
      op.responses ??= {};
      for (const [status, response] of Object.entries(op.responses)) {
        const json = response.content?.['application/json'];
        if (Number(status) >= 400 && json) response.content = { 'application/problem+json': json };
      }
      for (const refusal of sharedRefusals) {
        if (op.responses[refusal.status] || !refusal.applies(path, op, method)) continue;
        op.responses[refusal.status] = {
          description: refusal.description,
          content: problemContent,
        };
      }
    }
  }
  return document;
}

const referencePaths = ['/docs', '/docs/', '/docs/js/scalar.js'] as const;

/**
 * The Scalar reference (a 4 MB bundle, ~40 MB of memory and a second of start-up) is loaded on
 * the first request for it: most processes never serve /docs. It runs in a small Fastify
 * instance of its own, answering the paths its plugin declares (`referencePaths`).
 */
function lazyReference(): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  let inner: Promise<FastifyInstance> | undefined;
  const build = async () => {
    const { default: scalarReference } = await import('@scalar/fastify-api-reference');
    const instance = Fastify({ logger: false });
    await instance.register(scalarReference, {
      routePrefix: '/docs',
      configuration: { url: '/openapi.json', theme: 'default' },
    });
    await instance.ready();
    return instance;
  };
  return async (request, reply) => {
    inner ??= build().catch((err: unknown) => {
      inner = undefined;
      throw err;
    });
    const answer = await (await inner).inject({ method: 'GET', url: request.url });
    for (const name of ['content-type', 'location'] as const) {
      const value = answer.headers[name];
      if (typeof value === 'string') reply.header(name, value);
    }
    await reply.code(answer.statusCode).send(answer.rawPayload);
  };
}

/** Registers the OpenAPI 3.1 generator and the interactive reference at /docs. */
export async function registerOpenApi(app: FastifyInstance, config: Config): Promise<void> {
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'MONOid API', version: '1.0.0', description },
      servers: config.OPENAPI_SERVER_URL ? [{ url: config.OPENAPI_SERVER_URL }] : [],
      components: {
        securitySchemes: {
          apiKey: {
            type: 'http',
            scheme: 'bearer',
            bearerFormat: 'mo_ API key',
            description: 'A MONOid API key, created under Settings > Dev > API Keys.',
          },
          session: {
            type: 'http',
            scheme: 'bearer',
            bearerFormat: 'JWT',
            description: 'A Clerk session token (the settings UI), or the __session cookie.',
          },
        },
      },
      tags: [
        { name: 'Meta', description: 'Health, readiness and documentation' },
        { name: 'API', description: 'Public REST API (API key)' },
        { name: 'Settings', description: 'Settings API (Clerk session)' },
        { name: 'Webhooks', description: 'Incoming provider webhooks' },
      ],
    },
    transform: jsonSchemaTransform,
    // Schemas given an `id` with .meta() (Problem, and each resource) become shared components.
    transformObject: (input) => documentErrors(jsonSchemaTransformObject(input)),
  });

  // Its own scope, so only the reference page gets the looser CSP its script needs.
  await app.register(async (docs) => {
    docs.addHook('onRequest', (_request, reply, done) => {
      reply.header('content-security-policy', docsContentSecurityPolicy);
      done();
    });
    const serve = lazyReference();
    for (const url of referencePaths) docs.get(url, { schema: { hide: true } }, serve);
  });

  app.withTypeProvider<ZodTypeProvider>().get(
    '/openapi.json',
    {
      schema: {
        hide: true,
        response: { 200: z.record(z.string(), z.unknown()) },
      },
    },
    async () => app.swagger() as unknown as Record<string, unknown>,
  );
}
