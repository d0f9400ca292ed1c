import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { type AppOverrides, buildApp } from '../../src/app.ts';
import { type Config, loadConfig } from '../../src/config.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';
import { capturedLogLines } from './log-registry.ts';

/** Collects every log line an app writes, so tests can assert what was (not) logged. */
export class LogCapture extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line) continue;
      this.lines.push(line);
      capturedLogLines.push(line);
    }
    done();
  }
  get text(): string {
    return this.lines.join('\n');
  }
  records(): Array<Record<string, unknown>> {
    return this.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  }
}

export function testConfig(env: Record<string, string | undefined> = {}): Config {
  return loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    DATA_DIR: 'memory',
    ...env,
  });
}

export interface TestApp {
  app: FastifyInstance;
  db: TestDatabase;
  logs: LogCapture;
  config: Config;
  close(): Promise<void>;
}

/** Builds the app on its own fresh database (real Postgres when configured, else PGlite). */
export async function buildTestApp(
  options: {
    env?: Record<string, string | undefined>;
    overrides?: Omit<AppOverrides, 'database' | 'logStream'>;
    db?: TestDatabase;
  } = {},
): Promise<TestApp> {
  const db = options.db ?? (await createTestDatabase());
  const logs = new LogCapture();
  const config = testConfig({ ...(db.url ? { DATABASE_URL: db.url } : {}), ...options.env });
  const app = await buildApp(config, {
    ...options.overrides,
    database: db.database,
    logStream: logs,
    skipMigrations: true,
  });
  return {
    app,
    db,
    logs,
    config,
    async close() {
      await app.close();
      if (!options.db) await db.destroy();
    },
  };
}
