/**
 * nginx as a buffering reverse proxy in front of the server (proxy_buffering on, HTTP/1.0
 * upstream, gzip of JSON: a site's usual defaults). Long polls must still answer on time: an
 * event wakes a held poll at once (nginx only passes the answer on when it is complete, which
 * the server makes it at once), and an empty poll ends at its wait, not at a proxy timeout.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStorage, PorticoClient } from '../../electron/renderer/src/api/index.js';
import { startNginx, type Nginx } from '../helpers/nginx.js';
import { Client, PASSWORD, startTestServer, type TestServer } from '../helpers/server.js';
import { activeChat, expectOnceInOrder, record, sleep, startReady, texts, until, writeResult } from './common.js';

let server: TestServer;
let nginx: Nginx;
const running: PorticoClient[] = [];

beforeAll(async () => {
  server = await startTestServer({ loginPerIpPerMinute: 10_000, trustProxy: true });
  nginx = await startNginx(server.url);
});
afterAll(async () => {
  for (const c of running.splice(0)) c.stop();
  await nginx?.stop();
  await server?.destroy();
});

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

describe('behind nginx (buffering reverse proxy)', () => {
  it('held polls are woken at once by events and empty ones end at their wait; every message once, in order', async () => {
    const names = ['nx-alice', 'nx-bob', 'nx-carol', 'nx-dave'];
    for (const username of names) expect((await server.admin.post('/api/v1/admin/users', { username, password: PASSWORD })).status).toBe(201);

    // Empty polls: wait=2 answers after 2 s through nginx, with the JSON intact (gzip on).
    const raw = await Client.login(nginx.url, 'nx-dave', PASSWORD);
    await raw.poll(0);
    const empties: number[] = [];
    for (let i = 0; i < 3; i++) {
      const began = Date.now();
      const res = await fetch(`${nginx.url}/api/v1/events?after=${raw.cursor}&wait=2`, { headers: { authorization: `Bearer ${raw.token}`, 'accept-encoding': 'gzip' } });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-encoding')).toBe('gzip');
      expect((await res.json()).events).toEqual([]);
      empties.push(Date.now() - began);
    }
    for (const ms of empties) {
      expect(ms).toBeGreaterThanOrEqual(1900);
      expect(ms).toBeLessThan(3000);
    }

    // Three panel clients behind nginx, holding polls of 20 s; bob and carol write to alice.
    const clients = await Promise.all(
      names.slice(0, 3).map(async (username) => {
        const c = new PorticoClient({ baseUrl: nginx.url, storage: new MemoryStorage(), pollWait: 20 });
        running.push(c);
        await c.login(username, PASSWORD);
        return c;
      }),
    );
    const [alice, bob, carol] = clients as [PorticoClient, PorticoClient, PorticoClient];
    const events = record(alice);
    const arrived = new Map<string, number>();
    alice.on('chat.message', (e) => arrived.set(e.message.text, Date.now()));
    for (const c of clients) await startReady(c);
    const withBob = await activeChat(alice, bob, 'nx-bob');
    const withCarol = await activeChat(alice, carol, 'nx-carol');

    // Each message is sent while alice's poll is held (one at a time, 150 ms apart); the time
    // from send() at the writer to alice's event: the writer's PUT and alice's woken poll, both
    // through nginx.
    const queued = new Map<string, number>();
    const sent: string[] = [];
    const writers: Array<[PorticoClient, string, string]> = [
      [bob, withBob, 'b'],
      [carol, withCarol, 'c'],
    ];
    for (let i = 1; i <= 10; i++) {
      for (const [writer, chatId, tag] of writers) {
        const text = `${tag}${i}`;
        sent.push(text);
        queued.set(text, Date.now());
        writer.send(chatId, text);
        await until(() => arrived.has(text), 5000, `${text} at alice`);
        await sleep(150);
      }
    }
    await sleep(300);
    const latencies = sent.map((t) => arrived.get(t)! - queued.get(t)!);
    for (const ms of latencies) expect(ms).toBeLessThan(1000);
    expect(texts(events)).toEqual(sent);
    expectOnceInOrder(events, 'alice');
    expect(alice.mode).toBe('long');
    expect(alice.pollWait).toBe(20); // never cut: nothing to learn

    for (const c of clients) {
      c.stop();
      await c.stopped();
    }
    // nginx served the polls (answered, 200) and logged them.
    const polls = nginx.accessLog().filter((e) => e.request.includes('/api/v1/events?') && e.request.includes('wait=20'));
    expect(polls.length).toBeGreaterThanOrEqual(sent.length);
    expect(polls.filter((e) => e.status !== 200 && e.status !== 499).length).toBe(0);

    writeResult('proxy-nginx', 'longPolls', {
      nginx: 'Debian nginx 1.22 (/usr/sbin/nginx), proxy_buffering on, gzip on',
      emptyPollWaitSeconds: 2,
      emptyPollMs: empties,
      messages: sent.length,
      sendToDeliveryMs: { median: median(latencies), max: Math.max(...latencies) },
      heldPollsLogged: polls.length,
      lost: 0,
      duplicated: 0,
    });
  }, 60_000);
});
