import { randomBytes, randomUUID } from 'node:crypto';
import pino from 'pino';
import type { Db } from '../../src/db/database.ts';
import { integrationConnections } from '../../src/db/schema.ts';
import { SecretBox } from '../../src/modules/integrations/secret-box.ts';
import { SECRET_CONTEXT } from '../../src/modules/integrations/secret-contexts.ts';
import type { Clock } from '../../src/modules/providers/budget/clock.ts';
import { exchangeLinearCode } from '../../src/modules/providers/linear/linear-tokens.ts';
import type { FakeLinear } from '../helpers/fakes/linear-fake.ts';
import { createUser } from '../integrations/fixtures.ts';

export const silentLog = pino({ level: 'silent' });

/** Simulated time: `sleep` advances it at once (a week runs in a second). */
export interface ManualClock extends Clock {
  advance(ms: number): void;
  slept: number[];
}

export function manualClock(start = Date.UTC(2026, 11, 1)): ManualClock {
  let now = start;
  const slept: number[] = [];
  return {
    now: () => now,
    sleep: async (ms) => {
      slept.push(ms);
      now += Math.max(0, ms);
    },
    advance: (ms) => {
      now += ms;
    },
    slept,
  };
}

/** A fixed key shared by every process of a test (DATA_DIR=memory keys are per process). */
export const TEST_ENCRYPTION_KEY = randomBytes(32).toString('base64');

export const linearOAuthEnv = (fake: FakeLinear) => ({
  ...fake.env(),
  LINEAR_CLIENT_ID: 'lin_client',
  LINEAR_CLIENT_SECRET: 'lin_client_secret',
  LINEAR_OAUTH_REDIRECT_URI: 'https://app.monoid.example/linear/callback',
});

/**
 * A Linear OAuth connection made the way the callback makes it: a code exchanged at the fake
 * (which issues expiring tokens and a refresh token), stored sealed.
 */
export async function insertLinearOAuthConnection(
  db: Db,
  box: SecretBox,
  fake: FakeLinear,
  clock: Clock,
): Promise<string> {
  const user = await createUser(db);
  const code = `code-${randomUUID()}`;
  fake.oauthCodes.set(code, `lin_oauth_${randomUUID()}`);
  const tokens = await exchangeLinearCode({
    tokenUrl: `${fake.url}/oauth/token`,
    clientId: 'lin_client',
    clientSecret: 'lin_client_secret',
    redirectUri: 'https://app.monoid.example/linear/callback',
    code,
    codeVerifier: null,
  });
  const now = clock.now();
  const [row] = await db
    .insert(integrationConnections)
    .values({
      provider: 'linear',
      userId: user.id,
      connectedByUserId: user.id,
      authType: 'oauth',
      accessTokenEnc: box.seal(tokens.accessToken, SECRET_CONTEXT.accessToken),
      refreshTokenEnc: tokens.refreshToken
        ? box.seal(tokens.refreshToken, SECRET_CONTEXT.refreshToken)
        : null,
      tokenExpiresAt: tokens.expiresIn ? new Date(now + tokens.expiresIn * 1000) : null,
      tokenIssuedAt: new Date(now),
      externalWorkspaceId: fake.organization.id,
      externalWorkspaceName: fake.organization.name,
    })
    .returning();
  if (!row) throw new Error('no connection');
  return row.id;
}

export const testBox = () => new SecretBox(Buffer.from(TEST_ENCRYPTION_KEY, 'base64'));
