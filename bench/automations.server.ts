/**
 * A MONOid process for bench/automations.ts: `BENCH_MODE=server` listens on loopback (API +
 * webhooks + the in-process worker when AUTOMATION_WORKER_ENABLED=true); `BENCH_MODE=worker`
 * only runs the app with its inbox worker (no listener), like an extra server instance.
 * Configured by the environment (config.ts); reports `{ ready, url }` over IPC, exits on `stop`.
 */
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';

const config = loadConfig();
const app = await buildApp(config, { skipMigrations: true, skipReconciler: true });
let url = '';
if (process.env.BENCH_MODE === 'server') {
  url = await app.listen({ port: 0, host: '127.0.0.1' });
}
process.send?.({ ready: true, url });
process.on('message', (message: { cmd?: string }) => {
  if (message.cmd === 'stop')
    void app.close().then(() => {
      process.exit(0);
    });
});
