/**
 * Chat requests, membership and messages against a real server over loopback HTTP:
 * two- and three-person chats, the events each side sees, history paging, idempotent sends,
 * and who may do what.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activeChat, createChat } from '../helpers/chat.js';
import { Client, collect, drain, startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let seq = 0;

type User = Client & { username: string; token: string };

/** A fresh user (unique name per call) whose event cursor starts now. */
async function fresh(prefix: string): Promise<User> {
  const client = await server.user(`${prefix}${++seq}`);
  await client.poll();
  return client as User;
}

function users<const T extends readonly string[]>(...prefixes: T): Promise<{ [K in keyof T]: User }> {
  return Promise.all(prefixes.map(fresh)) as Promise<any>;
}

const statuses = (chat: { members: Array<{ username: string; status: string }> }) =>
  Object.fromEntries(chat.members.map((m) => [m.username, m.status]));

beforeAll(async () => {
  server = await startTestServer({ loginPerIpPerMinute: 10_000 });
});
afterAll(async () => {
  await server?.destroy();
});

describe('chat requests and membership', () => {
  it('a request is 201 pending, and the invitee gets a chat.request event', async () => {
    const [alice, bob] = await users('alice', 'bob');
    const res = await alice.post('/api/v1/chats', { invitees: [bob.username] });
    expect(res.status).toBe(201);
    const chat = res.body.chat;
    expect(chat.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(chat.state).toBe('pending');
    expect(chat.createdBy).toBe(alice.username);
    expect(chat.members).toEqual([
      { username: alice.username, displayName: alice.username, status: 'accepted' },
      { username: bob.username, displayName: bob.username, status: 'invited' },
    ]);

    const request = await bob.waitFor('chat.request');
    expect(request.from).toBe(alice.username);
    expect(request.chat).toEqual(chat);
    expect(request.cursor).toMatch(/^\d+$/);

    // The invitee can see it, and it is pending for both.
    const viewed = await bob.get(`/api/v1/chats/${chat.id}`);
    expect(viewed.status).toBe(200);
    expect(viewed.body.chat).toEqual(chat);
    // The creator does not get their own request.
    expect((await drain(alice)).filter((e) => e.type === 'chat.request')).toEqual([]);
  });

  it('accepting makes the chat active, and both sides get chat.accepted', async () => {
    const [alice, bob] = await users('alice', 'bob');
    const chat = await createChat(alice, bob);
    await bob.waitFor('chat.request', (e) => e.chat.id === chat.id);

    const accepted = await bob.post(`/api/v1/chats/${chat.id}/accept`);
    expect(accepted.status).toBe(200);
    expect(accepted.body.chat.state).toBe('active');
    expect(statuses(accepted.body.chat)).toEqual({ [alice.username]: 'accepted', [bob.username]: 'accepted' });

    for (const side of [alice, bob]) {
      const event = await side.waitFor('chat.accepted', (e) => e.chat.id === chat.id);
      expect(event.username).toBe(bob.username);
      expect(event.chat.state).toBe('active');
      expect(statuses(event.chat)).toEqual({ [alice.username]: 'accepted', [bob.username]: 'accepted' });
    }
    expect((await alice.get(`/api/v1/chats/${chat.id}`)).body.chat.state).toBe('active');

    // Accepting twice is refused.
    const again = await bob.post(`/api/v1/chats/${chat.id}/accept`);
    expect(again.status).toBe(409);
  });

  it('declining a 1:1 request tells the inviter and closes the chat', async () => {
    const [alice, bob] = await users('alice', 'bob');
    const chat = await createChat(alice, bob);
    await bob.waitFor('chat.request', (e) => e.chat.id === chat.id);

    const declined = await bob.post(`/api/v1/chats/${chat.id}/decline`);
    expect(declined.status).toBe(200);
    expect(declined.body.chat.state).toBe('closed');

    const event = await alice.waitFor('chat.declined', (e) => e.chat.id === chat.id);
    expect(event.username).toBe(bob.username);
    expect(event.chat.state).toBe('closed');
    expect(statuses(event.chat)).toEqual({ [alice.username]: 'accepted', [bob.username]: 'declined' });

    const viewed = await alice.get(`/api/v1/chats/${chat.id}`);
    expect(viewed.body.chat.state).toBe('closed');
    // Nothing can be said in it, and it cannot be accepted any more.
    const send = await alice.put(`/api/v1/chats/${chat.id}/messages/after-decline`, { text: 'anyone?' });
    expect(send.status).toBe(409);
    expect(send.body.error.code).toBe('chat_not_active');
    const accept = await bob.post(`/api/v1/chats/${chat.id}/accept`);
    expect(accept.status).toBe(409);
    // The decliner no longer lists it.
    expect((await bob.get('/api/v1/chats')).body.chats.map((c: any) => c.id)).not.toContain(chat.id);
  });

  it('a group chat: one invitee accepts (active), the other declines; statuses follow', async () => {
    const [alice, bob, carol] = await users('alice', 'bob', 'carol');
    const chat = await createChat(alice, bob, carol);
    expect(chat.state).toBe('pending');
    expect(statuses(chat)).toEqual({ [alice.username]: 'accepted', [bob.username]: 'invited', [carol.username]: 'invited' });

    for (const invitee of [bob, carol]) {
      const request = await invitee.waitFor('chat.request', (e) => e.chat.id === chat.id);
      expect(request.from).toBe(alice.username);
      expect(request.chat.members.map((m: any) => m.username)).toEqual([alice.username, bob.username, carol.username]);
    }

    const accepted = await bob.post(`/api/v1/chats/${chat.id}/accept`);
    expect(accepted.status).toBe(200);
    expect(accepted.body.chat.state).toBe('active');
    expect(statuses(accepted.body.chat)).toEqual({ [alice.username]: 'accepted', [bob.username]: 'accepted', [carol.username]: 'invited' });
    await alice.waitFor('chat.accepted', (e) => e.chat.id === chat.id && e.username === bob.username);

    const declined = await carol.post(`/api/v1/chats/${chat.id}/decline`);
    expect(declined.status).toBe(200);
    expect(declined.body.chat.state).toBe('active');
    const expected = { [alice.username]: 'accepted', [bob.username]: 'accepted', [carol.username]: 'declined' };
    expect(statuses(declined.body.chat)).toEqual(expected);

    for (const member of [alice, bob]) {
      const event = await member.waitFor('chat.declined', (e) => e.chat.id === chat.id);
      expect(event.username).toBe(carol.username);
      expect(event.chat.state).toBe('active');
      expect(statuses(event.chat)).toEqual(expected);
    }
    const viewed = await bob.get(`/api/v1/chats/${chat.id}`);
    expect(viewed.body.chat.state).toBe('active');
    expect(statuses(viewed.body.chat)).toEqual(expected);
    // The one who declined cannot read or write, and does not list the chat.
    expect((await carol.get(`/api/v1/chats/${chat.id}/messages`)).status).toBe(403);
    expect((await carol.put(`/api/v1/chats/${chat.id}/messages/x`, { text: 'hi' })).status).toBe(403);
    expect((await carol.get('/api/v1/chats')).body.chats).toEqual([]);
  });

  it('leaving: the others get chat.left; a 1:1 chat closes and sending is 409 chat_not_active', async () => {
    const [alice, bob] = await users('alice', 'bob');
    const chatId = await activeChat(alice, bob);
    expect((await alice.put(`/api/v1/chats/${chatId}/messages/before-leave`, { text: 'still here' })).status).toBe(201);

    const left = await bob.post(`/api/v1/chats/${chatId}/leave`);
    expect(left.status).toBe(200);
    expect(left.body.chat.state).toBe('closed');
    expect(statuses(left.body.chat)).toEqual({ [alice.username]: 'accepted', [bob.username]: 'left' });

    const event = await alice.waitFor('chat.left', (e) => e.chat.id === chatId);
    expect(event.username).toBe(bob.username);
    expect(event.chat.state).toBe('closed');

    const send = await alice.put(`/api/v1/chats/${chatId}/messages/after-leave`, { text: 'hello?' });
    expect(send.status).toBe(409);
    expect(send.body.error.code).toBe('chat_not_active');
    // The one who left is no longer taking part at all.
    const theirs = await bob.put(`/api/v1/chats/${chatId}/messages/after-leave`, { text: 'back' });
    expect(theirs.status).toBe(403);
    expect((await bob.get(`/api/v1/chats/${chatId}/messages`)).status).toBe(403);
    expect((await bob.get('/api/v1/chats')).body.chats.map((c: any) => c.id)).not.toContain(chatId);
    // History of the closed chat is unchanged for the one who stayed.
    const history = await alice.get(`/api/v1/chats/${chatId}/messages`);
    expect(history.body.messages.map((m: any) => m.clientId)).toEqual(['before-leave']);
    // The one who stayed can put the closed chat away by leaving it too.
    expect((await alice.get('/api/v1/chats')).body.chats.map((c: any) => c.id)).toContain(chatId);
    expect((await alice.post(`/api/v1/chats/${chatId}/leave`)).status).toBe(200);
    expect((await alice.get('/api/v1/chats')).body.chats.map((c: any) => c.id)).not.toContain(chatId);
    expect((await alice.post(`/api/v1/chats/${chatId}/accept`)).body.error.code).toBe('chat_closed');
  });

  it('leaving a group of three keeps it active for the other two', async () => {
    const [alice, bob, carol] = await users('alice', 'bob', 'carol');
    const chat = await createChat(alice, bob, carol);
    for (const c of [bob, carol]) {
      await c.waitFor('chat.request', (e) => e.chat.id === chat.id);
      expect((await c.post(`/api/v1/chats/${chat.id}/accept`)).status).toBe(200);
    }
    const left = await carol.post(`/api/v1/chats/${chat.id}/leave`);
    expect(left.body.chat.state).toBe('active');
    for (const member of [alice, bob]) {
      const event = await member.waitFor('chat.left', (e) => e.chat.id === chat.id);
      expect(event.username).toBe(carol.username);
      expect(statuses(event.chat)).toEqual({ [alice.username]: 'accepted', [bob.username]: 'accepted', [carol.username]: 'left' });
    }
    expect((await bob.put(`/api/v1/chats/${chat.id}/messages/m1`, { text: 'just us' })).status).toBe(201);
  });

  it('the creator leaving a pending chat sends chat.closed to those still invited', async () => {
    const [alice, bob, carol] = await users('alice', 'bob', 'carol');
    const chat = await createChat(alice, bob, carol);
    for (const c of [bob, carol]) await c.waitFor('chat.request', (e) => e.chat.id === chat.id);

    const left = await alice.post(`/api/v1/chats/${chat.id}/leave`);
    expect(left.status).toBe(200);
    expect(left.body.chat.state).toBe('closed');

    for (const invitee of [bob, carol]) {
      const closed = await invitee.waitFor('chat.closed', (e) => e.chat.id === chat.id);
      expect(closed.chat.state).toBe('closed');
      expect(statuses(closed.chat)).toEqual({ [alice.username]: 'left', [bob.username]: 'invited', [carol.username]: 'invited' });
      // Too late to accept.
      const accept = await invitee.post(`/api/v1/chats/${chat.id}/accept`);
      expect(accept.status).toBe(409);
      expect(accept.body.error.code).toBe('chat_closed');
    }
  });
});

describe('messages', () => {
  it('are delivered as chat.message to every member, the sender included, both ways', async () => {
    const [alice, bob, carol] = await users('alice', 'bob', 'carol');
    const chat = await createChat(alice, bob, carol);
    for (const c of [bob, carol]) {
      await c.waitFor('chat.request', (e) => e.chat.id === chat.id);
      expect((await c.post(`/api/v1/chats/${chat.id}/accept`)).status).toBe(200);
    }
    const isMessage = (e: any) => e.type === 'chat.message';
    // Everyone reads up to now, so only the messages remain.
    await Promise.all([alice, bob, carol].map(drain));

    const sent: any[] = [];
    for (const [from, clientId, text] of [
      [alice, 'a-1', 'Hello both'],
      [bob, 'b-1', 'Hi Alice'],
      [carol, 'c-1', 'Hey there'],
    ] as const) {
      const res = await from.put(`/api/v1/chats/${chat.id}/messages/${clientId}`, { text });
      expect(res.status).toBe(201);
      expect(res.body.message).toMatchObject({ chatId: chat.id, clientId, from: from.username, text });
      expect(Number.isInteger(res.body.message.id)).toBe(true);
      sent.push(res.body.message);
    }
    for (const member of [alice, bob, carol]) {
      const got = await collect(member, 3, isMessage);
      expect(got.map((e) => e.message)).toEqual(sent);
      // Nothing extra follows.
      expect((await drain(member)).filter(isMessage)).toEqual([]);
    }
  });

  it('a message to a pending chat is stored (201): the creator may write before acceptance (issue 16)', async () => {
    const [alice, bob] = await users('alice', 'bob');
    const chat = await createChat(alice, bob);
    const res = await alice.put(`/api/v1/chats/${chat.id}/messages/early`, { text: 'too soon' });
    expect(res.status).toBe(201);
    expect(res.body.message.text).toBe('too soon');
  });

  it('history pages back 50 at a time, oldest first within a page, with nothing missing or doubled', async () => {
    const [alice, bob] = await users('alice', 'bob');
    const chatId = await activeChat(alice, bob);
    const ids: number[] = [];
    for (let i = 0; i < 120; i++) {
      const from = i % 3 === 0 ? bob : alice;
      const clientId = `h-${String(i).padStart(3, '0')}`;
      const res = await from.put(`/api/v1/chats/${chatId}/messages/${clientId}`, { text: `message ${i}` });
      expect(res.status).toBe(201);
      ids.push(res.body.message.id);
    }
    // Ids grow in the order the messages were sent.
    for (let i = 1; i < ids.length; i++) expect(ids[i]).toBeGreaterThan(ids[i - 1]!);

    const pages: any[][] = [];
    let before: number | undefined;
    for (;;) {
      const query = new URLSearchParams({ limit: '50' });
      if (before !== undefined) query.set('before', String(before));
      const res = await bob.get(`/api/v1/chats/${chatId}/messages?${query}`);
      expect(res.status).toBe(200);
      pages.push(res.body.messages);
      const pageIds = res.body.messages.map((m: any) => m.id);
      expect(pageIds).toEqual([...pageIds].sort((a: number, b: number) => a - b));
      before = res.body.before;
      if (before === undefined) break;
      expect(before).toBe(pageIds[0]);
      expect(pages.length).toBeLessThan(10);
    }
    expect(pages.map((p) => p.length)).toEqual([50, 50, 20]);
    // Newest page first; read back to front they give every message once, in order.
    const all = pages.reverse().flat();
    expect(all.map((m) => m.id)).toEqual(ids);
    expect(all.map((m) => m.text)).toEqual(ids.map((_, i) => `message ${i}`));
    expect(all[0].from).toBe(bob.username);
    expect(all[1].from).toBe(alice.username);

    // The default page is 50, the newest ones.
    const latest = await alice.get(`/api/v1/chats/${chatId}/messages`);
    expect(latest.body.messages.map((m: any) => m.id)).toEqual(ids.slice(70));
    expect(latest.body.before).toBe(ids[70]);
    // A cursor in the middle.
    const middle = await alice.get(`/api/v1/chats/${chatId}/messages?limit=5&before=${ids[10]}`);
    expect(middle.body.messages.map((m: any) => m.id)).toEqual(ids.slice(5, 10));
    // The oldest page carries no `before`, also when it is exactly full.
    const oldest = await alice.get(`/api/v1/chats/${chatId}/messages?limit=10&before=${ids[10]}`);
    expect(oldest.body.messages.map((m: any) => m.id)).toEqual(ids.slice(0, 10));
    expect(oldest.body.before).toBeUndefined();
    // Bad paging values.
    for (const bad of ['limit=0', 'limit=201', 'limit=abc', 'before=0', 'before=-3', 'cursor=1']) {
      const res = await alice.get(`/api/v1/chats/${chatId}/messages?${bad}`);
      expect(res.status, bad).toBe(400);
      expect(res.body.error.code, bad).toBe('invalid_request');
    }
  });

  it('PUT with the same client id is idempotent; different text under it is 409 idempotency_conflict', async () => {
    const [alice, bob] = await users('alice', 'bob');
    const chatId = await activeChat(alice, bob);
    await Promise.all([alice, bob].map(drain));

    const first = await alice.put(`/api/v1/chats/${chatId}/messages/idem-1`, { text: 'only once' });
    expect(first.status).toBe(201);
    const again = await alice.put(`/api/v1/chats/${chatId}/messages/idem-1`, { text: 'only once' });
    expect(again.status).toBe(200);
    expect(again.body.message).toEqual(first.body.message);

    const conflicting = await alice.put(`/api/v1/chats/${chatId}/messages/idem-1`, { text: 'something else' });
    expect(conflicting.status).toBe(409);
    expect(conflicting.body.error.code).toBe('idempotency_conflict');

    // Retries racing each other still store one message.
    const raced = await Promise.all([1, 2, 3].map(() => alice.put(`/api/v1/chats/${chatId}/messages/idem-2`, { text: 'raced' })));
    expect(raced.map((r) => r.status).sort()).toEqual([200, 200, 201]);
    expect(new Set(raced.map((r) => r.body.message.id)).size).toBe(1);

    // The same client id from the other member is a different message.
    const bobs = await bob.put(`/api/v1/chats/${chatId}/messages/idem-1`, { text: 'mine' });
    expect(bobs.status).toBe(201);
    expect(bobs.body.message.id).not.toBe(first.body.message.id);

    const marker = await alice.put(`/api/v1/chats/${chatId}/messages/idem-end`, { text: 'end' });
    expect(marker.status).toBe(201);

    const history = await bob.get(`/api/v1/chats/${chatId}/messages`);
    expect(history.body.messages.map((m: any) => [m.from, m.clientId, m.text])).toEqual([
      [alice.username, 'idem-1', 'only once'],
      [alice.username, 'idem-2', 'raced'],
      [bob.username, 'idem-1', 'mine'],
      [alice.username, 'idem-end', 'end'],
    ]);
    expect(history.body.messages[0]).toEqual(first.body.message);

    // Delivered once each: read until the marker and count.
    for (const member of [alice, bob]) {
      const got = await collect(member, 4, (e) => e.type === 'chat.message');
      expect(got.map((e) => `${e.message.from}/${e.message.clientId}`)).toEqual([
        `${alice.username}/idem-1`,
        `${alice.username}/idem-2`,
        `${bob.username}/idem-1`,
        `${alice.username}/idem-end`,
      ]);
      expect((await drain(member)).filter((e) => e.type === 'chat.message')).toEqual([]);
    }
  });

  it('rejects empty, too long, and malformed messages and client ids with 400', async () => {
    const [alice, bob] = await users('alice', 'bob');
    const chatId = await activeChat(alice, bob);
    const cases: Array<[string, unknown]> = [
      ['ok-id', { text: '   ' }],
      ['ok-id', { text: 'x'.repeat(4001) }],
      ['ok-id', { text: 'hi', extra: 1 }],
      ['ok-id', {}],
      ['bad.id', { text: 'hi' }],
      ['x'.repeat(65), { text: 'hi' }],
    ];
    for (const [clientId, body] of cases) {
      const res = await alice.put(`/api/v1/chats/${chatId}/messages/${clientId}`, body);
      expect(res.status, `${clientId} ${JSON.stringify(body).slice(0, 40)}`).toBe(400);
      expect(res.body.error.code).toBe('invalid_request');
    }
    expect((await alice.get(`/api/v1/chats/${chatId}/messages`)).body.messages).toEqual([]);
  });
});

describe('who may do what', () => {
  it('someone outside the chat gets 403; unknown chats 404; malformed ids 400; a pending invitee may read', async () => {
    const [alice, bob, mallory] = await users('alice', 'bob', 'mallory');
    const chatId = await activeChat(alice, bob);
    expect((await alice.put(`/api/v1/chats/${chatId}/messages/secret`, { text: 'secret' })).status).toBe(201);

    const history = await mallory.get(`/api/v1/chats/${chatId}/messages`);
    expect(history.status).toBe(403);
    expect(history.body.error.code).toBe('forbidden');
    expect(JSON.stringify(history.body)).not.toContain('secret"');
    expect((await mallory.get(`/api/v1/chats/${chatId}`)).status).toBe(403);
    const send = await mallory.put(`/api/v1/chats/${chatId}/messages/m1`, { text: 'let me in' });
    expect(send.status).toBe(403);
    expect(send.body.error.code).toBe('forbidden');
    for (const verb of ['accept', 'decline', 'leave']) {
      const res = await mallory.post(`/api/v1/chats/${chatId}/${verb}`);
      expect(res.status, verb).toBe(403);
      expect(res.body.error.code, verb).toBe('forbidden');
    }
    // Nothing changed: still two members, one message.
    const chat = (await alice.get(`/api/v1/chats/${chatId}`)).body.chat;
    expect(statuses(chat)).toEqual({ [alice.username]: 'accepted', [bob.username]: 'accepted' });
    expect((await bob.get(`/api/v1/chats/${chatId}/messages`)).body.messages.map((m: any) => m.text)).toEqual(['secret']);
    // Mallory saw no event of it.
    expect((await drain(mallory)).filter((e) => e.type.startsWith('chat.'))).toEqual([]);

    const unknown = '4b0f3f4e-0c1d-4a57-9a53-8f2d1e0c9b7a';
    for (const [method, path] of [
      ['get', `/api/v1/chats/${unknown}`],
      ['get', `/api/v1/chats/${unknown}/messages`],
      ['put', `/api/v1/chats/${unknown}/messages/m1`],
      ['post', `/api/v1/chats/${unknown}/accept`],
      ['post', `/api/v1/chats/${unknown}/leave`],
    ] as const) {
      const res = await alice.request(method.toUpperCase(), path, method === 'get' ? undefined : { text: 'hi' });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.body.error.code).toBe('not_found');
    }
    for (const [method, path] of [
      ['GET', '/api/v1/chats/not-a-uuid'],
      ['GET', '/api/v1/chats/not-a-uuid/messages'],
      ['PUT', '/api/v1/chats/not-a-uuid/messages/m1'],
      ['POST', '/api/v1/chats/not-a-uuid/accept'],
    ] as const) {
      const res = await alice.request(method, path, method === 'GET' ? undefined : method === 'PUT' ? { text: 'hi' } : {});
      expect(res.status, `${method} ${path}`).toBe(400);
      expect(res.body.error.code).toBe('invalid_request');
    }

    // A pending invitee may see the chat and (issue 16) read what was said while it is pending.
    const [carol] = await users('carol');
    const pending = await createChat(alice, carol);
    expect((await carol.get(`/api/v1/chats/${pending.id}`)).status).toBe(200);
    const early = await carol.get(`/api/v1/chats/${pending.id}/messages`);
    expect(early.status).toBe(200);
    expect(early.body.messages).toEqual([]);
  });

  it('without a token every chat endpoint is 401', async () => {
    const anonymous = new Client(server.url);
    for (const [method, path] of [
      ['GET', '/api/v1/chats'],
      ['POST', '/api/v1/chats'],
      ['GET', '/api/v1/chats/4b0f3f4e-0c1d-4a57-9a53-8f2d1e0c9b7a/messages'],
    ] as const) {
      const res = await anonymous.request(method, path, method === 'POST' ? { invitees: ['admin'] } : undefined);
      expect(res.status, `${method} ${path}`).toBe(401);
      expect(res.body.error.code).toBe('unauthorized');
    }
  });

  it('inviting an unknown user or yourself is 400 and creates nothing', async () => {
    const [alice, bob] = await users('alice', 'bob');
    const existing = await createChat(alice, bob);
    await bob.waitFor('chat.request', (e) => e.chat.id === existing.id);
    const before = (await alice.get('/api/v1/chats')).body.chats;
    expect(before.map((c: any) => c.id)).toEqual([existing.id]);

    for (const invitees of [['nobody-here'], [alice.username], [bob.username, 'nobody-here'], [bob.username, alice.username], [alice.username.toUpperCase()], []]) {
      const res = await alice.post('/api/v1/chats', { invitees });
      expect(res.status, JSON.stringify(invitees)).toBe(400);
      expect(res.body.error.code).toBe('invalid_request');
    }
    expect((await alice.get('/api/v1/chats')).body.chats).toEqual(before);
    expect((await bob.get('/api/v1/chats')).body.chats.map((c: any) => c.id)).toEqual([existing.id]);
    expect((await drain(bob)).filter((e) => e.type === 'chat.request')).toEqual([]);
  });

  it('GET /chats lists the invited and accepted chats, newest first', async () => {
    const [alice, bob, carol, dave] = await users('alice', 'bob', 'carol', 'dave');
    expect((await alice.get('/api/v1/chats')).body).toEqual({ chats: [] });

    const first = await createChat(alice, bob); // bob accepts
    const second = await createChat(carol, alice); // alice is invited
    const third = await createChat(alice, carol, dave); // group, stays pending
    const declined = await createChat(dave, alice); // alice declines
    const left = await createChat(bob, alice); // alice accepts, then leaves
    const last = await createChat(alice, dave); // newest

    expect((await bob.post(`/api/v1/chats/${first.id}/accept`)).status).toBe(200);
    expect((await alice.post(`/api/v1/chats/${declined.id}/decline`)).status).toBe(200);
    expect((await alice.post(`/api/v1/chats/${left.id}/accept`)).status).toBe(200);
    expect((await alice.post(`/api/v1/chats/${left.id}/leave`)).status).toBe(200);

    const mine = await alice.get('/api/v1/chats');
    expect(mine.status).toBe(200);
    expect(mine.body.chats.map((c: any) => c.id)).toEqual([last.id, third.id, second.id, first.id]);
    const byId = Object.fromEntries(mine.body.chats.map((c: any) => [c.id, c]));
    expect(byId[first.id].state).toBe('active');
    expect(byId[second.id].state).toBe('pending');
    expect(statuses(byId[second.id])[alice.username]).toBe('invited');
    expect(byId[third.id].state).toBe('pending');
    const created = mine.body.chats.map((c: any) => Date.parse(c.createdAt));
    expect(created).toEqual([...created].sort((a: number, b: number) => b - a));

    expect((await bob.get('/api/v1/chats')).body.chats.map((c: any) => c.id)).toEqual([left.id, first.id]);
    expect((await dave.get('/api/v1/chats')).body.chats.map((c: any) => c.id)).toEqual([last.id, declined.id, third.id]);
  });
});
