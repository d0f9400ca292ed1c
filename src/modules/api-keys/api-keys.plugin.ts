import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { clientAddress, createLimiter } from '../../http/rate-limit.ts';
import { onCloseStep } from '../../lifecycle.ts';
import { ApiKeyHasher } from './api-key.hasher.ts';
import { ApiKeyVerifier } from './api-key.verifier.ts';
import {
  type ApiKeyServiceDeps,
  revokeOrganisationBoundKeysInTransaction,
  revokeUserApiKeysInTransaction,
} from './api-keys.service.ts';
import { GithubPublicKeys } from './github-public-keys.ts';

/** Per-app API-key machinery, shared by the /api/v1 auth hook, settings routes and hooks. */
export interface ApiKeysRuntime {
  hasher: ApiKeyHasher;
  verifier: ApiKeyVerifier;
  /** GitHub's secret-scanning signing keys (leak reports). */
  githubKeys: GithubPublicKeys;
  /** Dependencies for the functions of api-keys.service.ts. */
  deps: ApiKeyServiceDeps;
}

declare module 'fastify' {
  interface FastifyInstance {
    apiKeys: ApiKeysRuntime;
  }
}

/**
 * Root-level plugin (fastify-plugin, so `app.apiKeys` is visible everywhere): the hasher, the
 * verifier with its cache, the NOTIFY listener for cross-instance invalidation and the
 * last-used flush, which runs once more on close (before the database closes).
 * Needs `registerRateLimiting` first (the failure throttle counts on its store).
 */
export const apiKeysPlugin = fp(
  async (app: FastifyInstance) => {
    const config = app.config;
    const hasher = new ApiKeyHasher(
      {
        memoryCost: config.API_KEY_ARGON2_MEMORY_KIB,
        timeCost: config.API_KEY_ARGON2_TIME_COST,
        parallelism: config.API_KEY_ARGON2_PARALLELISM,
      },
      { concurrency: config.API_KEY_HASH_CONCURRENCY, queueMax: config.API_KEY_HASH_QUEUE_MAX },
    );
    const verifier = new ApiKeyVerifier({
      database: app.database,
      hasher,
      cacheTtlMs: config.API_KEY_CACHE_TTL_MS,
      cacheMaxEntries: config.API_KEY_CACHE_MAX_ENTRIES,
      lastUsedIntervalMs: config.API_KEY_LAST_USED_INTERVAL_MS,
      failures: {
        perAddressAndKey: createLimiter(app, {
          name: 'api-key-failures',
          max: config.API_KEY_FAILURE_LIMIT,
          windowMs: config.API_KEY_FAILURE_WINDOW_MS,
          key: (request, publicId) => `${clientAddress(request)}|${publicId ?? ''}`,
        }),
        perKey: createLimiter(app, {
          name: 'api-key-id-failures',
          max: config.API_KEY_ID_FAILURE_LIMIT,
          windowMs: config.API_KEY_FAILURE_WINDOW_MS,
          key: (_request, publicId) => publicId ?? '',
        }),
      },
      coldPerAddress: config.API_KEY_COLD_VERIFY_PER_ADDRESS,
      log: app.log,
    });
    const deps: ApiKeyServiceDeps = {
      database: app.database,
      hasher,
      invalidate: (target) => verifier.invalidate(target),
      now: () => verifier.now(),
    };
    const githubKeys = new GithubPublicKeys({
      url: config.GITHUB_SECRET_SCANNING_KEYS_URL,
      refetchMs: config.GITHUB_SECRET_SCANNING_KEYS_REFETCH_MS,
    });
    app.decorate('apiKeys', { hasher, verifier, githubKeys, deps });

    // Deleting a user (Clerk webhook) revokes all their keys, in the webhook's transaction.
    if (app.hasDecorator('identityHooks')) {
      app.identityHooks.onUserDeleted.push(async (tx, userId) => {
        await revokeUserApiKeysInTransaction(tx, { verifier, userId });
      });
      // A key bound to an organisation ends with its owner's membership (or the organisation).
      app.identityHooks.onMembershipEnded.push(async (tx, { userId, organisationId }) => {
        await revokeOrganisationBoundKeysInTransaction(tx, { verifier, organisationId, userId });
      });
      app.identityHooks.onOrganisationDeleted.push(async (tx, organisationId) => {
        await revokeOrganisationBoundKeysInTransaction(tx, { verifier, organisationId });
      });
    }

    const unlisten = await verifier.listen();
    verifier.start();
    onCloseStep(app, 'API key verifier', async () => {
      await unlisten().catch(() => undefined);
      await verifier.stop();
    });
  },
  { name: 'api-keys' },
);
