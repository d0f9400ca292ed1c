import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { findEmbeddedServer } from '../../src/db/embedded-access.ts';
import { buildTestApp, LogCapture, type TestApp, testConfig } from '../helpers/app.ts';
import { testPostgresUrl } from '../helpers/database.ts';
import { eventually } from '../helpers/eventually.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(args: string[], env: Record<string, string>): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      ['--import', 'tsx', 'src/cli.ts', ...args],
      { cwd: root, env: { ...process.env, LOG_LEVEL: 'warn', ...env }, timeout: 90_000 },
    );
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

const me = (t: { inject: TestApp['app']['inject'] }, key: string) =>
  t.inject({ url: '/api/v1/me', headers: { authorization: `Bearer ${key}` } });

describe('operator CLI on the embedded database', { timeout: 180_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'monoid-cli-'));
  const env = { DATABASE_URL: '', DATA_DIR: dir };
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('rejects bad usage before touching the database', async () => {
    const noUser = await cli(['keys', 'create', '--name', 'x', '--scopes', 'read'], env);
    expect(noUser.code).toBe(2);
    expect(noUser.stderr).toContain('--user');
    const help = await cli(['--help'], env);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('keys create');
  });

  let created: { id: string; key: string };
  it('server down: opens the data directory itself (create, list, bad scopes)', async () => {
    const res = await cli(
      [
        'keys',
        'create',
        '--user',
        'user_cli_1',
        '--name',
        'laptop',
        '--scopes',
        'read,write',
        '--json',
      ],
      env,
    );
    expect(res.code, res.stderr).toBe(0);
    created = JSON.parse(res.stdout);
    expect(created).toMatchObject({
      name: 'laptop',
      scopes: ['read', 'write'],
      status: 'active',
      clerkUserId: 'user_cli_1',
    });
    expect(created.key).toMatch(/^mo_[0-9A-Za-z]{42}$/);
    expect(res.stderr).not.toContain(created.key);

    const bad = await cli(
      ['keys', 'create', '--user', 'user_cli_1', '--name', 'x', '--scopes', 'admin'],
      env,
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('scopes');

    const list = await cli(['keys', 'list', '--user', 'user_cli_1', '--json'], env);
    expect(list.code, list.stderr).toBe(0);
    const keys = JSON.parse(list.stdout);
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ id: created.id, displayKey: `mo_...${created.key.slice(-4)}` });
    expect(list.stdout).not.toContain(created.key);
  });

  it('server up: goes through its socket, and the server sees the revocation at once', async () => {
    const logs = new LogCapture();
    const app = await buildApp(testConfig({ DATA_DIR: dir }), { logStream: logs });
    try {
      expect(await findEmbeddedServer(dir)).toMatchObject({ pid: process.pid });
      expect((await me(app, created.key)).statusCode).toBe(200);

      const res = await cli(
        [
          'keys',
          'create',
          '--user',
          'user_cli_2',
          '--name',
          'while up',
          '--scopes',
          'read',
          '--json',
        ],
        env,
      );
      expect(res.code, res.stderr).toBe(0);
      const second = JSON.parse(res.stdout);
      expect((await me(app, second.key)).statusCode).toBe(200);

      const list = await cli(['keys', 'list', '--user', 'user_cli_1'], env);
      expect(list.code, list.stderr).toBe(0);
      expect(list.stdout).toContain(created.id);
      expect(list.stdout).toContain('active');

      const revoke = await cli(['keys', 'revoke', created.id, '--reason', 'lost laptop'], env);
      expect(revoke.code, revoke.stderr).toBe(0);
      expect(revoke.stdout).toContain('Revoked');
      // The server had the key cached; the NOTIFY relayed from the socket drops it.
      expect(await eventually(async () => (await me(app, created.key)).statusCode === 401)).toBe(
        true,
      );
      expect((await me(app, created.key)).json().code).toBe('API_KEY_REVOKED');
      expect((await me(app, second.key)).statusCode).toBe(200);
      expect(logs.text).not.toContain(created.key);
      expect(logs.text).not.toContain(second.key);
    } finally {
      await app.close();
    }
    expect(await findEmbeddedServer(dir)).toBeUndefined();

    // Down again: the CLI opens the directory directly and sees everything.
    const after = await cli(['keys', 'list', '--user', 'user_cli_1', '--json'], env);
    expect(after.code, after.stderr).toBe(0);
    expect(JSON.parse(after.stdout)[0]).toMatchObject({
      status: 'revoked',
      revokeReason: 'lost laptop',
    });
    const unknown = await cli(['keys', 'revoke', '00000000-0000-4000-8000-000000000000'], env);
    expect(unknown.code).toBe(1);
  });
});

describe.runIf(testPostgresUrl())('operator CLI on DATABASE_URL', { timeout: 120_000 }, () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp();
  });
  afterAll(async () => t.close());

  it('creates, lists and revokes; a running server sees the revocation via NOTIFY', async () => {
    const env = { DATABASE_URL: t.db.url ?? '' };
    const res = await cli(
      ['keys', 'create', '--user', 'user_pg', '--name', 'ci', '--scopes', 'read', '--json'],
      env,
    );
    expect(res.code, res.stderr).toBe(0);
    const created = JSON.parse(res.stdout);
    expect((await me(t.app, created.key)).statusCode).toBe(200);
    const list = await cli(['keys', 'list', '--user', 'user_pg', '--json'], env);
    expect(JSON.parse(list.stdout).map((k: { id: string }) => k.id)).toEqual([created.id]);
    const revoke = await cli(['keys', 'revoke', created.id, '--json'], env);
    expect(revoke.code, revoke.stderr).toBe(0);
    expect(JSON.parse(revoke.stdout).status).toBe('revoked');
    expect(await eventually(async () => (await me(t.app, created.key)).statusCode === 401)).toBe(
      true,
    );
  });
});
