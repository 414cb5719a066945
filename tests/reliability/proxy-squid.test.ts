/**
 * Through a real corporate proxy: Debian's Squid on loopback in front of a Portico server with
 * TLS. The panel's API client module (electron/renderer/src/api) is given a fetch that only knows
 * the proxy, and reaches the server by a name (portico.test) that only Squid can resolve (its
 * hosts_file), so nothing can have gone direct; Squid's access log shows the traffic.
 *  1. CONNECT only to the HTTPS port, plain HTTP only to the plain port, the rest denied; login,
 *     chat, polls, ticker and media with Range over both.
 *  2. The same behind proxy basic authentication (basic_ncsa_auth, an htpasswd made here).
 *  3. Squid cutting silent upstreams (read_timeout 3 s) shorter than the poll wait: the client
 *     shortens its wait; nothing lost or doubled.
 *  And the panel itself in Chromium with --proxy-server (the proxy stack Electron uses): /app
 *     over HTTPS through Squid, sign in, a chat both ways.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStorage, PorticoClient, type ClientOptions } from '../../electron/renderer/src/api/index.js';
import { initCertificates, tlsPaths } from '../../server/src/tls/certs.js';
import { PASSWORD, startTestServer, type TestServer } from '../helpers/server.js';
import { MP4_FTYP } from '../helpers/media-samples.js';
import { basicAuth, forwardFetch, startSquid, tunnelFetch, type ProxiedFetch, type Squid } from '../helpers/squid.js';
import { activeChat, expectOnceInOrder, record, sleep, startReady, texts, until, writeResult } from './common.js';
import { CHROMIUM, CHROMIUM_FLAGS } from '../helpers/chromium.js';

const HOST = 'portico.test';
let dataDir: string;
let server: TestServer;
let ca: string;
let providerKey: string;
let httpsPort: number;
let plainPort: number;
/** The server's two origins by the name only Squid resolves. */
let httpsOrigin: string;
let plainOrigin: string;
const running: PorticoClient[] = [];
const closers: Array<() => Promise<void>> = [];
let n = 0;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'portico-squid-data-'));
  initCertificates(dataDir, { hosts: [HOST, 'localhost'], ips: ['127.0.0.1'] });
  ca = readFileSync(tlsPaths(dataDir).caCert, 'utf8');
  server = await startTestServer({ httpsPort: 0, loginPerIpPerMinute: 10_000, providerRequestsPerMinute: 1000 }, dataDir);
  httpsPort = server.httpsPort!;
  plainPort = Number(new URL(server.url).port);
  httpsOrigin = `https://${HOST}:${httpsPort}`;
  plainOrigin = `http://${HOST}:${plainPort}`;
  const res = await server.admin.post('/api/v1/admin/providers', { name: 'squidnews', channels: ['squid-news'] });
  expect(res.status).toBe(201);
  providerKey = res.body.key;
});
afterAll(async () => {
  for (const c of running.splice(0)) c.stop();
  for (const close of closers.splice(0)) await close().catch(() => {});
  await server?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function squid(options: { auth?: { user: string; password: string }; readTimeoutSeconds?: number } = {}): Promise<Squid> {
  const s = await startSquid({ connectPorts: [httpsPort], httpPorts: [plainPort], hosts: { [HOST]: '127.0.0.1' }, ...options });
  closers.push(() => s.stop());
  return s;
}

/** A user (made through the admin API, directly) and a module client for them using `via`. */
async function member(origin: string, via: ProxiedFetch, options: Partial<ClientOptions> = {}) {
  const username = `sq${++n}`;
  const made = await server.admin.post('/api/v1/admin/users', { username, password: PASSWORD });
  expect(made.status).toBe(201);
  const c = new PorticoClient({ baseUrl: origin, storage: new MemoryStorage(), fetch: via.fetch, pollWait: 5, ...options });
  running.push(c);
  await c.login(username, PASSWORD, true);
  return { username, c };
}

async function stopClients(...cs: PorticoClient[]) {
  for (const c of cs) {
    c.stop();
    await c.stopped();
  }
}

/** Pushes a ticker item and a small video as the provider (directly: providers are inside). */
async function pushContent(tag: string) {
  const ticker = await fetch(`${server.url}/cgi/ticker`, {
    method: 'POST',
    headers: { authorization: `Bearer ${providerKey}` },
    body: new URLSearchParams({ channel: 'squid-news', text: `ticker ${tag}` }),
  });
  expect(ticker.status).toBe(201);
  const video = Buffer.alloc(64 * 1024);
  for (let i = 0; i < video.length; i++) video[i] = (i * 31 + tag.length) & 0xff;
  MP4_FTYP.copy(video); // the server sniffs the bytes: make them start like an MP4
  const form = new FormData();
  form.set('channel', 'squid-news');
  form.set('title', `video ${tag}`);
  form.set('file', new Blob([new Uint8Array(video)]), `clip-${tag}.mp4`);
  const media = await fetch(`${server.url}/cgi/media`, { method: 'POST', headers: { authorization: `Bearer ${providerKey}` }, body: form });
  expect(media.status).toBe(201);
  return video;
}

/**
 * The whole panel flow through `via`: two users log in, chat both ways, get each message once
 * and in order by polling, see a ticker item arrive and list it, and fetch a byte range of a video.
 */
async function panelFlow(origin: string, via: ProxiedFetch, tag: string) {
  const alice = await member(origin, via);
  const bob = await member(origin, via);
  const aliceEvents = record(alice.c);
  const bobEvents = record(bob.c);
  await startReady(alice.c);
  await startReady(bob.c);
  const chatId = await activeChat(alice.c, bob.c, bob.username);
  for (let i = 1; i <= 3; i++) {
    alice.c.send(chatId, `a${i}`);
    bob.c.send(chatId, `b${i}`);
  }
  await until(() => texts(aliceEvents).length === 6 && texts(bobEvents).length === 6, 10_000, 'six messages on both sides');

  const video = await pushContent(tag);
  await until(() => aliceEvents.some((e) => e.type === 'ticker.item' && e.text === `ticker ${tag}`), 10_000, 'the ticker event');
  const ticker = await alice.c.ticker();
  expect(JSON.stringify(ticker)).toContain(`ticker ${tag}`);
  const item = (await alice.c.media()).find((m) => m.title === `video ${tag}`)!;
  expect(item).toBeDefined();
  const part = await via.fetch(alice.c.resolveUrl(item.url), { headers: { range: 'bytes=1000-1999' } });
  expect(part.status).toBe(206);
  expect(part.headers.get('content-range')).toBe(`bytes 1000-1999/${video.length}`);
  expect(Buffer.from(await part.arrayBuffer()).equals(video.subarray(1000, 2000))).toBe(true);

  await sleep(200); // nothing more comes (no duplicates)
  await stopClients(alice.c, bob.c);
  expect(texts(aliceEvents)).toEqual(texts(bobEvents));
  expect(texts(aliceEvents).filter((t) => t.startsWith('a'))).toEqual(['a1', 'a2', 'a3']);
  expect(texts(aliceEvents).filter((t) => t.startsWith('b'))).toEqual(['b1', 'b2', 'b3']);
  expectOnceInOrder(aliceEvents, 'alice');
  expectOnceInOrder(bobEvents, 'bob');
  return { messagesChecked: texts(aliceEvents).length + texts(bobEvents).length, users: [alice.username, bob.username] };
}

/** A raw request to the proxy: `CONNECT host:port`, or an absolute-form GET. Answers the proxy's status. */
async function proxyAsk(proxy: Squid, method: 'CONNECT' | 'GET', target: string, auth?: string): Promise<number> {
  const { request } = await import('node:http');
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: proxy.port, method, path: target, headers: { host: target.replace(/^http:\/\//, '').split('/')[0]!, ...(auth ? { 'proxy-authorization': auth } : {}) } });
    req.on('connect', (res, socket) => {
      socket.destroy();
      resolve(res.statusCode ?? 0);
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('through Squid', () => {
  it('(1) CONNECT only to the TLS port, plain HTTP only to the plain port: the client module works over both, and the access log shows it', async () => {
    const proxy = await squid();

    // What the corporate rules deny.
    expect(await proxyAsk(proxy, 'CONNECT', `${HOST}:${plainPort}`)).toBe(403);
    expect(await proxyAsk(proxy, 'CONNECT', `${HOST}:22`)).toBe(403);
    expect(await proxyAsk(proxy, 'GET', `http://${HOST}:${httpsPort}/healthz`)).toBe(403);
    expect(await proxyAsk(proxy, 'GET', `http://${HOST}:${proxy.port}/`)).toBe(403);
    expect(await proxyAsk(proxy, 'CONNECT', `${HOST}:${httpsPort}`)).toBe(200);
    expect(await proxyAsk(proxy, 'GET', `${plainOrigin}/healthz`)).toBe(200);
    // The name does not resolve here: a direct attempt could not have worked.
    await expect(fetch(`${plainOrigin}/healthz`)).rejects.toThrow();

    const tunnel = tunnelFetch(proxy.url, { ca });
    const forward = forwardFetch(proxy.url);
    const overTls = await panelFlow(httpsOrigin, tunnel, 'tls');
    const overPlain = await panelFlow(plainOrigin, forward, 'plain');
    await tunnel.close(); // Squid logs a tunnel when it closes
    await forward.close();
    await sleep(300);

    const log = proxy.accessLog().filter((e) => e.method !== '-');
    const tunnels = log.filter((e) => e.method === 'CONNECT' && e.code === 'TCP_TUNNEL/200');
    expect(tunnels.length).toBeGreaterThan(0);
    expect(tunnels.every((e) => e.url === `${HOST}:${httpsPort}`)).toBe(true);
    expect(tunnels.reduce((sum, e) => sum + e.bytes, 0)).toBeGreaterThan(10_000);
    const forwarded = log.filter((e) => e.url.startsWith(`${plainOrigin}/`) && e.code.startsWith('TCP_MISS'));
    // Every plain request the client made (and the Range fetch) is a line of its own; the only
    // ones without an answer are the held polls that stop() aborted.
    expect(forwarded.length).toBe(forward.count() + 1 /* the healthz probe above */);
    expect(forwarded.filter((e) => e.status === 0).every((e) => e.code === 'TCP_MISS_ABORTED/000' && e.url.includes('/api/v1/events?'))).toBe(true);
    expect(forwarded.some((e) => e.url.includes('/api/v1/events?') )).toBe(true);
    expect(forwarded.some((e) => e.method === 'PUT' && e.url.includes('/messages/'))).toBe(true);
    expect(forwarded.some((e) => e.url.includes('/media/') && e.status === 206)).toBe(true);
    const denied = log.filter((e) => e.code === 'TCP_DENIED/403');
    expect(denied.length).toBe(4);

    writeResult('proxy-squid', 'allowlist', {
      squid: 'Debian squid 5 (/usr/sbin/squid)',
      deniedAttempts: denied.length,
      tlsTunnels: tunnels.length,
      tlsBytesThroughTunnels: tunnels.reduce((sum, e) => sum + e.bytes, 0),
      tlsClientRequests: tunnel.count(),
      plainRequestsForwarded: forwarded.length,
      plainClientRequests: forward.count(),
      messagesChecked: overTls.messagesChecked + overPlain.messagesChecked,
      lost: 0,
      duplicated: 0,
    });
  }, 60_000);

  it('(2) with proxy basic authentication: refused without or with wrong credentials, the same flow with them', async () => {
    const user = 'desk42';
    const password = 'proxy pass 42';
    const proxy = await squid({ auth: { user, password } });
    const good = basicAuth(user, password);
    const bad = basicAuth(user, 'wrong');
    expect(await proxyAsk(proxy, 'CONNECT', `${HOST}:${httpsPort}`)).toBe(407);
    expect(await proxyAsk(proxy, 'CONNECT', `${HOST}:${httpsPort}`, bad)).toBe(407);
    expect(await proxyAsk(proxy, 'GET', `${plainOrigin}/healthz`)).toBe(407);
    expect(await proxyAsk(proxy, 'GET', `${plainOrigin}/healthz`, bad)).toBe(407);
    // Authenticated but outside the rules: still denied.
    expect(await proxyAsk(proxy, 'CONNECT', `${HOST}:${plainPort}`, good)).toBe(403);

    // A client module without the credentials gets nowhere (network error, not a Portico answer).
    const anonymous = tunnelFetch(proxy.url, { ca });
    const refused = await new PorticoClient({ baseUrl: httpsOrigin, storage: new MemoryStorage(), fetch: anonymous.fetch })
      .login('nobody', PASSWORD)
      .catch((e: any) => e);
    expect(refused.status).toBe(0);
    await anonymous.close();

    const tunnel = tunnelFetch(proxy.url, { ca, auth: good });
    const forward = forwardFetch(proxy.url, { auth: good });
    const overTls = await panelFlow(httpsOrigin, tunnel, 'auth-tls');
    const overPlain = await panelFlow(plainOrigin, forward, 'auth-plain');
    await tunnel.close();
    await forward.close();
    await sleep(300);
    const log = proxy.accessLog().filter((e) => e.method !== '-');
    const served = log.filter((e) => e.code === 'TCP_TUNNEL/200' || e.code.startsWith('TCP_MISS'));
    expect(served.length).toBeGreaterThan(forward.count());
    expect(served.every((e) => e.user === user)).toBe(true);
    const challenged = log.filter((e) => e.status === 407);
    expect(challenged.length).toBeGreaterThanOrEqual(4);

    writeResult('proxy-squid', 'basicAuth', {
      refusedWithoutOrWrongCredentials: challenged.length,
      authenticatedRequestsLogged: served.length,
      messagesChecked: overTls.messagesChecked + overPlain.messagesChecked,
      lost: 0,
      duplicated: 0,
    });
  }, 60_000);

  it('(3) Squid cutting silent upstreams after 3 s, polls asking 10 s: the client shortens its wait, nothing lost or doubled', async () => {
    const proxy = await squid({ readTimeoutSeconds: 3 });
    const tunnel = tunnelFetch(proxy.url, { ca });
    const forward = forwardFetch(proxy.url);
    const sender = tunnelFetch(proxy.url, { ca });

    const run = async (origin: string, via: ProxiedFetch, label: string) => {
      const polls: Array<{ wait: number; outcome: number | 'error'; ms: number }> = [];
      const logging = {
        ...via,
        fetch: (async (input: any, init?: any) => {
          const url = String(input);
          const began = Date.now();
          const wait = url.includes('/api/v1/events') ? Number(new URL(url).searchParams.get('wait')) : -1;
          try {
            const res = await via.fetch(input, init);
            if (wait >= 0) polls.push({ wait, outcome: res.status, ms: Date.now() - began });
            return res;
          } catch (err) {
            if (wait >= 0) polls.push({ wait, outcome: 'error', ms: Date.now() - began });
            throw err;
          }
        }) as typeof fetch,
      };
      const alice = await member(origin, logging, { pollWait: 10, intervalSeconds: 2 });
      const bob = await member(httpsOrigin, sender);
      const events = record(alice.c);
      await startReady(alice.c);
      await startReady(bob.c);
      const chatId = await activeChat(alice.c, bob.c, bob.username);
      // Messages spread over the cuts: one every 500 ms for ~5 s.
      const sent: string[] = [];
      for (let i = 1; i <= 10; i++) {
        sent.push(`${label}${i}`);
        bob.c.send(chatId, `${label}${i}`);
        await sleep(500);
      }
      await until(() => texts(events).length === sent.length, 15_000, `${label}: all messages`);
      // Polls keep working after the cut (answered, not cut again): shorter held polls, or, when
      // the cuts came fast enough (a loaded machine), auto mode's switch to interval polling
      // (wait 0); the issue accepts either.
      const answeredShort = () => {
        const firstCut = polls.findIndex((p) => p.wait === 10 && p.outcome !== 200);
        return firstCut < 0 ? 0 : polls.slice(firstCut).filter((p) => p.outcome === 200 && p.wait <= 2).length;
      };
      await until(() => answeredShort() >= 2, 15_000, `${label}: answered short polls`);
      await stopClients(alice.c, bob.c);
      expect(texts(events)).toEqual(sent);
      expectOnceInOrder(events, label);
      const cuts = polls.filter((p) => p.wait === 10 && p.outcome !== 200);
      expect(cuts.length, JSON.stringify(polls)).toBeGreaterThanOrEqual(1);
      // Squid's cut: a dropped tunnel (TLS) or its own 504 page (plain), 3 s after the upstream
      // was last heard from (a reused tunnel's clock may have started a little before this poll;
      // Squid checks its timeouts once a second).
      for (const c of cuts) {
        expect(c.ms).toBeGreaterThanOrEqual(2000);
        expect(c.ms).toBeLessThan(6000);
      }
      if (alice.c.mode !== 'interval') expect(alice.c.pollWait).toBeLessThan(3);
      return { cuts: cuts.map((c) => ({ outcome: c.outcome, ms: c.ms })), waitAfter: alice.c.pollWait, mode: alice.c.mode, messages: sent.length, polls: polls.length };
    };
    const [tls, plain] = await Promise.all([run(httpsOrigin, tunnel, 'tls'), run(plainOrigin, forward, 'plain')]);
    await tunnel.close();
    await forward.close();
    await sender.close();
    expect(plain.cuts.every((c) => c.outcome === 504)).toBe(true);
    expect(tls.cuts.every((c) => c.outcome === 'error')).toBe(true);

    writeResult('proxy-squid', 'cuttingProxy', {
      squidReadTimeoutSeconds: 3,
      clientPollWaitSeconds: 10,
      tls,
      plain,
      messagesChecked: tls.messages + plain.messages,
      lost: 0,
      duplicated: 0,
    });
  }, 60_000);
});

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');

describe('the panel in Chromium through Squid', () => {
  it('loads /app over HTTPS through the proxy, signs in and chats; Squid carried it all', async () => {
    if (!existsSync(join(ROOT, 'electron/renderer/dist/index.html'))) {
      const { buildRenderer } = (await import(join(ROOT, 'electron/renderer/build.mjs'))) as { buildRenderer: (o: { quiet: boolean }) => Promise<unknown> };
      await buildRenderer({ quiet: true });
    }
    const proxy = await squid();
    const via = tunnelFetch(proxy.url, { ca });
    const bob = await member(httpsOrigin, via);
    const aliceName = `sq${++n}`;
    expect((await server.admin.post('/api/v1/admin/users', { username: aliceName, password: PASSWORD })).status).toBe(201);
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        ...CHROMIUM_FLAGS,
        `--proxy-server=http://127.0.0.1:${proxy.port}`,
        '--proxy-bypass-list=<-loopback>',
      ],
    });
    try {
      // The certificate is the organisation CA's; trusting it is tests/integration/tls.test.ts's subject.
      const context = await browser.newContext({ baseURL: httpsOrigin, ignoreHTTPSErrors: true, viewport: { width: 340, height: 900 } });
      const page = await context.newPage();
      await page.goto('/app/');
      await page.locator('input[name=username]').fill(aliceName);
      await page.locator('input[name=password]').fill(PASSWORD);
      await page.locator('form.login-form button[type=submit]').click();
      await page.locator('.panel').waitFor({ timeout: 20_000 });
      await expect.poll(() => page.locator('.panel-header .conn').getAttribute('data-state'), { timeout: 20_000 }).toBe('online');

      const bobEvents = record(bob.c);
      await startReady(bob.c);
      const accepted = new Promise<any>((resolve) => bob.c.on('chat.accepted', resolve));
      const chat = await bob.c.createChat([aliceName]);
      const request = page.locator(`.request[role=alertdialog][data-chat="${chat.id}"]`);
      await request.waitFor({ timeout: 20_000 });
      await request.locator('button.primary').click();
      await accepted;
      bob.c.send(chat.id, 'Hello through Squid');
      await page.locator('.chat-overlay .msg.theirs .msg-text', { hasText: 'Hello through Squid' }).waitFor({ timeout: 20_000 });
      const box = page.locator('.chat-overlay textarea');
      await expect.poll(() => box.isEnabled(), { timeout: 20_000 }).toBe(true);
      await box.fill('Hello back, also through Squid');
      await box.press('Enter');
      await until(() => texts(bobEvents).includes('Hello back, also through Squid'), 20_000, 'the reply at bob');
      mkdirSync(join(ROOT, 'tests/reliability/results'), { recursive: true });
      await page.screenshot({ path: join(ROOT, 'tests/reliability/results/panel-through-squid.png'), animations: 'disabled' });
      await context.close();
    } finally {
      await browser.close();
      await stopClients(bob.c);
      await via.close();
    }
    await sleep(300);
    // Everything for Portico went as CONNECT portico.test:<https port>, tunnelled; Chromium's own
    // background requests (Google update and account services) met the corporate rules: denied.
    const log = proxy.accessLog().filter((e) => e.method !== '-');
    const ours = log.filter((e) => e.url.includes(HOST));
    const tunnels = ours.filter((e) => e.method === 'CONNECT' && e.code === 'TCP_TUNNEL/200');
    expect(tunnels.length).toBeGreaterThan(1); // the browser's and the module client's
    expect(ours.filter((e) => !(e.method === 'CONNECT' && e.url === `${HOST}:${httpsPort}` && e.code === 'TCP_TUNNEL/200'))).toEqual([]);
    const others = log.filter((e) => !e.url.includes(HOST));
    expect(others.filter((e) => e.code !== 'TCP_DENIED/403')).toEqual([]);
    writeResult('proxy-squid', 'chromium', {
      browser: 'Debian Chromium, --proxy-server=<squid>, --proxy-bypass-list=<-loopback>',
      tunnels: tunnels.length,
      bytes: tunnels.reduce((sum, e) => sum + e.bytes, 0),
      browserBackgroundRequestsDenied: others.length,
      messagesChecked: 2,
    });
  }, 90_000);
});
