/**
 * Through a real proxy that passes only GET and POST: Debian's Squid on loopback with a method
 * ACL (`http_access deny !allowed_methods`), in front of a Portico server on plain HTTP, reached
 * by a name only Squid resolves. The panel's API client module sends its first PUT, Squid refuses
 * it with its own 403 page, and the client switches to POST + X-HTTP-Method-Override for the rest
 * of its life: the message is stored once and arrives at the partner, contacts are added and
 * removed, and Squid's access log shows the one denied PUT per client and only GETs and POSTs after.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStorage, PorticoClient } from '../../electron/renderer/src/api/index.js';
import { PASSWORD, startTestServer, type TestServer } from '../helpers/server.js';
import { forwardFetch, startSquid, type ProxiedFetch, type Squid } from '../helpers/squid.js';
import { activeChat, expectOnceInOrder, record, sleep, startReady, texts, until, writeResult } from './common.js';

const HOST = 'portico.test';
let server: TestServer;
let proxy: Squid;
let origin: string;
const vias: ProxiedFetch[] = [];
const clients: PorticoClient[] = [];
let n = 0;

beforeAll(async () => {
  server = await startTestServer({ loginPerIpPerMinute: 10_000 });
  const plainPort = Number(new URL(server.url).port);
  origin = `http://${HOST}:${plainPort}`;
  // CONNECT is not in the allowed methods: the tunnel port rule never comes into play.
  proxy = await startSquid({ connectPorts: [443], httpPorts: [plainPort], hosts: { [HOST]: '127.0.0.1' }, allowMethods: ['GET', 'POST'] });
});
afterAll(async () => {
  for (const c of clients.splice(0)) c.stop();
  for (const v of vias.splice(0)) await v.close();
  await proxy?.stop();
  await server?.destroy();
});

/** A user (made through the admin API, directly) and a module client for them behind the proxy. */
async function member() {
  const username = `gp${++n}`;
  expect((await server.admin.post('/api/v1/admin/users', { username, password: PASSWORD })).status).toBe(201);
  const via = forwardFetch(proxy.url);
  vias.push(via);
  const c = new PorticoClient({ baseUrl: origin, storage: new MemoryStorage(), fetch: via.fetch, pollWait: 5 });
  clients.push(c);
  await c.login(username, PASSWORD);
  return { username, c, via };
}

/** A raw request to Squid in absolute form; answers the status (Squid's own for what it denies). */
async function proxyAsk(method: string, target: string): Promise<{ status: number; type: string }> {
  const { request } = await import('node:http');
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: proxy.port, method, path: target, headers: { host: new URL(target).host, 'content-length': '0' } });
    req.on('response', (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']) });
    });
    req.on('error', reject);
    req.end();
  });
}

