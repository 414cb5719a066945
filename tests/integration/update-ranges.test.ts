/**
 * Ranges and preconditions on /updates/ (sendFile, shared with /media): several ranges answer
 * 206 multipart/byteranges, a suffix longer than the file gives the whole file (RFC 9110
 * §14.1.3), If-Match is evaluated (412). And electron-updater's own differential downloader,
 * driven over node:http against the real server, updates an old file to a new one with
 * multi-range requests instead of falling back to a full download.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { request, type ClientRequest, type RequestOptions } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CancellationToken, HttpExecutor } from 'builder-util-runtime';
import { GenericDifferentialDownloader } from 'electron-updater/out/differentialDownloader/GenericDifferentialDownloader.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishUpdates } from '../../server/src/updates/publish.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const BLOCK = 4096;
const sha512 = (b: Buffer) => createHash('sha512').update(b).digest('base64');
const scratch: string[] = [];
const tempDir = (prefix: string) => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  scratch.push(dir);
  return dir;
};

/** electron-builder's block map shape, with fixed-size blocks (the downloader only compares checksums). */
function blockMap(file: Buffer) {
  const checksums: string[] = [];
  const sizes: number[] = [];
  for (let at = 0; at < file.length; at += BLOCK) {
    const block = file.subarray(at, at + BLOCK);
    checksums.push(createHash('sha256').update(block).digest('base64'));
    sizes.push(block.length);
  }
  return { version: '2' as const, files: [{ name: 'file', offset: 0, checksums, sizes }] };
}

/** Splits a multipart/byteranges body into its parts (headers lower-cased). */
function parseMultipart(body: Buffer, boundary: string) {
  const parts: Array<{ headers: Record<string, string>; data: Buffer }> = [];
  const delimiter = Buffer.from(`--${boundary}`);
  let at = body.indexOf(delimiter);
  expect(at).toBe(0);
  for (;;) {
    at += delimiter.length;
    if (body.subarray(at, at + 2).toString() === '--') break;
    expect(body.subarray(at, at + 2).toString()).toBe('\r\n');
    const headerEnd = body.indexOf('\r\n\r\n', at);
    const headers: Record<string, string> = {};
    for (const line of body.subarray(at + 2, headerEnd).toString().split('\r\n')) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const next = body.indexOf(Buffer.from(`\r\n--${boundary}`), headerEnd + 4);
    parts.push({ headers, data: body.subarray(headerEnd + 4, next) });
    at = next + 2;
  }
  return parts;
}

/** builder-util-runtime's executor over node:http, recording the Range of every request. */
class NodeExecutor extends HttpExecutor<ClientRequest> {
  readonly ranges: string[] = [];
  createRequest(options: RequestOptions, callback: (response: any) => void): ClientRequest {
    const headers = (options.headers ?? {}) as Record<string, string>;
    this.ranges.push(headers.Range ?? headers.range ?? '');
    return request(options, callback);
  }
}

