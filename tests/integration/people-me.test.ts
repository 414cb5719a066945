/**
 * People and me (issue 17): the directory search (by user ID or display name, any case, with
 * whether each is on my list and their picture), pictures (sniffed, resized to a square, served
 * without a token under a keyed-hash path, in contacts, search, chats), display name and status
 * changes reaching contacts and chat partners as `user.updated`, and the password change (wrong
 * old password refused and counted toward the login limits; the other sessions end).
 */
import sharp from 'sharp';
import { crc32, deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activeChat } from '../helpers/chat.js';
import { Client, PASSWORD, drain, eventually, expectError, login, send, startTestServer, type TestServer } from '../helpers/server.js';

const AVATAR_URL = /^\/avatars\/[0-9a-f]{64}\.webp$/;

const png = (width: number, height: number) =>
  sharp({ create: { width, height, channels: 4, background: { r: 200, g: 40, b: 40, alpha: 1 } } }).png().toBuffer();
/** A JPEG with EXIF (camera, orientation) and an ICC profile: none of it may survive. */
const jpeg = (width: number, height: number) =>
  sharp({ create: { width, height, channels: 3, background: { r: 20, g: 90, b: 200 } } })
    .withMetadata({ orientation: 6 })
    .withExif({ IFD0: { Make: 'SecretCam', Model: 'Leaky 1' } })
    .jpeg()
    .toBuffer();

/** A 74-byte PNG that claims 20,000 x 20,000 pixels: decoded, it would take over a gigabyte. */
function pixelBomb(): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type), data]);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(20_000, 0);
  ihdr.writeUInt32BE(20_000, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  return Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.alloc(1000))), chunk('IEND', Buffer.alloc(0))]);
}

