/**
 * Serving media and unpacked games under their signed paths (see urls.ts). Mounted on the router
 * directly: these answers are files, not JSON.
 *
 * Both answer GET and HEAD with a strong ETag and byte ranges (`Accept-Ranges: bytes`), as RFC
 * 9110 §13 and §14 say: If-Match (strong comparison, or `*`) that fails -> 412; If-None-Match
 * -> 304; one range -> 206 with Content-Range; several -> 206 multipart/byteranges, each part
 * with its Content-Type and Content-Range (electron-updater's differential download asks so);
 * overlapping or adjacent ranges are combined first; a suffix longer than the file is the whole
 * file; a range outside the file -> 416 with `Content-Range: bytes *\/<size>`; a malformed Range
 * header, another unit, more than MAX_PARTS ranges, or an If-Range that does not match the ETag
 * -> the whole file, 200 (RFC 9110 allows a server to ignore Range).
 *
 * Media: `Content-Security-Policy: default-src 'none'; sandbox`, so a file opened directly can
 * run nothing. Games: a sandbox that allows scripts but gives the game an opaque origin (it can
 * never read the panel's storage or call the API with its cookies/tokens, and connect-src 'none'
 * forbids network calls), framable by the panel (no X-Frame-Options). Game files also carry
 * `Access-Control-Allow-Origin: *`: an opaque-origin page loads module scripts and fonts in CORS
 * mode (Origin: null); the path is the capability, so this exposes nothing to anyone without it.
 */
import type Router from '@koa/router';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, open, type FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { extname, resolve, sep } from 'node:path';
import type { Context } from 'koa';
import mime from 'mime-types';
import rangeParser from 'range-parser';
import type { Services } from '../context.js';
import { AppError, forbidden, notFound } from '../errors.js';
import { safeSegments } from '../http/paths.js';
import { MediaStorage, SHA256 } from './storage.js';
import { gameSubject, mediaSubject } from './urls.js';

export const MEDIA_CSP = "default-src 'none'; sandbox";
export const GAME_CSP = "sandbox allow-scripts; default-src 'self' 'unsafe-inline' data: blob:; connect-src 'none'; frame-ancestors 'self'";
const CACHE = 'private, max-age=86400';

const badToken = () => forbidden('this media link is invalid or has expired; ask for the list again for a fresh one');

/** The size of a regular file, or undefined if there is none (symbolic links are not followed). */
export async function fileSize(path: string): Promise<number | undefined> {
  try {
    const st = await lstat(path);
    return st.isFile() ? st.size : undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ENAMETOOLONG') return undefined;
    throw error;
  }
}

function matchesEtag(ifNoneMatch: string, etag: string): boolean {
  if (ifNoneMatch.trim() === '*') return true;
  return ifNoneMatch.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}

/** If-Match uses the strong comparison: a weak tag never matches (RFC 9110 §13.1.1). */
function matchesStrongly(ifMatch: string, etag: string): boolean {
  if (ifMatch.trim() === '*') return true; // the file exists, or we would not be here
  return ifMatch.split(',').some((tag) => tag.trim() === etag);
}

/** More ranges than this in one request: the whole file instead (electron-updater asks for at most 1,000). */
export const MAX_PARTS = 1000;

/**
 * RFC 9110 §14.1.3: a suffix longer than the representation means all of it. range-parser
 * treats it as unsatisfiable, so such a suffix is rewritten to "from the first byte".
 */
function clampSuffixes(range: string, size: number): string {
  const eq = range.indexOf('=');
  if (eq === -1) return range;
  const specs = range.slice(eq + 1).split(',').map((spec) => {
    const suffix = /^\s*-\s*(\d+)\s*$/.exec(spec);
    return suffix && Number(suffix[1]) > size ? '0-' : spec;
  });
  return `${range.slice(0, eq)}=${specs.join(',')}`;
}

type Span = { start: number; end: number };

/** The body of a multipart/byteranges answer, read part by part from one open file. */
function multipartBody(handle: FileHandle, parts: Span[], heads: Buffer[], tail: Buffer): Readable {
  async function* chunks() {
    for (const [i, { start, end }] of parts.entries()) {
      yield heads[i]!;
      yield* handle.createReadStream({ start, end, autoClose: false });
    }
    yield tail;
  }
  const body = Readable.from(chunks(), { objectMode: false });
  body.once('close', () => void handle.close().catch(() => undefined));
  return body;
}

