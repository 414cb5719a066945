/**
 * The panel's API client (electron/renderer/src/api/) for people, me and do-not-disturb (issue
 * 17), against a real server: the calls a settings page will make, and the events another device
 * of the same user receives through the client's own poll loop.
 */
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, MemoryStorage, PorticoClient, notifyDecision } from '../../electron/renderer/src/api/index.js';
import { activeChat } from '../helpers/chat.js';
import { PASSWORD, startTestServer, type Client, type TestServer } from '../helpers/server.js';

describe('API client: me, people, do-not-disturb', { timeout: 60_000 }, () => {
  let server: TestServer;
  let eveRaw: Client;
  let fay: Client;
  const started: PorticoClient[] = [];
  const client = async () => {
    const c = new PorticoClient({ baseUrl: server.url, storage: new MemoryStorage(), pollWait: 5 });
    await c.login('ac-eve', PASSWORD, false);
    return c;
  };

  beforeAll(async () => {
    server = await startTestServer();
    [eveRaw, fay] = await Promise.all([server.user('ac-eve', 'Eve Adams'), server.user('ac-fay', 'Fay Brown')]);
  });
  afterAll(async () => {
    for (const c of started) {
      c.stop();
      await c.stopped();
    }
    await server?.destroy();
  });

  it('changes name, status and do-not-disturb; another device of mine hears me.updated', async () => {
    const [laptop, desk] = await Promise.all([client(), client()]);
    const heard = new Promise<any>((resolve) => desk.on('me.updated', resolve));
    const ready = new Promise((resolve) => desk.on('ready', resolve));
    started.push(desk);
    desk.start();
    await ready;
    const until = new Date(Date.now() + 3_600_000).toISOString();
    const me = await laptop.updateMe({ displayName: 'Eve A.', status: { emoji: '🏠', text: 'At home' }, dndUntil: until, notifyMentionsWhenBusy: false });
    expect(me).toMatchObject({ displayName: 'Eve A.', status: { emoji: '🏠', text: 'At home' }, dndUntil: until, notifyMentionsWhenBusy: false });
    expect((await heard).user).toMatchObject({ displayName: 'Eve A.', dndUntil: until });
    expect(await desk.me()).toEqual(me);
    // The policy reads what /me says: do-not-disturb silences, a mention is held back as set.
    expect(notifyDecision({ ...me, mentionsMe: false })).toBe('silent');
    expect(notifyDecision({ ...me, mentionsMe: true })).toBe('silent');
  });

  it('sets and removes the picture, mutes a chat, searches, and reports a wrong old password', async () => {
    const c = await client();
    const picture = await sharp({ create: { width: 50, height: 80, channels: 3, background: '#3a6' } }).png().toBuffer();
    const me = await c.setAvatar(new Blob([new Uint8Array(picture)], { type: 'image/png' }));
    expect(me.avatarUrl).toMatch(/^\/avatars\/[0-9a-f]{64}\.webp$/);
    expect((await fetch(server.url + me.avatarUrl)).status).toBe(200);
    await expect(c.setAvatar(new Blob(['not a picture'], { type: 'image/png' }))).rejects.toMatchObject({ status: 415, code: 'unsupported_media_type' });
    expect((await c.removeAvatar()).avatarUrl).toBeUndefined();

    const chatId = await activeChat(eveRaw, fay);
    expect(await c.muteChat(chatId, true)).toEqual({ chatId, muted: true });
    expect((await c.chats()).find((chat) => chat.id === chatId)).toMatchObject({ muted: true });
    expect(await c.muteChat(chatId, false)).toEqual({ chatId, muted: false });

    const [found] = await c.searchUsers('FAY');
    expect(found).toMatchObject({ username: 'ac-fay', displayName: 'Fay Brown', isContact: false, personal: false });

    const wrong = await c.changePassword('not my password', 'a new password here').catch((e) => e);
    expect(wrong).toBeInstanceOf(ApiError);
    expect(wrong).toMatchObject({ status: 403, code: 'wrong_password' });
    await c.changePassword(PASSWORD, 'a new password here');
    expect((await c.me()).username).toBe('ac-eve'); // this session stays
  });
});
