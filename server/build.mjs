/**
 * Builds the server into server/dist/ with esbuild, so that `portico` and `npm start` run plain
 * JavaScript (no TypeScript loader: an admin command starts in a fraction of the time):
 *   dist/main.js       server/src/main.ts and its dependencies as ES modules, with what only
 *   dist/chunks/       some commands import (the HTTP server, TLS) in chunks loaded on demand.
 *                      Bundling node_modules in starts faster than loading hundreds of their
 *                      files (measured: about 40 % less CPU at start-up); better-sqlite3 stays
 *                      outside (native).
 *   dist/*.map         source maps (stack traces point at the .ts sources with --enable-source-maps)
 *   dist/build.json    what went in, to tell a stale build from a fresh one (isServerBuildStale)
 * Each file is written aside and renamed into place, so a process starting meanwhile (or a second
 * build running at the same time, as test files do) never reads half a file.
 * Usage: node server/build.mjs [--if-stale]. Code finds the package's files through
 * server/src/package-root.ts, never by a path relative to its own file (dist/ is not src/).
 */
import { existsSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
export const serverDist = join(here, 'dist');
export const serverEntry = join(serverDist, 'main.js');
const manifestFile = join(serverDist, 'build.json');

// esbuild turns `require` of Node's modules in bundled CommonJS into calls of this one.
const BANNER = "import { createRequire as __porticoRequire } from 'node:module'; const require = __porticoRequire(import.meta.url);";

/**
 * Why the build in server/dist/ cannot be used as it is (missing, or a source, this script or
 * a bundled package changed since), or '' when it is up to date. Only stats files: a few ms.
 */
export function isServerBuildStale() {
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
    statSync(serverEntry);
  } catch {
    return 'not built yet';
  }
  for (const input of [...manifest.inputs, ...manifest.watched]) {
    let mtimeMs;
    try {
      ({ mtimeMs } = statSync(join(root, input)));
    } catch {
      return `${input} is gone`;
    }
    if (mtimeMs > manifest.startedAt) return `${input} changed`;
  }
  return '';
}

export async function buildServer({ quiet = false } = {}) {
  const { build } = await import('esbuild'); // only when building: the check above stays cheap
  const startedAt = Date.now();
  const result = await build({
    absWorkingDir: root,
    entryPoints: [join(here, 'src/main.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20.19',
    external: ['better-sqlite3'],
    banner: { js: BANNER },
    // The HTTP server, TLS and such are imported only by the commands that need them (main.ts):
    // each such import is a chunk of its own, so an admin command does not load them.
    splitting: true,
    outdir: serverDist,
    entryNames: '[name]',
    chunkNames: 'chunks/[name]-[hash]',
    sourcemap: 'linked',
    write: false,
    metafile: true,
    logLevel: quiet ? 'error' : 'warning',
  });
  mkdirSync(join(serverDist, 'chunks'), { recursive: true });
  const written = [];
  // Chunks first, main.js after them, the manifest last: a new main.js finds its chunks in place.
  const inChunks = (f) => dirname(f.path) === join(serverDist, 'chunks');
  const outputs = [...result.outputFiles.filter(inChunks), ...result.outputFiles.filter((f) => !inChunks(f))];
  for (const file of outputs) {
    const next = `${file.path}.next-${process.pid}`;
    written.push(next);
    writeFileSync(next, file.contents);
  }
  const inputs = Object.keys(result.metafile.inputs).filter((p) => !p.includes(':')); // not "<define:...>"
  // npm unpacks packages with a fixed old mtime: an `npm install` shows in its lock file instead.
  const watched = [relative(root, fileURLToPath(import.meta.url)), 'node_modules/.package-lock.json'].filter((p) => existsSync(join(root, p)));
  writeFileSync(`${manifestFile}.next-${process.pid}`, JSON.stringify({ startedAt, watched, inputs }, null, 1) + '\n');
  written.push(`${manifestFile}.next-${process.pid}`);
  try {
    for (const next of written) renameSync(next, next.replace(/\.next-\d+$/, '')); // the manifest last
  } finally {
    for (const next of written) rmSync(next, { force: true });
  }
  // Chunks of earlier builds go once nothing can still be starting from them.
  const current = new Set(result.outputFiles.map((f) => f.path));
  for (const name of readdirSync(join(serverDist, 'chunks'))) {
    const file = join(serverDist, 'chunks', name);
    if (!current.has(file) && !name.includes('.next-') && statSync(file).mtimeMs < startedAt - 10 * 60_000) rmSync(file, { force: true });
  }
  if (!quiet) console.log(`server: ${relative(process.cwd(), serverEntry)} in ${Date.now() - startedAt} ms`);
  return { entry: serverEntry };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const onlyIfStale = process.argv.includes('--if-stale');
  if (!onlyIfStale || isServerBuildStale()) {
    buildServer().catch((error) => {
      console.error(`server build failed: ${error.message}`);
      process.exitCode = 1;
    });
  }
}
