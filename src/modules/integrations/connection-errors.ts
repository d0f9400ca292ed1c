/**
 * How a provider call path refuses to call, as the rest of the server sees it (settings map
 * them to 409 / 502, the inbox worker and background jobs to a later retry). Provider code
 * throws them; integrations, inbox and automations only read them.
 */

/**
 * The connection needs a person to authorize again (the refresh was refused, or there is no
 * refresh token to use). Its status is `reauthorization_required`; settings answer 409.
 */
export class ReauthorizationRequired extends Error {
  constructor(
    readonly provider: string,
    readonly connectionId: string,
    readonly reason: string,
  ) {
    super(reason);
    this.name = 'ReauthorizationRequired';
  }
}

/** The connection no longer exists (disconnected meanwhile). */
export class ConnectionGone extends Error {
  constructor(readonly connectionId: string) {
    super('the connection no longer exists');
    this.name = 'ConnectionGone';
  }
}

/**
 * The wait for a key's next slot is longer than the caller accepts (a provider's rate-limit
 * reset far away): come back at `retryAt`. Interactive callers answer at once (502 with
 * Retry-After); background work reschedules itself without counting an attempt.
 */
export class BudgetExhausted extends Error {
  constructor(
    readonly key: string,
    /** Epoch ms at which calls for the key may resume. */
    readonly retryAt: number,
  ) {
    super('the provider rate limit of this connection is exhausted until its reset');
    this.name = 'BudgetExhausted';
  }
}

/**
 * The call path's own refusal behind an SDK error, if that is what it is: `@linear/sdk` wraps
 * whatever its request function throws in a `LinearError` (the original in `.raw`).
 */
export function lifecycleFailure(
  err: unknown,
): ReauthorizationRequired | ConnectionGone | BudgetExhausted | undefined {
  for (const candidate of [err, (err as { raw?: unknown } | null)?.raw])
    if (
      candidate instanceof ReauthorizationRequired ||
      candidate instanceof ConnectionGone ||
      candidate instanceof BudgetExhausted
    )
      return candidate;
  return undefined;
}
