import { type ChildProcess, spawn } from 'node:child_process';
import { collectOutput } from '../../scripts/child-output.ts';
import { freePort } from './throwaway-postgres.ts';

/** A real server process (src/server.ts), for multi-instance, kill -9 and shutdown tests. */
export interface ServerProcess {
  child: ChildProcess;
  port: number;
  baseUrl: string;
  output(): string;
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): void;
}

export async function startServerProcess(env: Record<string, string>): Promise<ServerProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    env: {
      ...process.env,
      DATABASE_URL: '',
      LOG_LEVEL: 'warn',
      HOST: '127.0.0.1',
      ...env,
      PORT: String(port),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  collectOutput(child, (text) => {
    output += text;
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const baseUrl = `http://127.0.0.1:${port}`;
  let up = false;
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  // Up to 2 minutes: on the shared 2-core machine under a load average of 12+, compiling the
  // sources with tsx and starting took 20-60 s, and a 30 s bound made shutdown.test.ts flaky.
  for (let i = 0; i < 1200 && !up && !gone; i++) {
    await new Promise((r) => setTimeout(r, 100));
    up = await fetch(`${baseUrl}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
  }
  if (!up) {
    child.kill('SIGKILL');
    throw new Error(`server process did not start:\n${output}`);
  }
  return {
    child,
    port,
    baseUrl,
    output: () => output,
    exited,
    kill: (signal = 'SIGTERM') => {
      child.kill(signal);
    },
  };
}
