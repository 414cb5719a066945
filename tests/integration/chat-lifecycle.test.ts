/**
 * The message lifecycle of issue 16 against a real server over loopback HTTP, with two and three
 * users, non-members and other authors: messages before acceptance (and the 1:1 that already
 * exists), edits and deletions of one's own messages, reactions, read marks, typing, mentions,
 * and a restart in the middle (edits, reactions and read marks survive it).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStorage, PorticoClient } from '../../electron/renderer/src/api/index.js';
import { activeChat, createChat } from '../helpers/chat.js';
import { Client, PASSWORD, collect, drain, eventually, expectError, startTestServer, type TestServer } from '../helpers/server.js';

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

/** An active chat of three: `a` invites both, both accept; every cursor past the set-up. */
async function groupChat(a: User, b: User, c: User): Promise<string> {
  const { id } = await createChat(a, b, c);
  for (const member of [b, c]) {
    await member.waitFor('chat.request', (e) => e.chat.id === id);
    expect((await member.post(`/api/v1/chats/${id}/accept`)).status).toBe(200);
  }
  await Promise.all([a, b, c].map(drain));
  return id;
}

const messagesUrl = (chatId: string) => `/api/v1/chats/${chatId}/messages`;
const messageUrl = (chatId: string, clientId: string) => `/api/v1/chats/${chatId}/messages/${clientId}`;
const reactionsUrl = (chatId: string, messageId: number | string) => `/api/v1/chats/${chatId}/messages/${messageId}/reactions`;
const send = async (from: User, chatId: string, clientId: string, text: string) => {
  const res = await from.put(messageUrl(chatId, clientId), { text });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.message;
};
const edit = (from: Client, chatId: string, clientId: string, body: unknown) => from.request('PATCH', messageUrl(chatId, clientId), body);
const history = async (who: Client, chatId: string) => {
  const res = await who.get(messagesUrl(chatId));
  expect(res.status).toBe(200);
  return res.body.messages as any[];
};
const listed = async (who: Client, chatId: string) => ((await who.get('/api/v1/chats')).body.chats as any[]).find((c) => c.id === chatId);
const UNKNOWN_CHAT = '4b0f3f4e-0c1d-4a57-9a53-8f2d1e0c9b7a';

beforeAll(async () => {
  server = await startTestServer({ loginPerIpPerMinute: 10_000 });
});
afterAll(async () => {
  await server?.destroy();
});