/** Answers a file with conditional and range support; `headers` go on 200, 206 and 304 answers. */
export async function sendFile(ctx: Context, file: { path: string; size: number; type: string; etag: string }, headers: Record<string, string>) {
  const { path, size, etag } = file;
  const ifMatch = ctx.get('if-match');
  if (ifMatch && !matchesStrongly(ifMatch, etag)) {
    throw new AppError(412, 'conflict', 'the file is no longer the one named by If-Match', { ETag: etag });
  }
  if (matchesEtag(ctx.get('if-none-match'), etag)) {
    ctx.set({ ...headers, ETag: etag, 'Accept-Ranges': 'bytes' });
    ctx.status = 304;
    return;
  }
  let parts: Span[] = [{ start: 0, end: size - 1 }];
  let partial = false;
  const range = ctx.get('range');
  const ifRange = ctx.get('if-range');
  if (range && (!ifRange || ifRange.trim() === etag)) {
    const ranges = rangeParser(size, clampSuffixes(range, size), { combine: true });
    if (ranges === -1) {
      throw new AppError(416, 'invalid_request', `the range ${range} is outside the file (${size} bytes)`, { 'Content-Range': `bytes */${size}` });
    }
    if (ranges !== -2 && ranges.type === 'bytes' && ranges.length <= MAX_PARTS) {
      parts = ranges.map(({ start, end }) => ({ start, end }));
      partial = true;
    }
  }
  ctx.set({ ...headers, ETag: etag, 'Accept-Ranges': 'bytes' });
  ctx.status = partial ? 206 : 200;

  if (parts.length > 1) {
    const boundary = randomBytes(16).toString('hex');
    const heads = parts.map(
      ({ start, end }, i) => Buffer.from(`${i === 0 ? '' : '\r\n'}--${boundary}\r\nContent-Type: ${file.type}\r\nContent-Range: bytes ${start}-${end}/${size}\r\n\r\n`),
    );
    const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
    ctx.type = `multipart/byteranges; boundary=${boundary}`;
    ctx.length = heads.reduce((sum, head, i) => sum + head.length + parts[i]!.end - parts[i]!.start + 1, tail.length);
    if (ctx.method === 'HEAD') return;
    // One open file for all parts: a publish that replaces the file mid-answer cannot mix two versions.
    ctx.body = multipartBody(await open(path, 'r'), parts, heads, tail);
    return;
  }

  const { start, end } = parts[0]!;
  ctx.type = file.type;
  if (partial) ctx.set('Content-Range', `bytes ${start}-${end}/${size}`);
  ctx.length = size === 0 ? 0 : end - start + 1;
  if (ctx.method === 'HEAD') return; // headers only; Koa sends no body
  ctx.body = size === 0 ? Buffer.alloc(0) : createReadStream(path, { start, end });
}

export function mediaServing(router: Router, { store, secret, config }: Services) {
  const storage = new MediaStorage(config.dataDir);

  router.get('/media/:token/:sha256', async (ctx) => {
    ctx.state.route = '/media/:token/:sha256';
    const { token = '', sha256 = '' } = ctx.params;
    if (!secret.allows(token, mediaSubject(sha256))) throw badToken();
    if (!SHA256.test(sha256)) throw notFound('media');
    const record = await store.portal.mediaFile(sha256);
    const path = storage.mediaPath(sha256);
    const size = record && (await fileSize(path));
    if (!record || size === undefined) throw notFound('media');
    await sendFile(ctx, { path, size, type: record.contentType, etag: `"${sha256}"` }, { 'Cache-Control': CACHE, 'Content-Security-Policy': MEDIA_CSP });
  });

  // The rest of the path is taken from the raw URL and decoded segment by segment, so an encoded
  // slash or dot-dot (..%2F, %2e%2e) is seen for what it is.
  const GAME_PATH = /^\/games\/([^/]+)\/([^/]+)\/(.*)$/;
  router.get('/games/:token/:sha256/{*path}', async (ctx) => {
    ctx.state.route = '/games/:token/:sha256/*';
    const [, token = '', sha256 = '', rest = ''] = GAME_PATH.exec(ctx.path) ?? [];
    if (!secret.allows(token, gameSubject(sha256))) throw badToken();
    if (!SHA256.test(sha256)) throw notFound('game');
    const root = storage.gameDir(sha256);

    const safe = safeSegments(rest.endsWith('/') || rest === '' ? `${rest}index.html` : rest); // a folder: its index page
    if ('problem' in safe) {
      throw new AppError(400, 'invalid_request', safe.problem === 'encoding' ? 'the path is not validly percent-encoded' : 'the path may not leave the game');
    }
    const { segments } = safe;
    const path = resolve(root, ...segments);
    if (segments.length === 0 || !path.startsWith(root + sep)) throw new AppError(400, 'invalid_request', 'the path may not leave the game');
    const size = await fileSize(path);
    if (size === undefined) throw notFound(`${segments.join('/')} in this game`);

    ctx.remove('X-Frame-Options'); // the panel shows games in an iframe; frame-ancestors 'self' limits who
    const rel = segments.join('/');
    const etag = `"${createHash('sha256').update(`${sha256}/${rel}`).digest('hex').slice(0, 40)}"`; // files of a game never change
    await sendFile(
      ctx,
      { path, size, type: mime.contentType(extname(path)) || 'application/octet-stream', etag },
      { 'Cache-Control': CACHE, 'Content-Security-Policy': GAME_CSP, 'Access-Control-Allow-Origin': '*' },
    );
  });
}
