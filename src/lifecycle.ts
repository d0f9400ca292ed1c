import type { FastifyInstance } from 'fastify';

declare module 'fastify' {
  interface FastifyInstance {
    /** Names of the close steps running now (`onCloseStep`): what a stuck shutdown waits for. */
    closingSteps: Set<string>;
  }
}

/**
 * Registers a named shutdown step (`onClose` by default; `preClose` runs before the HTTP server
 * stops accepting). While it runs its name is in `app.closingSteps`, so a shutdown that misses
 * its deadline can say what it was still waiting for (`server.ts`).
 */
export function onCloseStep(
  app: FastifyInstance,
  name: string,
  step: () => unknown,
  hook: 'onClose' | 'preClose' = 'onClose',
): void {
  const run = async () => {
    app.closingSteps.add(name);
    const started = performance.now();
    try {
      await step();
    } finally {
      app.closingSteps.delete(name);
      app.log.debug({ step: name, ms: Math.round(performance.now() - started) }, 'closed');
    }
  };
  if (hook === 'preClose') app.addHook('preClose', run);
  else app.addHook('onClose', run);
}

/** Handles of the process still open, by kind (`TCPSocketWrap: 2, Timeout: 1`). */
export function openHandles(): string {
  const counts = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo())
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
  return [...counts].map(([kind, n]) => `${kind}: ${n}`).join(', ');
}
