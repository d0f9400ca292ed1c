import { createSign, generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { Webhook } from 'svix';

/**
 * Clerk test helpers: real RS256 session tokens signed with a local RSA-2048 key pair (the
 * server verifies them offline with CLERK_JWT_KEY) and real Svix-signed webhook deliveries.
 * Nothing here touches the network.
 *
 *   const t = await buildTestApp({ env: clerkEnv() });
 *   const token = mintSessionToken({ sub: 'user_1', orgId: 'org_1', orgRole: 'org:admin' });
 *   await t.app.inject({ url: '/api/settings/me', headers: { authorization: `Bearer ${token}` } });
 *
 *   const { headers, payload } = signClerkWebhook({ type: 'user.created', data: { id: 'user_1' } });
 *   await t.app.inject({ method: 'POST', url: '/webhooks/clerk', headers, payload });
 */

/** One key pair per test process (generation costs ~100 ms). */
const keyPair = generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 65537 });
export const clerkJwtPublicKeyPem = keyPair.publicKey
  .export({ type: 'spki', format: 'pem' })
  .toString();
const keyId = 'ins_test_key';

/** The frontend origin tokens are minted for by default (it is in CLERK_AUTHORIZED_PARTIES). */
export const testAuthorizedParty = 'http://localhost:5173';
export const testPublishableKey = 'pk_test_ZXhhbXBsZS5jbGVyay5hY2NvdW50cy5kZXYk';
export const testSecretKey = 'sk_test_monoidtestsecretkey';
/** A random `whsec_` secret, fixed for this test process. */
export const testWebhookSecret = `whsec_${randomBytes(24).toString('base64')}`;

/**
 * Env vars for `buildTestApp({ env: clerkEnv() })`: Clerk fully configured for offline
 * verification; CLERK_API_URL points at a closed loopback port. Override any with `overrides`
 * (an `undefined` value unsets it, e.g. `clerkEnv({ CLERK_AUTHORIZED_PARTIES: undefined })`).
 */
export function clerkEnv(
  overrides: Record<string, string | undefined> = {},
): Record<string, string | undefined> {
  return {
    CLERK_SECRET_KEY: testSecretKey,
    CLERK_PUBLISHABLE_KEY: testPublishableKey,
    CLERK_JWT_KEY: clerkJwtPublicKeyPem,
    CLERK_WEBHOOK_SIGNING_SECRET: testWebhookSecret,
    CLERK_AUTHORIZED_PARTIES: testAuthorizedParty,
    CLERK_API_URL: 'http://127.0.0.1:9',
    ...overrides,
  };
}

export interface MintSessionTokenOptions {
  /** Clerk user id, e.g. `user_2abc`. */
  sub: string;
  /** Session id; default a random `sess_…`. */
  sid?: string;
  /** Active organisation (Clerk id, `org_…`); omit for the personal workspace. */
  orgId?: string;
  /** Role with the `org:` prefix, e.g. `org:admin` (v2 tokens carry it without the prefix). */
  orgRole?: string;
  orgSlug?: string;
  /** 1: `org_id`/`org_role`/`org_slug`; 2: `v: 2, o: { id, rol, slg }`. Default 1. */
  claimsVersion?: 1 | 2;
  /** Epoch seconds. Defaults: iat = now, nbf = now - 5, exp = now + 60. */
  iat?: number;
  nbf?: number;
  exp?: number;
  /** Authorized party (the frontend origin); default `testAuthorizedParty`; null omits it. */
  azp?: string | null;
  /** Extra claims merged last. */
  extra?: Record<string, unknown>;
  /** Sign with another key (e.g. to test a bad signature). */
  privateKey?: ReturnType<typeof generateKeyPairSync>['privateKey'];
}

const base64url = (input: string | Buffer): string => Buffer.from(input).toString('base64url');

