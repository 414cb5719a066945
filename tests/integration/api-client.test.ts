/**
 * The panel's API client module (electron/renderer/src/api) against a real server on loopback,
 * with Node's fetch: sessions, the event loop (cursor, order, exactly once, reset, resume),
 * presence, the outbox (restart, lost answers, 4xx and retry), interval and auto polling, the
 * two-connection rule, the backoff, and the switch to the method override behind a proxy that
 * passes only GET and POST.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, MemoryStorage, PorticoClient, type ClientOptions, type OutboxEntry } from '../../electron/renderer/src/api/index.js';
import { activeChat as rawChat } from '../helpers/chat.js';
import { PASSWORD, eventually, startTestServer, type Client, type TestServer } from '../helpers/server.js';

let server: TestServer;
const clients: PorticoClient[] = [];
let n = 0;

beforeAll(async () => {
  server = await startTestServer({ loginPerIpPerMinute: 10_000 });
});
afterAll(async () => {
  await server?.destroy();
});
async function stopAll() {
  for (const c of clients.splice(0)) {
    c.stop();
    await c.stopped();
  }
}

/** A module client on `on` (the shared test server by default), stopped after each test. */
function client(storage = new MemoryStorage(), options: Partial<ClientOptions> = {}, on: TestServer = server) {
  const c = new PorticoClient({ baseUrl: on.url, storage, pollWait: 5, ...options });
  clients.push(c);
  return c;
}

/** A new user: the helper client (raw HTTP, logged in) and its name. */
async function person(base: string, on: TestServer = server): Promise<{ username: string; raw: Client }> {
  const username = `${base}${++n}`;
  return { username, raw: await on.user(username) };
}

/** A new user logged in through a module client. */
async function member(base: string, options: Partial<ClientOptions> = {}, storage = new MemoryStorage(), on: TestServer = server) {
  const { username, raw } = await person(base, on);
  const c = client(storage, options, on);
  await c.login(username, PASSWORD, true);
  return { username, raw, c, storage };
}

/** Every server event the client dispatches, in order. */
function record(c: PorticoClient): any[] {
  const events: any[] = [];
  c.on('*', (e) => events.push(e));
  return events;
}

/** Starts the client and resolves on its 'ready'. */
function startReady(c: PorticoClient): Promise<{ cursor: string; resumed: boolean }> {
  return new Promise((resolve) => {
    const off = c.on('ready', (p) => {
      off();
      resolve(p);
    });
    c.start();
  });
}

const messages = (events: any[]) => events.filter((e) => e.type === 'chat.message').map((e) => e.message.text);

function expectOnceInOrder(events: any[]) {
  const cursors = events.map((e) => Number(e.cursor));
  for (let i = 1; i < cursors.length; i++) expect(cursors[i], `event ${i} of ${JSON.stringify(cursors)}`).toBeGreaterThan(cursors[i - 1]!);
}

