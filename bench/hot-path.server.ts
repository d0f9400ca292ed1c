/**
 * The server of bench/hot-path.ts: the whole app (buildApp, production configuration from the
 * environment, as src/server.ts builds it) plus one extra scope, `/noauth/me`, serving the real
 * `GET /api/v1/me` route with API-key auth switched off (a hook sets the key's principal), so
 * that auth's cost is measured on the same route in the same process.
 * Env: the app's variables, PORT, BENCH_USER_ID, BENCH_KEY_ID.
 */
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import type { VerifiedKey } from '../src/modules/api-keys/api-key.verifier.ts';
import { apiMeRoutes } from '../src/modules/api-keys/api-me.routes.ts';

const fixed: VerifiedKey = {
  keyId: process.env.BENCH_KEY_ID ?? '',
  userId: process.env.BENCH_USER_ID ?? '',
  name: 'bench',
  scopes: ['read'],
  expiresAt: null,
  revokedAt: null,
  workspaceId: null,
};

const config = loadConfig();
const app = await buildApp(config, {
  extraRoutes: async (root: FastifyInstance) => {
    await root.register(
      async (scope) => {
        scope.decorateRequest('apiKeyDetails', null);
        scope.addHook('onRequest', (request, _reply, done) => {
          request.principal = {
            keyId: fixed.keyId,
            userId: fixed.userId,
            scopes: fixed.scopes,
            workspaceId: null,
          };
          request.apiKeyDetails = fixed;
          done();
        });
        await scope.register(apiMeRoutes);
      },
      { prefix: '/noauth' },
    );
  },
});
await app.listen({ port: config.PORT, host: config.HOST });
process.on('SIGTERM', () => {
  void app.close().then(() => process.exit(0));
});
