/**
 * A MONOid process for bench/automations.ts: `BENCH_MODE=server` listens on loopback (API +
 * webhooks + the in-process worker when AUTOMATION_WORKER_ENABLED=true); `BENCH_MODE=worker`
 * only runs the app with its inbox worker (no listener), like an extra server instance.
 * Configured by the environment (config.ts); reports `{ ready, url }` over IPC, exits on `stop`
 * after reporting `{ sql }`: the statements it sent, counted at the driver (every pg client,
 * in and out of transactions), and how many were BEGIN and COMMIT. `BENCH_SQL_LOG=<n>` also
 * prints the first n statements after a reset (their first line) on stderr, to see a batch's.
 */
import pg from 'pg';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';

const sql = { statements: 0, begins: 0, commits: 0 };
const logFirst = Number(process.env.BENCH_SQL_LOG ?? 0);
const query = pg.Client.prototype.query as (...args: unknown[]) => unknown;
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  const first = args[0];
  const text = typeof first === 'string' ? first : String((first as { text?: unknown })?.text);
  sql.statements += 1;
  if (sql.statements <= logFirst)
    process.stderr.write(`sql ${sql.statements}: ${text.replace(/\s+/g, ' ').slice(0, 160)}\n`);
  if (/^\s*begin/i.test(text)) sql.begins += 1;
  else if (/^\s*commit/i.test(text)) sql.commits += 1;
  return query.apply(this, args);
} as typeof pg.Client.prototype.query;

const config = loadConfig();
const app = await buildApp(config, { skipMigrations: true, skipReconciler: true });
let url = '';
if (process.env.BENCH_MODE === 'server') {
  url = await app.listen({ port: 0, host: '127.0.0.1' });
}
const cpuAtReady = process.cpuUsage();
process.send?.({ ready: true, url });
process.on('message', (message: { cmd?: string }) => {
  if (message.cmd === 'reset') Object.assign(sql, { statements: 0, begins: 0, commits: 0 });
  if (message.cmd === 'stop')
    void app.close().then(() => {
      const cpu = process.cpuUsage(cpuAtReady);
      process.send?.({ sql: { ...sql, cpuMs: (cpu.user + cpu.system) / 1000 } }, () =>
        process.exit(0),
      );
    });
});
