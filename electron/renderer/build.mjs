/**
 * Builds the panel's renderer into electron/renderer/dist/ with esbuild:
 *   dist/index.html               the one page (panel, and chat windows at #/chat/<id>)
 *   dist/assets/main-<hash>.js    the bundle (Preact, uPlot, the API client)
 *   dist/assets/main-<hash>.css   the styles (no inline styles: the CSP forbids them)
 *   dist/icon.svg
 * The server serves dist/ at /app. Usage: node electron/renderer/build.mjs [--dev] (unminified).
 * Builds into a fresh folder and swaps it in, so a running server never sees half a build.
 */
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');
const dev = process.argv.includes('--dev');

export async function buildRenderer({ minify = !dev, quiet = false } = {}) {
  const started = Date.now();
  const next = join(here, `dist.next-${process.pid}`);
  rmSync(next, { recursive: true, force: true });
  mkdirSync(next, { recursive: true });
  try {
    const result = await build({
      absWorkingDir: here,
      entryPoints: { main: join(here, 'src/main.tsx') },
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: ['chrome120', 'firefox120', 'safari16'],
      jsx: 'automatic',
      jsxImportSource: 'preact',
      outdir: join(next, 'assets'),
      entryNames: '[name]-[hash]',
      assetNames: '[name]-[hash]',
      minify,
      sourcemap: 'linked',
      metafile: true,
      legalComments: 'linked',
      logLevel: quiet ? 'error' : 'warning',
      define: { 'process.env.NODE_ENV': JSON.stringify(minify ? 'production' : 'development') },
    });
    const outputs = Object.keys(result.metafile.outputs).map((p) => relative(next, join(here, p)).split('\\').join('/'));
    const js = outputs.find((p) => /^assets\/main-[^/]+\.js$/.test(p));
    const css = outputs.find((p) => /^assets\/main-[^/]+\.css$/.test(p));
    if (!js || !css) throw new Error(`the build gave no main script or stylesheet: ${outputs.join(', ')}`);
    const html = readFileSync(join(here, 'index.html'), 'utf8').replace('%JS%', js).replace('%CSS%', css);
    writeFileSync(join(next, 'index.html'), html);
    copyFileSync(join(here, 'src/icon.svg'), join(next, 'icon.svg'));
    rmSync(dist, { recursive: true, force: true });
    renameSync(next, dist);
    if (!quiet) console.log(`renderer: ${relative(process.cwd(), dist) || '.'}/ (${basename(js)}, ${basename(css)}) in ${Date.now() - started} ms`);
    return { dist, js, css };
  } catch (error) {
    rmSync(next, { recursive: true, force: true });
    throw error;
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  buildRenderer().catch((error) => {
    console.error(`renderer build failed: ${error.message}`);
    process.exitCode = 1;
  });
}

export const distDir = dist;
export const isBuilt = () => existsSync(join(dist, 'index.html'));
