/**
 * Builds the panel's renderer into electron/renderer/dist/ with esbuild:
 *   dist/index.html               the one page (panel, and chat windows at #/chat/<id>)
 *   dist/assets/main-<hash>.js    the bundle (Preact, uPlot, the API client)
 *   dist/assets/main-<hash>.css   the styles (no inline styles: the CSP forbids them)
 *   dist/icon.svg
 *   dist/manifest.webmanifest, dist/icons/*.png   the installable web app (icons drawn from icon.svg)
 *   dist/sw.js                    its service worker: the shell above, kept for offline starts
 * The server serves dist/ at /app. Usage: node electron/renderer/build.mjs [--dev] (unminified).
 * Builds into a fresh folder and swaps it in, so a running server never sees half a build.
 */
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');
const dev = process.argv.includes('--dev');

/** The web app's manifest colours: the panel's header and page background (styles.css). */
const THEME = '#17324a';
const BACKGROUND = '#eef2f6';
const ICONS = [
  { file: 'icons/icon-192.png', size: 192, purpose: 'any' },
  { file: 'icons/icon-512.png', size: 512, purpose: 'any' },
  { file: 'icons/maskable-512.png', size: 512, purpose: 'maskable' },
];

/** Icons (from icon.svg; the maskable one full-bleed with the glyph in the safe zone), the manifest, the service worker. */
async function buildWebApp(out, assets, minify) {
  const { default: sharp } = await import('sharp');
  const svg = readFileSync(join(here, 'src/icon.svg'), 'utf8');
  // Maskable: the launcher crops to any shape inside the middle 80 %: the square's colour to the edges, the glyph at 80 % of its box.
  const glyph = svg.replace(/^<svg[^>]*>/, '').replace('</svg>', '').replace(/<rect[^>]*\/>/, '');
  const maskable = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" fill="#1f5f8b"/><g transform="translate(3.2 3.2) scale(0.8)">${glyph}</g></svg>`;
  mkdirSync(join(out, 'icons'), { recursive: true });
  for (const icon of ICONS) {
    const source = Buffer.from(icon.purpose === 'maskable' ? maskable : svg);
    await sharp(source, { density: (72 * icon.size) / 32 }).resize(icon.size, icon.size).png().toFile(join(out, icon.file));
  }
  const manifest = {
    id: '/app/',
    name: 'Portico',
    short_name: 'Portico',
    description: 'Your office panel: chat, people, ticker, notices and media.',
    start_url: '/app/',
    scope: '/app/',
    display: 'standalone',
    orientation: 'any',
    background_color: BACKGROUND,
    theme_color: THEME,
    icons: ICONS.map((icon) => ({ src: `/app/${icon.file}`, sizes: `${icon.size}x${icon.size}`, type: 'image/png', purpose: icon.purpose })),
  };
  writeFileSync(join(out, 'manifest.webmanifest'), `${JSON.stringify(manifest, null, 2)}\n`);
  const shell = ['/app/', ...assets.map((a) => `/app/${a}`), '/app/icon.svg', '/app/manifest.webmanifest', ...ICONS.map((i) => `/app/${i.file}`)];
  const version = createHash('sha256').update(shell.join('\n')).digest('hex').slice(0, 12);
  await build({
    absWorkingDir: here,
    entryPoints: [join(here, 'src/sw.ts')],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: ['chrome120', 'firefox120', 'safari16'],
    outfile: join(out, 'sw.js'),
    minify,
    logLevel: 'error',
    define: { __SHELL__: JSON.stringify(shell), __VERSION__: JSON.stringify(version) },
  });
}

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
      // Code loaded when first needed (the emoji picker and its data) goes to chunks of its own.
      splitting: true,
      chunkNames: 'chunk-[hash]',
      assetNames: '[name]-[hash]',
      // The emoji font shipped with the panel (twemoji-colr-font), as a file beside the CSS.
      loader: { '.woff2': 'file', '.woff': 'file' },
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
    // The shell the service worker keeps: the page's script and styles, and the chunks they load later.
    const chunks = outputs.filter((p) => /^assets\/chunk-[^/]+\.js$/.test(p));
    await buildWebApp(next, [js, css, ...chunks], minify);
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
