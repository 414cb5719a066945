/**
 * The server over TLS, against a real server with `portico cert init`'s certificates: a client
 * trusting only the organisation CA logs in and long-polls; one trusting another CA (or only the
 * system store) is refused; the plain port redirects; HSTS on HTTPS only; renewing the certificate
 * reaches new connections without disturbing a held poll; an admin pair whose key does not match
 * stops the start with a clear message.
 */
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { Agent, request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServerConfig } from '../../server/src/config.js';
import { startServer } from '../../server/src/server.js';
import { createCa, createServerCert, initCertificates, renewCertificates, tlsPaths } from '../../server/src/tls/certs.js';
import { PASSWORD, eventually, startTestServer, type TestServer } from '../helpers/server.js';

interface TlsReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
  /** SHA-256 of the certificate the server presented on this request's connection. */
  peer: string;
  /** Whether this request went out on a connection used before. */
  reused: boolean;
}

function tlsRequest(
  url: string,
  { method = 'GET', body, token, ca, agent }: { method?: string; body?: unknown; token?: string; ca?: string; agent?: Agent } = {},
): Promise<TlsReply> {
  return new Promise((ok, fail) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = httpsRequest(
      url,
      {
        method,
        ca,
        agent: agent ?? false,
        headers: {
          ...(data ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } : {}),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        const socket = res.socket as TLSSocket;
        const peer = socket.getPeerCertificate().fingerprint256;
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          let parsed: any = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            /* keep text */
          }
          ok({ status: res.statusCode!, headers: res.headers, body: parsed, peer, reused: req.reusedSocket });
        });
      },
    );
    req.on('error', fail);
    req.end(data);
  });
}

let dataDir: string;
let server: TestServer;
let caPem: string;
let caFingerprint: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'portico-tls-'));
  const init = initCertificates(dataDir, { hosts: ['localhost'], ips: ['127.0.0.1'] });
  caFingerprint = init.ca.fingerprint256;
  caPem = readFileSync(tlsPaths(dataDir).caCert, 'utf8');
  // TLS is auto: on, because <dataDir>/tls/server.crt exists.
  server = await startTestServer({ httpsPort: 0, httpRedirectPort: 0 }, dataDir);
});
afterAll(async () => {
  await server?.destroy();
});

const loginTls = async (username: string) => {
  const res = await tlsRequest(`${server.httpsUrl}/api/v1/login`, { method: 'POST', body: { username, password: PASSWORD }, ca: caPem });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.token as string;
};