describe('before acceptance', () => {
  it('the creator writes while pending (201); the invitee gets it on their own topic, previews it in GET /chats, and reads it', async () => {
    const [alice, bob] = await users('alice', 'bob');
    const chat = await createChat(alice, bob);
    expect(chat.state).toBe('pending');
    await bob.waitFor('chat.request', (e) => e.chat.id === chat.id);

    const first = await send(alice, chat.id, 'p-1', 'Hi Bob, a question about the report');
    const second = await send(alice, chat.id, 'p-2', 'when you have a minute');
    // Live, although bob does not listen to the chat's topic before accepting.
    const live = await collect(bob, 2, (e) => e.type === 'chat.message');
    expect(live.map((e) => e.message)).toEqual([first, second]);

    // The request card's preview and count.
    const card = await listed(bob, chat.id);
    expect(card.state).toBe('pending');
    expect(card.lastMessage).toEqual(second);
    expect(card.unread).toBe(2);
    expect(card.members.map((m: any) => [m.username, m.status, m.readUpTo])).toEqual([
      [alice.username, 'accepted', 0],
      [bob.username, 'invited', 0],
    ]);
    expect((await listed(alice, chat.id)).unread).toBe(0); // her own messages

    // The invitee reads the history; an edit while pending reaches them too.
    expect(await history(bob, chat.id)).toEqual([first, second]);
    expect((await edit(alice, chat.id, 'p-2', { text: 'when you have two minutes' })).status).toBe(200);
    const edited = await bob.waitFor('chat.message.edited');
    expect(edited.message).toMatchObject({ id: second.id, text: 'when you have two minutes' });

    // Once accepted, the same history, and the chat's own topic from then on.
    expect((await bob.post(`/api/v1/chats/${chat.id}/accept`)).status).toBe(200);
    expect((await history(bob, chat.id)).map((m) => m.id)).toEqual([first.id, second.id]);
    await drain(bob);
    const third = await send(alice, chat.id, 'p-3', 'thanks');
    expect((await bob.waitFor('chat.message')).message).toEqual(third);
  });

  it('a group request: every invitee sees the pending messages; outsiders and those who declined do not; a closed chat refuses them', async () => {
    const [alice, bob, carol, mallory] = await users('alice', 'bob', 'carol', 'mallory');
    const chat = await createChat(alice, bob, carol);
    const hello = await send(alice, chat.id, 'g-1', 'Welcome both');
    for (const invitee of [bob, carol]) expect((await invitee.waitFor('chat.message')).message).toEqual(hello);
    expect((await drain(mallory)).filter((e) => e.type.startsWith('chat.'))).toEqual([]);
    expectError(await mallory.get(messagesUrl(chat.id)), 403, 'forbidden');
    // An invitee may not write before accepting.
    expectError(await bob.put(messageUrl(chat.id, 'b-1'), { text: 'me too?' }), 403, 'forbidden');

    expect((await carol.post(`/api/v1/chats/${chat.id}/decline`)).status).toBe(200);
    expectError(await carol.get(messagesUrl(chat.id)), 403, 'forbidden');
    // Still pending (bob is invited): alice writes on, bob hears it, carol no longer.
    await drain(carol);
    const more = await send(alice, chat.id, 'g-2', 'Just us then');
    expect((await bob.waitFor('chat.message')).message).toEqual(more);
    expect((await drain(carol)).filter((e) => e.type === 'chat.message')).toEqual([]);

    // Alice withdraws: closed, and nothing more is said in it.
    expect((await alice.post(`/api/v1/chats/${chat.id}/leave`)).body.chat.state).toBe('closed');
    const [a2, b2] = await users('alice', 'bob');
    const pending = await createChat(a2, b2);
    expect((await b2.post(`/api/v1/chats/${pending.id}/decline`)).body.chat.state).toBe('closed');
    expectError(await a2.put(messageUrl(pending.id, 'late'), { text: 'anyone?' }), 409, 'chat_not_active');
  });

  it('a 1:1 request to someone you already have an active 1:1 with answers that chat (200), from either side, in any case', async () => {
    const [alice, bob, carol] = await users('alice', 'bob', 'carol');
    const chatId = await activeChat(alice, bob);
    for (const [from, to] of [
      [alice, bob.username],
      [bob, alice.username],
      [alice, bob.username.toUpperCase()],
    ] as const) {
      const res = await from.post('/api/v1/chats', { invitees: [to] });
      expect(res.status, `${from.username} -> ${to}`).toBe(200);
      expect(res.body.chat.id).toBe(chatId);
      expect(res.body.chat.state).toBe('active');
    }
    // No second chat, and no request event for it.
    expect(((await alice.get('/api/v1/chats')).body.chats as any[]).map((c) => c.id)).toEqual([chatId]);
    expect((await drain(bob)).filter((e) => e.type === 'chat.request')).toEqual([]);
    // A group with the same person is a new chat; so is a 1:1 with someone else.
    expect((await alice.post('/api/v1/chats', { invitees: [bob.username, carol.username] })).status).toBe(201);
    expect((await alice.post('/api/v1/chats', { invitees: [carol.username] })).status).toBe(201);
    // Once the 1:1 has ended, asking again makes a new one.
    expect((await bob.post(`/api/v1/chats/${chatId}/leave`)).status).toBe(200);
    const again = await alice.post('/api/v1/chats', { invitees: [bob.username] });
    expect(again.status).toBe(201);
    expect(again.body.chat.id).not.toBe(chatId);
  });
});