/** An active chat between two module clients (both started and ready). */
async function activeChat(a: PorticoClient, b: PorticoClient, bName: string) {
  const requested = new Promise<any>((resolve) => b.on('chat.request', resolve));
  const chat = await a.createChat([bName]);
  expect((await requested).chat.id).toBe(chat.id);
  const accepted = new Promise<any>((resolve) => a.on('chat.accepted', resolve));
  await b.accept(chat.id);
  expect((await accepted).chat.state).toBe('active');
  return chat.id;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A fetch that tells what it was asked and how it ended. */
interface Call {
  url: string;
  method: string;
  start: number;
  end?: number;
  outcome?: number | 'error';
}
function loggingFetch(calls: Call[], inner: typeof fetch = fetch): typeof fetch {
  return async (input, init) => {
    const call: Call = { url: String(input), method: init?.method ?? 'GET', start: Date.now() };
    calls.push(call);
    try {
      const res = await inner(input, init);
      call.outcome = res.status;
      return res;
    } catch (err) {
      call.outcome = 'error';
      throw err;
    } finally {
      call.end = Date.now();
    }
  };
}
const waitOf = (url: string) => Number(new URL(url).searchParams.get('wait') ?? NaN);
const isEvents = (c: Call) => c.url.includes('/api/v1/events');

describe('the API client module: sessions, events, presence, the outbox', () => {
  afterEach(stopAll);

  it('logs in, restores a remembered session, logs out; a refused token emits auth once', async () => {
    const { username } = await person('ann');
    const storage = new MemoryStorage();
    const first = client(storage);
    const auth: any[] = [];
    first.on('auth', (p) => auth.push(p));

    const wrong = await first.login(username, 'not the password').catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(ApiError);
    expect((wrong as ApiError).status).toBe(401);
    expect((wrong as ApiError).code).toBe('invalid_credentials');
    expect(first.user).toBeUndefined();

    const user = await first.login(username, PASSWORD, true);
    expect(user.username).toBe(username);
    expect(first.user?.username).toBe(username);
    expect(storage.getItem('portico.session')).toContain(username);

    // A reload: a new client on the same storage.
    const second = client(storage);
    expect(second.user).toBeUndefined();
    const restored = await second.restore();
    expect(restored?.username).toBe(username);
    expect((await second.me()).username).toBe(username);

    // An installed client's login sends its install id, version and platform: a terminal for the admin.
    const installId = randomUUID();
    await client(new MemoryStorage()).login(username, PASSWORD, false, { installId, version: '1.2.0', platform: 'linux' });
    const { terminals } = (await server.admin.get('/api/v1/admin/terminals')).body as { terminals: Array<Record<string, unknown>> };
    expect(terminals.find((t) => t.installId === installId)).toMatchObject({ installId, username, version: '1.2.0', platform: 'linux' });

    // Not remembered: nothing stored.
    const other = new MemoryStorage();
    const third = client(other);
    await third.login(username, PASSWORD, false);
    expect(other.getItem('portico.session')).toBeNull();
    expect(await client(other).restore()).toBeUndefined();
    expect(await client(new MemoryStorage()).restore()).toBeUndefined();

    // Logout ends the (shared) session on the server and here.
    await second.logout();
    expect(second.user).toBeUndefined();
    expect(storage.getItem('portico.session')).toBeNull();
    expect(await client(storage).restore()).toBeUndefined();
    const refused = await first.contacts().catch((e: unknown) => e);
    expect((refused as ApiError).status).toBe(401);
    expect((refused as ApiError).code).toBe('unauthorized');
    expect(auth).toEqual([{ reason: 'unauthorized', message: expect.any(String) }]);
    expect(first.user).toBeUndefined();
    expect(first.loggedIn).toBe(false);

    // A remembered token the server no longer knows: restore answers undefined and forgets it.
    storage.setItem('portico.session', JSON.stringify({ token: 'expired-token', user: { id: 1, username, displayName: username } }));
    expect(await client(storage).restore()).toBeUndefined();
    expect(storage.getItem('portico.session')).toBeNull();

    // An unreachable server: status 0, code 'network'.
    const offline = await new PorticoClient({ baseUrl: 'http://127.0.0.1:1', storage: new MemoryStorage() }).login(username, PASSWORD).catch((e: unknown) => e);
    expect((offline as ApiError).status).toBe(0);
    expect((offline as ApiError).code).toBe('network');
  });

  it('two clients chat end to end: request, accept, messages both ways, every event once and in order', async () => {
    const alice = await member('alice');
    const bob = await member('bob');
    const aliceEvents = record(alice.c);
    const bobEvents = record(bob.c);
    const readyA = await startReady(alice.c);
    const readyB = await startReady(bob.c);
    expect(readyA.resumed).toBe(false);
    expect(readyB.resumed).toBe(false);
    expect(alice.c.connection).toBe('online');

    const chatId = await activeChat(alice.c, bob.c, bob.username);
    const sent: OutboxEntry[] = [];
    for (let i = 1; i <= 4; i++) {
      sent.push(alice.c.send(chatId, `a${i}`));
      sent.push(bob.c.send(chatId, `b${i}`));
    }
    expect(sent.every((e) => e.state === 'sending')).toBe(true);
    await eventually(() => messages(aliceEvents).length === 8 && messages(bobEvents).length === 8, 8000, 'eight messages on both sides');
    await sleep(200); // nothing more comes (no duplicates)

    expect(messages(aliceEvents)).toHaveLength(8);
    expect(messages(bobEvents)).toEqual(messages(aliceEvents));
    expect(messages(aliceEvents).filter((t) => t.startsWith('a'))).toEqual(['a1', 'a2', 'a3', 'a4']);
    expect(messages(aliceEvents).filter((t) => t.startsWith('b'))).toEqual(['b1', 'b2', 'b3', 'b4']);
    expectOnceInOrder(aliceEvents);
    expectOnceInOrder(bobEvents);
    expect(bobEvents.map((e) => e.type).slice(0, 2)).toEqual(['chat.request', 'chat.accepted']);
    expect(aliceEvents[0].type).toBe('chat.accepted');

    // The outbox knows each as sent, with the stored message and its own client id.
    const outbox = alice.c.outbox(chatId);
    expect(outbox.map((e) => [e.text, e.state])).toEqual(['a1', 'a2', 'a3', 'a4'].map((t) => [t, 'sent']));
    for (const e of outbox) expect(e.message?.clientId).toBe(e.clientId);
    expect(alice.storage.getItem(`portico.outbox.${alice.username}`)).toBeNull();
    const history = await bob.c.history(chatId);
    expect(history.messages.map((m) => m.text).sort()).toEqual(['a1', 'a2', 'a3', 'a4', 'b1', 'b2', 'b3', 'b4']);
    expect((await bob.c.history(chatId, undefined, 3)).messages).toHaveLength(3);
    // The cursor is stored as events are handled.
    expect(alice.storage.getItem(`portico.cursor.${alice.username}`)).toBe(alice.c.cursor);
    expect(alice.c.cursor).toBe(aliceEvents[aliceEvents.length - 1].cursor);
  });

  it('a reload resumes from the stored cursor: what came meanwhile arrives, nothing twice', async () => {
    const alice = await member('alice');
    const bob = await member('bob');
    const before = record(alice.c);
    await startReady(alice.c);
    await startReady(bob.c);
    const chatId = await activeChat(alice.c, bob.c, bob.username);
    bob.c.send(chatId, 'before');
    await eventually(() => messages(before).length === 1, 5000, 'the first message');
    alice.c.stop();
    await alice.c.stopped();

    bob.c.send(chatId, 'meanwhile');
    await eventually(() => bob.c.outbox().every((e) => e.state === 'sent'), 5000, 'bob sent');

    const again = client(alice.storage);
    const after = record(again);
    expect((await again.restore())?.username).toBe(alice.username);
    const ready = await startReady(again);
    expect(ready.resumed).toBe(true);
    await eventually(() => messages(after).length === 1, 5000, 'the message sent meanwhile');
    await sleep(200);
    expect(messages(after)).toEqual(['meanwhile']);
    expect(Number(after[0].cursor)).toBeGreaterThan(Number(before[before.length - 1].cursor));
  });

  it('presence of a contact: online, busy, offline', async () => {
    const alice = await member('alice');
    const bob = await member('bob');
    await alice.c.addContact(bob.username);
    const seen: string[] = [];
    alice.c.on('presence', (e) => {
      if (e.username === bob.username) seen.push(e.state);
    });
    await startReady(alice.c);
    expect((await alice.c.contacts()).find((c) => c.username === bob.username)?.presence).toBe('offline');

    await startReady(bob.c);
    await eventually(() => seen.includes('available'), 5000, 'bob available');
    expect(await bob.c.setPresence('busy')).toEqual({ state: 'busy', effective: 'busy' });
    await eventually(() => seen.includes('busy'), 5000, 'bob busy');
    await bob.c.logout();
    await eventually(() => seen.includes('offline'), 5000, 'bob offline');
    expect(seen).toEqual(['available', 'busy', 'offline']);
  });

  it('reset: a cursor older than the log emits reset, then events continue from the new cursor', async () => {
    const alice = await member('alice');
    const bob = await person('bob');
    await startReady(alice.c);
    alice.c.stop();
    await alice.c.stopped();
    const old = alice.c.cursor;

    // While alice is away, an event for her, then the log is pruned past it.
    const lost = await bob.raw.post('/api/v1/chats', { invitees: [alice.username] });
    expect(lost.status).toBe(201);
    await server.services.store.pruneEvents(Date.now() + 1000);

    const again = client(alice.storage);
    const events = record(again);
    const resets: any[] = [];
    again.on('reset', (p) => resets.push(p));
    await again.restore();
    await startReady(again);
    await eventually(() => resets.length === 1, 5000, 'reset');
    const head = String(await server.services.store.headSeq());
    expect(resets[0].cursor).toBe(head);
    expect(Number(resets[0].cursor)).toBeGreaterThan(Number(old));
    expect(again.cursor).toBe(head);
    expect(alice.storage.getItem(`portico.cursor.${alice.username}`)).toBe(head);
    expect(events).toEqual([]); // the pruned request is not replayed: state is reloaded instead

    const next = await bob.raw.post('/api/v1/chats', { invitees: [alice.username] });
    await eventually(() => events.length === 1, 5000, 'the next event');
    expect(events[0].type).toBe('chat.request');
    expect(events[0].chat.id).toBe(next.body.chat.id);
    expect(resets).toHaveLength(1);
  });

  it('the outbox survives a restart: queued while the server is down, delivered once, in order, by a new client', async () => {
    let own = await startTestServer({ loginPerIpPerMinute: 10_000 });
    try {
      const calls: Call[] = [];
      const storage = new MemoryStorage();
      const alice = await member('alice', { fetch: loggingFetch(calls), backoffCapMs: 1000 }, storage, own);
      const bob = await member('bob', {}, new MemoryStorage(), own);
      await startReady(alice.c);
      await startReady(bob.c);
      const chatId = await activeChat(alice.c, bob.c, bob.username);
      bob.c.stop();

      await own.close();
      const queued = ['one', 'two', 'three'].map((t) => alice.c.send(chatId, t));
      await eventually(() => calls.some((c) => c.method === 'PUT' && c.outcome === 'error'), 5000, 'a failed send');
      alice.c.stop();
      await alice.c.stopped();
      expect(alice.c.outbox().map((e) => e.state)).toEqual(['sending', 'sending', 'sending']);
      const stored = JSON.parse(storage.getItem(`portico.outbox.${alice.username}`)!);
      expect(stored.map((e: OutboxEntry) => e.clientId)).toEqual(queued.map((e) => e.clientId));

      own = await own.restart();
      const again = client(storage, {}, own);
      await again.restore();
      expect(again.outbox().map((e) => e.clientId)).toEqual(queued.map((e) => e.clientId));
      const changes: string[][] = [];
      again.on('outbox', ({ entries }) => changes.push(entries.map((e) => e.state)));
      again.start();
      await eventually(() => again.outbox().every((e) => e.state === 'sent'), 8000, 'the outbox sent');
      expect(changes[changes.length - 1]).toEqual(['sent', 'sent', 'sent']);
      expect(storage.getItem(`portico.outbox.${alice.username}`)).toBeNull();

      const history = await again.history(chatId);
      expect(history.messages.map((m) => [m.text, m.clientId])).toEqual(queued.map((e) => [e.text, e.clientId]));

      // Bob, back, gets each once and in order.
      const bobAgain = client(bob.storage, {}, own);
      const bobEvents = record(bobAgain);
      await bobAgain.restore();
      await startReady(bobAgain);
      await eventually(() => messages(bobEvents).length >= 3, 5000, 'bob got them');
      await sleep(200);
      expect(messages(bobEvents)).toEqual(['one', 'two', 'three']);
    } finally {
      for (const c of clients.splice(0)) c.stop();
      await own.destroy();
    }
  });

  it('an answer lost after the server stored the message: resent with the same client id, stored once', async () => {
    let lose = 1;
    const lossy: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (init?.method === 'PUT' && lose > 0) {
        lose--;
        await res.text();
        throw new TypeError('fetch failed (connection reset)');
      }
      return res;
    };
    const alice = await member('alice', { fetch: lossy, backoffBaseMs: 50 });
    const bob = await member('bob');
    const bobEvents = record(bob.c);
    await startReady(alice.c);
    await startReady(bob.c);
    const chatId = await activeChat(alice.c, bob.c, bob.username);
    const entry = alice.c.send(chatId, 'only once');
    await eventually(() => alice.c.outbox()[0]?.state === 'sent', 5000, 'sent');
    expect(lose).toBe(0);
    expect(alice.c.outbox()[0]!.message?.clientId).toBe(entry.clientId);
    await eventually(() => messages(bobEvents).length === 1, 5000, 'bob got it');
    await sleep(200);
    expect(messages(bobEvents)).toEqual(['only once']);
    expect((await bob.c.history(chatId)).messages).toHaveLength(1);
  });

  it('a 4xx marks the entry failed with the error, later ones still go; retry() sends it again', async () => {
    const alice = await member('alice');
    const bob = await member('bob');
    await startReady(alice.c);
    await startReady(bob.c);
    const requested = new Promise<any>((resolve) => alice.c.on('chat.request', resolve));
    const chat = await bob.c.createChat([alice.username]);
    await requested;

    // Invited, not accepted yet: 403 forbidden (since issue 16 a pending chat takes its creator's
    // messages, not an invitee's).
    const early = alice.c.send(chat.id, 'too early');
    await eventually(() => alice.c.outbox()[0]?.state === 'failed', 5000, 'failed');
    const failed = alice.c.outbox()[0]!;
    expect(failed.error).toBe('forbidden');
    expect(failed.errorMessage).toEqual(expect.any(String));
    // Failed entries are kept across restarts too.
    expect(JSON.parse(alice.storage.getItem(`portico.outbox.${alice.username}`)!)[0].state).toBe('failed');

    await alice.c.accept(chat.id);
    const blank = alice.c.send(chat.id, '   ');
    const fine = alice.c.send(chat.id, 'after the blank one');
    await eventually(() => alice.c.outbox().every((e) => e.state !== 'sending'), 5000, 'settled');
    const byId = new Map(alice.c.outbox().map((e) => [e.clientId, e]));
    expect(byId.get(blank.clientId)?.state).toBe('failed');
    expect(byId.get(blank.clientId)?.error).toBe('invalid_request');
    expect(byId.get(fine.clientId)?.state).toBe('sent');
    expect(byId.get(early.clientId)?.state).toBe('failed');

    alice.c.retry(early.clientId);
    expect(alice.c.outbox().find((e) => e.clientId === early.clientId)?.state).toBe('sending');
    await eventually(() => alice.c.outbox().find((e) => e.clientId === early.clientId)?.state === 'sent', 5000, 'retried');
    const retried = alice.c.outbox().find((e) => e.clientId === early.clientId)!;
    expect(retried.error).toBeUndefined();
    expect(retried.message?.text).toBe('too early');
    expect(alice.c.discard(blank.clientId)).toBe(true);
    expect(alice.c.outbox().map((e) => e.text)).toEqual(['too early', 'after the blank one']);
    expect((await bob.c.history(chat.id)).messages.map((m) => m.text)).toEqual(['after the blank one', 'too early']);
  });

});

