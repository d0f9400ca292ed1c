import { isIP } from 'node:net';
import { z } from 'zod';

/**
 * The one place that reads the environment. Everything else receives a typed `Config`.
 * Empty strings count as unset so that `FOO=` in a .env file behaves like a missing line.
 */
const optionalString = z.preprocess(
  (value) => (value === '' ? undefined : value),
  z.string().optional(),
);

/** `pk_(test|live)_` + base64 of the Frontend API host followed by `$` (what Clerk parses). */
function isClerkPublishableKey(value: string): boolean {
  const match = /^pk_(test|live)_([A-Za-z0-9+/=_-]+)$/.exec(value);
  if (!match?.[2]) return false;
  return Buffer.from(match[2], 'base64').toString('utf8').endsWith('$');
}

const port = z.coerce.number().int().min(0).max(65535);

const booleanFlag = z
  .enum(['true', 'false', '1', '0'])
  .transform((value) => value === 'true' || value === '1');

const proxyNames = new Set(['loopback', 'linklocal', 'uniquelocal']);
function isProxyAddress(value: string): boolean {
  if (proxyNames.has(value)) return true;
  const [address = '', prefix, ...rest] = value.split('/');
  const family = isIP(address);
  if (!family || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

/**
 * Which proxies' `X-Forwarded-For` entries to believe (security finding 2): `false` (none),
 * a hop count, or the proxies' addresses/CIDRs. `true` would believe every entry, and the
 * left-most one is written by the client, so it is refused.
 */
const trustProxy = z
  .preprocess((value) => (value === '' || value === undefined ? 'false' : value), z.string())
  .transform((value, ctx): false | number | string[] => {
    const trimmed = value.trim();
    if (trimmed === 'false' || trimmed === '0') return false;
    if (/^\d+$/.test(trimmed)) return Number(trimmed);
    const entries = trimmed.split(',').map((entry) => entry.trim());
    if (trimmed !== 'true' && entries.every(isProxyAddress)) return entries;
    ctx.addIssue({
      code: 'custom',
      message:
        'must be false, a hop count (e.g. 1 behind one load balancer) or a comma-separated list of proxy addresses or CIDRs (e.g. 10.0.0.0/8,127.0.0.1; also loopback, linklocal, uniquelocal); true is refused because it lets any client choose its own address with X-Forwarded-For',
    });
    return z.NEVER;
  });

export const configSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  PORT: port.default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATABASE_URL: z.preprocess(
    (value) => (value === '' ? undefined : value),
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// connection URL')
      .optional(),
  ),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  DATA_DIR: z.string().min(1).default('./.data'),
  BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).default(1_048_576),
  TRUST_PROXY: trustProxy,
  HTTP_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(500).max(120_000).default(5_000),
  HTTP_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(500).max(600_000).default(15_000),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(72_000),
  HTTP_MAX_REQUESTS_PER_SOCKET: z.coerce.number().int().min(0).max(1_000_000).default(1_000),
  HTTP_MAX_CONNECTIONS: z.coerce.number().int().min(1).max(1_000_000).default(4_096),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  PUBLIC_BASE_URL: z.url('must be an absolute URL such as https://api.monoid.app').optional(),
  REDIS_URL: z.preprocess(
    (value) => (value === '' ? undefined : value),
    z
      .string()
      .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
      .optional(),
  ),
  OPENAPI_SERVER_URL: optionalString,
  // Automation engine (modules/automations): see docs/automations.md.
  // Unset: on, except under NODE_ENV=test (tests drive the worker, or opt in).
  AUTOMATION_WORKER_ENABLED: booleanFlag.optional(),
  AUTOMATION_WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(1),
  AUTOMATION_BATCH_SIZE: z.coerce.number().int().min(1).max(500).default(64),
  AUTOMATION_LEASE_MS: z.coerce.number().int().min(1_000).default(60_000),
  AUTOMATION_POLL_MS: z.coerce.number().int().min(10).default(1_000),
  AUTOMATION_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(8),
  AUTOMATION_RETRY_BASE_MS: z.coerce.number().int().min(1).default(2_000),
  AUTOMATION_RETRY_MAX_MS: z.coerce.number().int().min(1).default(900_000),
  AUTOMATION_OWN_ACTOR_IDS: z.preprocess(
    (value) => (value === '' ? undefined : value),
    z
      .string()
      .transform((value) =>
        value
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      )
      .optional(),
  ),
  AUTOMATION_BACKFILL_PAGE_SIZE: z.coerce.number().int().min(1).max(250).default(50),
  // Retention (inbox events, runs, finished backfills): see docs/automations.md, "Retention".
  INBOX_RETENTION_PROCESSED_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  INBOX_RETENTION_FAILED_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
  AUTOMATION_RUN_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  LINEAR_BACKFILL_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  RETENTION_INTERVAL_MS: z.coerce.number().int().min(0).default(3_600_000),
  RETENTION_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(500),
  RETENTION_PAUSE_MS: z.coerce.number().int().min(0).max(60_000).default(200),
  NOTION_REQUESTS_PER_SECOND: z.coerce.number().min(0.1).max(100).default(3),
  NOTION_EVENT_MAX_AGE_HOURS: z.coerce.number().int().min(1).max(720).default(24),
  // Provider token lifecycle and budgets (modules/providers): see docs/integrations.md.
  PROVIDER_TOKEN_REFRESH_MARGIN_MS: z.coerce.number().int().min(0).default(300_000),
  PROVIDER_INTERACTIVE_MAX_WAIT_MS: z.coerce.number().int().min(0).default(5_000),
  PROVIDER_BACKGROUND_MAX_WAIT_MS: z.coerce.number().int().min(0).default(30_000),
  PROVIDER_RATE_LIMIT_JITTER_MS: z.coerce.number().int().min(0).default(1_000),
  LINEAR_RATE_LIMIT_LOW_REQUESTS: z.coerce.number().int().min(0).default(10),
  LINEAR_RATE_LIMIT_LOW_COMPLEXITY: z.coerce.number().int().min(0).default(10_000),
  METRICS_ENABLED: booleanFlag.default(true),
  METRICS_TOKEN: z.preprocess(
    (value) => (value === '' ? undefined : value),
    z.string().min(16, 'must be at least 16 characters').optional(),
  ),
  CORS_ORIGINS: z
    .string()
    .default('')
    .transform((value) =>
      value
        .split(',')
        .map((origin) => origin.trim())
        .filter(Boolean),
    )
    .pipe(
      z.array(z.url('must be a comma-separated list of origins such as https://app.monoid.app')),
    ),
  // Clerk (modules/identity). Unset: /api/settings and /webhooks/clerk answer 503.
  CLERK_SECRET_KEY: z.preprocess(
    (value) => (value === '' ? undefined : value),
    z
      .string()
      .regex(/^sk_(test|live)_\S+$/, 'must be a Clerk secret key (sk_test_… or sk_live_…)')
      .optional(),
  ),
  CLERK_PUBLISHABLE_KEY: z.preprocess(
    (value) => (value === '' ? undefined : value),
    z
      .string()
      .refine(isClerkPublishableKey, 'must be a Clerk publishable key (pk_test_… or pk_live_…)')
      .optional(),
  ),
  // PEM public key; a one-line value with literal \n escapes (as in many .env files) is accepted.
  CLERK_JWT_KEY: z.preprocess(
    (value) => (value === '' ? undefined : value),
    z
      .string()
      .transform((value) => value.replaceAll('\\n', '\n').trim())
      .refine(
        (value) => value.startsWith('-----BEGIN PUBLIC KEY-----'),
        'must be a PEM public key (-----BEGIN PUBLIC KEY----- …)',
      )
      .optional(),
  ),
  CLERK_WEBHOOK_SIGNING_SECRET: z.preprocess(
    (value) => (value === '' ? undefined : value),
    z
      .string()
      .regex(/^whsec_[A-Za-z0-9+/=]+$/, 'must be a Svix signing secret (whsec_…)')
      .optional(),
  ),
  CLERK_AUTHORIZED_PARTIES: z.preprocess(
    (value) => (value === '' ? undefined : value),
    z
      .string()
      .transform((value) =>
        value
          .split(',')
          .map((party) => party.trim())
          .filter(Boolean),
      )
      .optional(),
  ),
  CLERK_API_URL: z.preprocess(
    (value) => (value === '' ? undefined : value),
    z.url('must be an absolute URL such as https://api.clerk.com').optional(),
  ),
  // API keys (modules/api-keys): argon2id cost (OWASP: m=19 MiB, t=2, p=1), verification
  // cache, hashing concurrency, failure throttling, last-used batching and rate limits.
  API_KEY_ARGON2_MEMORY_KIB: z.coerce.number().int().min(1024).max(4_194_304).default(19_456),
  API_KEY_ARGON2_TIME_COST: z.coerce.number().int().min(1).max(20).default(2),
  API_KEY_ARGON2_PARALLELISM: z.coerce.number().int().min(1).max(16).default(1),
  API_KEY_CACHE_TTL_MS: z.coerce.number().int().min(0).max(3_600_000).default(30_000),
  API_KEY_CACHE_MAX_ENTRIES: z.coerce.number().int().min(0).max(1_000_000).default(10_000),
  API_KEY_HASH_CONCURRENCY: z.coerce.number().int().min(1).max(64).optional(),
  API_KEY_HASH_QUEUE_MAX: z.coerce.number().int().min(0).max(100_000).default(256),
  API_KEY_FAILURE_LIMIT: z.coerce.number().int().min(1).max(100_000).default(20),
  API_KEY_ID_FAILURE_LIMIT: z.coerce.number().int().min(1).max(100_000).default(100),
  API_KEY_COLD_VERIFY_PER_ADDRESS: z.coerce.number().int().min(1).max(10_000).default(4),
  API_KEY_FAILURE_WINDOW_MS: z.coerce.number().int().min(1_000).max(86_400_000).default(60_000),
  API_KEY_LAST_USED_INTERVAL_MS: z.coerce.number().int().min(0).max(86_400_000).default(60_000),
  API_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).max(10_000_000).default(600),
  ADDRESS_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).max(10_000_000).default(300),
  WEBHOOK_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).max(10_000_000).default(60_000),
  // Leaked-key reports (GitHub secret scanning): see docs/api-keys.md.
  GITHUB_SECRET_SCANNING_KEYS_URL: z
    .url()
    .default('https://api.github.com/meta/public_keys/secret_scanning'),
  GITHUB_SECRET_SCANNING_KEYS_REFETCH_MS: z.coerce
    .number()
    .int()
    .min(0)
    .max(86_400_000)
    .default(60_000),
  // Security log: see docs/security-log.md.
  SECURITY_LOG_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(400),
  // Integrations (Linear, Notion): see docs/integrations.md.
  ENCRYPTION_KEY: optionalString,
  LINEAR_API_URL: z.url().default('https://api.linear.app/graphql'),
  LINEAR_OAUTH_AUTHORIZE_URL: z.url().default('https://linear.app/oauth/authorize'),
  LINEAR_OAUTH_TOKEN_URL: z.url().default('https://api.linear.app/oauth/token'),
  LINEAR_CLIENT_ID: optionalString,
  LINEAR_CLIENT_SECRET: optionalString,
  LINEAR_OAUTH_REDIRECT_URI: z.preprocess(
    (value) => (value === '' ? undefined : value),
    z.url().optional(),
  ),
  /** `app`: what MONOid writes in Linear is authored by the app (OAuth `actor=app`). */
  LINEAR_OAUTH_ACTOR: z.preprocess(
    (value) => (value === '' ? undefined : value),
    z.enum(['user', 'app']).optional(),
  ),
  LINEAR_RECONCILE_INTERVAL_MS: z.coerce.number().int().min(0).default(900_000),
  NOTION_API_URL: z.url().default('https://api.notion.com'),
  NOTION_CLIENT_ID: optionalString,
  NOTION_CLIENT_SECRET: optionalString,
  NOTION_OAUTH_REDIRECT_URI: z.preprocess(
    (value) => (value === '' ? undefined : value),
    z.url().optional(),
  ),
  WEBHOOK_BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).default(1_048_576),
  /** How long `Idempotency-Key` records are kept (the contract requires at least 24 h). */
  IDEMPOTENCY_KEY_TTL_HOURS: z.coerce
    .number()
    .int()
    .min(24)
    .max(24 * 30)
    .default(24),
});