describe('HTTPS', () => {
  it('listens with the data directory certificate, signed by the CA, with the SANs', async () => {
    expect(server.httpsUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(server.httpsPort).toBeGreaterThan(0);
    const res = await tlsRequest(`${server.httpsUrl}/healthz`, { ca: caPem });
    expect(res.status).toBe(200);
    const served = new X509Certificate(readFileSync(tlsPaths(dataDir).serverCert));
    expect(res.peer).toBe(served.fingerprint256);
    const ca = new X509Certificate(caPem);
    expect(ca.fingerprint256).toBe(caFingerprint);
    expect(served.verify(ca.publicKey)).toBe(true);
    expect(served.checkIssued(ca)).toBe(true);
    expect(served.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1');
  });

  it('a client trusting only the CA logs in and long-polls over TLS: a held poll is answered by an event', async () => {
    const bob = await server.user('bob');
    await server.user('alice');
    const token = await loginTls('alice');
    const me = await tlsRequest(`${server.httpsUrl}/api/v1/me`, { token, ca: caPem });
    expect(me.status).toBe(200);
    expect(JSON.stringify(me.body)).toContain('alice');

    const start = await tlsRequest(`${server.httpsUrl}/api/v1/events?wait=0`, { token, ca: caPem });
    expect(start.status).toBe(200);
    const began = Date.now();
    const held = tlsRequest(`${server.httpsUrl}/api/v1/events?after=${start.body.cursor}&wait=20`, { token, ca: caPem });
    await new Promise((r) => setTimeout(r, 300));
    expect((await bob.post('/api/v1/chats', { invitees: ['alice'] })).status).toBe(201);
    const answered = await held;
    expect(answered.status).toBe(200);
    expect(Date.now() - began).toBeGreaterThanOrEqual(250); // it was held, then woken
    expect(Date.now() - began).toBeLessThan(10_000);
    expect(answered.body.events.map((e: any) => e.type)).toContain('chat.request');
    // Polls are answered by the event lane, outside Koa: with HSTS like every HTTPS answer.
    expect(answered.headers['strict-transport-security']).toBe('max-age=31536000');
  });

  it('refuses clients that trust another CA, or only the system store, with a certificate error', async () => {
    const other = createCa({ commonName: 'Another CA' });
    await expect(tlsRequest(`${server.httpsUrl}/healthz`, { ca: other.certPem })).rejects.toMatchObject({
      code: expect.stringMatching(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT|SELF_SIGNED|CERT/),
    });
    await expect(tlsRequest(`${server.httpsUrl}/healthz`)).rejects.toMatchObject({ code: expect.stringMatching(/CERT|SIGNATURE|ISSUER/) });
    // And a server certificate from another CA, for the right name, is refused by a client of ours.
    const impostor = createServerCert(other, { hosts: ['localhost'], ips: ['127.0.0.1'] });
    const dir = mkdtempSync(join(tmpdir(), 'portico-tls-impostor-'));
    writeFileSync(join(dir, 'i.crt'), impostor.certPem);
    writeFileSync(join(dir, 'i.key'), impostor.keyPem, { mode: 0o600 });
    const fake = await startServer(
      ServerConfig.parse({ host: '127.0.0.1', port: 0, httpsPort: 0, dataDir: join(dir, 'data'), adminPassword: 'admin-password', logLevel: 'silent', tlsCert: join(dir, 'i.crt'), tlsKey: join(dir, 'i.key') }),
      pino({ level: 'silent' }),
    );
    try {
      await expect(tlsRequest(`${fake.httpsUrl}/healthz`, { ca: caPem })).rejects.toMatchObject({ code: expect.stringMatching(/CERT|SIGNATURE|ISSUER/) });
      expect((await tlsRequest(`${fake.httpsUrl}/healthz`, { ca: other.certPem })).status).toBe(200); // the admin-supplied pair is served
    } finally {
      await fake.close();
      rmSync(dir, { recursive: true, force: true });
    }
    }, 60_000);

  it('the redirect port answers 308 to the same path on HTTPS, and nothing else', async () => {
    expect(server.redirectUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const get = (path: string, host?: string) =>
      new Promise<{ status: number; location?: string; body: string }>((ok, fail) => {
        const req = httpRequest(`${server.redirectUrl}${path}`, { method: 'POST', agent: false, headers: host ? { host } : {} }, (res) => {
          let body = '';
          res.on('data', (c) => (body += c));
          res.on('end', () => ok({ status: res.statusCode!, location: res.headers.location, body }));
        });
        req.on('error', fail);
        req.end('{"username":"alice"}');
      });
    const plain = await get('/api/v1/login?x=1');
    expect(plain.status).toBe(308);
    expect(plain.location).toBe(`https://127.0.0.1:${server.httpsPort}/api/v1/login?x=1`);
    expect(plain.body).not.toContain('token');
    const named = await get('/app/', 'portico.example.com:80');
    expect(named.location).toBe(`https://portico.example.com:${server.httpsPort}/app/`);
    const odd = await get('/x', 'evil.example/"><script>');
    expect(odd.location).toBe(`https://127.0.0.1:${server.httpsPort}/x`);
  });

  it('HSTS on HTTPS answers (API, errors, the panel), never on plain HTTP', async () => {
    for (const path of ['/healthz', '/api/v1/nothing-here', '/app/']) {
      const res = await tlsRequest(`${server.httpsUrl}${path}`, { ca: caPem });
      expect(res.headers['strict-transport-security'], path).toBe('max-age=31536000');
    }
    const plain = await fetch(`${server.url}/healthz`);
    expect(plain.status).toBe(200);
    expect(plain.headers.get('strict-transport-security')).toBeNull();
  });

  it('serves the plain port on loopback only while TLS is on', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((server.http.address() as { address: string }).address).toBe('127.0.0.1');
  });

  it('renew: same CA, new certificate for new connections, while a held poll on the old connection completes', async () => {
    const token = await loginTls('alice');
    const bob = await server.user('bob2');
    const agent = new Agent({ keepAlive: true, maxSockets: 1, ca: caPem });
    try {
      const start = await tlsRequest(`${server.httpsUrl}/api/v1/events?wait=0`, { token, agent });
      const oldPeer = start.peer;
      const held = tlsRequest(`${server.httpsUrl}/api/v1/events?after=${start.body.cursor}&wait=20`, { token, agent });
      await new Promise((r) => setTimeout(r, 200));

      const renewed = renewCertificates(dataDir);
      expect(renewed.ca.fingerprint256).toBe(caFingerprint);
      expect(renewed.server.fingerprint256).not.toBe(oldPeer);
      // The watcher reloads; new connections get the new certificate (trusted through the same CA).
      await eventually(async () => (await tlsRequest(`${server.httpsUrl}/healthz`, { ca: caPem })).peer === renewed.server.fingerprint256, 5000, 'the renewed certificate');
      expect(server.tls!.fingerprint256()).toBe(renewed.server.fingerprint256);

      expect((await bob.post('/api/v1/chats', { invitees: ['alice'] })).status).toBe(201);
      const answered = await held;
      expect(answered.status).toBe(200);
      expect(answered.body.events.map((e: any) => e.type)).toContain('chat.request');
      expect(answered.peer).toBe(oldPeer); // the same, old connection carried it through
      expect(answered.reused).toBe(true);

      // A bad pair (key not matching) is not taken: the server keeps the renewed certificate.
      const paths = tlsPaths(dataDir);
      const goodKey = readFileSync(paths.serverKey, 'utf8');
      writeFileSync(paths.serverKey, createServerCert(createCa(), { hosts: ['x.example'], ips: [] }).keyPem, { mode: 0o600 });
      expect(server.tls!.reload()).toBe(false);
      expect((await tlsRequest(`${server.httpsUrl}/healthz`, { ca: caPem })).peer).toBe(renewed.server.fingerprint256);
      writeFileSync(paths.serverKey, goodKey, { mode: 0o600 });
      expect(server.tls!.reload()).toBe(true);
    } finally {
      agent.destroy();
    }
  });
});

/** A bare TLS handshake offering only `ciphers` (TLS 1.2 unless told): the suite the server chose, or the error. */
function handshake(port: number, ciphers: string, { ca, maxVersion = 'TLSv1.2' }: { ca: string; maxVersion?: 'TLSv1.2' | 'TLSv1.3' }) {
  return new Promise<{ cipher?: string; version?: string; error?: string }>((ok) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, servername: 'localhost', ca, ciphers, maxVersion, minVersion: 'TLSv1.2' });
    socket.once('secureConnect', () => {
      ok({ cipher: socket.getCipher().standardName, version: socket.getProtocol() ?? undefined });
      socket.destroy();
    });
    socket.once('error', (error: NodeJS.ErrnoException) => ok({ error: error.code ?? error.message }));
  });
}

