import fastifySwagger from '@fastify/swagger';
import scalarReference from '@scalar/fastify-api-reference';
import type { FastifyInstance } from 'fastify';
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
\`error: true\` and \`message\`; validation errors add \`errors: [{ path, message }]\`.`;

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
    transformObject: jsonSchemaTransformObject,
  });

  // Its own scope, so only the reference page gets the looser CSP its script needs.
  await app.register(async (docs) => {
    docs.addHook('onRequest', (_request, reply, done) => {
      reply.header('content-security-policy', docsContentSecurityPolicy);
      done();
    });
    await docs.register(scalarReference, {
      routePrefix: '/docs',
      configuration: { url: '/openapi.json', theme: 'default' },
    });
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