export type Config = z.infer<typeof configSchema>;

/** Rules between variables, checked after each one parsed. */
const consistentConfig = configSchema.superRefine((c, ctx) => {
  // A Notion event id deduplicates only while its inbox row exists.
  for (const name of ['INBOX_RETENTION_PROCESSED_DAYS', 'INBOX_RETENTION_FAILED_DAYS'] as const)
    if (c[name] * 24 <= c.NOTION_EVENT_MAX_AGE_HOURS)
      ctx.addIssue({
        code: 'custom',
        path: [name],
        message:
          'must be longer than NOTION_EVENT_MAX_AGE_HOURS (events are deduplicated by their row)',
      });
  // Runs are deleted with their event: a longer window could not be honoured.
  if (
    c.AUTOMATION_RUN_RETENTION_DAYS >
    Math.min(c.INBOX_RETENTION_PROCESSED_DAYS, c.INBOX_RETENTION_FAILED_DAYS)
  )
    ctx.addIssue({
      code: 'custom',
      path: ['AUTOMATION_RUN_RETENTION_DAYS'],
      message:
        'must not exceed INBOX_RETENTION_PROCESSED_DAYS or INBOX_RETENTION_FAILED_DAYS (runs go with their event)',
    });
});

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses the environment once; throws a ConfigError that names every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const result = consistentConfig.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = issue.path.join('.') || '(environment)';
    const value = env[String(issue.path[0])];
    const shown = value === undefined ? 'unset' : 'set';
    return `${name} (${shown}): ${issue.message}`;
  });
  throw new ConfigError(problems);
}
