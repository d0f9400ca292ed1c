// Compiles src/ to dist/ (tsconfig.build.json) when dist/ is missing or older than a source:
// `npm start`, `npm run cli` and `npm run db:migrate` run it first, so the README's two
// commands stay true after a pull. `--force` always builds (`npm run build`). Messages go to
// stderr: the CLI's --json output on stdout stays clean.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const stamp = join(root, 'dist', '.build-stamp');
const inputs = ['src', 'tsconfig.json', 'tsconfig.build.json', 'package-lock.json'];

function newestMtime(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs; // a deleted file changes its directory's mtime
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

function upToDate() {
  if (!existsSync(stamp)) return false;
  // An image's runtime stage has dist/ and no sources: nothing to compare, nothing to build.
  if (!existsSync(join(root, 'src'))) return true;
  const built = statSync(stamp).mtimeMs;
  return inputs.every(
    (input) => !existsSync(join(root, input)) || newestMtime(join(root, input)) <= built,
  );
}

if (process.argv.includes('--force') || !upToDate()) {
  let tsc;
  try {
    tsc = join(
      dirname(createRequire(import.meta.url).resolve('typescript/package.json')),
      'bin',
      'tsc',
    );
  } catch {
    process.stderr.write(
      'dist/ is missing or out of date and TypeScript is not installed: run `npm ci` and `npm run build`.\n',
    );
    process.exit(1);
  }
  const started = new Date();
  rmSync(join(root, 'dist'), { recursive: true, force: true });
  const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], {
    cwd: root,
    stdio: ['ignore', 2, 2],
  });
  if (result.status !== 0) {
    process.stderr.write('build failed\n');
    process.exit(result.status ?? 1);
  }
  // Dated when the build started: a source saved during the build is newer, so rebuilt next time.
  writeFileSync(stamp, `${started.toISOString()}\n`);
  utimesSync(stamp, started, started);
  process.stderr.write(
    `built dist/ in ${((Date.now() - started.getTime()) / 1000).toFixed(1)} s\n`,
  );
}
