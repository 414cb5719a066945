/**
 * A chat's history sharing over the real server (issue 18; docs/calls.md): `PATCH /api/v1/chats/:id
 * {history}`, chat.updated, and what a member added later reads under 'since_added' and 'all'
 * (history, search, unread, preview, a message by id); a call's transfer shares all of it.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Event } from '../../shared/index.js';
import { activeChat, groupChat, ok, userMaker } from '../helpers/chat.js';
import { Client, drain, eventually, expectError, startTestServer, type TestServer } from '../helpers/server.js';

describe('chat history sharing: all or since added', () => {
  let server: TestServer;
  const users = userMaker(() => server, 'h');
  const send = async (c: Client, chatId: string, text: string) => (await ok(c.put(`/api/v1/chats/${chatId}/messages/${randomUUID()}`, { text }), 201)).message;
  const texts = async (c: Client, chatId: string) => (await ok(c.get(`/api/v1/chats/${chatId}/messages`))).messages.map((m: any) => m.text);
  const search = async (c: Client, q: string, chatId?: string) =>
    (await ok(c.get(`/api/v1/search?${new URLSearchParams({ q, ...(chatId ? { chat: chatId } : {}) })}`))).messages.map((m: any) => m.text);
  const listed = async (c: Client, chatId: string) => (await ok(c.get('/api/v1/chats'))).chats.find((x: any) => x.id === chatId);

  beforeAll(async () => {
    server = await startTestServer({ presenceGraceMs: 20_000 });
  });
  afterAll(() => server?.destroy());

  it("'since_added': a member added later reads only what came after; 'all' (the default) everything", async () => {
    const [alice, bob, carol, dave, eve] = await users('alice', 'bob', 'carol', 'dave', 'eve');
    const chatId = await groupChat(alice!, bob!, carol!);
    expect((await listed(alice!, chatId)).history).toBe('all');
    const early = await send(alice!, chatId, 'zebra early words');
    await send(bob!, chatId, 'zebra more early words');

    const { chat } = await ok(bob!.patch(`/api/v1/chats/${chatId}`, { history: 'since_added' }));
    expect(chat.history).toBe('since_added');
    const updated = await alice!.waitFor('chat.updated', (e) => e.chat.id === chatId);
    expect(updated).toMatchObject({ by: bob!.username, chat: { history: 'since_added' } });
    expect(Event.safeParse(updated).success).toBe(true);
    expect((await listed(carol!, chatId)).history).toBe('since_added');
    expect((await ok(carol!.get(`/api/v1/chats/${chatId}`))).chat.history).toBe('since_added');

    await ok(alice!.post(`/api/v1/chats/${chatId}/members`, { usernames: [dave!.username] }));
    // Invited: nothing before the add, in the history, the request's preview or the unread count.
    expect(await texts(dave!, chatId)).toEqual([]);
    const invited = await listed(dave!, chatId);
    expect(invited.lastMessage).toBeUndefined();
    expect(invited.unread).toBe(0);
    await ok(dave!.post(`/api/v1/chats/${chatId}/accept`));
    expect(await texts(dave!, chatId)).toEqual([]);
    const later = await send(carol!, chatId, 'zebra said later');
    expect(await texts(dave!, chatId)).toEqual(['zebra said later']);
    expect(await search(dave!, 'zebra')).toEqual(['zebra said later']);
    expect(await search(dave!, 'early', chatId)).toEqual([]);
    const mine = await listed(dave!, chatId);
    expect(mine.lastMessage.id).toBe(later.id);
    expect(mine.unread).toBe(1);
    // By id: a reaction to, or a read mark at, an earlier message finds no such message.
    expectError(await dave!.put(`/api/v1/chats/${chatId}/messages/${early.id}/reactions`, { emoji: '👍' }), 404, 'not_found');
    expectError(await dave!.put(`/api/v1/chats/${chatId}/read`, { upTo: early.id }), 404, 'not_found');
    await ok(dave!.put(`/api/v1/chats/${chatId}/messages/${later.id}/reactions`, { emoji: '👍' }));
    await ok(dave!.put(`/api/v1/chats/${chatId}/read`, { upTo: later.id }));
    // Those in the chat from the start read everything, as before.
    expect(await texts(carol!, chatId)).toEqual(['zebra early words', 'zebra more early words', 'zebra said later']);
    expect(await search(carol!, 'early', chatId)).toHaveLength(2);

    // Back to 'all': what members added later read follows the setting (eve too, added now).
    await ok(carol!.patch(`/api/v1/chats/${chatId}`, { history: 'all' }));
    await ok(alice!.post(`/api/v1/chats/${chatId}/members`, { usernames: [eve!.username] }));
    expect(await texts(eve!, chatId)).toEqual(['zebra early words', 'zebra more early words', 'zebra said later']);
    await ok(eve!.post(`/api/v1/chats/${chatId}/accept`));
    expect(await search(eve!, 'early', chatId)).toHaveLength(2);
    expect(await texts(dave!, chatId)).toHaveLength(3);
    await ok(dave!.put(`/api/v1/chats/${chatId}/messages/${early.id}/reactions`, { emoji: '👍' }));
    // A repeat changes nothing and announces nothing.
    await drain(alice!);
    await ok(carol!.patch(`/api/v1/chats/${chatId}`, { history: 'all' }));
    expect((await drain(alice!)).filter((e) => e.type === 'chat.updated')).toEqual([]);
  });

  it("'since_added': edits, deletions and reactions of an earlier message reach only those who may read it", async () => {
    const [alice, bob, carol, dave] = await users('alice', 'bob', 'carol', 'dave');
    const chatId = await groupChat(alice!, bob!, carol!);
    const secret = await send(alice!, chatId, 'the old plan');
    const gone = await send(alice!, chatId, 'to be taken back');
    await ok(bob!.patch(`/api/v1/chats/${chatId}`, { history: 'since_added' }));
    await ok(alice!.post(`/api/v1/chats/${chatId}/members`, { usernames: [dave!.username] }));
    await ok(dave!.post(`/api/v1/chats/${chatId}/accept`));
    await drain(bob!);
    await drain(dave!);

    await ok(alice!.request('PATCH', `/api/v1/chats/${chatId}/messages/${secret.clientId}`, { text: 'the new secret plan' }));
    await ok(bob!.put(`/api/v1/chats/${chatId}/messages/${secret.id}/reactions`, { emoji: '👍' }));
    await ok(alice!.delete(`/api/v1/chats/${chatId}/messages/${gone.clientId}`));
    const after = await send(carol!, chatId, 'said after dave came');
    await ok(carol!.request('PATCH', `/api/v1/chats/${chatId}/messages/${after.clientId}`, { text: 'said after dave came, edited' }));

    // Bob, in the chat from the start, hears of all of it; Dave only of what came after him.
    const heard = async (c: Client) => {
      const events: any[] = [];
      await eventually(async () => {
        events.push(...(await c.poll(0)));
        return events.some((e) => e.type === 'chat.message.edited' && e.message.id === after.id);
      }, 5000, 'the edit of the later message');
      return events.filter((e) => e.type.startsWith('chat.') && e.type !== 'chat.read');
    };
    const bobs = await heard(bob!);
    expect(bobs.filter((e) => e.type === 'chat.message.edited').map((e) => e.message.text)).toEqual(['the new secret plan', 'said after dave came, edited']);
    expect(bobs.some((e) => e.type === 'chat.reaction' && e.messageId === secret.id)).toBe(true);
    expect(bobs.some((e) => e.type === 'chat.message.deleted' && e.id === gone.id)).toBe(true);
    const daves = await heard(dave!);
    expect(JSON.stringify(daves)).not.toContain('secret');
    expect(daves.filter((e) => [secret.id, gone.id].includes(e.message?.id ?? e.messageId ?? e.id))).toEqual([]);
    expect(daves.map((e) => e.type)).toEqual(['chat.message', 'chat.message.edited']);
  });

  it("'since_added': a file of an earlier message is not served to a member added later, one of a later message is", async () => {
    const [alice, bob, carol, dave] = await users('alice', 'bob', 'carol', 'dave');
    const chatId = await groupChat(alice!, bob!, carol!);
    const upload = async (c: Client, text: string) => {
      const res = await fetch(`${server.url}/api/v1/chats/${chatId}/files?name=${encodeURIComponent(`${text}.txt`)}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${c.token}`, 'content-type': 'application/octet-stream' },
        body: new TextEncoder().encode(text),
      });
      expect(res.status).toBe(201);
      return ((await res.json()) as { file: { id: string } }).file.id;
    };
    const get = async (c: Client, fileId: string) => (await fetch(`${server.url}/api/v1/chats/${chatId}/files/${fileId}`, { headers: { authorization: `Bearer ${c.token}` } })).status;
    const early = await upload(alice!, 'the old budget');
    await ok(alice!.put(`/api/v1/chats/${chatId}/messages/${randomUUID()}`, { text: 'budget attached', files: [early] }), 201);
    await ok(bob!.patch(`/api/v1/chats/${chatId}`, { history: 'since_added' }));
    await ok(alice!.post(`/api/v1/chats/${chatId}/members`, { usernames: [dave!.username] }));
    await ok(dave!.post(`/api/v1/chats/${chatId}/accept`));
    const later = await upload(carol!, 'the new plan');
    await ok(carol!.put(`/api/v1/chats/${chatId}/messages/${randomUUID()}`, { text: 'plan attached', files: [later] }), 201);

    expect(await get(bob!, early)).toBe(200);
    expect(await get(dave!, early)).toBe(404); // its id is 128 random bits, but it might leak: the file stays hidden
    expect(await get(dave!, later)).toBe(200);
    // His own upload, not sent yet, is his to read; the same file in a later message opens it to him too.
    expect(await get(dave!, await upload(dave!, 'a draft'))).toBe(200);
    await ok(alice!.put(`/api/v1/chats/${chatId}/messages/${randomUUID()}`, { text: 'budget again', files: [early] }), 201);
    expect(await get(dave!, early)).toBe(200);
    // Under 'all' everyone reads every file.
    await ok(bob!.patch(`/api/v1/chats/${chatId}`, { history: 'all' }));
    expect(await get(dave!, early)).toBe(200);
  });

  it('who may set it, and bad input', async () => {
    const [alice, bob, carol, dave, stranger] = await users('alice', 'bob', 'carol', 'dave', 'stranger');
    const chatId = await groupChat(alice!, bob!, carol!);
    const path = `/api/v1/chats/${chatId}`;
    for (const body of [{}, { history: 'some' }, { history: null }, { history: 'all', extra: 1 }, { history: ['all'] }]) {
      expectError(await alice!.patch(path, body), 400, 'invalid_request', JSON.stringify(body));
    }
    expectError(await stranger!.patch(path, { history: 'since_added' }), 403, 'forbidden');
    expectError(await stranger!.patch(`/api/v1/chats/${randomUUID()}`, { history: 'since_added' }), 404, 'not_found');
    // Invited, not taking part yet: no.
    await ok(alice!.post(`/api/v1/chats/${chatId}/members`, { usernames: [dave!.username] }));
    expectError(await dave!.patch(path, { history: 'since_added' }), 403, 'forbidden');
    // A member who left: no.
    await ok(carol!.post(`/api/v1/chats/${chatId}/leave`));
    expectError(await carol!.patch(path, { history: 'since_added' }), 403, 'forbidden');
    expect((await ok(alice!.get(path))).chat.history).toBe('all');
    // A 1:1 chat has no one to add later.
    const one = await activeChat(alice!, bob!);
    expectError(await alice!.patch(`/api/v1/chats/${one}`, { history: 'since_added' }), 409, 'conflict');
  });

  it("a call's transfer shares the whole history with the colleague, whatever the setting", async () => {
    const [alice, bob, carol, dave] = await users('alice', 'bob', 'carol', 'dave');
    const chatId = await groupChat(alice!, bob!, carol!);
    await ok(alice!.patch(`/api/v1/chats/${chatId}`, { history: 'since_added' }));
    await send(alice!, chatId, 'before dave');
    // Dave is invited (his view starts now), then the call is transferred to him.
    await ok(alice!.post(`/api/v1/chats/${chatId}/members`, { usernames: [dave!.username] }));
    expect(await texts(dave!, chatId)).toEqual([]);
    const { call } = await ok(alice!.post('/api/v1/calls', { chatId }), 201);
    await ok(bob!.post(`/api/v1/calls/${call.id}/accept`));
    await ok(carol!.post(`/api/v1/calls/${call.id}/decline`));
    await ok(alice!.post(`/api/v1/calls/${call.id}/transfer`, { to: dave!.username }));
    await ok(dave!.post(`/api/v1/calls/${call.id}/accept`));
    expect(await texts(dave!, chatId)).toContain('before dave');
  });
});
