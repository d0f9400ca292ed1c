import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponses } from '../../http/errors.ts';
import { useRawBody } from '../../http/raw-body.ts';

const webhookAckSchema = z
  .object({
    received: z.literal(true),
    duplicate: z.boolean().describe('true when this delivery was already in the inbox'),
  })
  .meta({ id: 'WebhookAck' });

const webhookErrors = errorResponses(400, 401, 413, 415, 503);

/**
 * `POST /webhooks/linear`: Linear deliveries for the webhooks this server registered. Found
 * by the payload's `webhookId`, verified with `Linear-Signature` over the raw bytes,
 * `webhookTimestamp` within 60 s, deduplicated on `Linear-Delivery`, committed to the inbox
 * before the 200.
 */
export const linearWebhookRoutes: FastifyPluginAsync = async (app) => {
  useRawBody(app, { bodyLimit: app.config.WEBHOOK_BODY_LIMIT_BYTES });
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.post(
    '/',
    {
      schema: {
        tags: ['Webhooks'],
        summary: 'Receive a Linear webhook delivery',
        description:
          'Signed by Linear (`Linear-Signature`, hex HMAC-SHA256 of the raw body). 401 when the webhook is unknown, the signature is wrong or `webhookTimestamp` is more than 60 s away; nothing is stored then.',
        response: { 200: webhookAckSchema, ...webhookErrors },
      },
    },
    async (request) =>
      app.integrations.intake.acceptLinear({
        body: request.rawBody ?? Buffer.alloc(0),
        headers: request.headers,
      }),
  );
};

/**
 * `POST /webhooks/notion`: the verification handshake (stored as pending for an admin to
 * confirm) and signed events (`X-Notion-Signature`), routed by `workspace_id`, deduplicated
 * on the event `id`. `?connection=<id>` is the per-connection URL shown in settings; the
 * handshake needs it (it carries no workspace), events work with or without it.
 */
export const notionWebhookRoutes: FastifyPluginAsync = async (app) => {
  useRawBody(app, { bodyLimit: app.config.WEBHOOK_BODY_LIMIT_BYTES });
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.post(
    '/',
    {
      schema: {
        tags: ['Webhooks'],
        summary: 'Receive a Notion webhook delivery or verification handshake',
        querystring: z.object({ connection: z.uuid().optional() }),
        response: { 200: webhookAckSchema, ...webhookErrors },
      },
    },
    async (request) =>
      app.integrations.intake.acceptNotion({
        body: request.rawBody ?? Buffer.alloc(0),
        headers: request.headers,
        connectionId: request.query.connection,
      }),
  );
};