/** A Clerk session JWT (RS256, header `{ alg, typ: 'JWT', kid }`) the test app accepts. */
export function mintSessionToken(options: MintSessionTokenOptions): string {
  const now = Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = {
    iss: 'https://example.clerk.accounts.dev',
    sub: options.sub,
    sid: options.sid ?? `sess_${randomUUID().replaceAll('-', '')}`,
    iat: options.iat ?? now,
    nbf: options.nbf ?? now - 5,
    exp: options.exp ?? now + 60,
  };
  if (options.azp !== null) claims.azp = options.azp ?? testAuthorizedParty;
  if (options.orgId) {
    if ((options.claimsVersion ?? 1) === 2) {
      claims.v = 2;
      claims.o = {
        id: options.orgId,
        ...(options.orgRole ? { rol: options.orgRole.replace(/^org:/, '') } : {}),
        ...(options.orgSlug ? { slg: options.orgSlug } : {}),
      };
    } else {
      claims.org_id = options.orgId;
      if (options.orgRole) claims.org_role = options.orgRole;
      if (options.orgSlug) claims.org_slug = options.orgSlug;
    }
  } else if (options.claimsVersion === 2) {
    claims.v = 2;
  }
  Object.assign(claims, options.extra);
  const header = { alg: 'RS256', typ: 'JWT', kid: keyId };
  const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
  const signature = createSign('RSA-SHA256')
    .update(signingInput)
    .sign(options.privateKey ?? keyPair.privateKey);
  return `${signingInput}.${base64url(signature)}`;
}

/** Headers for a request carrying the token as Clerk's browser cookies instead of a header. */
export function sessionCookieHeaders(token: string): Record<string, string> {
  const iat = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()).iat;
  // Clerk's cookie flow also needs __client_uat (set with __session by Clerk's frontend) and,
  // on development (pk_test_) instances, the dev-browser cookie __clerk_db_jwt.
  return {
    cookie: `__session=${token}; __client_uat=${Number(iat) - 1}; __clerk_db_jwt=dvb_test`,
    origin: testAuthorizedParty,
  };
}

export interface SignClerkWebhookOptions {
  /** Event type, e.g. `user.created`. */
  type: string;
  /** The event's `data` object. */
  data: Record<string, unknown>;
  /** `svix-id`; default a fresh `msg_…`. Reuse it to simulate a redelivery. */
  id?: string;
  /** `svix-timestamp` (the delivery attempt, signed); default now. */
  timestamp?: Date;
  /** Clerk's event time (the envelope's `timestamp`, which orders events); default `timestamp`. */
  eventTime?: Date;
  /** Default testWebhookSecret. */
  secret?: string;
  /** Sign with these secrets too (space-separated signatures, as during key rotation). */
  extraSecrets?: string[];
  /** The exact body to send; default `JSON.stringify({ data, object: 'event', type, ... })`. */
  payload?: string;
}

/**
 * A Clerk webhook delivery signed like Svix does:
 * `{ headers, payload }` to pass to `app.inject({ method: 'POST', url: '/webhooks/clerk', ... })`.
 */
export function signClerkWebhook(options: SignClerkWebhookOptions): {
  id: string;
  headers: Record<string, string>;
  payload: string;
} {
  const id = options.id ?? `msg_${randomUUID().replaceAll('-', '')}`;
  const timestamp = options.timestamp ?? new Date();
  const payload =
    options.payload ??
    JSON.stringify({
      data: options.data,
      event_attributes: { http_request: { client_ip: '127.0.0.1', user_agent: 'test' } },
      instance_id: 'ins_test',
      object: 'event',
      timestamp: (options.eventTime ?? timestamp).getTime(),
      type: options.type,
    });
  const signatures = [options.secret ?? testWebhookSecret, ...(options.extraSecrets ?? [])].map(
    (secret) => new Webhook(secret).sign(id, timestamp, payload),
  );
  return {
    id,
    payload,
    headers: {
      'content-type': 'application/json',
      'svix-id': id,
      'svix-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
      'svix-signature': signatures.join(' '),
    },
  };
}