describe('cipher suites (Mozilla intermediate)', () => {
  it('refuses TLS 1.2 suites without forward secrecy, CBC (SHA-1 or not) and CCM8', async () => {
    for (const cipher of ['AES128-SHA', 'AES256-SHA', 'AES128-GCM-SHA256', 'AES256-GCM-SHA384', 'AES128-CCM8', 'AES128-SHA256', 'ECDHE-RSA-AES128-SHA', 'ECDHE-RSA-AES256-SHA', 'ECDHE-RSA-AES128-SHA256', 'ECDHE-RSA-AES256-SHA384', 'DHE-RSA-AES128-SHA']) {
      const result = await handshake(server.httpsPort!, cipher, { ca: caPem });
      expect(result, cipher).toMatchObject({ error: expect.stringMatching(/HANDSHAKE_FAILURE|NO_SHARED_CIPHER|ECONNRESET|NO_CIPHERS/) });
    }
  });

  it('accepts the forward-secret AEAD suites, TLS 1.3 too, and lets the client choose among them', async () => {
    for (const cipher of ['ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES256-GCM-SHA384', 'ECDHE-RSA-CHACHA20-POLY1305']) {
      expect(await handshake(server.httpsPort!, cipher, { ca: caPem }), cipher).toMatchObject({ cipher: expect.stringContaining(cipher.includes('CHACHA') ? 'CHACHA20' : cipher.includes('AES128') ? 'AES_128_GCM' : 'AES_256_GCM'), version: 'TLSv1.2' });
    }
    // honorCipherOrder off: the client's first choice wins (all offered suites are strong).
    expect(await handshake(server.httpsPort!, 'ECDHE-RSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-GCM-SHA256', { ca: caPem })).toMatchObject({
      cipher: 'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256',
    });
    expect(await handshake(server.httpsPort!, 'ECDHE-RSA-AES128-GCM-SHA256', { ca: caPem, maxVersion: 'TLSv1.3' })).toMatchObject({ version: 'TLSv1.3' });
  });
});

