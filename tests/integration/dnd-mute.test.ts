/**
 * Do not disturb and per-chat mutes (issue 17): kept on the server, so every device of the user
 * agrees: a second session learns at once (`me.updated`, `chat.muted` on the user's own topic),
 * reads the same state from /me and the chat list, and all of it survives a restart. Only the
 * caller's own chats can be muted; the others in the chat see nothing of it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activeChat } from '../helpers/chat.js';
import { Client, PASSWORD, drain, expectError, startTestServer, type TestServer } from '../helpers/server.js';

describe('do not disturb and chat mutes', { timeout: 120_000 }, () => {
  let server: TestServer;
  let ann: Client;
  let annDesk: Client;
  let ben: Client;
  let cat: Client;
  let chatId: string;
  let otherChatId: string;

  beforeAll(async () => {
    server = await startTestServer();
    [ann, ben, cat] = await Promise.all([server.user('dm-ann'), server.user('dm-ben'), server.user('dm-cat')]);
    annDesk = await Client.login(server.url, 'dm-ann', PASSWORD);
    await annDesk.poll();
    chatId = await activeChat(ann, ben);
    otherChatId = await activeChat(ben, cat);
  });
  afterAll(() => server?.destroy());

  const patchMe = (client: Client, body: unknown) => client.request('PATCH', '/api/v1/me', body);
  const chatIn = async (client: Client, id: string) => ((await client.get('/api/v1/chats')).body.chats as any[]).find((c) => c.id === id);

  it('starts with do-not-disturb off, mentions notifying, no chat muted', async () => {
    const me = (await ann.get('/api/v1/me')).body.user;
    expect(me).toMatchObject({ username: 'dm-ann', dndUntil: null, notifyMentionsWhenBusy: true, presence: expect.any(String) });
    expect(await chatIn(ann, chatId)).toMatchObject({ muted: false });
    expect((await chatIn(ann, chatId)).mutedUntil).toBeUndefined();
  });

  it('do-not-disturb for an hour reaches my other session at once, and /me there says the same', async () => {
    await Promise.all([drain(annDesk), drain(ben)]);
    const until = new Date(Date.now() + 3_600_000).toISOString();
    const res = await patchMe(ann, { dndUntil: until, notifyMentionsWhenBusy: false });
    expect(res.status).toBe(200);
    expect(res.body.user).toMatchObject({ dndUntil: until, notifyMentionsWhenBusy: false });
    const event = await annDesk.waitFor('me.updated');
    expect(event.user).toMatchObject({ username: 'dm-ann', dndUntil: until, notifyMentionsWhenBusy: false });
    expect((await annDesk.get('/api/v1/me')).body.user).toEqual(res.body.user);
    // Nobody else learns of it: it is mine.
    expect((await drain(ben)).filter((e) => e.type === 'user.updated' || e.type === 'me.updated')).toEqual([]);
  });

  it('mutes a chat for me only; my other session is told; the others in it see nothing', async () => {
    await Promise.all([drain(annDesk), drain(ben)]);
    const res = await ann.put(`/api/v1/chats/${chatId}/mute`, { muted: true });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ mute: { chatId, muted: true } });
    const event = await annDesk.waitFor('chat.muted');
    expect(event.mute).toEqual({ chatId, muted: true });
    expect(await chatIn(annDesk, chatId)).toMatchObject({ muted: true });
    expect(await chatIn(ben, chatId)).toMatchObject({ muted: false });
    expect((await drain(ben)).filter((e) => e.type === 'chat.muted')).toEqual([]);

    // Until a time instead: the chat list says until when.
    const until = new Date(Date.now() + 7_200_000).toISOString();
    expect((await ann.put(`/api/v1/chats/${chatId}/mute`, { muted: true, until })).body.mute).toEqual({ chatId, muted: true, mutedUntil: until });
    expect((await annDesk.waitFor('chat.muted')).mute).toEqual({ chatId, muted: true, mutedUntil: until });
    expect(await chatIn(annDesk, chatId)).toMatchObject({ muted: true, mutedUntil: until });
  });

  it('a mute that ran out is not shown; unmute clears it', async () => {
    expect((await ben.put(`/api/v1/chats/${otherChatId}/mute`, { muted: true, until: new Date(Date.now() + 600).toISOString() })).status).toBe(200);
    expect(await chatIn(ben, otherChatId)).toMatchObject({ muted: true });
    await new Promise((r) => setTimeout(r, 800));
    expect(await chatIn(ben, otherChatId)).toMatchObject({ muted: false });

    expect((await ben.put(`/api/v1/chats/${chatId}/mute`, { muted: true })).status).toBe(200);
    expect((await ben.put(`/api/v1/chats/${chatId}/mute`, { muted: false })).body.mute).toEqual({ chatId, muted: false });
    expect(await chatIn(ben, chatId)).toMatchObject({ muted: false });
    expect((await ben.put(`/api/v1/chats/${chatId}/mute`, { muted: false })).status).toBe(200); // not muted: still fine
  });

  it('refuses chats that are not mine (404) and bad input (400)', async () => {
    expectError(await cat.put(`/api/v1/chats/${chatId}/mute`, { muted: true }), 404, 'not_found');
    expectError(await ann.put('/api/v1/chats/00000000-0000-4000-8000-000000000000/mute', { muted: true }), 404, 'not_found');
    expectError(await ann.put('/api/v1/chats/not-a-chat/mute', { muted: true }), 400, 'invalid_request');
    for (const body of [
      {},
      { muted: 'yes' },
      { muted: false, until: new Date(Date.now() + 60_000).toISOString() },
      { muted: true, until: new Date(Date.now() - 60_000).toISOString() },
      { muted: true, until: 'later' },
      { muted: true, forever: true },
    ]) {
      expectError(await ann.put(`/api/v1/chats/${chatId}/mute`, body), 400, 'invalid_request', JSON.stringify(body));
    }
    expect(await chatIn(ann, chatId)).toMatchObject({ muted: true }); // as it was
    expectError(await new Client(server.url).put(`/api/v1/chats/${chatId}/mute`, { muted: true }), 401, 'unauthorized');
  });

  it('keeps do-not-disturb and mutes across a restart, for every session', async () => {
    const before = (await ann.get('/api/v1/me')).body.user;
    const chatBefore = await chatIn(ann, chatId);
    server = await server.restart();
    for (const client of [ann, annDesk]) {
      const me = (await client.get('/api/v1/me')).body.user;
      expect({ dndUntil: me.dndUntil, notifyMentionsWhenBusy: me.notifyMentionsWhenBusy }).toEqual({
        dndUntil: before.dndUntil,
        notifyMentionsWhenBusy: false,
      });
      expect(await chatIn(client, chatId)).toMatchObject({ muted: true, mutedUntil: chatBefore.mutedUntil });
    }
    expect(await chatIn(ben, chatId)).toMatchObject({ muted: false });
  });

  it('do-not-disturb off again (null), or a time already past, reads as off', async () => {
    expect((await patchMe(ann, { dndUntil: null })).body.user.dndUntil).toBeNull();
    expect((await patchMe(ann, { dndUntil: new Date(Date.now() + 500).toISOString() })).body.user.dndUntil).not.toBeNull();
    await new Promise((r) => setTimeout(r, 700));
    expect((await annDesk.get('/api/v1/me')).body.user.dndUntil).toBeNull();
  });
});
