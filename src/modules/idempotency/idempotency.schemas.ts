import { z } from 'zod';

/** Request headers of every POST (loose: other headers pass through untouched). */
export const idempotencyHeaders = z.looseObject({
  'idempotency-key': z.string().min(1).max(255).optional().meta({
    description:
      'Makes the POST safe to retry: a retry with the same key and body replays the first response (header `Idempotent-Replayed: true`); the same key with another body is a 422 `IDEMPOTENCY_KEY_REUSED`; while the first request is still running, a 409. Keys are kept 24 hours per API key.',
  }),
});