describe('an admin-supplied certificate and key', () => {
  it('whose key does not match the certificate stops the start with a clear error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'portico-tls-own-'));
    try {
      const ca = createCa();
      const a = createServerCert(ca, { hosts: ['localhost'], ips: [] });
      const b = createServerCert(ca, { hosts: ['localhost'], ips: [] });
      writeFileSync(join(dir, 'own.crt'), a.certPem);
      writeFileSync(join(dir, 'other.key'), b.keyPem, { mode: 0o600 });
      const config = ServerConfig.parse({
        host: '127.0.0.1',
        port: 0,
        httpsPort: 0,
        dataDir: join(dir, 'data'),
        adminPassword: 'admin-password',
        logLevel: 'silent',
        tlsCert: join(dir, 'own.crt'),
        tlsKey: join(dir, 'other.key'),
      });
      await expect(startServer(config, pino({ level: 'silent' }))).rejects.toThrow(
        `${join(dir, 'other.key')} does not belong to ${join(dir, 'own.crt')}: the key does not match the certificate`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('portico cert', () => {
  const ROOT = fileURLToPath(new URL('../../', import.meta.url));
  const cli = async (args: string[], dir: string) => {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PORTICO_') && v !== undefined) env[k] = v;
    try {
      const { stdout, stderr } = await promisify(execFile)(
        process.execPath,
        ['--import', new URL('node_modules/tsx/dist/loader.mjs', `file://${ROOT}`).href, join(ROOT, 'server/src/main.ts'), ...args, '--data-dir', dir],
        { env, timeout: 60_000 },
      );
      return { code: 0, stdout, stderr };
    } catch (error: any) {
      return { code: error.code as number, stdout: String(error.stdout), stderr: String(error.stderr) };
    }
  };

  it('init, show and renew print paths, names, expiry and the CA fingerprint; renew without init says what to do', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'portico-tls-cli-'));
    try {
      const none = await cli(['cert', 'renew'], dir);
      expect(none.code).toBe(1);
      expect(none.stderr).toMatch(/^portico: no CA in .*: run `portico cert init` first\n$/);

      const init = await cli(['cert', 'init', '--host', 'portico.example.com', '--host', 'portico', '--ip', '10.0.0.5'], dir);
      expect(init.code, init.stderr).toBe(0);
      const fingerprint = new X509Certificate(readFileSync(tlsPaths(dir).caCert)).fingerprint256;
      expect(init.stdout).toContain(`CA fingerprint for the clients (caFingerprint256): ${fingerprint}`);
      expect(init.stdout).toContain('names:    portico.example.com, portico, 10.0.0.5');

      const show = await cli(['cert', 'show'], dir);
      expect(show.code, show.stderr).toBe(0);
      expect(show.stdout).toContain(tlsPaths(dir).serverCert);
      expect(show.stdout).toContain(tlsPaths(dir).serverKey);
      expect(show.stdout).toMatch(/valid: +\S+ to \S+/);
      expect(show.stdout).toContain(fingerprint);

      const before = new X509Certificate(readFileSync(tlsPaths(dir).serverCert)).fingerprint256;
      const renew = await cli(['cert', 'renew'], dir);
      expect(renew.code, renew.stderr).toBe(0);
      expect(renew.stdout).toContain(`CA fingerprint (unchanged): ${fingerprint}`);
      const after = new X509Certificate(readFileSync(tlsPaths(dir).serverCert));
      expect(after.fingerprint256).not.toBe(before);
      expect(after.subjectAltName).toBe('DNS:portico.example.com, DNS:portico, IP Address:10.0.0.5');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 150_000); // three RSA key pairs made in child processes, on a machine that may be busy
});
