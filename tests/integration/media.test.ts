/**
 * Media and games against a real server over HTTP: a provider uploads images, video, audio and
 * game archives (multipart, as curl would); users see them in their event stream and in
 * GET /media with signed URLs; the files are served with ranges, ETags and the sandbox headers;
 * bad tokens, bad types, oversized files and unsafe archives are refused, leaving nothing behind.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaResponse, PORTAL_LIMITS } from '../../shared/index.js';
import { makeZip, pseudoRandom, sample } from '../helpers/media-samples.js';
import { Client, expectError, startTestServer, type TestServer, reply } from '../helpers/server.js';

const GAME_CSP = "sandbox allow-scripts; default-src 'self' 'unsafe-inline' data: blob:; connect-src 'none'; frame-ancestors 'self'";
const MEDIA_CSP = "default-src 'none'; sandbox";

let server: TestServer;
let key: string;
let viewer: Client;

// ------------------------------------------------------------------ helpers
const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');

interface FilePart {
  name: string;
  data: Buffer;
  type?: string;
}

/** POST /cgi/media as multipart/form-data, the way `curl -F` sends it. */
async function upload(fields: Record<string, string>, file?: FilePart, auth: string | null = key) {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.set(name, value);
  if (file) form.set('file', new Blob([new Uint8Array(file.data)], { type: file.type ?? '' }), file.name);
  const res = await fetch(`${server.url}/cgi/media`, { method: 'POST', body: form, headers: auth ? { authorization: `Bearer ${auth}` } : {} });
  return reply(res);
}

/** A GET (or HEAD) of a served file: status, headers and the exact bytes. */
async function fetchFile(path: string, headers: Record<string, string> = {}, method = 'GET') {
  const res = await fetch(server.url + path, { method, headers });
  const data = Buffer.from(await res.arrayBuffer());
  let body: any;
  try {
    body = JSON.parse(data.toString('utf8'));
  } catch {
    body = undefined;
  }
  return { status: res.status, headers: res.headers, data, body };
}

/** A GET with the path sent exactly as written (fetch would normalize dot segments). */
function rawGet(path: string): Promise<{ status: number; data: Buffer }> {
  const { hostname, port } = new URL(server.url);
  return new Promise((ok, fail) => {
    const req = request({ host: hostname, port, path, method: 'GET' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => ok({ status: res.statusCode ?? 0, data: Buffer.concat(chunks) }));
      res.on('error', fail);
    });
    req.on('error', fail);
    req.end();
  });
}


/** Replaces every occurrence of a same-length byte string (file names are not covered by the CRC). */
function patch(zip: Buffer, from: string, to: string): Buffer {
  expect(from.length).toBe(to.length);
  const out = Buffer.from(zip);
  let at = out.indexOf(from);
  expect(at).toBeGreaterThanOrEqual(0);
  while (at >= 0) {
    out.write(to, at, 'latin1');
    at = out.indexOf(from, at + 1);
  }
  return out;
}