describe('people and me', { timeout: 120_000 }, () => {
  let server: TestServer;
  let ann: Client;
  let ben: Client;
  let cat: Client;
  let dan: Client;

  const upload = (client: Client, body: Buffer | string, type = 'image/png') =>
    send(`${server.url}/api/v1/me/avatar`, { method: 'PUT', headers: { authorization: `Bearer ${client.token}`, 'content-type': type }, body: typeof body === 'string' ? body : new Uint8Array(body) });
  const patchMe = (client: Client, body: unknown) => client.request('PATCH', '/api/v1/me', body);
  const search = async (client: Client, q: string) => {
    const res = await client.get(`/api/v1/users?q=${encodeURIComponent(q)}`);
    expect(res.status).toBe(200);
    return res.body.users as any[];
  };
  /** Fetched like an <img> would: no token, no cookies. */
  const image = async (url: string) => {
    const res = await fetch(server.url + url);
    return { status: res.status, type: res.headers.get('content-type'), cache: res.headers.get('cache-control'), bytes: Buffer.from(await res.arrayBuffer()) };
  };

  beforeAll(async () => {
    server = await startTestServer({ loginFailuresPerUser: 4 });
    [ann, ben, cat, dan] = await Promise.all([
      server.user('pm-ann', 'Ann Lee'),
      server.user('pm-ben', 'Ben Ortiz'),
      server.user('pm-cat', 'Cat Ng'),
      server.user('pm-dan', 'Dan Stranger'),
    ]);
  });
  afterAll(() => server?.destroy());

  it('searches by user ID and display name in any case, and tells who is on my list and how', async () => {
    expect((await search(ann, 'ORTIZ')).map((u) => u.username)).toEqual(['pm-ben']);
    expect((await search(ann, 'Pm-BeN')).map((u) => u.username)).toEqual(['pm-ben']);
    expect((await search(ann, 'ng')).map((u) => u.username)).toContain('pm-cat');
    const [before] = await search(ann, 'pm-ben');
    expect(before).toEqual({ id: expect.any(Number), username: 'pm-ben', displayName: 'Ben Ortiz', isContact: false, personal: false });

    expect((await ann.put('/api/v1/contacts/pm-ben')).status).toBe(201);
    expect((await search(ann, 'pm-ben'))[0]).toMatchObject({ isContact: true, personal: true });

    // Through a group: on the list, not personal (so not removable), and the contact names the group.
    expect((await server.admin.post('/api/v1/admin/groups', { name: 'pm-team' })).status).toBe(201);
    for (const u of ['pm-ann', 'pm-cat']) expect((await server.admin.put(`/api/v1/admin/groups/pm-team/members/${u}`)).status).toBeLessThan(300);
    expect((await search(ann, 'pm-cat'))[0]).toMatchObject({ isContact: true, personal: false });
    const contacts = (await ann.get('/api/v1/contacts')).body.contacts;
    expect(contacts.find((c: any) => c.username === 'pm-cat')).toMatchObject({ personal: false, groups: ['pm-team'] });
    expect((await ann.delete('/api/v1/contacts/pm-cat')).status).toBe(404);
    expect((await ann.delete('/api/v1/contacts/pm-ben')).status).toBe(200);
    expect((await search(ann, 'pm-ben'))[0]).toMatchObject({ isContact: false, personal: false });
    expect((await ann.put('/api/v1/contacts/pm-ben')).status).toBe(201);
  });

  it('takes a PNG and a JPEG, stores each as a 256 px square without metadata, served without a token', async () => {
    await drain(ann);
    const res = await upload(ben, await png(600, 400));
    expect(res.status).toBe(200);
    const url = res.body.user.avatarUrl as string;
    expect(url).toMatch(AVATAR_URL);
    const got = await image(url);
    expect(got.status).toBe(200);
    expect(got.type).toBe('image/webp');
    expect(got.cache).toContain('immutable');
    const meta = await sharp(got.bytes).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['webp', 256, 256]);

    // ann has ben as a contact: she is told, and sees the picture in contacts, search and /me of ben.
    const event = await ann.waitFor('user.updated', (e) => e.user.username === 'pm-ben');
    expect(event.user.avatarUrl).toBe(url);
    expect((await ann.get('/api/v1/contacts')).body.contacts.find((c: any) => c.username === 'pm-ben').avatarUrl).toBe(url);
    expect((await search(ann, 'pm-ben'))[0].avatarUrl).toBe(url);
    expect((await ben.get('/api/v1/me')).body.user.avatarUrl).toBe(url);

    const original = await jpeg(300, 500);
    expect(original.includes(Buffer.from('SecretCam'))).toBe(true);
    expect((await sharp(original).metadata()).exif).toBeDefined();
    const jpegRes = await upload(ben, original, 'image/jpeg');
    expect(jpegRes.status).toBe(200);
    const jpegUrl = jpegRes.body.user.avatarUrl;
    expect(jpegUrl).toMatch(AVATAR_URL);
    expect(jpegUrl).not.toBe(url);
    const jpegImage = await image(jpegUrl);
    const jpegMeta = await sharp(jpegImage.bytes).metadata();
    expect([jpegMeta.width, jpegMeta.height]).toEqual([256, 256]);
    expect(jpegMeta.exif).toBeUndefined();
    expect(jpegMeta.icc).toBeUndefined();
    expect(jpegImage.bytes.includes(Buffer.from('SecretCam'))).toBe(false);
    // The first picture is nobody's now: its file is gone.
    expect((await image(url)).status).toBe(404);
  });

  it('refuses what is not a picture (415), too large (413) or empty (400), and keeps the picture it had', async () => {
    const had = (await ben.get('/api/v1/me')).body.user.avatarUrl;
    expectError(await upload(ben, 'just some text', 'text/plain'), 415, 'unsupported_media_type');
    expectError(await upload(ben, 'text pretending to be a PNG', 'image/png'), 415, 'unsupported_media_type');
    const truncated = (await png(64, 64)).subarray(0, 60); // a PNG signature and header, no image data
    expectError(await upload(ben, truncated), 415, 'unsupported_media_type');
    expectError(await upload(ben, pixelBomb()), 415, 'unsupported_media_type');
    const tooBig = Buffer.concat([await png(8, 8), Buffer.alloc(5 * 1024 * 1024)]);
    expectError(await upload(ben, tooBig), 413, 'body_too_large');
    expectError(await upload(ben, Buffer.alloc(0)), 400, 'invalid_request');
    expectError(await new Client(server.url).request('PUT', '/api/v1/me/avatar'), 401, 'unauthorized');
    expect((await ben.get('/api/v1/me')).body.user.avatarUrl).toBe(had);
    // Not a picture's name: 404, the same as an unknown one.
    for (const path of ['/avatars/x.webp', `/avatars/${'0'.repeat(64)}.webp`, `/avatars/${'0'.repeat(64)}.png`, '/avatars/..%2Fsecret.key']) {
      expect((await image(path)).status, path).toBe(404);
    }
  });

  it('shows the picture to chat partners and removes it with DELETE', async () => {
    const chatId = await activeChat(cat, ben);
    const url = (await ben.get('/api/v1/me')).body.user.avatarUrl;
    const chat = (await cat.get(`/api/v1/chats/${chatId}`)).body.chat;
    expect(chat.members.find((m: any) => m.username === 'pm-ben').avatarUrl).toBe(url);
    expect(chat.members.find((m: any) => m.username === 'pm-cat').avatarUrl).toBeUndefined();

    await drain(cat);
    const res = await ben.delete('/api/v1/me/avatar');
    expect(res.status).toBe(200);
    expect(res.body.user.avatarUrl).toBeUndefined();
    const event = await cat.waitFor('user.updated', (e) => e.user.username === 'pm-ben');
    expect(event.user.avatarUrl).toBeUndefined();
    expect((await image(url)).status).toBe(404);
    expect((await ben.delete('/api/v1/me/avatar')).status).toBe(200); // none left: still fine
  });

  it('a display name change reaches contacts and chat partners as user.updated, not strangers', async () => {
    await Promise.all([drain(ann), drain(cat), drain(dan)]);
    const res = await patchMe(ben, { displayName: '  Benjamin Ortiz ' });
    expect(res.status).toBe(200);
    expect(res.body.user).toMatchObject({ username: 'pm-ben', displayName: 'Benjamin Ortiz' });
    for (const client of [ann, cat]) {
      const event = await client.waitFor('user.updated', (e) => e.user.username === 'pm-ben');
      expect(event.user).toEqual({ id: expect.any(Number), username: 'pm-ben', displayName: 'Benjamin Ortiz' });
    }
    expect((await drain(dan)).filter((e) => e.type === 'user.updated')).toEqual([]);
    expect((await ben.get('/api/v1/me')).body.user.displayName).toBe('Benjamin Ortiz');
    expect((await search(dan, 'benjamin'))[0].displayName).toBe('Benjamin Ortiz');
    // Only do-not-disturb changes: nobody else is told.
    await drain(ann);
    expect((await patchMe(ben, { notifyMentionsWhenBusy: false })).status).toBe(200);
    expect((await patchMe(ben, { displayName: 'Benjamin Ortiz' })).status).toBe(200); // the same name: no news either
    await new Promise((r) => setTimeout(r, 200));
    expect((await drain(ann)).filter((e) => e.type === 'user.updated')).toEqual([]);
  });

  it('a status with an expiry is shown next to presence until it runs out', async () => {
    await drain(ann);
    const until = new Date(Date.now() + 1500).toISOString();
    const res = await patchMe(ben, { status: { emoji: '📅', text: 'In a meeting', until } });
    expect(res.status).toBe(200);
    expect(res.body.user.status).toEqual({ emoji: '📅', text: 'In a meeting', until });
    const event = await ann.waitFor('user.updated', (e) => e.user.username === 'pm-ben');
    expect(event.user.status).toEqual({ emoji: '📅', text: 'In a meeting', until });
    const contactOf = async () => (await ann.get('/api/v1/contacts')).body.contacts.find((c: any) => c.username === 'pm-ben');
    expect((await contactOf()).status).toEqual({ emoji: '📅', text: 'In a meeting', until });
    await eventually(async () => (await ben.get('/api/v1/me')).body.user.status === undefined, 5000, 'the status to expire');
    expect((await contactOf()).status).toBeUndefined();
    expect((await search(ann, 'pm-ben'))[0].status).toBeUndefined();

    // Without an expiry it stays; null clears it.
    expect((await patchMe(ben, { status: { text: 'Working from home' } })).body.user.status).toEqual({ text: 'Working from home' });
    expect((await contactOf()).status).toEqual({ text: 'Working from home' });
    expect((await patchMe(ben, { status: null })).body.user.status).toBeUndefined();
    expect((await contactOf()).status).toBeUndefined();
  });

  it('refuses bad profile input with 400 and changes nothing', async () => {
    const before = (await ben.get('/api/v1/me')).body.user;
    const bad: unknown[] = [
      {},
      { displayName: '' },
      { displayName: '   ' },
      { displayName: 'x'.repeat(81) },
      { status: { text: '' } },
      { status: { text: 'x'.repeat(101) } },
      { status: { text: 'ok', until: new Date(Date.now() - 60_000).toISOString() } },
      { status: { text: 'ok', until: 'at three' } },
      { status: { text: 'ok', emoji: 'x'.repeat(17) } },
      { status: { text: 'ok', color: 'red' } },
      { status: 'busy' },
      { dndUntil: 'tomorrow' },
      { dndUntil: new Date(Date.now() + 400 * 86_400_000).toISOString() },
      { notifyMentionsWhenBusy: 'yes' },
      { isAdmin: true },
      { username: 'pm-root' },
    ];
    for (const body of bad) expectError(await patchMe(ben, body), 400, 'invalid_request', JSON.stringify(body));
    expect((await ben.get('/api/v1/me')).body.user).toEqual(before);
  });

  it('a password change: wrong old password refused, the other sessions end, this one stays, the new one logs in', async () => {
    const desk = await Client.login(server.url, 'pm-ben', PASSWORD);
    const laptop = await Client.login(server.url, 'pm-ben', PASSWORD);
    await laptop.poll();
    const held = laptop.poll(20); // held when the password changes: answered at once, then 401

    expectError(await ben.post('/api/v1/me/password', { oldPassword: 'not it at all', newPassword: 'a brand new secret' }), 403, 'wrong_password');
    expectError(await ben.post('/api/v1/me/password', { oldPassword: PASSWORD, newPassword: 'short' }), 400, 'invalid_request');
    expect((await desk.get('/api/v1/me')).status).toBe(200);

    const started = Date.now();
    expect((await ben.post('/api/v1/me/password', { oldPassword: PASSWORD, newPassword: 'a brand new secret' })).status).toBe(200);
    await held;
    expect(Date.now() - started).toBeLessThan(15_000);
    expectError(await desk.get('/api/v1/me'), 401, 'unauthorized');
    expectError(await laptop.get('/api/v1/me'), 401, 'unauthorized');
    expect((await ben.get('/api/v1/me')).status).toBe(200);
    expectError(await login(server, 'pm-ben', PASSWORD), 401, 'invalid_credentials');
    expect((await login(server, 'pm-ben', 'a brand new secret')).status).toBe(200);
  });

  it('wrong old passwords count toward the login limits', async () => {
    // loginFailuresPerUser is 4 here: the attempts above and these, from this address, reach it.
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await dan.post('/api/v1/me/password', { oldPassword: `guess ${i}`, newPassword: 'whatever it is' })).status);
    expect(statuses.slice(0, 4)).toEqual([403, 403, 403, 403]);
    expect(statuses[4]).toBe(429);
    // And a login from here with the account's real password is held back too: the same budget.
    expect((await login(server, 'pm-dan', PASSWORD)).status).toBe(429);
    expect((await dan.get('/api/v1/me')).status).toBe(200); // the session itself is fine
  });
});