describe('editing and deleting your own messages', () => {
  it('PATCH edits (editedAt, mentions recomputed) and tells the members; only the author, by their own client id', async () => {
    const [alice, bob, carol] = await users('alice', 'bob', 'carol');
    const chatId = await groupChat(alice, bob, carol);
    const original = await send(alice, chatId, 'm1', `Lunch, @${bob.username}?`);
    expect(original.mentions).toEqual([bob.username]);
    expect(original.editedAt).toBeUndefined();
    // Bob uses the same client id for his own message.
    const bobs = await send(bob, chatId, 'm1', 'Bob says m1');
    await Promise.all([alice, bob, carol].map(drain));

    const res = await edit(alice, chatId, 'm1', { text: `Lunch, @${carol.username.toUpperCase()}?` });
    expect(res.status).toBe(200);
    const edited = res.body.message;
    expect(edited).toMatchObject({ id: original.id, clientId: 'm1', from: alice.username, text: `Lunch, @${carol.username.toUpperCase()}?`, sentAt: original.sentAt });
    expect(Date.parse(edited.editedAt)).toBeGreaterThanOrEqual(Date.parse(original.sentAt));
    expect(edited.mentions).toEqual([carol.username]);
    for (const member of [bob, carol]) {
      const event = await member.waitFor('chat.message.edited');
      expect(event.message).toEqual(edited);
    }
    // Bob's message with the same client id is untouched.
    const all = await history(carol, chatId);
    expect(all.map((m) => [m.from, m.text])).toEqual([
      [alice.username, edited.text],
      [bob.username, 'Bob says m1'],
    ]);
    expect(all[1]).toEqual(bobs);

    // Bob edits his own m1, never alice's; carol has no m1 of her own: 403 (it is someone else's).
    expect((await edit(bob, chatId, 'm1', { text: 'Bob edits m1' })).body.message).toMatchObject({ id: bobs.id, from: bob.username });
    expect((await history(alice, chatId))[0].text).toBe(edited.text);
    expectError(await edit(carol, chatId, 'm1', { text: 'carol was here' }), 403, 'forbidden');
    expectError(await carol.delete(messageUrl(chatId, 'm1')), 403, 'forbidden');
    // Nobody's client id: 404.
    expectError(await edit(carol, chatId, 'nope', { text: 'x' }), 404, 'not_found');
    expectError(await carol.delete(messageUrl(chatId, 'nope')), 404, 'not_found');
    expect((await history(alice, chatId)).map((m) => m.text)).toEqual([edited.text, 'Bob edits m1']);

    // The same text again changes nothing (no editedAt bump, no event).
    await Promise.all([alice, bob, carol].map(drain));
    const same = await edit(alice, chatId, 'm1', { text: edited.text });
    expect(same.status).toBe(200);
    expect(same.body.message).toEqual(edited);
    expect((await drain(bob)).filter((e) => e.type === 'chat.message.edited')).toEqual([]);
    // A late retry of the original send is answered with the message as it now is (no 409).
    const retry = await alice.put(messageUrl(chatId, 'm1'), { text: original.text });
    expect(retry.status).toBe(200);
    expect(retry.body.message.id).toBe(original.id);
  });

  it('DELETE keeps the place (deleted, no text), tells the members once; then no edit', async () => {
    const [alice, bob, carol] = await users('alice', 'bob', 'carol');
    const chatId = await groupChat(alice, bob, carol);
    const kept = await send(alice, chatId, 'd0', 'stays');
    const doomed = await send(alice, chatId, 'd1', `oops @${bob.username}`);
    const after = await send(bob, chatId, 'd2', 'after it');
    expect((await bob.put(reactionsUrl(chatId, doomed.id), { emoji: '😮' })).status).toBe(200);
    await Promise.all([alice, bob, carol].map(drain));

    const res = await alice.delete(messageUrl(chatId, 'd1'));
    expect(res.status).toBe(200);
    expect(res.body.message).toEqual({ id: doomed.id, chatId, clientId: 'd1', from: alice.username, text: '', sentAt: doomed.sentAt, deleted: true });
    for (const member of [bob, carol]) {
      const events = (await collect(member, 1, (e) => e.type === 'chat.message.deleted'))[0];
      expect(events).toMatchObject({ type: 'chat.message.deleted', chatId, id: doomed.id });
    }
    const all = await history(carol, chatId);
    expect(all.map((m) => m.id)).toEqual([kept.id, doomed.id, after.id]);
    expect(all[1]).toEqual(res.body.message);
    expect(JSON.stringify(all)).not.toContain('oops');

    // Again: the same answer, no second event; an edit is refused.
    const again = await alice.delete(messageUrl(chatId, 'd1'));
    expect(again.status).toBe(200);
    expect(again.body.message).toEqual(res.body.message);
    expect((await drain(bob)).filter((e) => e.type === 'chat.message.deleted')).toEqual([]);
    expectError(await edit(alice, chatId, 'd1', { text: 'back' }), 409, 'conflict');
    expectError(await bob.put(reactionsUrl(chatId, doomed.id), { emoji: '👍' }), 409, 'conflict');
    expect((await history(bob, chatId))[1]).toEqual(res.body.message);
  });

  it('outsiders, unknown chats, ended chats and bad input', async () => {
    const [alice, bob, mallory] = await users('alice', 'bob', 'mallory');
    const chatId = await activeChat(alice, bob);
    await send(alice, chatId, 'x1', 'mine');
    expectError(await edit(mallory, chatId, 'x1', { text: 'hijack' }), 403, 'forbidden');
    expectError(await mallory.delete(messageUrl(chatId, 'x1')), 403, 'forbidden');
    expectError(await edit(alice, UNKNOWN_CHAT, 'x1', { text: 'x' }), 404, 'not_found');
    expectError(await alice.delete(messageUrl(UNKNOWN_CHAT, 'x1')), 404, 'not_found');
    for (const body of [{}, { text: '' }, { text: '   ' }, { text: 'x'.repeat(4001) }, { text: 'ok', extra: 1 }, { text: 5 }]) {
      expectError(await edit(alice, chatId, 'x1', body), 400, 'invalid_request', JSON.stringify(body).slice(0, 40));
    }
    expectError(await edit(alice, 'not-a-uuid', 'x1', { text: 'x' }), 400, 'invalid_request');
    expectError(await edit(alice, chatId, 'bad id!', { text: 'x' }), 400, 'invalid_request');
    expect((await history(bob, chatId)).map((m) => m.text)).toEqual(['mine']);

    // Bob leaves: the chat has ended; alice's message stays as it is.
    expect((await bob.post(`/api/v1/chats/${chatId}/leave`)).status).toBe(200);
    expectError(await edit(alice, chatId, 'x1', { text: 'changed' }), 409, 'chat_not_active');
    expectError(await alice.delete(messageUrl(chatId, 'x1')), 409, 'chat_not_active');
    expectError(await edit(bob, chatId, 'x1', { text: 'changed' }), 403, 'forbidden');
    expect((await history(alice, chatId)).map((m) => m.text)).toEqual(['mine']);
  });
});

