/**
 * The provider gate under attack, against real servers on loopback, over raw sockets where a
 * client must hold a request open: a file part without an authenticated provider is refused
 * before anything is written and the rest is not read; uploads in progress are capped per
 * provider (429) and in spooled bytes (503); slow bodies are cut (408); failed authentications
 * are charged to the address, never to the provider, and all say the same; signatures cover
 * method and path and are accepted once (409 replayed).
 */
import { createHmac } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError, send, startTestServer, type TestServer } from '../helpers/server.js';

// A valid 1x1 PNG, so the media route keeps what the gate lets through.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');
const B = 'gateBOUNDARYgate';
const field = (name: string, value: string) => `--${B}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
const fileHead = (filename: string, type = 'application/octet-stream') =>
  `--${B}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: ${type}\r\n\r\n`;
const closing = `\r\n--${B}--\r\n`;
const now = () => Math.floor(Date.now() / 1000);

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: any;
}

/** A request over a raw socket, written piece by piece: its answer (as soon as it is whole) and when the server closed. */
class RawRequest {
  readonly answer: Promise<Answer>;
  readonly closed: Promise<void>;
  private readonly socket: Socket;
  private received = Buffer.alloc(0);
  private trickle?: NodeJS.Timeout;

  constructor(server: TestServer, head: string) {
    this.socket = connect(Number(new URL(server.url).port), '127.0.0.1');
    this.socket.on('error', () => {}); // a reset after the answer is what a refused upload gets
    this.closed = new Promise((resolve) => this.socket.on('close', () => resolve()));
    this.answer = new Promise((resolve, reject) => {
      const parse = () => {
        const end = this.received.indexOf('\r\n\r\n');
        if (end < 0) return;
        const [statusLine, ...lines] = this.received.subarray(0, end).toString('latin1').split('\r\n');
        const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
        const length = Number(headers['content-length'] ?? 0);
        if (this.received.length < end + 4 + length) return;
        const text = this.received.subarray(end + 4, end + 4 + length).toString('utf8');
        let body: any = text;
        try {
          body = JSON.parse(text);
        } catch {
          /* not JSON */
        }
        resolve({ status: Number(statusLine!.split(' ')[1]), headers, body });
      };
      this.socket.on('data', (d: Buffer) => {
        this.received = Buffer.concat([this.received, d]);
        parse();
      });
      this.socket.on('close', () => reject(new Error(`closed without a whole answer: ${this.received.toString('latin1').slice(0, 300)}`)));
    });
    this.answer.catch(() => {});
    this.socket.write(head);
  }

  write(data: string | Buffer) {
    if (this.socket.writable) this.socket.write(data);
  }

  /** Writes `chunk` every `everyMs` until the socket closes. */
  trickleEvery(chunk: string | Buffer, everyMs: number) {
    this.trickle = setInterval(() => this.write(chunk), everyMs);
    this.closed.then(() => clearInterval(this.trickle));
  }

  destroy() {
    clearInterval(this.trickle);
    this.socket.destroy();
  }
}

/** Starts a multipart POST claiming `contentLength` bytes; sends `start` (the body's beginning) at once. */
function multipart(server: TestServer, path: string, contentLength: number, start: string | Buffer, headers: Record<string, string> = {}) {
  const extra = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  const req = new RawRequest(server, `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=${B}\r\nContent-Length: ${contentLength}\r\n${extra}\r\n`);
  req.write(start);
  return req;
}

/** The whole body of a media push, for a request that is to complete. */
function mediaBody(fields: Record<string, string>, file = PNG, filename = 'dot.png') {
  return Buffer.concat([
    Buffer.from(Object.entries(fields).map(([k, v]) => field(k, v)).join('') + fileHead(filename, 'image/png')),
    file,
    Buffer.from(closing),
  ]);
}

/** Rejects with `what` unless `promise` settles within `ms` (on the unfixed server the answer never comes). */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms)))]).finally(() =>
    clearTimeout(timer),
  );
}

const tmpFiles = (server: TestServer) => {
  const dir = join(server.dataDir, 'tmp');
  return existsSync(dir) ? readdirSync(dir) : [];
};

async function makeProvider(server: TestServer, name: string, channels: string[], extra: Record<string, unknown> = {}) {
  const res = await server.admin.post('/api/v1/admin/providers', { name, channels, ...extra });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.key as string;
}

/** Headers of a push signed the current way: HMAC-SHA256 of "<ts>.<METHOD>.<path>.<raw body>". */
function signed(name: string, key: string, method: string, path: string, body: string | Buffer, ts = now()) {
  const mac = createHmac('sha256', key).update(`${ts}.${method}.${path}.`).update(body).digest('hex');
  return { 'x-portico-provider': name, 'x-portico-timestamp': String(ts), 'x-portico-signature': `sha256=${mac}` };
}

describe('uploads: authenticate before any file part', () => {
  let server: TestServer;
  let key: string;
  beforeAll(async () => {
    server = await startTestServer({ providerFailuresPerIpPerMinute: 10_000, providerRequestsPerMinute: 10_000 });
    key = await makeProvider(server, 'cam', ['lobby']);
  });
  afterAll(() => server.destroy());

  it('a file part with no key before it: 401 at once, nothing written to tmp, the connection closed unread (four at once)', async () => {
    const start = Buffer.concat([Buffer.from(field('channel', 'lobby') + field('title', 'No key') + fileHead('big.mp4', 'video/mp4')), Buffer.alloc(256 * 1024, 7)]);
    const uploads = Array.from({ length: 4 }, () => multipart(server, '/cgi/media', 200 * 1024 * 1024, start));
    try {
      for (const upload of uploads) {
        const answer = await within(upload.answer, 10_000, 'keyless upload');
        expect(answer.status).toBe(401);
        expect(answer.body.error.code).toBe('unauthorized');
        expect(answer.headers.connection).toBe('close');
        await within(upload.closed, 5000, 'server closes the connection');
      }
      expect(tmpFiles(server)).toEqual([]);
    } finally {
      for (const u of uploads) u.destroy();
    }
  });

  it('a key field after the file comes too late (401); a key field before the file, or the key in a header, is fine', async () => {
    const late = mediaBody({ channel: 'lobby', title: 'Late key' });
    const lateWithKey = Buffer.concat([late.subarray(0, late.length - closing.length), Buffer.from(`\r\n${field('key', key)}--${B}--\r\n`)]);
    const refused = multipart(server, '/cgi/media', lateWithKey.length, lateWithKey);
    expect((await within(refused.answer, 10_000, 'key after file')).status).toBe(401);
    refused.destroy();

    const first = mediaBody({ key, channel: 'lobby', title: 'Key first' });
    const ok = multipart(server, '/cgi/media', first.length, first);
    const answer = await within(ok.answer, 10_000, 'key before file');
    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
    ok.destroy();

    const body = mediaBody({ channel: 'lobby', title: 'Bearer' });
    const res = await send(`${server.url}/cgi/media`, {
      method: 'POST',
      body: new Uint8Array(body),
      headers: { 'content-type': `multipart/form-data; boundary=${B}`, authorization: `Bearer ${key}` },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(tmpFiles(server)).toEqual([]);
  });
});

describe('uploads: caps on uploads in progress', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ providerConcurrentUploads: 2, uploadSpoolBytes: 3 * 1024 * 1024, providerRequestsPerMinute: 10_000 });
  });
  afterAll(() => server.destroy());

  it('a provider has at most N uploads at once (429 with Retry-After); all uploads together at most the spool bytes (503 with Retry-After)', async () => {
    const keyA = await makeProvider(server, 'cap-a', ['lobby']);
    const keyB = await makeProvider(server, 'cap-b', ['lobby']);
    const start = Buffer.from(field('channel', 'lobby') + field('title', 'Held') + fileHead('clip.mp4', 'video/mp4'));
    const held = (key: string, length: number) => {
      const req = multipart(server, '/cgi/media', length, start, { Authorization: `Bearer ${key}` });
      req.trickleEvery(Buffer.alloc(8 * 1024, 1), 500); // fast enough not to be cut as slow
      return req;
    };
    const open: RawRequest[] = [];
    try {
      open.push(held(keyA, 1024 * 1024), held(keyA, 1024 * 1024));
      await new Promise((r) => setTimeout(r, 500)); // both past their file part's start
      const third = held(keyA, 1024 * 1024);
      open.push(third);
      const busy = await within(third.answer, 10_000, 'third upload of one provider');
      expect(busy.status, JSON.stringify(busy.body)).toBe(429);
      expect(busy.body.error.code).toBe('rate_limited');
      expect(Number(busy.headers['retry-after'])).toBeGreaterThan(0);

      // Another provider: its own slots, but the spool holds 3 MiB and 2 MiB are reserved.
      const big = held(keyB, 1.5 * 1024 * 1024);
      open.push(big);
      const full = await within(big.answer, 10_000, 'upload past the spool cap');
      expect(full.status, JSON.stringify(full.body)).toBe(503);
      expect(full.body.error.code).toBe('rate_limited');
      expect(Number(full.headers['retry-after'])).toBeGreaterThan(0);

      // The held uploads end (cut off by their clients): their slots and bytes are free again.
      for (const r of open) r.destroy();
      const body = mediaBody({ channel: 'lobby', title: 'After' });
      let res: Awaited<ReturnType<typeof send>> | undefined;
      for (let i = 0; i < 20; i++) {
        res = await send(`${server.url}/cgi/media`, {
          method: 'POST',
          body: new Uint8Array(body),
          headers: { 'content-type': `multipart/form-data; boundary=${B}`, authorization: `Bearer ${keyA}` },
        });
        if (res.status === 201) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(res!.status, JSON.stringify(res!.body)).toBe(201);
      await new Promise((r) => setTimeout(r, 200));
      expect(tmpFiles(server)).toEqual([]);
    } finally {
      for (const r of open) r.destroy();
    }
  });
});

describe('uploads: slow bodies are cut', () => {
  let server: TestServer;
  let key: string;
  beforeAll(async () => {
    server = await startTestServer({
      providerConcurrentUploads: 20,
      uploadRateWindowMs: 1000,
      uploadMinBytesPerSecond: 10_000,
      providerBodyDeadlineMs: 1500,
      providerRequestsPerMinute: 10_000,
      providerFailuresPerIpPerMinute: 10_000,
    });
    key = await makeProvider(server, 'slowcam', ['lobby']);
  });
  afterAll(() => server.destroy());

  it('a file trickled below the minimum rate: 408 and closed; nothing left in tmp (ten at once)', async () => {
    const start = Buffer.from(field('channel', 'lobby') + field('title', 'Slow') + fileHead('slow.mp4', 'video/mp4'));
    const slow = Array.from({ length: 10 }, () => {
      const req = multipart(server, '/cgi/media', 100 * 1024 * 1024, start, { Authorization: `Bearer ${key}` });
      req.trickleEvery('x'.repeat(100), 200);
      return req;
    });
    try {
      for (const req of slow) {
        const answer = await within(req.answer, 15_000, 'slow file');
        expect(answer.status, JSON.stringify(answer.body)).toBe(408);
        expect(answer.body.error.code).toBe('invalid_request');
        await within(req.closed, 5000, 'server closes the slow upload');
      }
      expect(tmpFiles(server)).toEqual([]);
    } finally {
      for (const r of slow) r.destroy();
    }
  });

  it('the fields before the file trickled (no key yet): 408 at the body deadline', async () => {
    const req = multipart(server, '/cgi/media', 10 * 1024 * 1024, `--${B}\r\nContent-Disposition: form-data; name="channel"\r\n\r\nlo`);
    req.trickleEvery('b', 300);
    try {
      const answer = await within(req.answer, 15_000, 'slow fields');
      expect(answer.status, JSON.stringify(answer.body)).toBe(408);
      await within(req.closed, 5000, 'server closes the slow fields');
    } finally {
      req.destroy();
    }
  });
});

describe('failed authentication is charged to the address, and says nothing about names', () => {
  it('wrong signatures naming a provider do not use up its rate; unknown names, keys and signatures get one message', async () => {
    const server = await startTestServer({ providerRequestsPerMinute: 3, providerFailuresPerIpPerMinute: 10_000 });
    try {
      const key = await makeProvider(server, 'meteo', ['weather']);
      const body = 'channel=weather&text=Hi';
      const form = { 'content-type': 'application/x-www-form-urlencoded' };
      const wrongSig = { ...signed('meteo', 'pk_not_the_key', 'POST', '/cgi/ticker', body) };
      const messages = new Set<string>();
      for (let i = 0; i < 10; i++) {
        const res = await send(`${server.url}/cgi/ticker`, { method: 'POST', body, headers: { ...form, ...wrongSig, 'x-portico-timestamp': String(now() - i) } });
        expectError(res, 401, 'unauthorized', `wrong signature ${i}`);
        messages.add(res.body.error.message);
      }
      const unknownName = await send(`${server.url}/cgi/ticker`, { method: 'POST', body, headers: { ...form, ...signed('nobody', key, 'POST', '/cgi/ticker', body) } });
      expectError(unknownName, 401, 'unauthorized', 'unknown name');
      messages.add(unknownName.body.error.message);
      const unknownBearer = await send(`${server.url}/cgi/ticker`, { method: 'POST', body, headers: { ...form, authorization: 'Bearer pk_wrong' } });
      expectError(unknownBearer, 401, 'unauthorized', 'unknown bearer key');
      messages.add(unknownBearer.body.error.message);
      const unknownField = await send(`${server.url}/cgi/ticker`, { method: 'POST', body: `${body}&key=pk_wrong`, headers: form });
      expectError(unknownField, 401, 'unauthorized', 'unknown key field');
      messages.add(unknownField.body.error.message);
      expect([...messages]).toHaveLength(1);
      expect([...messages][0]).not.toMatch(/meteo|nobody/);

      // The provider's own pushes still have their whole rate; past it, 429.
      for (let i = 0; i < 3; i++) {
        const b = `channel=weather&text=Push+${i}`;
        const res = await send(`${server.url}/cgi/ticker`, { method: 'POST', body: b, headers: { ...form, ...signed('meteo', key, 'POST', '/cgi/ticker', b) } });
        expect(res.status, JSON.stringify(res.body)).toBe(201);
      }
      const over = await send(`${server.url}/cgi/ticker`, { method: 'POST', body: `${body}&key=${key}`, headers: form });
      expectError(over, 429, 'rate_limited');
      expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
    } finally {
      await server.destroy();
    }
  });

  it('an address that keeps failing gets 429 with Retry-After', async () => {
    const server = await startTestServer({ providerFailuresPerIpPerMinute: 3 });
    try {
      await makeProvider(server, 'meteo', ['weather']);
      const attempt = () => send(`${server.url}/cgi/ticker`, { method: 'POST', body: new URLSearchParams({ key: 'pk_guess', channel: 'weather', text: 'x' }) });
      for (let i = 0; i < 3; i++) expectError(await attempt(), 401, 'unauthorized', `guess ${i}`);
      const blocked = await attempt();
      expectError(blocked, 429, 'rate_limited', 'over the failure rate');
      expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    } finally {
      await server.destroy();
    }
  });
});

describe('signatures cover method and path, and are accepted once', () => {
  let server: TestServer;
  let key: string;
  beforeAll(async () => {
    server = await startTestServer({ providerRequestsPerMinute: 10_000, providerFailuresPerIpPerMinute: 10_000 });
    key = await makeProvider(server, 'signer', ['news', 'lobby'], { requireSignature: true });
  });
  afterAll(() => server.destroy());
  const form = { 'content-type': 'application/x-www-form-urlencoded' };

  it('the example from the issue: "<ts>.POST./cgi/ticker.<body>" is accepted once, then 409 replayed', async () => {
    const body = 'channel=news&text=Hi';
    const headers = { ...form, ...signed('signer', key, 'POST', '/cgi/ticker', body) };
    const first = await send(`${server.url}/cgi/ticker`, { method: 'POST', body, headers });
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    expectError(await send(`${server.url}/cgi/ticker`, { method: 'POST', body, headers }), 409, 'replayed', 'the same request again');
    // Two copies at once: one is taken.
    const again = { ...form, ...signed('signer', key, 'POST', '/cgi/ticker', 'channel=news&text=Twice') };
    const both = await Promise.all([0, 1].map(() => send(`${server.url}/cgi/ticker`, { method: 'POST', body: 'channel=news&text=Twice', headers: again })));
    expect(both.map((r) => r.status).sort()).toEqual([201, 409]);
  });

  it('a signature for /cgi/ticker is refused at /cgi/notice; the old "<ts>.<body>" scheme is refused; the query is not signed', async () => {
    const body = 'channel=news&text=Moved';
    const forTicker = signed('signer', key, 'POST', '/cgi/ticker', body);
    expectError(await send(`${server.url}/cgi/notice`, { method: 'POST', body, headers: { ...form, ...forTicker } }), 401, 'unauthorized', 'other path');
    const ts = now();
    const old = { 'x-portico-provider': 'signer', 'x-portico-timestamp': String(ts), 'x-portico-signature': `sha256=${createHmac('sha256', key).update(`${ts}.${body}`).digest('hex')}` };
    expectError(await send(`${server.url}/cgi/ticker`, { method: 'POST', body, headers: { ...form, ...old } }), 401, 'unauthorized', 'old scheme');
    const withQuery = await send(`${server.url}/cgi/ticker?from=cron`, { method: 'POST', body, headers: { ...form, ...forTicker } });
    expect(withQuery.status, JSON.stringify(withQuery.body)).toBe(201);
  });

  it('a signed multipart upload (media) is checked over its raw bytes, and accepted once', async () => {
    const body = mediaBody({ channel: 'lobby', title: 'Signed picture' });
    const headers = { 'content-type': `multipart/form-data; boundary=${B}`, ...signed('signer', key, 'POST', '/cgi/media', body) };
    const ok = await send(`${server.url}/cgi/media`, { method: 'POST', body: new Uint8Array(body), headers });
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
    expectError(await send(`${server.url}/cgi/media`, { method: 'POST', body: new Uint8Array(body), headers }), 409, 'replayed', 'upload replayed');
    const tampered = Buffer.from(body);
    const at = tampered.length - closing.length - 1;
    tampered[at] = tampered[at]! ^ 1;
    const tamperedHeaders = { ...headers, ...signed('signer', key, 'POST', '/cgi/media', body, now() - 1) };
    expectError(await send(`${server.url}/cgi/media`, { method: 'POST', body: new Uint8Array(tampered), headers: tamperedHeaders }), 401, 'unauthorized', 'changed file');
    await new Promise((r) => setTimeout(r, 100));
    expect(tmpFiles(server)).toEqual([]);
  });
});
