import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open, readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

/**
 * One process at a time may open an embedded (PGlite) data directory. These helpers let the
 * operator CLI work whether or not the server is running:
 *
 * - a lock file (`DATA_DIR/pglite.lock`, the holder's pid, created with O_EXCL) taken by
 *   whichever process opens the directory, released on close; a lock whose pid is gone is
 *   stale and taken over;
 * - the server, holding the lock, serves its database to local processes over a Unix socket
 *   (Postgres wire protocol, @electric-sql/pglite-socket), recorded in
 *   `DATA_DIR/pglite-server.json`; the socket's directory is private (0700) to the user;
 * - the CLI connects through that socket with node-postgres when the server is up, and opens
 *   the directory itself (taking the lock) when it is not.
 */

const LOCK_FILE = 'pglite.lock';
const SERVER_FILE = 'pglite-server.json';
/** node-postgres derives the socket file name from the port: `<dir>/.s.PGSQL.5432`. */
const SOCKET_NAME = '.s.PGSQL.5432';

export interface EmbeddedServerInfo {
  pid: number;
  /** Directory holding `.s.PGSQL.5432`. */
  socketDir: string;
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function lockHolder(dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(dataDir, LOCK_FILE), 'utf8').trim());
    return Number.isInteger(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

export class DataDirLockedError extends Error {
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(`the embedded database in ${dataDir} is in use by process ${pid}`);
    this.name = 'DataDirLockedError';
  }
}

/**
 * Takes the data-directory lock, waiting up to `waitMs` for a live holder to let go.
 * Returns the release function.
 */
export async function acquireDataDirLock(
  dataDir: string,
  options: { waitMs?: number } = {},
): Promise<() => void> {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, LOCK_FILE);
  const deadline = Date.now() + (options.waitMs ?? 0);
  for (;;) {
    try {
      const handle = await open(path, 'wx', 0o600);
      await handle.writeFile(String(process.pid));
      await handle.close();
      let released = false;
      return () => {
        if (released) return;
        released = true;
        if (lockHolder(dataDir) === process.pid) rmSync(path, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = lockHolder(dataDir);
    if (holder === undefined || !isAlive(holder)) {
      // Stale (the holder died without cleaning up) or half-written: take it over.
      await rm(path, { force: true });
      continue;
    }
    if (Date.now() >= deadline) throw new DataDirLockedError(dataDir, holder);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function socketDirFor(dataDir: string): string {
  const preferred = resolve(dataDir);
  // Unix socket paths are limited to ~107 bytes; fall back to a private temporary directory.
  if (join(preferred, SOCKET_NAME).length < 100) return preferred;
  const digest = createHash('sha256').update(preferred).digest('hex').slice(0, 16);
  return join(tmpdir(), `monoid-${digest}`);
}

/** Whether something accepts connections on the socket. */
function canConnect(path: string, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const socket = connect(path);
    const done = (ok: boolean) => {
      socket.destroy();
      resolvePromise(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** The running server of this data directory, if there is one and it answers. */
export async function findEmbeddedServer(dataDir: string): Promise<EmbeddedServerInfo | undefined> {
  let info: EmbeddedServerInfo;
  try {
    info = JSON.parse(await readFile(join(dataDir, SERVER_FILE), 'utf8')) as EmbeddedServerInfo;
  } catch {
    return undefined;
  }
  if (typeof info.pid !== 'number' || typeof info.socketDir !== 'string') return undefined;
  if (!isAlive(info.pid)) return undefined;
  if (!(await canConnect(join(info.socketDir, SOCKET_NAME)))) return undefined;
  return info;
}

/** A node-postgres URL for the server's socket. */
export function embeddedServerUrl(info: EmbeddedServerInfo): string {
  return `postgres://postgres@localhost/postgres?host=${encodeURIComponent(info.socketDir)}`;
}

const NOTIFICATION_RESPONSE = 0x41; // 'A'

/** Channel/payload pairs of the NotificationResponse messages in a backend output stream. */
export function notificationsIn(output: Uint8Array): Array<[string, string]> {
  const found: Array<[string, string]> = [];
  const buf = Buffer.from(output.buffer, output.byteOffset, output.byteLength);
  let offset = 0;
  while (offset + 5 <= buf.length) {
    const type = buf[offset];
    const length = buf.readInt32BE(offset + 1);
    if (length < 4 || offset + 1 + length > buf.length) break;
    if (type === NOTIFICATION_RESPONSE) {
      const start = offset + 9; // type, length, pid
      const channelEnd = buf.indexOf(0, start);
      const payloadEnd = channelEnd >= 0 ? buf.indexOf(0, channelEnd + 1) : -1;
      if (channelEnd >= 0 && payloadEnd >= 0) {
        found.push([
          buf.toString('utf8', start, channelEnd),
          buf.toString('utf8', channelEnd + 1, payloadEnd),
        ]);
      }
    }
    offset += 1 + length;
  }
  return found;
}

/**
 * Serves `pglite` on a private Unix socket for local tools and records where. NOTIFY issued
 * by a socket client reaches the raw protocol stream of that client only; it is re-issued
 * in-process so that this process's LISTEN handlers (API-key cache invalidation) see it.
 * Returns the function that stops serving.
 */
export async function serveEmbeddedDatabase(
  pglite: PGlite,
  dataDir: string,
  onError: (err: unknown) => void = () => undefined,
): Promise<() => Promise<void>> {
  const socketDir = socketDirFor(dataDir);
  mkdirSync(socketDir, { recursive: true, mode: 0o700 });
  chmodSync(socketDir, 0o700);
  const socketPath = join(socketDir, SOCKET_NAME);
  rmSync(socketPath, { force: true });

  const relay = (output: Uint8Array[]) => {
    if (output.length === 0) return;
    for (const [channel, payload] of notificationsIn(Buffer.concat(output))) {
      // After the socket's exclusive turn has ended; never from inside it.
      setImmediate(() => {
        pglite.query('select pg_notify($1, $2)', [channel, payload]).catch(onError);
      });
    }
  };
  const db = new Proxy(pglite, {
    get(target, prop, receiver) {
      if (prop === 'execProtocolRawStream') {
        return async (
          message: Uint8Array,
          options: { onRawData: (data: Uint8Array) => void; syncToFs?: boolean },
        ) => {
          const output: Uint8Array[] = [];
          await target.execProtocolRawStream(message, {
            ...options,
            onRawData: (data: Uint8Array) => {
              output.push(Uint8Array.from(data));
              options.onRawData(data);
            },
          });
          relay(output);
        };
      }
      const value: unknown = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });

  const server = new PGLiteSocketServer({ db, path: socketPath, maxConnections: 4 });
  await server.start();
  chmodSync(socketPath, 0o600);
  const infoPath = join(dataDir, SERVER_FILE);
  const info: EmbeddedServerInfo = { pid: process.pid, socketDir };
  writeFileSync(infoPath, JSON.stringify(info), { mode: 0o600 });
  return async () => {
    rmSync(infoPath, { force: true });
    await server.stop().catch(onError);
    rmSync(socketPath, { force: true });
    if (socketDir !== resolve(dataDir)) rmSync(socketDir, { recursive: true, force: true });
  };
}
