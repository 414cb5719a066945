/**
 * Faults on the client's side of the wire, against a server in a child process (so the test's
 * clock can jump without moving the server's):
 *  - answers lost after the server committed: a TCP relay between client and server lets
 *    requests through and cuts the connection when the answer comes (message PUTs and polls);
 *  - the client restarted mid-send: stopped while its PUT is on the wire (committed or not),
 *    a new client on the same storage resends from the persisted outbox;
 *  - the client's clock jumping forwards and backwards (hours, a day) while it polls and sends.
 * Every time: each message stored once, every event delivered once and in order.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStorage, PorticoClient, type ClientOptions } from '../../electron/renderer/src/api/index.js';
import { startChildServer, type ChildServer } from '../helpers/child-server.js';
import { ADMIN_PASSWORD, Client, PASSWORD } from '../helpers/server.js';
import { activeChat, expectOnceInOrder, record, startReady, texts, writeResult } from './common.js';

let server: ChildServer;
let admin: Client;
const running: PorticoClient[] = [];
let n = 0;

beforeAll(async () => {
  server = await startChildServer({ PORTICO_PRESENCE_GRACE_MS: '2000' });
  admin = await Client.login(server.url, 'admin', ADMIN_PASSWORD);
});
afterAll(async () => {
  for (const c of running.splice(0)) c.stop();
  await server?.destroy();
});

/** Waiting on the monotonic clock (Date.now may be jumping in these tests). */
const nap = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(check: () => boolean, timeoutMs: number, what: string) {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (check()) return;
    await nap(20);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

async function member(baseUrl: string, options: Partial<ClientOptions> = {}, storage = new MemoryStorage()) {
  const username = `cf${++n}`;
  expect((await admin.post('/api/v1/admin/users', { username, password: PASSWORD })).status).toBe(201);
  const c = new PorticoClient({ baseUrl, storage, pollWait: 3, backoffBaseMs: 50, backoffCapMs: 400, ...options });
  running.push(c);
  await c.login(username, PASSWORD, true);
  return { username, c, storage };
}

/**
 * A TCP relay to the server. `cut(method, path)` decides per request: true = let the request
 * through, and when the server's answer starts coming back, drop it and reset the connection.
 * `hold(method, path)` = hold the request back (never forwarded) until the client gives up.
 */
interface Relay {
  url: string;
  cuts: Array<{ method: string; path: string }>;
  holds: Array<{ method: string; path: string }>;
  close(): Promise<void>;
}
async function relay(decide: { cut?: (method: string, path: string) => boolean; hold?: (method: string, path: string) => boolean }): Promise<Relay> {
  const target = Number(new URL(server.url).port);
  const cuts: Relay['cuts'] = [];
  const holds: Relay['holds'] = [];
  const sockets = new Set<Socket>();
  const srv: Server = createServer((client) => {
    sockets.add(client);
    const upstream = connect(target, '127.0.0.1');
    sockets.add(upstream);
    let cutting = false;
    let holding = false;
    client.on('data', (chunk) => {
      const line = /^(GET|PUT|POST|DELETE|HEAD|PATCH) (\S+) HTTP\/1\.1/.exec(chunk.toString('latin1'));
      if (line) {
        holding = decide.hold?.(line[1]!, line[2]!) ?? false;
        if (holding) holds.push({ method: line[1]!, path: line[2]! });
        if (!holding && decide.cut?.(line[1]!, line[2]!)) {
          cutting = true;
          cuts.push({ method: line[1]!, path: line[2]! });
        }
      }
      if (!holding) upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (cutting) {
        // The server has answered (so it has committed): the answer is lost on the way.
        client.resetAndDestroy();
        upstream.destroy();
        return;
      }
      client.write(chunk);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end);
    upstream.on('close', end);
    client.on('error', end);
    upstream.on('error', end);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(srv.address() as { port: number }).port}`,
    cuts,
    holds,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => srv.close(r));
    },
  };
}

async function history(c: PorticoClient, chatId: string) {
  return (await c.history(chatId, undefined, 200)).messages;
}

describe('client-side faults', () => {
  it('answers lost after the server committed (connection reset as the answer comes): resent, stored once; polls asked again, delivered once', async () => {
    let puts = 0;
    let polls = 0;
    // Every other message answer and every third held-poll answer is lost.
    const cutter = await relay({
      cut: (method, path) =>
        (method === 'PUT' && path.includes('/messages/') && ++puts % 2 === 1) || (method === 'GET' && path.includes('/api/v1/events?after=') && !path.includes('wait=0') && ++polls % 3 === 0),
    });
    try {
      // (A short interval period: if the cuts of held polls ever came three in a row, auto mode
      // would poll at intervals, which must not lose anything either.)
      const alice = await member(cutter.url, { intervalSeconds: 1 });
      const bob = await member(cutter.url, { intervalSeconds: 1 });
      const aliceEvents = record(alice.c);
      const bobEvents = record(bob.c);
      await startReady(alice.c);
      await startReady(bob.c);
      const chatId = await activeChat(alice.c, bob.c, bob.username);
      const sent: string[] = [];
      for (let i = 1; i <= 8; i++) {
        sent.push(`a${i}`, `b${i}`);
        alice.c.send(chatId, `a${i}`);
        bob.c.send(chatId, `b${i}`);
        await nap(120);
      }
      const state = () =>
        JSON.stringify({
          outboxes: [alice, bob].map((m) => m.c.outbox().map((e) => `${e.text}:${e.state}:${e.error ?? ''}`)),
          got: [texts(aliceEvents).length, texts(bobEvents).length],
          modes: [alice.c.mode, bob.c.mode, alice.c.connection, bob.c.connection],
          cuts: cutter.cuts.length,
        });
      await until(() => [alice, bob].every((m) => m.c.outbox().every((e) => e.state === 'sent')), 20_000, 'every message acknowledged').catch((e) => {
        throw new Error(`${e.message}: ${state()}`);
      });
      await until(() => texts(aliceEvents).length >= 16 && texts(bobEvents).length >= 16, 20_000, 'every message delivered').catch((e) => {
        throw new Error(`${e.message}: ${state()}`);
      });
      await nap(400);
      const stored = await history(alice.c, chatId);
      expect(stored.map((m) => m.text).sort()).toEqual([...sent].sort());
      expect(new Set(stored.map((m) => m.clientId)).size).toBe(16);
      const order = stored.map((m) => m.text);
      expect(texts(aliceEvents)).toEqual(order);
      expect(texts(bobEvents)).toEqual(order);
      expectOnceInOrder(aliceEvents, 'alice');
      expectOnceInOrder(bobEvents, 'bob');
      const putCuts = cutter.cuts.filter((c) => c.method === 'PUT').length;
      const pollCuts = cutter.cuts.filter((c) => c.method === 'GET').length;
      expect(putCuts).toBeGreaterThanOrEqual(8);
      expect(pollCuts).toBeGreaterThanOrEqual(1);
      writeResult('client-faults', 'lostAnswers', { messages: 16, messageAnswersLost: putCuts, pollAnswersLost: pollCuts, stored: stored.length, deliveriesChecked: 32, lost: 0, duplicated: 0 });
    } finally {
      for (const c of running.splice(0)) c.stop();
      await cutter.close();
    }
  }, 60_000);

  it('restarted mid-send: a new client on the same storage resends, whether the first attempt was committed or never arrived', async () => {
    // Phase 1: the PUT reaches the server, the answer is lost, and the client is stopped before retrying.
    // Phase 2: the PUT is held back in the relay (never reaches the server) when the client is stopped.
    let phase = 1;
    let holdId = '-';
    const relayed = await relay({
      cut: (method, path) => phase === 1 && method === 'PUT' && path.includes('/messages/'),
      hold: (method, path) => phase === 2 && method === 'PUT' && path.endsWith(`/messages/${holdId}`),
    });
    try {
      const storage = new MemoryStorage();
      const alice = await member(relayed.url, { backoffBaseMs: 5000, backoffCapMs: 5000 }, storage);
      const bob = await member(server.url);
      const bobEvents = record(bob.c);
      await startReady(alice.c);
      await startReady(bob.c);
      const chatId = await activeChat(alice.c, bob.c, bob.username);

      const first = alice.c.send(chatId, 'committed, answer lost');
      await until(() => relayed.cuts.length === 1, 5000, 'the cut answer');
      alice.c.stop();
      await alice.c.stopped();
      expect(alice.c.outbox().map((e) => e.state)).toEqual(['sending']);
      phase = 2;
      const again = new PorticoClient({ baseUrl: relayed.url, storage, pollWait: 3, backoffBaseMs: 50, requestTimeoutMs: 1500 });
      running.push(again);
      await again.restore();
      const second = again.send(chatId, 'never arrived');
      holdId = second.clientId;
      again.start(); // resends the first (answered now), the second is held in the relay...
      await until(() => again.outbox().find((e) => e.clientId === first.clientId)?.state === 'sent', 8000, 'the first resent');
      await nap(300);
      again.stop(); // ...and the client stops while it is held
      await again.stopped();
      expect(again.outbox().find((e) => e.clientId === second.clientId)?.state).toBe('sending');
      expect(relayed.holds.map((h) => h.path)).toEqual([`/api/v1/chats/${chatId}/messages/${second.clientId}`]); // it was on the wire
      phase = 3;
      const third = new PorticoClient({ baseUrl: relayed.url, storage, pollWait: 3, backoffBaseMs: 50 });
      running.push(third);
      await third.restore();
      third.start();
      await until(() => third.outbox().every((e) => e.state === 'sent'), 8000, 'the outbox sent');
      await until(() => texts(bobEvents).length >= 2, 5000, 'bob got both');
      await nap(300);
      expect(texts(bobEvents)).toEqual(['committed, answer lost', 'never arrived']);
      const stored = await history(bob.c, chatId);
      expect(stored.map((m) => [m.clientId, m.text])).toEqual([
        [first.clientId, 'committed, answer lost'],
        [second.clientId, 'never arrived'],
      ]);
      writeResult('client-faults', 'restartMidSend', { restarts: 2, committedButUnanswered: 1, neverArrived: 1, stored: stored.length, lost: 0, duplicated: 0 });
    } finally {
      for (const c of running.splice(0)) c.stop();
      await relayed.close();
    }
  }, 60_000);

  it("the client's clock jumps (+2 h, -3 h, +1 day, back): polling and sending go on, nothing lost or doubled, no reset", async () => {
    const realNow = Date.now.bind(Date);
    let offset = 0;
    Date.now = () => realNow() + offset;
    try {
      const alice = await member(server.url);
      const bob = await member(server.url);
      const events = record(alice.c);
      const resets: unknown[] = [];
      alice.c.on('reset', (p) => resets.push(p));
      const states: string[] = [];
      alice.c.on('connection', (p) => states.push(`${p.state}/${p.mode}`));
      await startReady(alice.c);
      await startReady(bob.c);
      const chatId = await activeChat(alice.c, bob.c, bob.username);
      const jumps = [2 * 3600_000, -3 * 3600_000, 24 * 3600_000, -24 * 3600_000 + 3600_000, 0];
      const sent: string[] = [];
      for (const [i, jump] of jumps.entries()) {
        offset = jump;
        for (let k = 1; k <= 3; k++) {
          const text = `j${i}-${k}`;
          sent.push(text);
          bob.c.send(chatId, text);
          alice.c.send(chatId, `${text}-reply`);
          sent.push(`${text}-reply`);
          await nap(250);
        }
        await nap(800); // across a held poll's end (wait 3 s)
      }
      await until(() => texts(events).length >= sent.length, 15_000, 'every message');
      await nap(300);
      expect(texts(events).sort()).toEqual([...sent].sort());
      expectOnceInOrder(events, 'alice');
      expect(resets).toEqual([]);
      expect(alice.c.mode).toBe('long');
      expect(alice.c.connection).toBe('online');
      expect(states.filter((s) => s.startsWith('offline'))).toEqual([]);
      const stored = await history(bob.c, chatId);
      expect(stored).toHaveLength(sent.length);
      writeResult('client-faults', 'clockJumps', { jumpsHours: jumps.map((j) => j / 3600_000), messages: sent.length, stored: stored.length, resets: resets.length, wentOffline: 0, lost: 0, duplicated: 0 });
    } finally {
      Date.now = realNow;
      for (const c of running.splice(0)) c.stop();
    }
  }, 60_000);
});
