/**
 * GET /api/v1/events against a real server over loopback HTTP: where a poll starts, held polls,
 * replay after a lost response, ordering, replacement, reset, store-and-forward, and a restart
 * in the middle.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activeChat } from '../helpers/chat.js';
import { Client, PASSWORD, collect, eventually, startTestServer, type TestServer } from '../helpers/server.js';

interface Poll {
  status: number;
  body: any;
  ms: number;
}

/** One raw poll; does not touch the client's cursor. */
async function rawPoll(client: Client, query: Record<string, string | number | undefined>): Promise<Poll> {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
  const started = Date.now();
  const res = await client.get(`/api/v1/events?${params}`);
  return { status: res.status, body: res.body, ms: Date.now() - started };
}

/** How long this file's collect() calls wait for their events. */
const COLLECT_MS = 8000;

const isMessage = (e: any) => e.type === 'chat.message';
const cursors = (events: any[]) => events.map((e) => Number(e.cursor));
function expectStrictlyIncreasing(values: number[]) {
  for (let i = 1; i < values.length; i++) expect(values[i], `position ${i} of ${JSON.stringify(values)}`).toBeGreaterThan(values[i - 1]!);
}

const send = async (from: Client, chatId: string, clientId: string, text = clientId) => {
  const res = await from.put(`/api/v1/chats/${chatId}/messages/${clientId}`, { text });
  expect(res.status, `${clientId}: ${JSON.stringify(res.body)}`).toBe(201);
  return res.body.message;
};