describe('reactions', () => {
  it('PUT adds (idempotent), DELETE ?emoji= takes back; messages carry reactions; chat.reaction to the members', async () => {
    const [alice, bob, carol] = await users('alice', 'bob', 'carol');
    const chatId = await groupChat(alice, bob, carol);
    const message = await send(alice, chatId, 'r1', 'Ship it?');
    expect(message.reactions).toBeUndefined();
    await Promise.all([alice, bob, carol].map(drain));

    const thumbs = await bob.put(reactionsUrl(chatId, message.id), { emoji: '👍' });
    expect(thumbs.status).toBe(200);
    expect(thumbs.body.message).toMatchObject({ id: message.id, text: 'Ship it?', reactions: [{ emoji: '👍', users: [bob.username] }] });
    for (const member of [alice, carol]) {
      const event = await member.waitFor('chat.reaction');
      expect(event).toMatchObject({ chatId, messageId: message.id, username: bob.username, emoji: '👍', added: true, reactions: [{ emoji: '👍', users: [bob.username] }] });
    }
    // Twice: the same, no second event.
    expect((await bob.put(reactionsUrl(chatId, message.id), { emoji: '👍' })).body.message).toEqual(thumbs.body.message);
    expect((await drain(alice)).filter((e) => e.type === 'chat.reaction')).toEqual([]);

    await alice.put(reactionsUrl(chatId, message.id), { emoji: '👍' });
    const heart = await carol.put(reactionsUrl(chatId, message.id), { emoji: '❤️' });
    expect(heart.body.message.reactions).toEqual([
      { emoji: '👍', users: [bob.username, alice.username] },
      { emoji: '❤️', users: [carol.username] },
    ]);
    // Flags, skin tones and families are emoji too.
    for (const emoji of ['🇯🇵', '👍🏽', '👨‍👩‍👧']) expect((await carol.put(reactionsUrl(chatId, message.id), { emoji })).status, emoji).toBe(200);
    for (const emoji of ['🇯🇵', '👍🏽', '👨‍👩‍👧']) expect((await carol.delete(`${reactionsUrl(chatId, message.id)}?emoji=${encodeURIComponent(emoji)}`)).status).toBe(200);

    const back = await bob.delete(`${reactionsUrl(chatId, message.id)}?emoji=${encodeURIComponent('👍')}`);
    expect(back.status).toBe(200);
    expect(back.body.message.reactions).toEqual([
      { emoji: '👍', users: [alice.username] },
      { emoji: '❤️', users: [carol.username] },
    ]);
    const event = await alice.waitFor('chat.reaction', (e) => !e.added && e.username === bob.username);
    expect(event).toMatchObject({ username: bob.username, emoji: '👍', added: false });
    // Taking back one not made: unchanged.
    expect((await bob.delete(`${reactionsUrl(chatId, message.id)}?emoji=${encodeURIComponent('👍')}`)).body.message).toEqual(back.body.message);
    // History carries them.
    expect((await history(bob, chatId))[0].reactions).toEqual(back.body.message.reactions);
  });

  it('only emoji; only members taking part; only messages of this chat', async () => {
    const [alice, bob, mallory] = await users('alice', 'bob', 'mallory');
    const chatId = await activeChat(alice, bob);
    const message = await send(alice, chatId, 'r1', 'hello');
    const otherChat = await activeChat(alice, mallory);
    const elsewhere = await send(mallory, otherChat, 'r1', 'elsewhere');

    for (const body of [{}, { emoji: '' }, { emoji: 'hi' }, { emoji: 'a👍' }, { emoji: '<b>x</b>' }, { emoji: '1' }, { emoji: '👍'.repeat(17) }, { emoji: '👍', extra: 1 }, { emoji: 7 }]) {
      expectError(await bob.put(reactionsUrl(chatId, message.id), body), 400, 'invalid_request', JSON.stringify(body));
    }
    expectError(await bob.delete(reactionsUrl(chatId, message.id)), 400, 'invalid_request');
    expectError(await bob.delete(`${reactionsUrl(chatId, message.id)}?emoji=text`), 400, 'invalid_request');
    for (const id of ['abc', '0', '-1', '1.5']) expectError(await bob.put(reactionsUrl(chatId, id), { emoji: '👍' }), 400, 'invalid_request', id);
    expectError(await bob.put(reactionsUrl(chatId, elsewhere.id), { emoji: '👍' }), 404, 'not_found');
    expectError(await bob.put(reactionsUrl(chatId, 99_999_999), { emoji: '👍' }), 404, 'not_found');
    expectError(await bob.put(reactionsUrl(UNKNOWN_CHAT, message.id), { emoji: '👍' }), 404, 'not_found');
    expectError(await mallory.put(reactionsUrl(chatId, message.id), { emoji: '👍' }), 403, 'forbidden');
    expectError(await mallory.delete(`${reactionsUrl(chatId, message.id)}?emoji=${encodeURIComponent('👍')}`), 403, 'forbidden');
    expect((await history(alice, chatId))[0].reactions).toBeUndefined();

    // At most 20 different emoji of one user on one message; a repeat of one of them is still fine.
    const twenty = [...'😀😁😂🤣😃😄😅😆😉😊😋😎😍😘🥰😗😙😚🙂🤗'];
    expect(twenty).toHaveLength(20);
    for (const emoji of twenty) expect((await bob.put(reactionsUrl(chatId, message.id), { emoji })).status, emoji).toBe(200);
    expectError(await bob.put(reactionsUrl(chatId, message.id), { emoji: '🤩' }), 409, 'conflict');
    expect((await bob.put(reactionsUrl(chatId, message.id), { emoji: '😀' })).status).toBe(200);
    expect((await alice.put(reactionsUrl(chatId, message.id), { emoji: '🤩' })).status).toBe(200); // hers are counted apart
    expect((await history(alice, chatId))[0].reactions).toHaveLength(21);
  });
});