/** Every regular file under a directory (relative paths); none if it does not exist. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return (readdirSync(dir, { recursive: true }) as string[]).filter((p) => statSync(join(dir, p)).isFile()).sort();
}
const dirsUnder = (dir: string) => (existsSync(dir) ? readdirSync(dir).sort() : []);
const dataPath = (...parts: string[]) => join(server.dataDir, ...parts);

const INDEX_HTML = '<!doctype html><title>Snake</title><script src="js/game.js"></script><body>snake</body>';
const GAME_JS = 'document.body.append("ready");';
const GAME_JSON = '{"level":1}';

// What the first test uploads, for the later ones: real files (the server sniffs the bytes).
const image = sample('png', 4096, 1);
const video = sample('mp4', 10_000, 2);
const audio = sample('mp3', 3000, 3);
let game: Buffer;
const urls: Record<string, string> = {};

beforeAll(async () => {
  server = await startTestServer({ loginPerIpPerMinute: 10_000, providerRequestsPerMinute: 1000 });
  const res = await server.admin.post('/api/v1/admin/providers', { name: 'mediahouse', channels: ['lobby', 'screens'] });
  expect(res.status).toBe(201);
  key = res.body.key;
  viewer = await server.user('viewer');
  game = await makeZip([
    { name: 'index.html', data: INDEX_HTML },
    { name: 'js/game.js', data: GAME_JS },
    { name: 'assets/', data: '' },
    { name: 'assets/level 1.json', data: GAME_JSON },
  ]);
});
afterAll(() => server?.destroy());

describe('uploading media', () => {
  it('an image reaches a waiting client as media.item with a URL that serves the exact bytes', async () => {
    await viewer.poll(0); // from now on
    const waiting = viewer.waitFor('media.item', (e) => e.item.title === 'Lobby photo');
    await new Promise((r) => setTimeout(r, 100)); // the poll is held by now
    const res = await upload({ channel: 'lobby', title: 'Lobby photo', priority: '5' }, { name: 'photo.png', data: image, type: 'image/png' });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toEqual({ id: expect.any(Number), channel: 'lobby' });

    const { item } = await waiting;
    expect(item).toEqual({
      id: res.body.id,
      channel: 'lobby',
      title: 'Lobby photo',
      kind: 'image',
      contentType: 'image/png',
      size: image.length,
      url: expect.stringMatching(new RegExp(`^/media/[0-9a-z]+\\.[\\w-]+/${sha(image)}$`)),
      priority: 5,
      createdAt: expect.any(String),
    });
    urls.image = item.url;
    const got = await fetchFile(item.url);
    expect(got.status).toBe(200);
    expect(got.data.equals(image)).toBe(true);
    expect(got.headers.get('content-type')).toBe('image/png');
    expect(got.headers.get('content-length')).toBe(String(image.length));
    expect(got.headers.get('accept-ranges')).toBe('bytes');
    expect(got.headers.get('etag')).toBe(`"${sha(image)}"`);
    expect(got.headers.get('cache-control')).toBe('private, max-age=86400');
    expect(got.headers.get('x-content-type-options')).toBe('nosniff');
    expect(got.headers.get('content-security-policy')).toBe(MEDIA_CSP);
  });

  it('a video, an audio file and a game: kinds and types from the extension; GET /media lists all with working URLs', async () => {
    const v = await upload({ channel: 'lobby', title: 'Clip' }, { name: 'clip.MP4', data: video }); // generic declared type
    expect(v.status, JSON.stringify(v.body)).toBe(201);
    const a = await upload({ channel: 'screens', title: 'Tune', expires: '3600' }, { name: 'tune.mp3', data: audio, type: 'audio/mpeg' });
    expect(a.status, JSON.stringify(a.body)).toBe(201);
    const g = await upload({ channel: 'lobby', title: 'Snake', priority: '-1' }, { name: 'snake.zip', data: game, type: 'application/zip' });
    expect(g.status, JSON.stringify(g.body)).toBe(201);
    expect(g.body.channel).toBe('lobby');

    const list = await viewer.get('/api/v1/media');
    expect(list.status).toBe(200);
    expect(MediaResponse.safeParse(list.body).success, JSON.stringify(list.body)).toBe(true);
    const byTitle = Object.fromEntries(list.body.items.map((i: any) => [i.title, i]));
    expect(Object.keys(byTitle).sort()).toEqual(['Clip', 'Lobby photo', 'Snake', 'Tune']);
    expect(byTitle.Clip).toMatchObject({ kind: 'video', contentType: 'video/mp4', size: video.length, channel: 'lobby' });
    expect(byTitle.Tune).toMatchObject({ kind: 'audio', contentType: 'audio/mpeg', size: audio.length, channel: 'screens', expiresAt: expect.any(String) });
    expect(byTitle.Snake).toMatchObject({ kind: 'game', contentType: 'application/zip', size: game.length });
    expect(byTitle.Snake.url).toMatch(new RegExp(`^/games/[0-9a-z]+\\.[\\w-]+/${sha(game)}/index\\.html$`));
    expect(list.body.items[0].title).toBe('Lobby photo'); // priority first

    for (const [title, data] of [['Lobby photo', image], ['Clip', video], ['Tune', audio]] as const) {
      const got = await fetchFile(byTitle[title].url);
      expect(got.status, title).toBe(200);
      expect(got.data.equals(data), title).toBe(true);
      expect(got.headers.get('content-type'), title).toBe(byTitle[title].contentType);
    }
    const page = await fetchFile(byTitle.Snake.url);
    expect(page.status).toBe(200);
    expect(page.data.toString()).toBe(INDEX_HTML);
    urls.video = byTitle.Clip.url;
    urls.game = byTitle.Snake.url;
    // The archive is kept too, content-addressed; the game unpacked once.
    expect(filesUnder(dataPath('media'))).toEqual([image, video, audio, game].map((d) => `${sha(d).slice(0, 2)}/${sha(d)}`).sort());
    expect(dirsUnder(dataPath('games'))).toEqual([sha(game)]);
    expect(filesUnder(dataPath('games', sha(game)))).toEqual(['assets/level 1.json', 'index.html', 'js/game.js']);
  });

  it('the same content uploaded twice is stored once', async () => {
    const before = filesUnder(dataPath('media'));
    const again = await upload({ channel: 'screens', title: 'Same photo again' }, { name: 'copy.PNG', data: image });
    expect(again.status).toBe(201);
    const third = await upload({ channel: 'lobby', title: 'Same game again' }, { name: 'copy.zip', data: game });
    expect(third.status).toBe(201);
    expect(filesUnder(dataPath('media'))).toEqual(before);
    expect(dirsUnder(dataPath('games'))).toEqual([sha(game)]);
    expect(filesUnder(dataPath('tmp'))).toEqual([]);
    const items = (await viewer.get('/api/v1/media')).body.items;
    const copy = items.find((i: any) => i.title === 'Same photo again');
    expect(copy.url.endsWith(`/${sha(image)}`)).toBe(true);
    expect((await fetchFile(copy.url)).data.equals(image)).toBe(true);
  });

  it('a file over its kind limit: 413, and nothing is left in tmp or media', async () => {
    const big = sample('png', PORTAL_LIMITS.mediaBytes.image + 1, 4);
    const before = filesUnder(dataPath('media'));
    const res = await upload({ channel: 'lobby', title: 'Huge' }, { name: 'huge.png', data: big, type: 'image/png' });
    expectError(res, 413, 'body_too_large', 'image over 10 MiB', { strict: true });
    expect(res.body.error.message).toMatch(/image/);
    expect(filesUnder(dataPath('tmp'))).toEqual([]);
    expect(filesUnder(dataPath('media'))).toEqual(before);
    // The same size is fine for a video, whose limit is larger.
    const long = sample('webm', PORTAL_LIMITS.mediaBytes.image + 1, 4);
    expect((await upload({ channel: 'lobby', title: 'Long clip' }, { name: 'long.webm', data: long })).status).toBe(201);
  });

  it('types off the allow-list, or declared as something else than the extension says: 415', async () => {
    const cases: FilePart[] = [
      { name: 'setup.exe', data: pseudoRandom(100, 5), type: 'application/x-msdownload' },
      { name: 'page.html', data: Buffer.from('<script>alert(1)</script>'), type: 'text/html' },
      { name: 'drawing.svg', data: Buffer.from('<svg/>'), type: 'image/svg+xml' },
      { name: 'noextension', data: pseudoRandom(100, 6) },
      { name: 'photo.png', data: Buffer.from('<script>alert(1)</script>'), type: 'text/html' },
    ];
    for (const file of cases) {
      const res = await upload({ channel: 'lobby', title: 'Bad' }, file);
      expectError(res, 415, 'unsupported_media_type', file.name, { strict: true });
    }
    expect(filesUnder(dataPath('tmp'))).toEqual([]);
  });

  it('the bytes decide the kind: a file whose name or declared type says another kind is 415, naming what the bytes are', async () => {
    const mediaBefore = filesUnder(dataPath('media'));
    const png = sample('png', 2000, 20);
    const mp4 = sample('mp4', 3000, 21);
    const cases: Array<[FilePart, RegExp]> = [
      [{ name: 'clip.mp4', data: png }, /image\/png/], // the finding: a PNG named .mp4
      [{ name: 'clip.mp4', data: png, type: 'video/mp4' }, /image\/png/],
      [{ name: 'photo.png', data: mp4, type: 'image/png' }, /video\/mp4/],
      [{ name: 'tune.mp3', data: mp4 }, /video\/mp4/],
      [{ name: 'snake.zip', data: png, type: 'application/zip' }, /image\/png/],
      [{ name: 'photo.png', data: game }, /application\/zip/],
      [{ name: 'picture', data: png, type: 'video/mp4' }, /image\/png/], // no extension: the declared type must agree too
      [{ name: 'clip.mp4', data: pseudoRandom(3000, 22) }, /not .*recogni[sz]ed/],
    ];
    for (const [file, bytesAre] of cases) {
      const res = await upload({ channel: 'lobby', title: 'Mislabelled' }, file);
      const what = `${file.name} (${file.type ?? 'no type'})`;
      expectError(res, 415, 'unsupported_media_type', what, { strict: true });
      expect(res.body.error.message, what).toMatch(bytesAre);
      expect(filesUnder(dataPath('tmp')), what).toEqual([]);
      expect(filesUnder(dataPath('media')), what).toEqual(mediaBefore);
    }
    expect((await viewer.get('/api/v1/media')).body.items.map((i: any) => i.title)).not.toContain('Mislabelled');
  });

  it('containers that hold audio or video take the kind from the extension; a file without one, from its bytes', async () => {
    const cases: Array<[FilePart, string, string]> = [
      [{ name: 'voice.weba', data: sample('weba', 3000, 30) }, 'audio', 'audio/webm'],
      [{ name: 'voice.oga', data: sample('oga', 4000, 31) }, 'audio', 'audio/ogg'],
      [{ name: 'tone.m4a', data: sample('m4a', 4000, 32) }, 'audio', 'audio/mp4'],
      [{ name: 'tone.wav', data: sample('wav', 30_000, 33) }, 'audio', 'audio/wav'],
      [{ name: 'clip.ogv', data: sample('ogv', 6000, 34) }, 'video', 'video/ogg'],
      [{ name: 'still.jpg', data: sample('jpg', 2000, 35) }, 'image', 'image/jpeg'],
      [{ name: 'still.gif', data: sample('gif', 2000, 36) }, 'image', 'image/gif'],
      [{ name: 'still.webp', data: sample('webp', 2000, 37) }, 'image', 'image/webp'],
      [{ name: 'snapshot', data: sample('png', 2000, 38) }, 'image', 'image/png'],
    ];
    for (const [file, kind, contentType] of cases) {
      const res = await upload({ channel: 'screens', title: `sniffed ${file.name}` }, file);
      expect(res.status, `${file.name}: ${JSON.stringify(res.body)}`).toBe(201);
      const item = (await viewer.get('/api/v1/media')).body.items.find((i: any) => i.id === res.body.id);
      expect(item, file.name).toMatchObject({ kind, contentType, size: file.data.length });
      const got = await fetchFile(item.url);
      expect(got.headers.get('content-type'), file.name).toBe(contentType);
    }
  });

  it('the title defaults to the file name', async () => {
    const res = await upload({ channel: 'lobby' }, { name: 'Team photo 2026.png', data: sample('png', 1500, 40) });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const item = (await viewer.get('/api/v1/media')).body.items.find((i: any) => i.id === res.body.id);
    expect(item.title).toBe('Team photo 2026.png');
    // A blank title is the same as none.
    const blank = await upload({ channel: 'lobby', title: '  ' }, { name: 'blank.png', data: sample('png', 1500, 41) });
    expect(blank.status, JSON.stringify(blank.body)).toBe(201);
    expect((await viewer.get('/api/v1/media')).body.items.find((i: any) => i.id === blank.body.id).title).toBe('blank.png');
  });

  it('who may push: unknown or missing key 401, channel not granted 403, no file 400', async () => {
    const file = { name: 'x.png', data: sample('png', 64, 7) };
    expectError(await upload({ channel: 'lobby', title: 'No key' }, file, null), 401, 'unauthorized', 'no key', { strict: true });
    expectError(await upload({ channel: 'lobby', title: 'Bad key' }, file, 'pk_wrong'), 401, 'unauthorized', 'bad key');
    const denied = await upload({ channel: 'boardroom', title: 'Elsewhere' }, file);
    expectError(denied, 403, 'forbidden', 'other channel', { strict: true });
    expect(denied.body.error.message).toMatch(/boardroom/);
    expectError(await upload({ channel: 'lobby', title: 'Nothing' }), 400, 'invalid_request', 'no file');
    expect(filesUnder(dataPath('tmp'))).toEqual([]);
    expectError(await new Client(server.url).get('/api/v1/media'), 401, 'unauthorized', 'list without login');
  });
});

describe('serving media', () => {
  it('byte ranges: first, middle, suffix, open-ended; several: multipart; unsatisfiable 416; malformed: the whole file', async () => {
    const size = video.length;
    const cases: Array<[string, number, number]> = [
      ['bytes=0-99', 0, 99],
      ['bytes=1000-1999', 1000, 1999],
      ['bytes=-500', size - 500, size - 1],
      ['bytes=9000-', 9000, size - 1],
      ['bytes=9990-20000', 9990, size - 1], // an end past the file is cut to it
    ];
    for (const [range, start, end] of cases) {
      const res = await fetchFile(urls.video!, { range });
      expect(res.status, range).toBe(206);
      expect(res.headers.get('content-range'), range).toBe(`bytes ${start}-${end}/${size}`);
      expect(res.headers.get('content-length'), range).toBe(String(end - start + 1));
      expect(res.data.equals(video.subarray(start, end + 1)), range).toBe(true);
      expect(res.headers.get('content-type')).toBe('video/mp4');
    }
    const outside = await fetchFile(urls.video!, { range: 'bytes=5000000-' });
    expectError(outside, 416, 'invalid_request', 'range outside', { strict: true });
    expect(outside.headers.get('content-range')).toBe(`bytes */${size}`);

    // Several ranges: multipart/byteranges (update-ranges.test.ts covers the parts in detail).
    const several = await fetchFile(urls.video!, { range: 'bytes=0-9,20-29' });
    expect(several.status).toBe(206);
    expect(several.headers.get('content-type')).toMatch(/^multipart\/byteranges; boundary=/);
    expect(several.data.includes(video.subarray(20, 30))).toBe(true);
    // A suffix longer than the file: all of it (RFC 9110 §14.1.3).
    const longSuffix = await fetchFile(urls.video!, { range: `bytes=-${size * 2}` });
    expect(longSuffix.status).toBe(206);
    expect(longSuffix.headers.get('content-range')).toBe(`bytes 0-${size - 1}/${size}`);
    expect(longSuffix.data.equals(video)).toBe(true);

    for (const range of ['bytes=abc', 'items=0-9']) {
      const res = await fetchFile(urls.video!, { range });
      expect(res.status, range).toBe(200);
      expect(res.data.equals(video), range).toBe(true);
      expect(res.headers.get('content-range'), range).toBeNull();
    }
    // If-Range: a range only while the file is still the one the client has.
    expect((await fetchFile(urls.video!, { range: 'bytes=0-9', 'if-range': `"${sha(video)}"` })).status).toBe(206);
    expect((await fetchFile(urls.video!, { range: 'bytes=0-9', 'if-range': '"something-else"' })).status).toBe(200);
  });

  it('ETag and If-None-Match give 304; HEAD gives the headers only', async () => {
    const etag = `"${sha(video)}"`;
    for (const inm of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
      const res = await fetchFile(urls.video!, { 'if-none-match': inm });
      expect(res.status, inm).toBe(304);
      expect(res.data.length).toBe(0);
      expect(res.headers.get('etag')).toBe(etag);
      expect(res.headers.get('cache-control')).toBe('private, max-age=86400');
    }
    expect((await fetchFile(urls.video!, { 'if-none-match': '"other"' })).status).toBe(200);

    const head = await fetchFile(urls.video!, {}, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.data.length).toBe(0);
    expect(head.headers.get('content-length')).toBe(String(video.length));
    expect(head.headers.get('content-type')).toBe('video/mp4');
    expect(head.headers.get('etag')).toBe(etag);
    expect(head.headers.get('accept-ranges')).toBe('bytes');
    const headRange = await fetchFile(urls.video!, { range: 'bytes=10-19' }, 'HEAD');
    expect(headRange.status).toBe(206);
    expect(headRange.headers.get('content-range')).toBe(`bytes 10-19/${video.length}`);
    expect(headRange.headers.get('content-length')).toBe('10');
  });

  it('a tampered, expired or misapplied token is 403; unknown content with a valid token is 404', async () => {
    const [, , token, hash] = urls.image!.split('/') as [string, string, string, string];
    const [expiry, mac] = token.split('.') as [string, string];
    const flipped = `${expiry}.${mac[0] === 'A' ? 'B' : 'A'}${mac.slice(1)}`;
    const secret = server.services.secret;
    const bad = [
      `/media/${flipped}/${hash}`,
      `/media/${(parseInt(expiry, 36) + 3600).toString(36)}.${mac}/${hash}`, // a later expiry, same MAC
      `/media/${secret.grant(`media:${hash}`, Date.now() - 1000)}/${hash}`, // expired
      `/media/${token}/${sha(video)}`, // another file's token
      `/media/${secret.grant(`game:${hash}`, Date.now() + 60_000)}/${hash}`, // a game token
      `/media/garbage/${hash}`,
    ];
    for (const path of bad) {
      const res = await fetchFile(path);
      expectError({ ...res, body: res.body }, 403, 'forbidden', path, { strict: true });
      expect(res.headers.get('cache-control'), path).toBe('no-store');
    }
    const unknown = 'f'.repeat(64);
    const res = await fetchFile(`/media/${secret.grant(`media:${unknown}`, Date.now() + 60_000)}/${unknown}`);
    expectError(res, 404, 'not_found', 'unknown sha', { strict: true });
    // A fresh list hands out URLs that still work.
    const listed = (await viewer.get('/api/v1/media')).body.items.find((i: any) => i.title === 'Lobby photo');
    expect((await fetchFile(listed.url)).status).toBe(200);
  });
});

describe('games', () => {
  it('the entry page and its files are served sandboxed, framable by the panel only', async () => {
    const page = await fetchFile(urls.game!);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toBe(GAME_CSP);
    expect(page.headers.get('x-frame-options')).toBeNull();
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('cache-control')).toBe('private, max-age=86400');

    const base = urls.game!.replace(/index\.html$/, '');
    const js = await fetchFile(`${base}js/game.js`);
    expect(js.status).toBe(200);
    expect(js.data.toString()).toBe(GAME_JS);
    expect(js.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(js.headers.get('content-security-policy')).toBe(GAME_CSP);
    const json = await fetchFile(`${base}assets/level%201.json`);
    expect(json.status).toBe(200);
    expect(json.data.toString()).toBe(GAME_JSON);
    expect(json.headers.get('content-type')).toMatch(/^application\/json/);
    const folder = await fetchFile(base); // a folder: its index.html
    expect(folder.data.toString()).toBe(INDEX_HTML);
    const part = await fetchFile(`${base}js/game.js`, { range: 'bytes=0-7' });
    expect(part.status).toBe(206);
    expect(part.data.toString()).toBe(GAME_JS.slice(0, 8));
    const etag = js.headers.get('etag')!;
    expect((await fetchFile(`${base}js/game.js`, { 'if-none-match': etag })).status).toBe(304);

    expectError(await fetchFile(`${base}js/missing.js`), 404, 'not_found', 'missing file');
    expectError(await fetchFile(`${base}js`), 404, 'not_found', 'a folder without a slash');
    const wrongToken = base.replace(/\/games\/[^/]+\//, `/games/${server.services.secret.grant(`media:${sha(game)}`, Date.now() + 60_000)}/`);
    expectError(await fetchFile(`${wrongToken}index.html`), 403, 'forbidden', 'a media token for a game');
    const expired = base.replace(/\/games\/[^/]+\//, `/games/${server.services.secret.grant(`game:${sha(game)}`, Date.now() - 2000)}/`);
    expectError(await fetchFile(`${expired}index.html`), 403, 'forbidden', 'an expired game token');
  });

  it('paths that try to leave the game are refused, however they are encoded', async () => {
    const base = urls.game!.replace(/index\.html$/, '');
    const attempts = [
      '..%2F..%2F..%2Fsecret.key',
      '..%2f..%2f..%2fportico.db',
      '%2e%2e/%2e%2e/%2e%2e/secret.key',
      '%2E%2E%2F%2E%2E%2F%2E%2E%2Fsecret.key',
      'js/..%2F..%2F..%2F..%2Fsecret.key',
      '../../../secret.key',
      'js/../../../../secret.key',
      '..%5C..%5C..%5Csecret.key',
      '%2Fetc%2Fpasswd',
      '%00index.html',
      '%E0%A4%A',
    ];
    for (const attempt of attempts) {
      const res = await rawGet(base + attempt);
      expect([400, 404], attempt).toContain(res.status); // the token is valid: refused for the path itself
      expect(res.data.toString(), attempt).toMatch(/^\{"error":/);
    }
    // A dot segment that stays inside is fine.
    expect((await rawGet(`${base}js/./game.js`)).status).toBe(200);
  });

  it('unsafe or incomplete archives: 400, and nothing is left in games, media or tmp', async () => {
    const index = { name: 'index.html', data: INDEX_HTML };
    const bomb = await makeZip([index, { name: 'big.bin', data: 'x' }]);
    // Claim 300 MiB unpacked for big.bin in the central directory (offset 24 of its header).
    const central = bomb.lastIndexOf(Buffer.from('big.bin')) - 46;
    expect(bomb.readUInt32LE(central)).toBe(0x02014b50);
    bomb.writeUInt32LE(300 * 2 ** 20, central + 24);

    // And the opposite lie: 10 bytes declared, 5000 inside (yauzl checks the real size).
    const liar = await makeZip([index, { name: 'liar.bin', data: 'y'.repeat(5000) }]);
    const liarHeader = liar.lastIndexOf(Buffer.from('liar.bin')) - 46;
    expect(liar.readUInt32LE(liarHeader)).toBe(0x02014b50);
    liar.writeUInt32LE(10, liarHeader + 24);

    const archives: Array<[string, Buffer, RegExp]> = [
      ['zip-slip', patch(await makeZip([index, { name: 'AA/evil.txt', data: 'pwned' }]), 'AA/evil.txt', '../evil.txt'), /unsafe path|leaves/],
      ['deep zip-slip', patch(await makeZip([index, { name: 'js/AA/AA/AA/evil.txt', data: 'pwned' }]), 'AA/AA/AA/', '../../../'), /unsafe path|leaves/],
      ['absolute path', patch(await makeZip([index, { name: 'Xtmp/evil.txt', data: 'pwned' }]), 'Xtmp/evil.txt', '/tmp/evil.txt'), /unsafe path|absolute/],
      ['symlink', await makeZip([index, { name: 'link', data: '/etc/passwd', mode: 0o120777 }]), /symbolic link/],
      ['no index.html', await makeZip([{ name: 'game.html', data: INDEX_HTML }]), /index\.html/],
      ['index.html not at the root', await makeZip([{ name: 'sub/index.html', data: INDEX_HTML }]), /index\.html/],
      [
        'too many files',
        await makeZip([index, ...Array.from({ length: PORTAL_LIMITS.gameFiles }, (_, i) => ({ name: `f/${i}.txt`, data: String(i) }))]),
        /entries/,
      ],
      ['too large unpacked', bomb, /bytes/],
      ['sizes that lie', liar, /damaged/],
    ];
    const mediaBefore = filesUnder(dataPath('media'));
    for (const [what, data, message] of archives) {
      const res = await upload({ channel: 'lobby', title: what }, { name: 'game.zip', data, type: 'application/zip' });
      expectError(res, 400, 'invalid_request', what, { strict: true });
      expect(res.body.error.message, what).toMatch(message);
      expect(dirsUnder(dataPath('games')), what).toEqual([sha(game)]);
      expect(filesUnder(dataPath('tmp')), what).toEqual([]);
      expect(filesUnder(dataPath('media')), what).toEqual(mediaBefore);
    }
    expect(existsSync(dataPath('evil.txt'))).toBe(false);
    expect(existsSync(join(server.dataDir, '..', 'evil.txt'))).toBe(false);
    expect((await viewer.get('/api/v1/media')).body.items.map((i: any) => i.title)).not.toContain('zip-slip');
    // Bytes that are no zip at all are refused before any unpacking: they are not a game.
    const notZip = await upload({ channel: 'lobby', title: 'not a zip' }, { name: 'game.zip', data: pseudoRandom(5000, 9), type: 'application/zip' });
    expectError(notZip, 415, 'unsupported_media_type', 'not a zip', { strict: true });
    expect(dirsUnder(dataPath('games'))).toEqual([sha(game)]);
  });
});