// Timing-bound tests, run side by side to keep the file fast; each uses its own users and clients.
describe.concurrent('the API client module: polling modes, connections, backoff', () => {
  afterAll(stopAll);

  it('interval mode polls with wait=0&interval=<s> and delivers everything', async () => {
    const calls: Call[] = [];
    const alice = await member('alice', { fetch: loggingFetch(calls), mode: 'interval', intervalSeconds: 1 });
    const bob = await member('bob');
    const events = record(alice.c);
    const modes: string[] = [];
    alice.c.on('connection', (p) => modes.push(p.mode));
    await startReady(alice.c);
    await startReady(bob.c);
    expect(alice.c.mode).toBe('interval');
    const chatId = await activeChat(alice.c, bob.c, bob.username);
    for (let i = 1; i <= 5; i++) bob.c.send(chatId, `m${i}`);
    await eventually(() => messages(events).length === 5, 6000, 'five messages');
    await sleep(300);
    expect(messages(events)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5']);
    expectOnceInOrder(events);

    const polls = calls.filter(isEvents);
    expect(polls.length).toBeGreaterThanOrEqual(2);
    for (const p of polls) {
      const q = new URL(p.url).searchParams;
      expect(q.get('wait'), p.url).toBe('0');
      expect(q.get('interval'), p.url).toBe('1');
    }
    // About a second apart (not a busy loop).
    for (let i = 1; i < polls.length; i++) expect(polls[i]!.start - polls[i - 1]!.end!, `gap ${i}`).toBeGreaterThanOrEqual(950);
    expect(new Set(modes)).toEqual(new Set(['interval']));
  });

  it("auto mode: held polls cut by a proxy shorten the wait, then switch to interval polling; nothing lost or doubled", async () => {
    const calls: Call[] = [];
    // A proxy that cuts every held poll after 200 ms.
    const cutting: typeof fetch = (input, init) => {
      const wait = waitOf(String(input));
      if (!(wait > 0)) return fetch(input, init);
      const controller = new AbortController();
      init?.signal?.addEventListener('abort', () => controller.abort());
      const timer = setTimeout(() => controller.abort(), 200);
      return fetch(input, { ...init, signal: controller.signal }).finally(() => clearTimeout(timer));
    };
    const alice = await member('alice', { fetch: loggingFetch(calls, cutting), pollWait: 25, intervalSeconds: 1 });
    const bob = await member('bob');
    const events = record(alice.c);
    const connection: any[] = [];
    alice.c.on('connection', (p) => connection.push(p));
    expect(alice.c.modeSetting).toBe('auto');
    await startReady(alice.c);
    await startReady(bob.c);
    const chatId = await activeChat(alice.c, bob.c, bob.username);
    bob.c.send(chatId, 'during');
    await eventually(() => alice.c.mode === 'interval', 6000, 'switch to interval');
    for (let i = 1; i <= 3; i++) bob.c.send(chatId, `after${i}`);
    await eventually(() => messages(events).length === 4, 6000, 'four messages');
    await sleep(300);

    expect(messages(events)).toEqual(['during', 'after1', 'after2', 'after3']);
    expectOnceInOrder(events);
    const held = calls.filter((c) => isEvents(c) && waitOf(c.url) > 0);
    // Held polls answered early (events waiting) are fine, and they start the count of cuts in a
    // row anew (on a loaded machine "during" may arrive between cuts): the first cut was of the
    // 25 s wait, every later one of the shortest, and the three held polls before the switch were
    // cuts in a row.
    const cuts = held.filter((c) => c.outcome === 'error');
    expect(cuts.map((c) => waitOf(c.url))).toEqual([25, ...cuts.slice(1).map(() => 2)]);
    expect(cuts.length).toBeGreaterThanOrEqual(3);
    expect(held.slice(-3).every((c) => c.outcome === 'error')).toBe(true);
    expect(cuts.every((c) => c.end! - c.start < 1000)).toBe(true);
    // Each cut was followed by a quick probe (wait=0) that was answered.
    const polls = calls.filter(isEvents);
    for (const cut of cuts) {
      const next = polls[polls.indexOf(cut) + 1]!;
      expect(waitOf(next.url)).toBe(0);
      expect(next.outcome).toBe(200);
    }
    expect(connection.filter((p) => p.mode === 'interval')).toHaveLength(1);
    expect(connection[connection.length - 1]).toEqual({ state: 'online', mode: 'interval' });
    expect(connection.some((p) => p.state === 'offline')).toBe(false);
    const intervalPolls = polls.slice(polls.indexOf(cuts[cuts.length - 1]!) + 2);
    expect(intervalPolls.length).toBeGreaterThan(0);
    for (const p of intervalPolls) expect(new URL(p.url).searchParams.get('interval')).toBe('1');

    // Chosen by hand, long polling stays long.
    alice.c.setMode('long');
    expect(alice.c.mode).toBe('long');
    expect(alice.c.modeSetting).toBe('long');
  });

  it('auto mode: a proxy cutting after 2.5 s makes the wait shorter, and long polling goes on', async () => {
    const calls: Call[] = [];
    const cutting: typeof fetch = (input, init) => {
      if (!(waitOf(String(input)) > 0)) return fetch(input, init);
      const controller = new AbortController();
      init?.signal?.addEventListener('abort', () => controller.abort());
      const timer = setTimeout(() => controller.abort(), 2500);
      return fetch(input, { ...init, signal: controller.signal }).finally(() => clearTimeout(timer));
    };
    const alice = await member('alice', { fetch: loggingFetch(calls, cutting), pollWait: 6 });
    await startReady(alice.c);
    await eventually(() => calls.some((c) => isEvents(c) && waitOf(c.url) === 2 && c.outcome === 200), 9000, 'a held poll of 2 s');
    expect(alice.c.mode).toBe('long');
    expect(alice.c.pollWait).toBe(2);
    const held = calls.filter((c) => isEvents(c) && waitOf(c.url) > 0 && c.end !== undefined);
    expect(held.map((c) => [waitOf(c.url), c.outcome])).toEqual([[6, 'error'], ...held.slice(1).map(() => [2, 200])]);
    expect(held[0]!.end! - held[0]!.start).toBeGreaterThanOrEqual(2400);
    // The cut was checked with a quick probe, answered.
    const polls = calls.filter(isEvents);
    expect(waitOf(polls[polls.indexOf(held[0]!) + 1]!.url)).toBe(0);
    expect(polls[polls.indexOf(held[0]!) + 1]!.outcome).toBe(200);
  });

  it('never more than two requests at once: the held poll and one queue for everything else', async () => {
    let open = 0;
    let most = 0;
    const counting: typeof fetch = async (input, init) => {
      open++;
      most = Math.max(most, open);
      try {
        const res = await fetch(input, init);
        const body = await res.text();
        return new Response(body === '' ? null : body, { status: res.status, statusText: res.statusText, headers: res.headers });
      } finally {
        open--;
      }
    };
    const alice = await member('alice', { fetch: counting });
    const bob = await member('bob', { fetch: counting });
    await startReady(alice.c);
    await startReady(bob.c);
    const chatId = await activeChat(alice.c, bob.c, bob.username);
    most = 0;
    // Alice's own traffic only from here: bob stops.
    bob.c.stop();
    await bob.c.stopped();
    await eventually(() => open === 1, 1000, 'only alice\'s held poll open');
    const started = Date.now();
    const calls = await Promise.all([
      ...Array.from({ length: 8 }, () => alice.c.contacts()),
      alice.c.chats(),
      alice.c.me(),
      alice.c.history(chatId),
      alice.c.searchUsers('bo'),
    ]);
    const sends = Array.from({ length: 6 }, (_, i) => alice.c.send(chatId, `burst ${i}`));
    await eventually(() => alice.c.outbox().every((e) => e.state === 'sent'), 5000, 'burst sent');
    expect(calls).toHaveLength(12);
    expect(Date.now() - started).toBeLessThan(4000); // not held up behind the poll
    expect(most).toBe(2);
    expect(alice.c.outbox().map((e) => e.text)).toEqual(sends.map((e) => e.text));

    // stop() aborts the held poll at once.
    await sleep(100);
    expect(open).toBe(1);
    alice.c.stop();
    await eventually(() => open === 0, 1000, 'the held poll aborted');
    expect(alice.c.connection).toBe('offline');
  });

  it('backs off with full jitter after errors (0.5 s doubling), resets on success, reports the connection', async () => {
    let failing = 3;
    const polls: Array<{ at: number; failed: boolean }> = [];
    const flaky: typeof fetch = async (input, init) => {
      if (isEvents({ url: String(input), method: 'GET', start: 0 })) {
        const failed = failing > 0;
        polls.push({ at: Date.now(), failed });
        if (failed) {
          failing--;
          throw new TypeError('fetch failed');
        }
      }
      return fetch(input, init);
    };
    const alice = await member('alice', { fetch: flaky, random: () => 0.5, pollWait: 1 });
    const states: string[] = [];
    alice.c.on('connection', (p) => states.push(p.state));
    await startReady(alice.c);
    // The head poll failed three times, then was answered (and the held poll began).
    expect(polls.slice(0, 4).map((p) => p.failed)).toEqual([true, true, true, false]);
    polls.splice(4);
    const gaps = polls.slice(1).map((p, i) => p.at - polls[i]!.at);
    // random 0.5 of the ceilings 500, 1000, 2000 ms
    [250, 500, 1000].forEach((expected, i) => {
      expect(gaps[i], `gap ${i}: ${gaps}`).toBeGreaterThanOrEqual(expected - 5);
      expect(gaps[i], `gap ${i}: ${gaps}`).toBeLessThan(expected + 200);
    });
    expect(states).toEqual(['connecting', 'offline', 'online']);

    // After a success the backoff starts over: the next failure (when the 1 s held poll has
    // ended) waits 250 ms again, not 2 s; then a quick poll (wait=0) shows being back at once.
    failing = 1;
    const from = polls.length;
    await eventually(() => polls.length >= from + 3, 4000, 'three more polls');
    expect(polls.slice(from, from + 2).map((p) => p.failed)).toEqual([true, false]);
    const gap = polls[from + 1]!.at - polls[from]!.at;
    expect(gap).toBeGreaterThanOrEqual(245);
    expect(gap).toBeLessThan(450);
    await eventually(() => alice.c.connection === 'online', 2000, 'online again');
    expect(states.slice(3)).toEqual(['connecting', 'online']);

    // pollNow() ends the held poll (not an error) and polls again at once.
    await sleep(100);
    const before = polls.length;
    const asked = Date.now();
    alice.c.pollNow();
    await eventually(() => polls.length > before, 1000, 'a poll at once');
    expect(polls[before]!.at - asked).toBeLessThan(100);
    expect(states.slice(5)).toEqual([]);
  });
});

describe('the API client module behind a proxy that passes only GET and POST', () => {
  afterEach(stopAll);

  /** What went on the wire: method, override header, path, status. */
  interface Wire {
    method: string;
    override: string | null;
    path: string;
    status: number;
  }
  /** A fetch in front of the real server that answers like such a proxy: its own page for other methods. */
  function getPostOnly(wire: Wire[], { refuseOverrides = false, status = 403 } = {}): typeof fetch {
    return async (input, init) => {
      const method = init?.method ?? 'GET';
      const override = new Headers(init?.headers).get('x-http-method-override');
      const path = new URL(String(input)).pathname;
      if ((method !== 'GET' && method !== 'POST') || (refuseOverrides && override)) {
        wire.push({ method, override, path, status });
        return new Response('<html><body><h1>Access Denied</h1>the method is not allowed</body></html>', { status, headers: { 'content-type': 'text/html' } });
      }
      const res = await fetch(input, init);
      wire.push({ method, override, path, status: res.status });
      return res;
    };
  }
  const writes = (wire: Wire[]) => wire.filter((w) => !(w.method === 'GET' && w.path === '/api/v1/events')).map((w) => `${w.method}${w.override ? `(${w.override})` : ''} ${w.path} ${w.status}`);

  it('a refused PUT is sent again as POST + X-HTTP-Method-Override, and from then on every PUT/DELETE goes that way', async () => {
    const wire: Wire[] = [];
    const alice = await member('mo', { fetch: getPostOnly(wire, { status: 405 }) });
    const bob = await person('mo');
    expect(alice.c.methodOverride).toBe(false);
    expect((await alice.c.addContact(bob.username)).username).toBe(bob.username);
    expect(alice.c.methodOverride).toBe(true);
    expect((await alice.c.setPresence('busy')).state).toBe('busy');
    await alice.c.removeContact(bob.username);
    const dropped = await alice.c.removeContact(bob.username).catch((e: ApiError) => e); // the server's own 404 comes through
    expect(dropped).toMatchObject({ status: 404, code: 'not_found' });
    expect(writes(wire)).toEqual([
      'POST /api/v1/login 200',
      `PUT /api/v1/contacts/${bob.username} 405`,
      `POST(PUT) /api/v1/contacts/${bob.username} 201`,
      'POST(PUT) /api/v1/presence 200',
      `POST(DELETE) /api/v1/contacts/${bob.username} 200`,
      `POST(DELETE) /api/v1/contacts/${bob.username} 404`,
    ]);

    // A new client object (a reload) probes again.
    const again: Wire[] = [];
    const fresh = client(new MemoryStorage(), { fetch: getPostOnly(again) });
    await fresh.login(alice.username, PASSWORD);
    expect(fresh.methodOverride).toBe(false);
    await fresh.addContact(bob.username);
    expect(writes(again).slice(1)).toEqual([`PUT /api/v1/contacts/${bob.username} 403`, `POST(PUT) /api/v1/contacts/${bob.username} 201`]);
  });

  it("the server's own 403/405 is not a proxy's: no second try, no switch", async () => {
    const wire: Wire[] = [];
    const alice = await member('mo', { fetch: getPostOnly(wire) });
    const carol = await member('mo');
    const dave = await member('mo');
    await startReady(carol.c);
    await startReady(dave.c);
    const chatId = await activeChat(carol.c, dave.c, dave.username);
    // Straight to the server (no proxy in between): its JSON 403 and 405 are answers, not refusals.
    const calls: Call[] = [];
    const direct = client(new MemoryStorage(), { fetch: loggingFetch(calls) });
    await direct.login(alice.username, PASSWORD);
    const forbidden = await direct.api('PUT', `/api/v1/chats/${chatId}/messages/${randomUUID()}`, { text: 'let me in' }).catch((e: ApiError) => e);
    expect(forbidden).toMatchObject({ status: 403, code: 'forbidden' });
    const notAllowed = await direct.api('DELETE', '/api/v1/me').catch((e: ApiError) => e);
    expect(notAllowed).toMatchObject({ status: 405, code: 'invalid_request' });
    expect(calls.map((c) => c.method)).toEqual(['POST', 'PUT', 'DELETE']);
    expect(direct.methodOverride).toBe(false);

    // Through the proxy, the override reaching the server and its own 403 coming back: that counts as through.
    const refused = await alice.c.api('PUT', `/api/v1/chats/${chatId}/messages/${randomUUID()}`, { text: 'let me in' }).catch((e: ApiError) => e);
    expect(refused).toMatchObject({ status: 403, code: 'forbidden' });
    expect(alice.c.methodOverride).toBe(true);
  });

  it('relay uploads (binary PUT) switch the same way, and the chunk arrives', async () => {
    const wire: Wire[] = [];
    const alice = await member('mo', { fetch: getPostOnly(wire) });
    const bob = await person('mo');
    const chatId = await rawChat(alice.raw, bob.raw);
    await bob.raw.poll(); // bob counts as online
    const call = await alice.raw.post('/api/v1/calls', { chatId });
    expect(call.status).toBe(201);
    expect((await bob.raw.post(`/api/v1/calls/${call.body.call.id}/accept`)).status).toBe(200);
    const relay = `/api/v1/calls/${call.body.call.id}/relay`;
    const chunk = new Blob([new Uint8Array(1000).fill(7)], { type: 'video/webm' });
    expect((await alice.c.relayFetch(`${relay}/0`, { method: 'PUT', body: chunk })).status).toBe(200);
    expect(alice.c.methodOverride).toBe(true);
    expect((await alice.c.relayFetch(`${relay}/1`, { method: 'PUT', body: chunk })).status).toBe(200);
    expect(writes(wire).filter((w) => w.includes('/relay/'))).toEqual([`PUT ${relay}/0 403`, `POST(PUT) ${relay}/0 200`, `POST(PUT) ${relay}/1 200`]);
    const got = await bob.raw.get(`${relay}/${alice.username}?after=0&wait=0`);
    expect(got.status).toBe(200);
    expect(got.headers.get('x-relay-seq')).toBe('1');
  });

  it('a proxy that refuses the override too: the error is the proxy’s, nothing is remembered, the next write probes again', async () => {
    const wire: Wire[] = [];
    const alice = await member('mo', { fetch: getPostOnly(wire, { refuseOverrides: true }) });
    const bob = await person('mo');
    const first = await alice.c.addContact(bob.username).catch((e: ApiError) => e);
    expect(first).toMatchObject({ status: 403, code: 'http_403' });
    expect(alice.c.methodOverride).toBe(false);
    await alice.c.removeContact(bob.username).catch(() => {});
    expect(writes(wire).slice(1)).toEqual([
      `PUT /api/v1/contacts/${bob.username} 403`,
      `POST(PUT) /api/v1/contacts/${bob.username} 403`,
      `DELETE /api/v1/contacts/${bob.username} 403`,
      `POST(DELETE) /api/v1/contacts/${bob.username} 403`,
    ]);
    expect((await alice.raw.get('/api/v1/contacts')).body.contacts).toEqual([]);
  });
});