describe('read marks', () => {
  it('PUT /read moves the mark (never back); GET /chats gives unread and readUpTo; chat.read to the others', async () => {
    const [alice, bob, carol] = await users('alice', 'bob', 'carol');
    const chatId = await groupChat(alice, bob, carol);
    const m = [await send(alice, chatId, 'u1', 'one'), await send(carol, chatId, 'u2', 'two'), await send(alice, chatId, 'u3', 'three')];
    await send(bob, chatId, 'u4', 'my own');
    await Promise.all([alice, bob, carol].map(drain));
    expect((await listed(bob, chatId)).unread).toBe(3);
    expect((await listed(alice, chatId)).unread).toBe(2); // carol's and bob's

    const read = await bob.put(`/api/v1/chats/${chatId}/read`, { upTo: m[1].id });
    expect(read.status).toBe(200);
    expect(read.body).toEqual({ chatId, upTo: m[1].id, unread: 1 });
    for (const other of [alice, carol]) {
      const event = await other.waitFor('chat.read');
      expect(event).toMatchObject({ chatId, username: bob.username, upTo: m[1].id });
    }
    const seen = await listed(alice, chatId);
    expect(seen.members.find((x: any) => x.username === bob.username).readUpTo).toBe(m[1].id);
    expect(seen.members.find((x: any) => x.username === carol.username).readUpTo).toBe(0);
    expect((await listed(bob, chatId)).unread).toBe(1);

    // Backwards: the mark stays, no event.
    const back = await bob.put(`/api/v1/chats/${chatId}/read`, { upTo: m[0].id });
    expect(back.body).toEqual({ chatId, upTo: m[1].id, unread: 1 });
    expect((await drain(alice)).filter((e) => e.type === 'chat.read')).toEqual([]);

    // A deleted message is not unread.
    expect((await alice.delete(messageUrl(chatId, 'u3'))).status).toBe(200);
    expect((await listed(bob, chatId)).unread).toBe(0);
    expect((await listed(bob, chatId)).lastMessage).toMatchObject({ clientId: 'u4', text: 'my own' });
  });

  it('only a message of this chat, only members, and well-formed', async () => {
    const [alice, bob, mallory] = await users('alice', 'bob', 'mallory');
    const chatId = await activeChat(alice, bob);
    const message = await send(alice, chatId, 'u1', 'one');
    const otherChat = await activeChat(alice, mallory);
    const elsewhere = await send(alice, otherChat, 'u1', 'elsewhere');
    expectError(await bob.put(`/api/v1/chats/${chatId}/read`, { upTo: elsewhere.id }), 404, 'not_found');
    expectError(await bob.put(`/api/v1/chats/${chatId}/read`, { upTo: 99_999_999 }), 404, 'not_found');
    expectError(await bob.put(`/api/v1/chats/${UNKNOWN_CHAT}/read`, { upTo: message.id }), 404, 'not_found');
    expectError(await mallory.put(`/api/v1/chats/${chatId}/read`, { upTo: message.id }), 403, 'forbidden');
    for (const body of [{}, { upTo: 0 }, { upTo: -1 }, { upTo: 1.5 }, { upTo: '1' }, { upTo: message.id, extra: true }]) {
      expectError(await bob.put(`/api/v1/chats/${chatId}/read`, body), 400, 'invalid_request', JSON.stringify(body));
    }
    expect((await listed(bob, chatId)).unread).toBe(1);
    expect((await listed(alice, chatId)).members.map((x: any) => x.readUpTo)).toEqual([0, 0]);
  });
});

