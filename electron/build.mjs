/**
 * Builds the panel's Electron side into electron/dist/ with esbuild (the layout main.ts expects):
 *   dist/main/main.js          the main process, one ES module (Electron loads ESM mains; the
 *                              repository's "type": "module" makes .js ESM)
 *   dist/preload/preload.cjs   the panel and chat windows' preload (window.portico)
 *   dist/preload/prompt.cjs    the built-in prompt windows' preload
 * Preloads are single CommonJS files because sandboxed preloads can neither be ES modules nor
 * require anything but a few Electron modules. 'electron' itself is never bundled.
 * The renderer web app is built separately (electron/renderer/build.mjs).
 * Usage: node electron/build.mjs. Not minified, so stack traces and electronegativity's findings
 * (electron/check-security.mjs) point at readable code.
 */
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');

/** Electron 45 runs Node 22 and Chromium 140; node20 is the floor the repository supports. */
const common = {
  absWorkingDir: here,
  bundle: true,
  platform: 'node',
  target: ['node20', 'chrome140'],
  external: ['electron'],
  sourcemap: 'linked',
  legalComments: 'inline',
  logLevel: 'warning',
  metafile: true,
};

export async function buildElectron({ quiet = false } = {}) {
  const started = Date.now();
  rmSync(dist, { recursive: true, force: true });
  const results = await Promise.all([
    build({
      ...common,
      entryPoints: { main: join(here, 'main/main.ts') },
      format: 'esm',
      // Bundled CommonJS dependencies (electron-updater) call require() for Node built-ins and
      // 'electron': an ES module has no require, so give the bundle one.
      banner: { js: "import { createRequire as __porticoCreateRequire } from 'node:module';\nconst require = __porticoCreateRequire(import.meta.url);" },
      outdir: join(dist, 'main'),
    }),
    build({
      ...common,
      entryPoints: { preload: join(here, 'preload/preload.ts'), prompt: join(here, 'preload/prompt.ts') },
      format: 'cjs',
      outdir: join(dist, 'preload'),
      outExtension: { '.js': '.cjs' },
    }),
  ]);
  const outputs = results.flatMap((result) => Object.keys(result.metafile.outputs)).filter((file) => !file.endsWith('.map'));
  if (!quiet) {
    const files = outputs.map((file) => relative(process.cwd(), join(here, file))).join(', ');
    console.log(`electron: ${files} in ${Date.now() - started} ms`);
  }
  return { dist, outputs: outputs.map((file) => join(here, file)) };
}

export const distDir = dist;

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  buildElectron().catch((error) => {
    console.error(`electron build failed: ${error.message}`);
    process.exitCode = 1;
  });
}