describe('ranges and preconditions on /updates/', () => {
  let server: TestServer;
  let oldFile: Buffer;
  let newFile: Buffer;
  const name = 'Portico-2.0.0-linux-x86_64.AppImage';
  const get = (path: string, headers: Record<string, string> = {}, method = 'GET') => fetch(server.url + path, { headers, method });
  const body = async (res: Response) => Buffer.from(await res.arrayBuffer());

  beforeAll(async () => {
    server = await startTestServer();
    // The new file shares most blocks with the old one: three changed blocks, far apart.
    oldFile = randomBytes(BLOCK * 40 + 123);
    newFile = Buffer.from(oldFile);
    for (const block of [3, 17, 31]) randomBytes(BLOCK).copy(newFile, block * BLOCK);
    const dir = tempDir('portico-ranges-');
    writeFileSync(join(dir, name), newFile);
    writeFileSync(join(dir, `${name}.blockmap`), JSON.stringify(blockMap(newFile)));
    writeFileSync(
      join(dir, 'latest-linux.yml'),
      `version: 2.0.0\nfiles:\n  - url: ${name}\n    sha512: ${sha512(newFile)}\n    size: ${newFile.length}\npath: ${name}\nsha512: ${sha512(newFile)}\n`,
    );
    await publishUpdates(dir, server.dataDir);
  });
  afterAll(async () => {
    await server.destroy();
    for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
  });

  it('several ranges: 206 multipart/byteranges, each part with its Content-Type and Content-Range', async () => {
    const size = newFile.length;
    const res = await get(`/updates/${name}`, { range: 'bytes=0-9, 5000-5999, -100' });
    expect(res.status).toBe(206);
    const type = res.headers.get('content-type')!;
    const boundary = /^multipart\/byteranges; boundary=([0-9A-Za-z]+)$/.exec(type)?.[1];
    expect(boundary, type).toBeTruthy();
    expect(res.headers.get('content-range')).toBeNull();
    const data = await body(res);
    expect(res.headers.get('content-length')).toBe(String(data.length));
    const parts = parseMultipart(data, boundary!);
    const expected: Array<[number, number]> = [
      [0, 9],
      [5000, 5999],
      [size - 100, size - 1],
    ];
    expect(parts).toHaveLength(3);
    parts.forEach((part, i) => {
      const [start, end] = expected[i]!;
      expect(part.headers['content-type']).toBe('application/octet-stream');
      expect(part.headers['content-range']).toBe(`bytes ${start}-${end}/${size}`);
      expect(part.data.equals(newFile.subarray(start, end + 1))).toBe(true);
    });

    // Overlapping and adjacent ranges are combined: one range left is a plain 206.
    const combined = await get(`/updates/${name}`, { range: 'bytes=0-99, 50-199, 200-299' });
    expect(combined.status).toBe(206);
    expect(combined.headers.get('content-range')).toBe(`bytes 0-299/${size}`);
    expect((await body(combined)).equals(newFile.subarray(0, 300))).toBe(true);

    // HEAD: the same headers, no body.
    const head = await get(`/updates/${name}`, { range: 'bytes=0-9, 5000-5999' }, 'HEAD');
    expect(head.status).toBe(206);
    expect(head.headers.get('content-type')).toMatch(/^multipart\/byteranges; boundary=/);
    expect(Number(head.headers.get('content-length'))).toBeGreaterThan(1010);
    expect((await body(head)).length).toBe(0);
  });

  it.runIf(existsSync('/proc/self/fd'))('multipart answers close their file, also when the client goes away mid-answer', async () => {
    // The server runs in this process: count the descriptors open on the published file itself
    // (sockets of pooled connections come and go and say nothing about leaks).
    const openFiles = () =>
      readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`).endsWith(name);
        } catch {
          return false; // closed while listing
        }
      }).length;
    for (let i = 0; i < 20; i++) await body(await get(`/updates/${name}`, { range: 'bytes=0-9, 5000-5999, 20000-' }));
    for (let i = 0; i < 10; i++) {
      const abort = new AbortController();
      const res = await fetch(`${server.url}/updates/${name}`, { headers: { range: 'bytes=0-9, 100-' }, signal: abort.signal });
      expect(res.status).toBe(206);
      abort.abort();
      await res.arrayBuffer().catch(() => undefined);
    }
    await new Promise((resolve) => setTimeout(resolve, 500)); // let the server notice the aborted sockets
    expect(openFiles()).toBe(0);
  });

  it('a suffix longer than the file is the whole file (206), not 416', async () => {
    const size = newFile.length;
    const res = await get(`/updates/${name}`, { range: `bytes=-${size + 1000}` });
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toBe(`bytes 0-${size - 1}/${size}`);
    expect((await body(res)).equals(newFile)).toBe(true);
    // A suffix of zero bytes is still unsatisfiable.
    const none = await get(`/updates/${name}`, { range: 'bytes=-0' });
    expect(none.status).toBe(416);
    await none.text();
  });

  it('If-Match: the current strong ETag or * go ahead; another tag or a weak one is 412', async () => {
    const etag = (await get(`/updates/${name}`, {}, 'HEAD')).headers.get('etag')!;
    expect(etag).toMatch(/^"/);
    for (const ifMatch of [etag, '*', `"other", ${etag}`]) {
      const res = await get(`/updates/${name}`, { 'if-match': ifMatch, range: 'bytes=0-9' });
      expect(res.status, ifMatch).toBe(206);
      expect((await body(res)).equals(newFile.subarray(0, 10))).toBe(true);
    }
    for (const ifMatch of ['"other"', `W/${etag}`]) {
      const res = await get(`/updates/${name}`, { 'if-match': ifMatch });
      expect(res.status, ifMatch).toBe(412);
      expect((await res.json()).error.code).toBe('conflict');
    }
  });

  it('If-Range still decides: a stale validator gives the whole file even for several ranges', async () => {
    const etag = (await get(`/updates/${name}`, {}, 'HEAD')).headers.get('etag')!;
    const stale = await get(`/updates/${name}`, { range: 'bytes=0-9, 100-109', 'if-range': '"stale"' });
    expect(stale.status).toBe(200);
    expect((await body(stale)).equals(newFile)).toBe(true);
    const fresh = await get(`/updates/${name}`, { range: 'bytes=0-9, 100-109', 'if-range': etag });
    expect(fresh.status).toBe(206);
    expect(fresh.headers.get('content-type')).toMatch(/^multipart\/byteranges/);
    await fresh.arrayBuffer();
  });

  it("electron-updater's differential downloader updates the old file with multi-range requests", async () => {
    const dir = tempDir('portico-differential-');
    const oldPath = join(dir, 'old.AppImage');
    const newPath = join(dir, 'new.AppImage');
    writeFileSync(oldPath, oldFile);
    const executor = new NodeExecutor();
    const logs: string[] = [];
    const log = (line: unknown) => logs.push(String(line));
    const downloader = new GenericDifferentialDownloader({ size: newFile.length, sha512: sha512(newFile) } as any, executor, {
      newUrl: new URL(`${server.url}/updates/${name}`),
      oldFile: oldPath,
      newFile: newPath,
      logger: { info: log, warn: log, error: log },
      requestHeaders: null,
      isUseMultipleRangeRequest: true,
      cancellationToken: new CancellationToken(),
    });
    const newMap = JSON.parse((await body(await get(`/updates/${name}.blockmap`))).toString());
    await downloader.download(blockMap(oldFile), newMap);

    expect(readFileSync(newPath).equals(newFile)).toBe(true);
    // One request for the three changed blocks, not the whole file.
    expect(executor.ranges).toEqual([`bytes=${3 * BLOCK}-${4 * BLOCK - 1}, ${17 * BLOCK}-${18 * BLOCK - 1}, ${31 * BLOCK}-${32 * BLOCK - 1}`]);
  });
});