describe('typing', () => {
  /** Starts a held poll for `who` and waits until the hub holds it; answers its answer (wrapped: awaiting must not wait for it). */
  async function held(who: Client) {
    const before = server.services.hub.size;
    const answer = who.poll(5);
    await eventually(() => server.services.hub.size > before, 5000, 'the poll to be held');
    return { answer };
  }

  it('POST /typing is 204; the others\' held polls get chat.typing within a second; nothing is stored; one per 2 s', async () => {
    const [alice, bob, carol] = await users('alice', 'bob', 'carol');
    const chatId = await groupChat(alice, bob, carol);
    const head = await (server.services.store.headSeq());
    const bobCursor = bob.cursor;

    const bobPoll = (await held(bob)).answer;
    const carolPoll = (await held(carol)).answer;
    const alicePoll = (await held(alice)).answer;
    const started = Date.now();
    const res = await alice.post(`/api/v1/chats/${chatId}/typing`);
    expect(res.status).toBe(204);
    for (const poll of [bobPoll, carolPoll]) {
      expect(await poll).toEqual([{ cursor: expect.any(String), at: expect.any(String), type: 'chat.typing', chatId, username: alice.username }]);
    }
    expect(Date.now() - started).toBeLessThan(1000);
    // Nothing stored: the log did not grow and bob's cursor did not move.
    expect(await server.services.store.headSeq()).toBe(head);
    expect(bob.cursor).toBe(bobCursor);

    // Again at once (within 2 s): answered, not relayed; bob's held poll gets only the message that follows.
    const bobAgain = (await held(bob)).answer;
    expect((await alice.post(`/api/v1/chats/${chatId}/typing`)).status).toBe(204);
    await send(carol, chatId, 't1', 'here it is');
    expect([...(await bobAgain), ...(await drain(bob))].map((e) => e.type)).toEqual(['chat.message']);
    // The typist's own held poll never got it.
    expect((await alicePoll).map((e: any) => e.type)).toEqual(['chat.message']);
    expect(await server.services.store.headSeq()).toBe(head + 1); // the message only
  });

  it('only members taking part, in a chat that has not ended', async () => {
    const [alice, bob, carol, mallory] = await users('alice', 'bob', 'carol', 'mallory');
    const chatId = await activeChat(alice, bob);
    expectError(await mallory.post(`/api/v1/chats/${chatId}/typing`), 403, 'forbidden');
    expectError(await alice.post(`/api/v1/chats/${UNKNOWN_CHAT}/typing`), 404, 'not_found');
    expectError(await alice.post('/api/v1/chats/not-a-uuid/typing'), 400, 'invalid_request');
    const pending = await createChat(alice, carol);
    expectError(await carol.post(`/api/v1/chats/${pending.id}/typing`), 403, 'forbidden');
    expect((await alice.post(`/api/v1/chats/${pending.id}/typing`)).status).toBe(204);
    expect((await bob.post(`/api/v1/chats/${chatId}/leave`)).status).toBe(200);
    expectError(await alice.post(`/api/v1/chats/${chatId}/typing`), 409, 'chat_not_active');
  });
});