describe('the event stream', () => {
  let server: TestServer;
  let n = 0;
  const fresh = (name: string) => server.user(`${name}${++n}`);

  beforeAll(async () => {
    server = await startTestServer({ loginPerIpPerMinute: 10_000 });
  });
  afterAll(async () => {
    await server?.destroy();
  });

  it('without `after` a poll starts from now: the head cursor and no old events', async () => {
    const [alice, bob] = await Promise.all([fresh('alice'), fresh('bob')]);
    const chatId = await activeChat(alice, bob);
    await send(alice, chatId, 'old-1');
    await send(bob, chatId, 'old-2');

    // A new session of bob, never polled: it must not see anything from before.
    const headBefore = await server.services.store.headSeq();
    const first = await rawPoll(bob, { wait: 0 });
    const headAfter = await server.services.store.headSeq();
    expect(first.status).toBe(200);
    expect(first.body.events).toEqual([]);
    expect(Number(first.body.cursor)).toBeGreaterThanOrEqual(headBefore);
    expect(Number(first.body.cursor)).toBeLessThanOrEqual(headAfter);
    expect(headBefore).toBeGreaterThan(0);

    // From that cursor: only what comes next.
    const fresh1 = await send(alice, chatId, 'new-1');
    const next = await rawPoll(bob, { after: first.body.cursor, wait: 0 });
    expect(next.body.events.map((e: any) => e.message?.clientId)).toEqual(['new-1']);
    expect(next.body.events[0].message).toEqual(fresh1);
    expect(Number(next.body.events[0].cursor)).toBeGreaterThan(Number(first.body.cursor));
    expect(next.body.cursor).toBe(next.body.events[0].cursor);

    // Whereas from the start, the old ones are there.
    const fromZero = await rawPoll(bob, { after: 0, wait: 0 });
    expect(fromZero.body.events.filter(isMessage).map((e: any) => e.message.clientId)).toEqual(['old-1', 'old-2', 'new-1']);
  });

  it('a held poll is answered as soon as an event is committed; an empty one after `wait`, same cursor', async () => {
    const [alice, bob] = await Promise.all([fresh('alice'), fresh('bob')]);
    const chatId = await activeChat(alice, bob);
    const cursor = bob.cursor!;

    const heldBefore = server.services.hub.size;
    const held = rawPoll(bob, { after: cursor, wait: 10 });
    await eventually(() => server.services.hub.size === heldBefore + 1, 3000, 'the poll to be held');
    const sentAt = Date.now();
    const message = await send(alice, chatId, 'wake-up');
    const answered = await held;
    const latency = Date.now() - sentAt;
    expect(answered.status).toBe(200);
    expect(latency).toBeLessThan(2000);
    expect(answered.ms).toBeLessThan(5000);
    expect(answered.body.events.map((e: any) => e.type)).toEqual(['chat.message']);
    expect(answered.body.events[0].message).toEqual(message);
    expect(answered.body.cursor).toBe(answered.body.events[0].cursor);
    expect(server.services.hub.size).toBe(heldBefore);

    // Nothing more: held for `wait`, then answered empty with the same cursor.
    const empty = await rawPoll(bob, { after: answered.body.cursor, wait: 1 });
    expect(empty.status).toBe(200);
    expect(empty.body).toEqual({ events: [], cursor: answered.body.cursor });
    expect(empty.ms).toBeGreaterThanOrEqual(950);
    expect(empty.ms).toBeLessThan(3000);

    // wait=0 answers at once.
    const now = await rawPoll(bob, { after: answered.body.cursor, wait: 0 });
    expect(now.body).toEqual({ events: [], cursor: answered.body.cursor });
    expect(now.ms).toBeLessThan(500);
  });

  it('a held poll follows chats joined while it is held (creating, accepting)', async () => {
    const [alice, bob] = await Promise.all([fresh('alice'), fresh('bob')]);
    await Promise.all([alice.poll(), bob.poll()]);

    /** Polls (holding up to 10 s each time) until `type` arrives; answers it and how long that took. */
    const timed = async (client: Client, type: string) => {
      const started = Date.now();
      const e = await client.waitFor(type, () => true, 8000);
      return { e, ms: Date.now() - started };
    };
    const heldBefore = server.services.hub.size;

    // Alice holds a poll, then (from another request) creates a chat: her poll must start following it.
    const aliceGets = (async () => {
      const first = await rawPoll(alice, { after: alice.cursor, wait: 10 });
      alice.cursor = first.body.cursor;
      return { first, rest: await timed(alice, 'chat.accepted') };
    })();
    await eventually(() => server.services.hub.size === heldBefore + 1, 3000, 'alice to be held');
    const created = await alice.post('/api/v1/chats', { invitees: [bob.username] });
    expect(created.status).toBe(201);
    const chatId = created.body.chat.id;
    await bob.waitFor('chat.request', (e) => e.chat.id === chatId);

    // Bob holds a poll, then accepts: his poll must start following the chat too.
    const bobHeld = rawPoll(bob, { after: bob.cursor, wait: 10 });
    await eventually(() => server.services.hub.size === heldBefore + 2, 3000, 'bob to be held');
    const acceptedAt = Date.now();
    expect((await bob.post(`/api/v1/chats/${chatId}/accept`)).status).toBe(200);
    const bobFirst = await bobHeld;
    expect(Date.now() - acceptedAt).toBeLessThan(2000);
    bob.cursor = bobFirst.body.cursor;
    const bobEvents = [...bobFirst.body.events, ...(await bob.poll(0))];
    expect(bobEvents.map((e: any) => `${e.type} ${e.username}`)).toEqual(['chat.accepted ' + bob.username]);

    const { first, rest } = await aliceGets;
    expect(first.ms).toBeLessThan(2000); // answered when she created the chat, not after 10 s
    expect(Date.now() - acceptedAt).toBeLessThan(2000);
    expect(rest.e.chat.id).toBe(chatId);
    expect(rest.e.username).toBe(bob.username);
  });

  it('after a lost response, polling again with the old cursor replays the same events with the same cursors', async () => {
    const [alice, bob] = await Promise.all([fresh('alice'), fresh('bob')]);
    const chatId = await activeChat(alice, bob);
    const old = bob.cursor!;
    const sent = [await send(alice, chatId, 'r-1'), await send(bob, chatId, 'r-2'), await send(alice, chatId, 'r-3')];

    const first = await rawPoll(bob, { after: old, wait: 0 });
    expect(first.status).toBe(200);
    expect(first.body.events.map((e: any) => e.message)).toEqual(sent);
    expectStrictlyIncreasing(cursors(first.body.events));
    // The response is "lost": ask again from the same cursor.
    const replay = await rawPoll(bob, { after: old, wait: 0 });
    expect(replay.body).toEqual(first.body);
    // Acknowledging part of it gives the rest.
    const rest = await rawPoll(bob, { after: first.body.events[0].cursor, wait: 0 });
    expect(rest.body.events).toEqual(first.body.events.slice(1));
    expect(rest.body.cursor).toBe(first.body.cursor);
    // Alice sees the same events under the same cursors.
    const hers = await rawPoll(alice, { after: old, wait: 0 });
    expect(hers.body.events).toEqual(first.body.events);
  });

  it('50 messages sent at once arrive in strictly increasing cursor order, each once, in history order', async () => {
    const [alice, bob] = await Promise.all([fresh('alice'), fresh('bob')]);
    const chatId = await activeChat(alice, bob);

    // Both hold polls while the burst is committed, so the hub's wake-up path is exercised.
    const heldBefore = server.services.hub.size;
    const receiving = [collect(alice, 50, isMessage, COLLECT_MS), collect(bob, 50, isMessage, COLLECT_MS)];
    await eventually(() => server.services.hub.size === heldBefore + 2, 3000, 'both polls to be held');
    const clientIds = Array.from({ length: 50 }, (_, i) => `burst-${String(i).padStart(2, '0')}`);
    const results = await Promise.all(clientIds.map((id, i) => (i % 2 ? bob : alice).put(`/api/v1/chats/${chatId}/messages/${id}`, { text: id })));
    expect(results.map((r) => r.status)).toEqual(clientIds.map(() => 201));
    const [toAlice, toBob] = await Promise.all(receiving);

    const history = await alice.get(`/api/v1/chats/${chatId}/messages?limit=200`);
    expect(history.body.messages).toHaveLength(50);
    const historyIds = history.body.messages.map((m: any) => m.id);
    expectStrictlyIncreasing(historyIds);

    for (const got of [toAlice!, toBob!]) {
      expect(got).toHaveLength(50);
      expectStrictlyIncreasing(cursors(got));
      expect(new Set(got.map((e) => e.message.clientId)).size).toBe(50);
      expect([...got.map((e) => e.message.clientId)].sort()).toEqual(clientIds);
      expect(got.map((e) => e.message.id)).toEqual(historyIds);
      expect(got.map((e) => e.message)).toEqual(history.body.messages);
    }
    expect(toAlice!.map((e) => e.cursor)).toEqual(toBob!.map((e) => e.cursor));
    // Nothing trails behind.
    expect((await bob.poll(0)).filter(isMessage)).toEqual([]);
  });

  it('a second poll with the same token replaces the first, which answers at once with no events', async () => {
    const [alice, bob] = await Promise.all([fresh('alice'), fresh('bob')]);
    const chatId = await activeChat(alice, bob);
    const cursor = bob.cursor!;

    const heldBefore = server.services.hub.size;
    const first = rawPoll(bob, { after: cursor, wait: 10 });
    await eventually(() => server.services.hub.size === heldBefore + 1, 3000, 'the first poll to be held');
    const replacedAt = Date.now();
    const second = rawPoll(bob, { after: cursor, wait: 10 });
    const firstAnswer = await first;
    expect(Date.now() - replacedAt).toBeLessThan(2000);
    expect(firstAnswer.status).toBe(200);
    expect(firstAnswer.body).toEqual({ events: [], cursor });
    // The second is the one held now, and it gets the next event.
    await eventually(() => server.services.hub.size === heldBefore + 1, 3000, 'the second poll to be held');
    const message = await send(alice, chatId, 'for-the-second');
    const secondAnswer = await second;
    expect(secondAnswer.ms).toBeLessThan(5000);
    expect(secondAnswer.body.events.map((e: any) => e.message)).toEqual([message]);

    // A poll by another session of the same user does not replace it.
    const otherSession = await Client.login(server.url, bob.username!, PASSWORD);
    const mine = rawPoll(bob, { after: secondAnswer.body.cursor, wait: 10 });
    await eventually(() => server.services.hub.size === heldBefore + 1, 3000, 'bob to be held');
    const theirs = rawPoll(otherSession, { after: secondAnswer.body.cursor, wait: 10 });
    await eventually(() => server.services.hub.size === heldBefore + 2, 3000, 'both sessions to be held');
    const next = await send(alice, chatId, 'for-both');
    for (const answer of await Promise.all([mine, theirs])) {
      expect(answer.ms).toBeLessThan(5000);
      expect(answer.body.events.map((e: any) => e.message)).toEqual([next]);
    }
  });

  it('store-and-forward: someone who stopped polling (offline) gets every request and message on the next poll, in order', async () => {
    const [alice, bob, dave] = await Promise.all([fresh('alice'), fresh('bob'), fresh('dave')]);
    const chatId = await activeChat(alice, dave);
    const since = dave.cursor!;
    // Dave stops polling: after the grace (300 ms here) he is offline.
    await eventually(async () => (await dave.get('/api/v1/me')).body.user.presence === 'offline', 5000, 'dave to go offline');
    expect(server.services.presence.tracker.isConnected((await dave.get('/api/v1/me')).body.user.id)).toBe(false);

    const m1 = await send(alice, chatId, 'sf-1');
    const m2 = await send(alice, chatId, 'sf-2');
    const request = await bob.post('/api/v1/chats', { invitees: [dave.username] });
    expect(request.status).toBe(201);
    const m3 = await send(alice, chatId, 'sf-3');
    const second = await alice.post('/api/v1/chats', { invitees: [dave.username, bob.username] });
    expect(second.status).toBe(201);
    const m4 = await send(alice, chatId, 'sf-4');

    const back = await rawPoll(dave, { after: since, wait: 0 });
    expect(back.status).toBe(200);
    const summary = back.body.events.map((e: any) =>
      e.type === 'chat.message' ? `message ${e.message.clientId}` : `${e.type} ${e.chat.id}`,
    );
    expect(summary).toEqual([
      'message sf-1',
      'message sf-2',
      `chat.request ${request.body.chat.id}`,
      'message sf-3',
      `chat.request ${second.body.chat.id}`,
      'message sf-4',
    ]);
    expect(back.body.events.filter(isMessage).map((e: any) => e.message)).toEqual([m1, m2, m3, m4]);
    expectStrictlyIncreasing(cursors(back.body.events));
    expect(back.body.cursor).toBe(back.body.events.at(-1).cursor);
    // Polling again brings him back online.
    await eventually(async () => (await dave.get('/api/v1/me')).body.user.presence === 'available', 3000, 'dave to be back');
  });

  it('bad query values are 400 invalid_request; no or a wrong token is 401', async () => {
    const alice = await fresh('alice');
    for (const query of ['after=abc', 'after=-1', 'after=1.5', 'wait=-1', 'wait=999', 'wait=abc', 'interval=-1', 'unknown=1', 'after=1&after=2']) {
      const res = await alice.get(`/api/v1/events?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.headers.get('content-type'), query).toMatch(/^application\/json/);
      expect(res.body.error.code, query).toBe('invalid_request');
      expect(typeof res.body.error.message, query).toBe('string');
    }
    expect(server.services.hub.size).toBe(0);

    const anonymous = await new Client(server.url).get('/api/v1/events?wait=0');
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error.code).toBe('unauthorized');
    expect(anonymous.headers.get('www-authenticate')).toBe('Bearer');
    const wrong = await new Client(server.url, 'x'.repeat(43)).get('/api/v1/events?wait=0');
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('unauthorized');
  });
});

describe('reset', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.destroy();
  });

  it('a cursor ahead of the head, or older than retention, answers {reset, cursor}', async () => {
    const alice = await server.user('alice');
    const bob = await server.user('bob');
    const chatId = await activeChat(alice, bob);
    await send(alice, chatId, 'before-prune');
    const old = '1';
    const head = await server.services.store.headSeq();
    expect(head).toBeGreaterThan(1);

    const ahead = await rawPoll(alice, { after: head + 1000, wait: 0 });
    expect(ahead.status).toBe(200);
    expect(ahead.body).toEqual({ reset: true, cursor: String(head) });
    // Not yet pruned: an old cursor still works.
    const fine = await rawPoll(alice, { after: old, wait: 0 });
    expect(fine.body.reset).toBeUndefined();
    expect(fine.body.events.filter(isMessage).map((e: any) => e.message.clientId)).toEqual(['before-prune']);

    expect(await server.services.store.pruneEvents(Date.now() + 1000)).toBeGreaterThan(0);
    const headNow = await server.services.store.headSeq();
    expect(headNow).toBe(head);
    const stale = await rawPoll(alice, { after: old, wait: 0 });
    expect(stale.status).toBe(200);
    expect(stale.body).toEqual({ reset: true, cursor: String(headNow) });
    // A held poll from a stale cursor is not held either.
    const staleHeld = await rawPoll(bob, { after: old, wait: 10 });
    expect(staleHeld.body).toEqual({ reset: true, cursor: String(headNow) });
    expect(staleHeld.ms).toBeLessThan(2000);

    // The head itself is current: polling from the reset cursor works and gets what follows.
    const current = await rawPoll(alice, { after: stale.body.cursor, wait: 0 });
    expect(current.body).toEqual({ events: [], cursor: stale.body.cursor });
    const after = await send(bob, chatId, 'after-prune');
    const next = await rawPoll(alice, { after: stale.body.cursor, wait: 0 });
    expect(next.body.events.map((e: any) => e.message)).toEqual([after]);
    expect(Number(next.body.cursor)).toBeGreaterThan(headNow);
    // The history itself is not pruned.
    const history = await alice.get(`/api/v1/chats/${chatId}/messages`);
    expect(history.body.messages.map((m: any) => m.clientId)).toEqual(['before-prune', 'after-prune']);
  });
});

describe('a server restart in the middle', () => {
  let server: TestServer | undefined;
  afterAll(async () => {
    await server?.destroy();
  });

  it('keeps history and tokens; old cursors resume exactly where they were; held polls end', async () => {
    server = await startTestServer();
    const alice = await server.user('alice');
    const bob = await server.user('bob');
    const carol = await server.user('carol');
    const chatId = await activeChat(alice, bob);

    const seen = [await send(alice, chatId, 'pre-1'), await send(bob, chatId, 'pre-2')];
    expect((await collect(bob, 2, isMessage, COLLECT_MS)).map((e) => e.message)).toEqual(seen);
    const bobCursor = bob.cursor!;
    const unseen = [await send(alice, chatId, 'pre-3'), await send(bob, chatId, 'pre-4')];
    // Alice reads them before the restart, to know their cursors.
    const unseenEvents = await collect(alice, 4, isMessage, COLLECT_MS);
    expect(unseenEvents.slice(2).map((e) => e.message)).toEqual(unseen);

    // Carol holds a poll across the restart.
    await carol.poll();
    const held = rawPoll(carol, { after: carol.cursor, wait: 10 }).then(
      (answer) => ({ ok: true as const, answer }),
      (error: unknown) => ({ ok: false as const, error }),
    );
    await eventually(() => server!.services.hub.size === 1, 3000, 'carol to be held');

    const restartedAt = Date.now();
    const old = server;
    server = await old.restart();
    const ended = await held;
    expect(Date.now() - restartedAt).toBeLessThan(6000);
    if (ended.ok) {
      expect(ended.answer.ms).toBeLessThan(8000);
      expect(ended.answer.status).toBe(200);
      expect(ended.answer.body).toEqual({ events: [], cursor: carol.cursor });
    }
    expect(server.url).toBe(old.url);

    const alice2 = new Client(server.url, alice.token, alice.username);
    const bob2 = new Client(server.url, bob.token, bob.username);
    const carol2 = new Client(server.url, carol.token, carol.username);
    alice2.cursor = alice.cursor;
    bob2.cursor = bobCursor;
    carol2.cursor = carol.cursor;

    // The tokens still work, and history survived.
    expect((await bob2.get('/api/v1/me')).status).toBe(200);
    const history = await bob2.get(`/api/v1/chats/${chatId}/messages`);
    expect(history.status).toBe(200);
    expect(history.body.messages).toEqual([...seen, ...unseen]);

    // Bob resumes from his pre-restart cursor: exactly what he had not seen, under the same cursors.
    const resumed = await bob2.poll(0);
    expect(resumed.map((e) => e.message)).toEqual(unseen);
    expect(resumed.map((e) => e.cursor)).toEqual(unseenEvents.slice(2).map((e) => e.cursor));
    // A re-poll after the lost response gets them again, no more.
    const replay = await rawPoll(bob2, { after: bobCursor, wait: 0 });
    expect(replay.body.events.map((e: any) => e.message)).toEqual(unseen);

    // New events continue with higher cursors, and the held poller can poll again.
    const carolAgain = rawPoll(carol2, { after: carol2.cursor, wait: 0 });
    const after = await send(alice2, chatId, 'post-1');
    const next = await collect(bob2, 1, isMessage, COLLECT_MS);
    expect(next.map((e) => e.message)).toEqual([after]);
    expect(Number(next[0].cursor)).toBeGreaterThan(Number(resumed.at(-1).cursor));
    const aliceNext = await collect(alice2, 1, isMessage, COLLECT_MS);
    expect(aliceNext[0].cursor).toBe(next[0].cursor);
    const carolAnswer = await carolAgain;
    expect(carolAnswer.status).toBe(200);
    expect(carolAnswer.body.events).toEqual([]);
    expect(Number(carolAnswer.body.cursor)).toBeGreaterThanOrEqual(Number(carol.cursor));
  });
});
