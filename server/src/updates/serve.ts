/**
 * Client updates at /updates/<file>: the files of electron-updater's "generic" provider
 * (latest.yml, latest-linux.yml, latest-mac.yml and the installers they name), as published by
 * `portico update publish` into <dataDir>/updates/. No authentication (an updater sends no
 * token; installers are not secret), one path segment only, no hidden files, symbolic links not
 * followed. Ranges and ETags as for media (electron-updater resumes and does differential
 * downloads with ranges). With `updatesEnabled: false` everything under /updates answers 404.
 */
import type Router from '@koa/router';
import { lstat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import type { Services } from '../context.js';
import { AppError, notFound } from '../errors.js';
import { sendFile } from '../media/serve.js';

export const updatesDir = (dataDir: string) => resolve(dataDir, 'updates');

/** File names that may be published and served: no path, no hidden files. */
export const UPDATE_FILE = /^[A-Za-z0-9][A-Za-z0-9 ._+~-]{0,254}$/;

export function updateContentType(name: string): string {
  const ext = extname(name).toLowerCase();
  if (ext === '.yml' || ext === '.yaml') return 'text/yaml; charset=utf-8';
  return 'application/octet-stream';
}

export function updatesServing(router: Router, { config }: Services) {
  const root = updatesDir(config.dataDir);
  const unavailable = () => notFound('client updates are not offered by this server, or this file');

  router.get('/updates/{*path}', async (ctx) => {
    ctx.state.route = '/updates/*';
    if (!config.updatesEnabled) throw unavailable();
    const raw = ctx.path.slice('/updates/'.length);
    let name: string;
    try {
      name = decodeURIComponent(raw);
    } catch {
      throw new AppError(400, 'invalid_request', 'the path is not validly percent-encoded');
    }
    if (!UPDATE_FILE.test(name) || name.includes('..')) throw unavailable();
    const path = join(root, name);
    if (!path.startsWith(root + sep)) throw unavailable();
    let st;
    try {
      st = await lstat(path);
    } catch {
      throw unavailable();
    }
    if (!st.isFile()) throw unavailable();
    const etag = `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
    // Always revalidate: a new publish replaces latest*.yml under the same name.
    await sendFile(ctx, { path, size: st.size, type: updateContentType(name), etag }, { 'Cache-Control': 'no-cache' });
  });
}