describe('mentions', () => {
  it('@username of members (invited ones too), case-insensitively, once each; not outsiders, not e-mail addresses', async () => {
    const [alice, bob, carol, mallory] = await users('alice', 'bob', 'carol', 'mallory');
    const chat = await createChat(alice, bob, carol);
    expect((await bob.post(`/api/v1/chats/${chat.id}/accept`)).status).toBe(200);
    const text = `@${bob.username.toUpperCase()}: ask @${carol.username}. (cc @${mallory.username}, mail x@${bob.username}.example, @${bob.username} again)`;
    const message = await send(alice, chat.id, 'n1', text);
    expect(message.mentions).toEqual([bob.username, carol.username]);
    expect((await send(alice, chat.id, 'n2', 'nobody here')).mentions).toBeUndefined();
    const edited = await edit(alice, chat.id, 'n2', { text: `now @${bob.username}` });
    expect(edited.body.message.mentions).toEqual([bob.username]);
    const cleared = await edit(alice, chat.id, 'n1', { text: 'no one' });
    expect(cleared.body.message.mentions).toBeUndefined();
    expect((await history(bob, chat.id)).map((m) => m.mentions)).toEqual([undefined, [bob.username]]);
  });
});

describe("the renderer's API client", () => {
  it('editMessage, deleteMessage, react, unreact, markRead and typing reach the server; the events reach on()', async () => {
    const [alice, bob] = await users('alice', 'bob');
    const chatId = await activeChat(alice, bob);
    const panel = new PorticoClient({ baseUrl: server.url, storage: new MemoryStorage(), pollWait: 5 });
    try {
      await panel.login(bob.username, PASSWORD);
      const got: any[] = [];
      for (const type of ['chat.message.edited', 'chat.message.deleted', 'chat.reaction', 'chat.read'] as const) panel.on(type, (e) => got.push(e));
      const ready = new Promise((resolve) => panel.on('ready', resolve));
      panel.start();
      await ready;

      const mine = await send(bob, chatId, 'c1', 'from the panel');
      const theirs = await send(alice, chatId, 'c2', 'hello panel');
      expect(await panel.editMessage(chatId, 'c1', 'edited in the panel')).toMatchObject({ id: mine.id, text: 'edited in the panel', editedAt: expect.any(String) });
      expect((await panel.react(chatId, theirs.id, '👍')).reactions).toEqual([{ emoji: '👍', users: [bob.username] }]);
      expect((await panel.unreact(chatId, theirs.id, '👍')).reactions).toBeUndefined();
      expect(await panel.markRead(chatId, theirs.id)).toEqual({ chatId, upTo: theirs.id, unread: 0 });
      await expect(panel.typing(chatId)).resolves.toBeUndefined();
      expect(await panel.deleteMessage(chatId, 'c1')).toMatchObject({ id: mine.id, deleted: true, text: '' });
      const listed = (await panel.chats()).find((c) => c.id === chatId)!;
      expect(listed.unread).toBe(0);
      expect(listed.members.find((m) => m.username === bob.username)!.readUpTo).toBe(theirs.id);

      // Alice's changes arrive through the panel's event loop.
      expect((await edit(alice, chatId, 'c2', { text: 'hello again' })).status).toBe(200);
      expect((await alice.put(reactionsUrl(chatId, theirs.id), { emoji: '🎉' })).status).toBe(200);
      expect((await alice.put(`/api/v1/chats/${chatId}/read`, { upTo: theirs.id })).status).toBe(200);
      expect((await alice.delete(messageUrl(chatId, 'c2'))).status).toBe(200);
      await eventually(() => got.some((e) => e.type === 'chat.message.deleted' && e.id === theirs.id), 5000, 'the deletion to reach the panel');
      // (The panel's own changes come back too, with a later answer: its poll is not woken for them alone.)
      expect(got.filter((e) => e.type === 'chat.message.edited').map((e) => e.message.text)).toEqual(['edited in the panel', 'hello again']);
      expect(got.filter((e) => e.type === 'chat.reaction' && e.username === alice.username).map((e) => e.emoji)).toEqual(['🎉']);
      expect(got.filter((e) => e.type === 'chat.read').map((e) => [e.username, e.upTo])).toEqual([
        [bob.username, theirs.id],
        [alice.username, theirs.id],
      ]);
      // A bad emoji is the server's 400, thrown as ApiError.
      await expect(panel.react(chatId, theirs.id, 'nope')).rejects.toMatchObject({ status: 400, code: 'invalid_request' });
    } finally {
      panel.stop();
      await panel.stopped();
    }
  });
});

