/**
 * Serving the built panel at /app: types, caching (no-cache + ETag for the page, a year for hashed
 * assets), the panel's CSP, paths that try to leave the folder, and the 503 that tells how to
 * build when there is no build. Runs the serving code in a Koa app with the server's own error
 * and header middleware, over a folder made here (it does not need the real build).
 */
import Router from '@koa/router';
import Koa from 'koa';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errors } from '../../server/src/http/errors.js';
import { securityHeaders } from '../../server/src/http/headers.js';
import { PANEL_CSP, panelServing } from '../../server/src/panel/serve.js';
import { expectError, send } from '../helpers/server.js';

const HTML = '<!doctype html><title>Portico</title><script type="module" src="/app/assets/main-ABCD1234.js"></script>';

function makeApp(dir: string) {
  const app = new Koa();
  app.use(errors(pino({ level: 'silent' })));
  app.use(securityHeaders);
  const router = new Router();
  router.get('/api/v1/thing', (ctx) => {
    ctx.body = { ok: true };
  });
  panelServing(router, { dir });
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}

describe('the panel at /app', () => {
  const root = mkdtempSync(join(tmpdir(), 'portico-panel-'));
  const dist = join(root, 'dist');
  const empty = join(root, 'empty');
  const servers: Array<{ close: () => void }> = [];
  let url = '';
  let emptyUrl = '';

  const listen = (app: Koa) =>
    new Promise<string>((resolve) => {
      const http = app.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(http.address() as AddressInfo).port}`));
      servers.push(http);
    });

  beforeAll(async () => {
    mkdirSync(join(dist, 'assets'), { recursive: true });
    mkdirSync(empty);
    writeFileSync(join(dist, 'index.html'), HTML);
    writeFileSync(join(dist, 'assets/main-ABCD1234.js'), 'console.log("hi")');
    writeFileSync(join(dist, 'assets/main-ABCD1234.css'), 'body{margin:0}');
    writeFileSync(join(dist, 'icon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    writeFileSync(join(root, 'secret.txt'), 'outside');
    writeFileSync(join(dist, '.hidden'), 'dotfile');
    url = await listen(makeApp(dist));
    emptyUrl = await listen(makeApp(empty));
  });

  afterAll(() => {
    for (const s of servers) s.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('answers the page at /app and /app/ with the panel CSP, no-cache and an ETag', async () => {
    for (const path of ['/app', '/app/', '/app/index.html']) {
      const res = await send(url + path, {});
      expect(res.status, path).toBe(200);
      expect(res.body, path).toBe(HTML);
      expect(res.headers.get('content-type'), path).toBe('text/html; charset=utf-8');
      expect(res.headers.get('cache-control'), path).toBe('no-cache');
      expect(res.headers.get('etag'), path).toMatch(/^"[\w-]+"$/);
      expect(res.headers.get('content-security-policy'), path).toBe(PANEL_CSP);
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(res.headers.get('x-frame-options'), path).toBe('DENY');
    }
    const csp = PANEL_CSP.split('; ');
    for (const directive of [
      "default-src 'self'",
      "script-src 'self'",
      "style-src 'self'",
      "img-src 'self' data: blob: https:",
      "media-src 'self' blob:",
      "frame-src 'self'",
      "connect-src 'self'",
      "object-src 'none'",
      "base-uri 'none'",
      "frame-ancestors 'none'",
    ]) {
      expect(csp).toContain(directive);
    }
  });

  it("the page template's CSP meta (for static checks) is the header policy without frame-ancestors", () => {
    const template = readFileSync(join(import.meta.dirname, '../../electron/renderer/index.html'), 'utf8');
    const meta = /<meta http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(template)?.[1];
    const header = PANEL_CSP.split('; ').filter((d) => !d.startsWith('frame-ancestors'));
    expect(meta?.split('; ')).toEqual(header);
  });

  it('answers 304 to a matching If-None-Match, and HEAD without a body', async () => {
    const first = await send(`${url}/app/`, {});
    const etag = first.headers.get('etag')!;
    const again = await fetch(`${url}/app/`, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    const head = await fetch(`${url}/app/`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(Buffer.byteLength(HTML)));
    expect(await head.text()).toBe('');
  });

  it('serves hashed assets with their types, cached for a year; other files no-cache', async () => {
    const js = await send(`${url}/app/assets/main-ABCD1234.js`, {});
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/^(text|application)\/javascript/);
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const css = await send(`${url}/app/assets/main-ABCD1234.css`, {});
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(css.body).toBe('body{margin:0}');
    const svg = await send(`${url}/app/icon.svg`, {});
    expect(svg.headers.get('content-type')).toBe('image/svg+xml');
    expect(svg.headers.get('cache-control')).toBe('no-cache');
  });

  it('answers 404 (JSON) for what is not there, and for paths that try to leave the folder', async () => {
    for (const path of ['/app/nope.js', '/app/assets/', '/app/..%2Fsecret.txt', '/app/%2e%2e/secret.txt', '/app/assets/%2e%2e/%2e%2e/secret.txt', '/app/.hidden']) {
      const res = await send(url + path, {});
      expectError(res, 404, 'not_found', path);
      expect(JSON.stringify(res.body)).not.toContain('outside');
    }
    expectError(await send(`${url}/app/%E0%A4%A`, {}), 400, 'invalid_request', 'bad percent-encoding');
    // the API next to it is untouched
    expect((await send(`${url}/api/v1/thing`, {})).body).toEqual({ ok: true });
  });

  it('answers 503 with the build command when the panel is not built, and serves the build once it is there', async () => {
    for (const path of ['/app', '/app/', '/app/assets/main-ABCD1234.js']) {
      const res = await send(emptyUrl + path, {});
      expectError(res, 503, 'internal_error', path, { strict: true });
      expect(res.body.error.message).toContain('npm run build:renderer');
    }
    writeFileSync(join(empty, 'index.html'), HTML);
    const res = await send(`${emptyUrl}/app/`, {});
    expect(res.status).toBe(200);
    expect(res.body).toBe(HTML);
    // a new build (same size, new content) is served at once, with a new ETag
    const before = res.headers.get('etag');
    writeFileSync(join(empty, 'index.html'), HTML.replace('ABCD1234', 'EFGH5678'));
    const after = await send(`${emptyUrl}/app/`, {});
    expect(after.body).toContain('EFGH5678');
    expect(after.headers.get('etag')).not.toBe(before);
  });
});
