import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.ts';
import { type Config, ConfigError, loadConfig } from './config.ts';
import { openHandles } from './lifecycle.ts';

/**
 * The only file that listens: load config, build, listen, and shut down.
 *
 * Shutdown always ends. The first SIGTERM/SIGINT stops accepting, finishes requests in flight
 * and runs the close steps; past SHUTDOWN_TIMEOUT_MS the process exits 1 with a line naming
 * the steps and handles still open; a second signal exits 1 at once. Signals are handled from
 * the first line on, so one that arrives during start-up (migrations, database open) is not
 * lost: the app closes as soon as it is built.
 */
function exitWith(code: number, line: Record<string, unknown>): never {
  // Synchronous: the process ends right after, with nothing left to flush a stream.
  process.stderr.write(
    `${JSON.stringify({ level: code === 0 ? 30 : 50, time: Date.now(), pid: process.pid, ...line })}\n`,
  );
  process.exit(code);
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\nSee .env.example for every variable.\n`);
      process.exit(1);
    }
    throw err;
  }

  let app: FastifyInstance | undefined;
  let stopping: Promise<void> | undefined;
  const stop = (signal: string): Promise<void> => {
    if (stopping) return stopping;
    const deadline = setTimeout(() => {
      exitWith(1, {
        msg: `shutdown did not finish within SHUTDOWN_TIMEOUT_MS (${config.SHUTDOWN_TIMEOUT_MS} ms); exiting`,
        stillClosing: app ? [...app.closingSteps] : ['start-up'],
        openHandles: openHandles(),
      });
    }, config.SHUTDOWN_TIMEOUT_MS);
    stopping = (async () => {
      if (!app) return; // still starting: main() closes it once built
      app.log.info({ signal }, 'shutting down: no new connections, finishing in-flight requests');
      // Stops accepting, waits for in-flight requests, then runs the close steps.
      await app.close();
      clearTimeout(deadline);
      process.exit(0);
    })().catch((err: unknown) => {
      app?.log.error({ err }, 'error during shutdown');
      process.exit(1);
    });
    return stopping;
  };
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals += 1;
    if (signals > 1) exitWith(1, { signal, msg: 'second signal during shutdown; exiting now' });
    void stop(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  app = await buildApp(config);
  if (stopping) {
    stopping = undefined;
    await stop('signal during start-up');
    return;
  }
  await app.listen({ port: config.PORT, host: config.HOST });
}

main().catch((err: unknown) => {
  process.stderr.write(
    `MONOid API failed to start: ${err instanceof Error ? err.stack : String(err)}\n`,
  );
  process.exit(1);
});