describe('a restart in the middle', () => {
  it('edits, deletions, reactions, mentions and read marks survive it', async () => {
    const [alice, bob, carol] = await users('alice', 'bob', 'carol');
    const chatId = await groupChat(alice, bob, carol);
    const one = await send(alice, chatId, 's1', 'first draft');
    const two = await send(bob, chatId, 's2', 'to be deleted');
    const three = await send(carol, chatId, 's3', 'three');
    expect((await edit(alice, chatId, 's1', { text: `final, @${carol.username}` })).status).toBe(200);
    expect((await bob.delete(messageUrl(chatId, 's2'))).status).toBe(200);
    expect((await bob.put(reactionsUrl(chatId, one.id), { emoji: '🎉' })).status).toBe(200);
    expect((await carol.put(reactionsUrl(chatId, one.id), { emoji: '🎉' })).status).toBe(200);
    expect((await alice.put(`/api/v1/chats/${chatId}/read`, { upTo: two.id })).status).toBe(200);
    const before = await history(carol, chatId);
    const listedBefore = await listed(alice, chatId);

    server = await server.restart();

    const after = await history(carol, chatId);
    expect(after).toEqual(before);
    expect(after[0]).toMatchObject({ text: `final, @${carol.username}`, mentions: [carol.username], reactions: [{ emoji: '🎉', users: [bob.username, carol.username] }] });
    expect(after[0].editedAt).toEqual(expect.any(String));
    expect(after[1]).toMatchObject({ id: two.id, deleted: true, text: '' });
    const listedAfter = await listed(alice, chatId);
    expect(listedAfter).toEqual(listedBefore);
    expect(listedAfter.unread).toBe(1); // carol's; bob's deleted one is not counted
    expect(listedAfter.members.find((x: any) => x.username === alice.username).readUpTo).toBe(two.id);
    // The mark still only moves forward, and the lifecycle goes on.
    expect((await alice.put(`/api/v1/chats/${chatId}/read`, { upTo: one.id })).body).toEqual({ chatId, upTo: two.id, unread: 1 });
    expect((await alice.put(`/api/v1/chats/${chatId}/read`, { upTo: three.id })).body).toEqual({ chatId, upTo: three.id, unread: 0 });
    expect((await bob.delete(`${reactionsUrl(chatId, one.id)}?emoji=${encodeURIComponent('🎉')}`)).body.message.reactions).toEqual([{ emoji: '🎉', users: [carol.username] }]);
  });
});
