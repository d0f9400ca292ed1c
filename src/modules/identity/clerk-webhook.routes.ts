import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { Webhook } from 'svix';
import { AppError, badRequest, errorResponses } from '../../http/errors.ts';
import { useRawBody } from '../../http/raw-body.ts';
import { clerkEventEnvelopeSchema, clerkWebhookAckSchema } from './clerk-webhook.schemas.ts';
import {
  ClerkEventDataError,
  handleClerkEvent,
  pruneOldDeliveries,
} from './clerk-webhook.service.ts';
import { clerkNotConfigured } from './identity.errors.ts';

const invalidSignature = () =>
  new AppError({
    code: 'UNAUTHORIZED',
    status: 401,
    message: 'The webhook signature is missing, invalid or outside the 5-minute tolerance.',
  });

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return typeof value === 'string' ? value : undefined;
}

/**
 * `POST /webhooks/clerk`: Clerk events delivered by Svix. An encapsulated plugin: its
 * raw-body parser applies here only, and the signature is verified over the exact bytes with
 * `svix` (never a re-serialised body). Register with `{ prefix: '/webhooks/clerk' }`.
 */
export async function clerkWebhookRoutes(app: FastifyInstance): Promise<void> {
  useRawBody(app);
  const secret = app.config.CLERK_WEBHOOK_SIGNING_SECRET;
  // The secret is validated by config (whsec_ + base64), so this cannot throw at request time.
  const verifier = secret ? new Webhook(secret) : undefined;

  app.withTypeProvider<ZodTypeProvider>().post(
    '',
    {
      schema: {
        tags: ['Webhooks'],
        summary: 'Clerk events (users, organisations, memberships), signed by Svix',
        description:
          'Verified with the svix-id, svix-timestamp and svix-signature headers over the raw body ' +
          '(5-minute tolerance). Idempotent on svix-id; unknown event types are acknowledged.',
        response: {
          200: clerkWebhookAckSchema,
          ...errorResponses(400, 401, 413, 503),
        },
      },
    },
    async (request) => {
      if (!verifier) throw clerkNotConfigured(['CLERK_WEBHOOK_SIGNING_SECRET']);
      const svixId = header(request, 'svix-id');
      const svixTimestamp = header(request, 'svix-timestamp');
      const svixSignature = header(request, 'svix-signature');
      const raw = request.rawBody;
      if (!svixId || !svixTimestamp || !svixSignature || !raw) throw invalidSignature();

      let verified: unknown;
      try {
        verified = verifier.verify(raw, {
          'svix-id': svixId,
          'svix-timestamp': svixTimestamp,
          'svix-signature': svixSignature,
        });
      } catch {
        // Never log the signature or the body of an unverified delivery.
        request.log.warn({ svixId }, 'clerk webhook rejected: bad signature or timestamp');
        throw invalidSignature();
      }

      const envelope = clerkEventEnvelopeSchema.safeParse(verified);
      if (!envelope.success) throw unprocessable('The event is not a Clerk event envelope.');
      const { type, data } = envelope.data;
      // svix-timestamp is the time of this delivery attempt (retries are re-signed), so it
      // cannot order events; Clerk's own event timestamp can. It is signed like the rest.
      const eventAt = envelope.data.timestamp ?? Number(svixTimestamp) * 1000;

      let outcome: Awaited<ReturnType<typeof handleClerkEvent>>;
      try {
        outcome = await handleClerkEvent(app.database.db, app.identityHooks, {
          svixId,
          type,
          data,
          eventAt,
        });
      } catch (err) {
        if (err instanceof ClerkEventDataError) throw unprocessable(err.message);
        throw err;
      }
      request.log.info({ svixId, eventType: type, outcome }, 'clerk webhook');
      await pruneOldDeliveries(app.database.db).catch((err: unknown) =>
        request.log.warn({ err }, 'pruning clerk webhook deliveries failed'),
      );
      return {
        received: true as const,
        duplicate: outcome === 'duplicate',
        ignored: outcome === 'ignored',
      };
    },
  );
}

/** A signed delivery we cannot use: 400, and ask Svix not to retry (it would never succeed). */
function unprocessable(message: string): AppError {
  const error = badRequest(message);
  return new AppError({
    code: error.code,
    status: error.status,
    message,
    headers: { 'webhook-delivery': 'abort-message' },
  });
}
