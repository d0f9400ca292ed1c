import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponses } from '../../http/errors.ts';
import { useRawBody } from '../../http/raw-body.ts';
import type { InboxIntake, WebhookVerifier } from './inbox-intake.ts';

const webhookAckSchema = z
  .object({
    received: z.literal(true),
    duplicate: z.boolean().describe('true when this delivery was already in the inbox'),
  })
  .meta({ id: 'WebhookAck' });

const webhookErrors = errorResponses(400, 401, 409, 413, 415, 503);

export interface InboxWebhookRouteOptions {
  intake: InboxIntake;
  verifier: WebhookVerifier;
}

/**
 * `POST /webhooks/<provider>`: one provider's deliveries, on raw bytes. The provider's
 * verifier decides (signature, timestamp, handshake); the intake commits verified events to
 * the inbox before the 200.
 */
export const inboxWebhookRoutes: FastifyPluginAsync<InboxWebhookRouteOptions> = async (
  app,
  { intake, verifier },
) => {
  useRawBody(app, { bodyLimit: app.config.WEBHOOK_BODY_LIMIT_BYTES });
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.post(
    '/',
    {
      schema: {
        tags: ['Webhooks'],
        summary: verifier.route.summary,
        ...(verifier.route.description ? { description: verifier.route.description } : {}),
        ...(verifier.route.querystring ? { querystring: verifier.route.querystring } : {}),
        response: { 200: webhookAckSchema, ...webhookErrors },
      },
    },
    async (request) =>
      intake.accept(verifier, {
        body: request.rawBody ?? Buffer.alloc(0),
        headers: request.headers,
        query: (request.query ?? {}) as Record<string, string | undefined>,
        remoteAddress: request.ip,
      }),
  );
};
