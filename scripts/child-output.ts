import type { ChildProcess } from 'node:child_process';

/** Resolves with the child's exit code, also when it has already exited. */
export function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}

/** Hands everything the child writes to stdout and stderr to `sink`, as text. */
export function collectOutput(child: ChildProcess, sink: (text: string) => void): void {
  child.stdout?.on('data', (d) => sink(String(d)));
  child.stderr?.on('data', (d) => sink(String(d)));
}
