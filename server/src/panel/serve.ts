/**
 * The panel's web app (electron/renderer, built into its dist/ folder by `npm run
 * build:renderer`) at /app: the page at /app and /app/, its assets below. The Electron shell loads
 * the same page from `<server>/app/`; chat windows are the same page at /app/#/chat/<id>.
 *
 * Caching: the page (and anything without a content hash in its name) is `no-cache` with an
 * ETag, so a new build is picked up at once; hashed assets (`main-AB12CD34.js`) never change and
 * are cached for a year. Every answer carries the panel's Content-Security-Policy: scripts and
 * styles from this origin only (no inline code), media and games from this origin, images also
 * from https (the sanitized links/notices HTML may show them), no plugins, no framing.
 *
 * /join/<number> (a meeting's join link) redirects to the guest page, /app/#/join/<number>.
 *
 * A missing build answers 503 with the command that makes it, rather than a bare 404.
 */
import type Router from '@koa/router';
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import type { Context } from 'koa';
import { safeSegments } from '../http/paths.js';
import mime from 'mime-types';
import { AppError, notFound } from '../errors.js';
import { PACKAGE_ROOT } from '../package-root.js';

export const PANEL_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob: https:",
  "media-src 'self' blob:",
  "frame-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export const DEFAULT_PANEL_DIR = join(PACKAGE_ROOT, 'electron/renderer/dist');

/** `main-AB12CD34.js`: esbuild's content hash in the name, so the file never changes. */
const HASHED = /-[A-Z0-9]{8}\.[a-z0-9]+(\.map)?$/;
const IMMUTABLE = 'public, max-age=31536000, immutable';

interface Cached {
  ino: number;
  mtimeMs: number;
  size: number;
  body: Buffer;
  etag: string;
}

export interface PanelOptions {
  /** The built renderer (default: electron/renderer/dist next to this source tree). */
  dir?: string;
}

export function panelServing(router: Router, options: PanelOptions = {}) {
  const root = resolve(options.dir ?? DEFAULT_PANEL_DIR);
  const cache = new Map<string, Cached>();

  async function load(path: string): Promise<Cached | undefined> {
    let st;
    try {
      st = await stat(path);
    } catch {
      return undefined;
    }
    if (!st.isFile()) return undefined;
    const hit = cache.get(path);
    if (hit && hit.ino === st.ino && hit.mtimeMs === st.mtimeMs && hit.size === st.size) return hit;
    const body = await readFile(path);
    const entry = { ino: st.ino, mtimeMs: st.mtimeMs, size: st.size, body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` };
    if (cache.size > 200) cache.clear();
    cache.set(path, entry);
    return entry;
  }

  async function serve(ctx: Context, rest: string) {
    ctx.state.route = '/app/*';
    ctx.set({ 'Content-Security-Policy': PANEL_CSP, 'X-Frame-Options': 'DENY', 'Cross-Origin-Opener-Policy': 'same-origin' });
    const index = await load(resolve(root, 'index.html'));
    if (!index) {
      throw new AppError(503, 'internal_error', 'the panel is not built on this server: run `npm run build:renderer` (npm start and npm test do it first)', {
        'Retry-After': '5',
      });
    }

    const safe = safeSegments(rest);
    if ('problem' in safe) {
      if (safe.problem === 'encoding') throw new AppError(400, 'invalid_request', 'the path is not validly percent-encoded');
      throw notFound(`/app/${rest}`);
    }
    const { segments } = safe;
    if (segments.some((segment) => segment.startsWith('.'))) throw notFound(`/app/${rest}`); // no dotfiles
    const path = segments.length === 0 ? resolve(root, 'index.html') : resolve(root, ...segments);
    if (!path.startsWith(root + sep)) throw notFound(`/app/${rest}`);
    const file = path.endsWith(`${sep}index.html`) && segments.length === 0 ? index : await load(path);
    if (!file) throw notFound(`/app/${rest}`);

    const name = segments[segments.length - 1] ?? 'index.html';
    ctx.set('Cache-Control', HASHED.test(name) ? IMMUTABLE : 'no-cache');
    ctx.set('ETag', file.etag);
    ctx.type = mime.contentType(extname(name)) || 'application/octet-stream';
    const ifNoneMatch = ctx.get('if-none-match');
    if (ifNoneMatch && ifNoneMatch.split(',').some((tag) => tag.trim().replace(/^W\//, '') === file.etag)) {
      ctx.status = 304;
      return;
    }
    ctx.status = 200;
    ctx.length = file.size;
    if (ctx.method === 'HEAD') return;
    ctx.body = file.body;
  }

  router.get('/app', (ctx) => serve(ctx, ''));
  // A meeting's join link (issue 19: Meeting.joinUrl): the guest page is the panel's app at
  // #/join/<number>, so the same page, assets and CSP serve it; anything but 11 digits is a 404.
  router.get('/join/:number', (ctx) => {
    ctx.state.route = '/join/:number';
    const number = ctx.params.number ?? '';
    if (!/^\d{11}$/.test(number)) throw notFound('/join/<number>');
    ctx.set({ 'Content-Security-Policy': PANEL_CSP, 'Cache-Control': 'no-store' });
    ctx.redirect(`/app/#/join/${number}`);
  });
  router.get('/join', (ctx) => {
    ctx.state.route = '/join';
    ctx.set({ 'Content-Security-Policy': PANEL_CSP, 'Cache-Control': 'no-store' });
    ctx.redirect('/app/#/join');
  });
  router.get('/app/{*path}', (ctx) => serve(ctx, ctx.path.slice('/app/'.length)));
}