describe('through Squid passing only GET and POST', () => {
  it('the client switches to POST + X-HTTP-Method-Override after the first refused PUT: messages once, contacts work, the log shows it', async () => {
    // The proxy's rules: GET and POST pass, PUT and DELETE get Squid's own page.
    expect((await proxyAsk('GET', `${origin}/healthz`)).status).toBe(200);
    expect((await proxyAsk('POST', `${origin}/api/v1/logout`)).status).toBe(401); // passed, answered by Portico
    const refusedPut = await proxyAsk('PUT', `${origin}/api/v1/presence`);
    expect(refusedPut.status).toBe(403);
    expect(refusedPut.type).toMatch(/^text\/html/);
    expect((await proxyAsk('DELETE', `${origin}/api/v1/contacts/x`)).status).toBe(403);
    await expect(fetch(`${origin}/healthz`)).rejects.toThrow(); // the name resolves only in Squid
    const probes = proxy.accessLog().length;

    const alice = await member();
    const bob = await member();
    const aliceEvents = record(alice.c);
    const bobEvents = record(bob.c);
    await startReady(alice.c);
    await startReady(bob.c);
    const chatId = await activeChat(alice.c, bob.c, bob.username);
    expect(alice.c.methodOverride).toBe(false); // only GETs and POSTs so far

    // The first message: PUT refused by Squid, sent again overridden, stored once.
    const first = alice.c.send(chatId, 'm1');
    await until(() => texts(bobEvents).includes('m1'), 15_000, 'm1 at bob');
    expect(alice.c.methodOverride).toBe(true);
    expect(alice.c.outbox().find((e) => e.clientId === first.clientId)?.state).toBe('sent');
    // Both ways, more messages: each client switches on its own first PUT.
    for (const text of ['m2', 'm3']) alice.c.send(chatId, text);
    for (const text of ['r1', 'r2']) bob.c.send(chatId, text);
    await until(() => texts(aliceEvents).length === 5 && texts(bobEvents).length === 5, 15_000, 'five messages on both sides');
    expect(bob.c.methodOverride).toBe(true);

    // Contacts: add (PUT) and remove (DELETE), both overridden now.
    expect((await alice.c.addContact(bob.username)).username).toBe(bob.username);
    expect((await alice.c.contacts()).map((c) => c.username)).toContain(bob.username);
    await alice.c.removeContact(bob.username);
    expect((await alice.c.contacts()).map((c) => c.username)).not.toContain(bob.username);

    await sleep(200); // nothing more comes (no duplicates)
    const history = await bob.c.history(chatId);
    clients.splice(0).forEach((c) => c.stop());
    await Promise.all([alice.c.stopped(), bob.c.stopped()]);

    // Each message stored once, delivered once and in order on both sides.
    expect(history.messages.map((m) => m.text)).toEqual(texts(aliceEvents));
    expect(new Set(history.messages.map((m) => m.clientId)).size).toBe(5);
    expect(texts(aliceEvents)).toEqual(texts(bobEvents));
    expect(texts(aliceEvents).filter((t) => t.startsWith('m'))).toEqual(['m1', 'm2', 'm3']);
    expect(texts(aliceEvents).filter((t) => t.startsWith('r'))).toEqual(['r1', 'r2']);
    expectOnceInOrder(aliceEvents, 'alice');
    expectOnceInOrder(bobEvents, 'bob');

    // Squid's log: one denied PUT per client (its first message), and nothing but GET and POST otherwise.
    for (const v of vias) await v.close();
    await sleep(300);
    const log = proxy.accessLog().slice(probes).filter((e) => e.method !== '-');
    const denied = log.filter((e) => e.code === 'TCP_DENIED/403');
    expect(denied.map((e) => e.method)).toEqual(['PUT', 'PUT']);
    const firstOfBob = history.messages.find((m) => m.text === 'r1')!.clientId;
    expect(denied.map((e) => e.url).sort()).toEqual(
      [`${origin}/api/v1/chats/${chatId}/messages/${first.clientId}`, `${origin}/api/v1/chats/${chatId}/messages/${firstOfBob}`].sort(),
    );
    const passed = log.filter((e) => e.code !== 'TCP_DENIED/403');
    expect([...new Set(passed.map((e) => e.method))].sort()).toEqual(['GET', 'POST']);
    // The writes after the switch: 5 messages (the 2 first ones again) and the two contact changes, all POSTs.
    const writes = passed.filter((e) => e.method === 'POST' && (e.url.includes('/messages/') || e.url.includes('/contacts/')));
    expect(writes.length).toBe(7);
    expect(writes.every((e) => e.status === 200 || e.status === 201)).toBe(true);
    expect(passed.length).toBe(alice.via.count() + bob.via.count() - denied.length);

    writeResult('proxy-get-post', 'getPostOnly', {
      squid: 'Debian squid (/usr/sbin/squid), acl allowed_methods method GET POST; http_access deny !allowed_methods',
      deniedPuts: denied.length,
      switchesPerClient: 1,
      overriddenWrites: writes.length,
      requestsForwarded: passed.length,
      messagesChecked: texts(aliceEvents).length + texts(bobEvents).length,
      lost: 0,
      duplicated: 0,
    });
  }, 90_000);
});
