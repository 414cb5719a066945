/**
 * Files in chats (issue 16): upload as the body or as multipart, the type from the bytes, the size
 * limit, members only, messages that carry files (only their own chat's, never twice on a retry),
 * serving with a token or a signed path (tampered and expired paths refused), ranges, thumbnails,
 * content stored once, the sweep of unattached files, and all of it across a restart.
 */
import { createHash } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServerSecret } from '../../server/src/secrets.js';
import { activeChat, createChat } from '../helpers/chat.js';
import { Client, expectError, send, startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let alice: Client;
let bob: Client;
let carol: Client;
let chatAB: string;
let chatAC: string;
let png: Buffer;

const sha = (b: Buffer | Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Uploads raw bytes as the body. */
function upload(client: Client, chatId: string, bytes: Buffer, name?: string, contentType = 'application/octet-stream') {
  const query = name === undefined ? '' : `?name=${encodeURIComponent(name)}`;
  return send(`${server.url}/api/v1/chats/${chatId}/files${query}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${client.token}`, 'content-type': contentType },
    body: new Uint8Array(bytes),
  });
}

function uploadForm(client: Client, chatId: string, bytes: Buffer, filename: string, type = 'application/octet-stream') {
  const form = new FormData();
  form.set('file', new Blob([new Uint8Array(bytes)], { type }), filename);
  return send(`${server.url}/api/v1/chats/${chatId}/files`, { method: 'POST', headers: { authorization: `Bearer ${client.token}` }, body: form });
}

/** GET of a path with an optional token; the body as bytes. */
async function fetchBytes(path: string, token?: string, headers: Record<string, string> = {}) {
  const res = await fetch(server.url + path, { headers: { ...headers, ...(token ? { authorization: `Bearer ${token}` } : {}) } });
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
}

/** The regular files under a folder of the data directory. */
function storedFiles(folder: string): string[] {
  const dir = join(server.dataDir, folder);
  try {
    return readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name));
  } catch {
    return [];
  }
}

beforeAll(async () => {
  server = await startTestServer({ chatFileMb: 1 });
  alice = await server.user('cf-alice');
  bob = await server.user('cf-bob');
  carol = await server.user('cf-carol');
  chatAB = await activeChat(alice, bob);
  chatAC = await activeChat(alice, carol);
  png = await sharp({ create: { width: 1200, height: 800, channels: 3, background: { r: 200, g: 30, b: 30 } } }).png().toBuffer();
});
afterAll(() => server?.destroy());

describe('uploading', () => {
  it('takes the file as the raw body with ?name=, and as multipart field "file"; the type comes from the bytes', async () => {
    const raw = await upload(alice, chatAB, png, 'red.png', 'image/png');
    expect(raw.status).toBe(201);
    expect(raw.body.file).toEqual({ id: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/), name: 'red.png', size: png.length, contentType: 'image/png' });

    const text = Buffer.from('minutes of the meeting\n');
    const form = await uploadForm(bob, chatAB, text, 'minutes.txt', 'text/plain');
    expect(form.status).toBe(201);
    expect(form.body.file).toMatchObject({ name: 'minutes.txt', size: text.length, contentType: 'application/octet-stream' });

    // A PNG named .txt and declared text/plain is a PNG; HTML named .png is not an image.
    const disguised = await upload(alice, chatAB, png, 'notes.txt', 'text/plain');
    expect(disguised.body.file.contentType).toBe('image/png');
    const html = await upload(alice, chatAB, Buffer.from('<html><script>alert(1)</script></html>'), 'cute.png', 'image/png');
    expect(html.status).toBe(201);
    expect(html.body.file.contentType).not.toMatch(/^image\/|html/);
    // Folders and control characters in a name are dropped.
    const named = await upload(alice, chatAB, Buffer.from('x'), '../../etc/pass\u0000wd');
    expect(named.body.file.name).toBe('passwd');
  });

  it('refuses a file over PORTICO_CHAT_FILE_MB (413), an empty file and a multipart body without "file" (400)', async () => {
    const big = Buffer.alloc(1024 * 1024 + 1, 7);
    expectError(await upload(alice, chatAB, big, 'big.bin'), 413, 'body_too_large', 'raw over the limit');
    expectError(await uploadForm(alice, chatAB, big, 'big.bin'), 413, 'body_too_large', 'multipart over the limit');
    // Exactly the limit is fine.
    expect((await upload(alice, chatAB, Buffer.alloc(1024 * 1024, 8), 'exact.bin')).status).toBe(201);
    expectError(await upload(alice, chatAB, Buffer.alloc(0), 'empty.bin'), 400, 'invalid_request', 'empty');
    const form = new FormData();
    form.set('other', 'x');
    const res = await send(`${server.url}/api/v1/chats/${chatAB}/files`, { method: 'POST', headers: { authorization: `Bearer ${alice.token}` }, body: form });
    expectError(res, 400, 'invalid_request', 'no file field');
    // Nothing of the refused uploads is left in the spool.
    expect(storedFiles('tmp')).toEqual([]);
  });

  it('is for members taking part only: a non-member, an invitee and an unknown chat get 404; no token 401', async () => {
    expectError(await upload(carol, chatAB, png, 'x.png'), 404, 'not_found', 'non-member');
    const pending = await createChat(alice, carol, bob);
    expectError(await upload(bob, pending.id, png, 'x.png'), 404, 'not_found', 'invitee');
    expectError(await upload(alice, crypto.randomUUID(), png, 'x.png'), 404, 'not_found', 'unknown chat');
    const anonymous = await send(`${server.url}/api/v1/chats/${chatAB}/files?name=x`, { method: 'POST', body: new Uint8Array(png) });
    expectError(anonymous, 401, 'unauthorized', 'no token');
  });
});

describe('messages with files', () => {
  it('carry files (with or without text) to every member; a retry attaches nothing twice', async () => {
    const a = (await upload(alice, chatAB, png, 'photo.png')).body.file;
    const b = (await upload(alice, chatAB, Buffer.from('%PDF-1.4\n%âãÏÓ\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n'), 'report.pdf')).body.file;
    const sent = await alice.put(`/api/v1/chats/${chatAB}/messages/files-1`, { text: 'see these', files: [a.id, b.id] });
    expect(sent.status).toBe(201);
    const files = sent.body.message.files;
    expect(files.map((f: any) => [f.id, f.name])).toEqual([
      [a.id, 'photo.png'],
      [b.id, 'report.pdf'],
    ]);
    expect(files[0].url).toMatch(new RegExp(`^/api/v1/chats/${chatAB}/files/${a.id}\\?exp=[0-9a-z]+&sig=[\\w-]+$`));
    expect(files[0].thumbnailUrl).toMatch(new RegExp(`^/api/v1/chats/${chatAB}/files/${a.id}/thumbnail\\?exp=`));
    expect(files[1].thumbnailUrl).toBeUndefined();
    expect(files[1].contentType).toBe('application/pdf');

    const event = await bob.waitFor('chat.message', (e) => e.message.clientId === 'files-1');
    expect(event.message.files.map((f: any) => f.id)).toEqual([a.id, b.id]);

    // The retry returns the stored message, 200, one message, files once.
    const again = await alice.put(`/api/v1/chats/${chatAB}/messages/files-1`, { text: 'see these', files: [a.id, b.id] });
    expect(again.status).toBe(200);
    expect(again.body.message.id).toBe(sent.body.message.id);
    expect(again.body.message.files.map((f: any) => f.id)).toEqual([a.id, b.id]);
    // Same client id, other files (or none): a conflict.
    expectError(await alice.put(`/api/v1/chats/${chatAB}/messages/files-1`, { text: 'see these', files: [a.id] }), 409, 'idempotency_conflict', 'other files');
    expectError(await alice.put(`/api/v1/chats/${chatAB}/messages/files-1`, { text: 'see these' }), 409, 'idempotency_conflict', 'no files');

    const history = (await bob.get(`/api/v1/chats/${chatAB}/messages`)).body.messages;
    const stored = history.filter((m: any) => m.clientId === 'files-1');
    expect(stored).toHaveLength(1);
    expect(stored[0].files.map((f: any) => f.id)).toEqual([a.id, b.id]);
    // Messages without files have no files field.
    expect((await alice.put(`/api/v1/chats/${chatAB}/messages/plain-1`, { text: 'plain' })).body.message.files).toBeUndefined();

    // Files only, no text.
    const only = await bob.put(`/api/v1/chats/${chatAB}/messages/files-2`, { files: [b.id] });
    expect(only.status).toBe(201);
    expect(only.body.message).toMatchObject({ text: '', files: [{ id: b.id }] });
  });

  it('refuses unknown file ids, files of another chat, repeated ids, and a message with neither text nor files', async () => {
    const ofAC = (await upload(carol, chatAC, png, 'carol.png')).body.file;
    expectError(await alice.put(`/api/v1/chats/${chatAB}/messages/bad-1`, { text: 'x', files: ['A'.repeat(22)] }), 400, 'unknown_file', 'unknown id');
    // alice is in both chats, yet a file of one may not go into the other.
    expectError(await alice.put(`/api/v1/chats/${chatAB}/messages/bad-2`, { text: 'x', files: [ofAC.id] }), 400, 'unknown_file', 'another chat');
    const mine = (await upload(alice, chatAB, png, 'p.png')).body.file;
    expectError(await alice.put(`/api/v1/chats/${chatAB}/messages/bad-3`, { files: [mine.id, mine.id] }), 400, 'invalid_request', 'repeated id');
    expectError(await alice.put(`/api/v1/chats/${chatAB}/messages/bad-4`, { text: '  ' }), 400, 'invalid_request', 'blank');
    expectError(await alice.put(`/api/v1/chats/${chatAB}/messages/bad-5`, {}), 400, 'invalid_request', 'nothing');
    expectError(await alice.put(`/api/v1/chats/${chatAB}/messages/bad-6`, { files: [] }), 400, 'invalid_request', 'no files');
    expectError(await alice.put(`/api/v1/chats/${chatAB}/messages/bad-7`, { files: ['../x'] }), 400, 'invalid_request', 'malformed id');
    // carol, not a member of alice and bob's chat, cannot send there with a file of hers either.
    expect((await carol.put(`/api/v1/chats/${chatAB}/messages/c-1`, { files: [ofAC.id] })).status).toBe(403);
    // None of these were stored.
    const ids = (await alice.get(`/api/v1/chats/${chatAB}/messages?limit=200`)).body.messages.map((m: any) => m.clientId);
    expect(ids.filter((id: string) => id.startsWith('bad-'))).toEqual([]);
  });
});

describe('serving', () => {
  let file: any;
  let message: any;
  beforeAll(async () => {
    file = (await upload(bob, chatAB, png, 'serve.png')).body.file;
    message = (await bob.put(`/api/v1/chats/${chatAB}/messages/serve-1`, { text: 'served', files: [file.id] })).body.message;
  });

  it('serves members with their token (images inline, the rest as attachments) and 404s everyone else', async () => {
    const path = `/api/v1/chats/${chatAB}/files/${file.id}`;
    const res = await fetchBytes(path, alice.token);
    expect(res.status).toBe(200);
    expect(sha(res.bytes)).toBe(sha(png));
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(res.headers.get('content-disposition')).toMatch(/^inline; filename="serve.png"/);
    expect(res.headers.get('content-security-policy')).toContain('sandbox');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');

    const text = (await upload(alice, chatAB, Buffer.from('<html>hi</html>'), 'page.html', 'text/html')).body.file;
    const download = await fetchBytes(`/api/v1/chats/${chatAB}/files/${text.id}`, bob.token);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-disposition')).toMatch(/^attachment; filename="page.html"/);
    expect(download.headers.get('content-type')).toBe('application/octet-stream');

    // carol (not a member), with her token: 404, as for an unknown file or a file asked under another chat.
    expect((await fetchBytes(path, carol.token)).status).toBe(404);
    expect((await fetchBytes(`/api/v1/chats/${chatAB}/files/${'B'.repeat(22)}`, alice.token)).status).toBe(404);
    expect((await fetchBytes(`/api/v1/chats/${chatAC}/files/${file.id}`, alice.token)).status).toBe(404);
    expect((await fetchBytes(`/api/v1/chats/${chatAB}/files/not-an-id`, alice.token)).status).toBe(404);
    expect((await fetchBytes(path)).status).toBe(401);
  });

  it('a signed url works without a token; a tampered or expired one does not', async () => {
    const ok = await fetchBytes(message.files[0].url);
    expect(ok.status).toBe(200);
    expect(sha(ok.bytes)).toBe(sha(png));
    const url = new URL(message.files[0].url, server.url);
    const sig = url.searchParams.get('sig')!;
    const tampered = [
      message.files[0].url.replace(`sig=${sig}`, `sig=${sig.slice(0, -1)}${sig.endsWith('A') ? 'B' : 'A'}`),
      message.files[0].url.replace(/exp=([0-9a-z]+)/, (_: string, e: string) => `exp=${(parseInt(e, 36) + 3600).toString(36)}`),
      message.files[0].url.replace(file.id, 'C'.repeat(22)),
      message.files[0].url.replace(chatAB, chatAC),
      `/api/v1/chats/${chatAB}/files/${file.id}?exp=${url.searchParams.get('exp')}`,
      // The file's signature does not open its thumbnail, nor the other way round.
      `/api/v1/chats/${chatAB}/files/${file.id}/thumbnail${url.search}`,
    ];
    for (const path of tampered) {
      const res = await fetchBytes(path);
      expect([403, 404], path).toContain(res.status);
    }
    // An expired one, signed with the server's own secret.
    const secret = ServerSecret.load(server.dataDir);
    const [exp, mac] = secret.grant(`chat-file:${chatAB}/${file.id}`, Date.now() - 1000).split('.');
    expect((await fetchBytes(`/api/v1/chats/${chatAB}/files/${file.id}?exp=${exp}&sig=${mac}`)).status).toBe(403);
    // The same, unexpired, works (so the refusal above is the expiry).
    const [exp2, mac2] = secret.grant(`chat-file:${chatAB}/${file.id}`, Date.now() + 60_000).split('.');
    expect((await fetchBytes(`/api/v1/chats/${chatAB}/files/${file.id}?exp=${exp2}&sig=${mac2}`)).status).toBe(200);
  });

  it('answers byte ranges and conditional requests', async () => {
    const path = `/api/v1/chats/${chatAB}/files/${file.id}`;
    const part = await fetchBytes(path, alice.token, { range: 'bytes=10-19' });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 10-19/${png.length}`);
    expect(part.bytes.equals(png.subarray(10, 20))).toBe(true);
    const tail = await fetchBytes(message.files[0].url, undefined, { range: 'bytes=-5' });
    expect(tail.status).toBe(206);
    expect(tail.bytes.equals(png.subarray(png.length - 5))).toBe(true);
    expect((await fetchBytes(path, alice.token, { range: `bytes=${png.length + 10}-` })).status).toBe(416);
    const etag = part.headers.get('etag')!;
    expect((await fetchBytes(path, alice.token, { 'if-none-match': etag })).status).toBe(304);
  });

  it('makes a thumbnail of an image: a WebP within 320 x 320', async () => {
    const res = await fetchBytes(message.files[0].thumbnailUrl);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/webp');
    const meta = await sharp(res.bytes).metadata();
    expect(meta.format).toBe('webp');
    expect(Math.max(meta.width!, meta.height!)).toBeLessThanOrEqual(320);
    expect(meta.width).toBe(320); // 1200 x 800 -> 320 x 213
    expect(res.bytes.length).toBeLessThan(png.length);
    // With a member's token too.
    expect((await fetchBytes(`/api/v1/chats/${chatAB}/files/${file.id}/thumbnail`, bob.token)).status).toBe(200);
    expect((await fetchBytes(`/api/v1/chats/${chatAB}/files/${file.id}/thumbnail`, carol.token)).status).toBe(404);
  });
});

describe('storage', () => {
  it('stores the same bytes once, 0600, whatever chat or name they come under', async () => {
    const bytes = Buffer.from(`unique content ${Math.random()}`);
    const one = await upload(alice, chatAB, bytes, 'one.txt');
    const two = await upload(carol, chatAC, bytes, 'two.txt');
    expect(one.body.file.id).not.toBe(two.body.file.id);
    const copies = storedFiles('files').filter((p) => p.endsWith(sha(bytes)));
    expect(copies).toHaveLength(1);
    for (const p of storedFiles('files')) expect(statSync(p).mode & 0o777).toBe(0o600);
  });

  it('keeps files and messages across a restart; sweeps files no message carries after a day', async () => {
    const kept = (await upload(alice, chatAB, Buffer.from('kept across restarts'), 'kept.txt')).body.file;
    await alice.put(`/api/v1/chats/${chatAB}/messages/kept-1`, { files: [kept.id] });
    const loose = Buffer.from(`never attached ${Math.random()}`);
    const unattached = (await upload(alice, chatAB, loose, 'loose.txt')).body.file;

    server = await server.restart();
    alice.baseUrl = bob.baseUrl = carol.baseUrl = server.url;
    const history = (await bob.get(`/api/v1/chats/${chatAB}/messages?limit=200`)).body.messages;
    const msg = history.find((m: any) => m.clientId === 'kept-1');
    const res = await fetchBytes(msg.files[0].url);
    expect(res.status).toBe(200);
    expect(res.bytes.toString()).toBe('kept across restarts');
    // A retry after the restart still attaches nothing twice.
    expect((await alice.put(`/api/v1/chats/${chatAB}/messages/kept-1`, { files: [kept.id] })).status).toBe(200);

    // The sweep: nothing goes today; a day later the unattached file and its bytes go, the attached one stays.
    const { ChatFileSweeper } = await import('../../server/src/chat/files.js');
    const sweeper = new ChatFileSweeper(server.services.store, server.dataDir);
    await sweeper.sweep();
    expect((await fetchBytes(`/api/v1/chats/${chatAB}/files/${unattached.id}`, alice.token)).status).toBe(200);
    await sweeper.sweep(Date.now() + 25 * 3600_000);
    expect((await fetchBytes(`/api/v1/chats/${chatAB}/files/${unattached.id}`, alice.token)).status).toBe(404);
    expect(storedFiles('files').some((p) => p.endsWith(sha(loose)))).toBe(false);
    expect((await fetchBytes(msg.files[0].url)).status).toBe(200);
    expectError(await alice.put(`/api/v1/chats/${chatAB}/messages/late-1`, { files: [unattached.id] }), 400, 'unknown_file', 'swept file');
  });
});

describe('files and the message lifecycle', () => {
  it('an edit keeps the files; a deletion lets go of them; the creator may send files while the chat is pending', async () => {
    const file = (await upload(alice, chatAB, Buffer.from('agenda\n'), 'agenda.txt')).body.file;
    const sent = await alice.put(`/api/v1/chats/${chatAB}/messages/lc-1`, { text: 'the agenda', files: [file.id] });
    expect(sent.status).toBe(201);
    const edited = await alice.request('PATCH', `/api/v1/chats/${chatAB}/messages/lc-1`, { text: 'the agenda (final)' });
    expect(edited.status).toBe(200);
    expect(edited.body.message).toMatchObject({ text: 'the agenda (final)', files: [{ id: file.id, name: 'agenda.txt' }] });
    expect(edited.body.message.files[0].url).toMatch(/[?&]sig=/); // an <img> or a download link can load it
    const history = (await bob.get(`/api/v1/chats/${chatAB}/messages`)).body.messages;
    expect(history.find((m: any) => m.clientId === 'lc-1').files.map((f: any) => f.id)).toEqual([file.id]);

    const deleted = await alice.delete(`/api/v1/chats/${chatAB}/messages/lc-1`);
    expect(deleted.status).toBe(200);
    expect(deleted.body.message.deleted).toBe(true);
    expect(deleted.body.message.files).toBeUndefined();
    const after = (await bob.get(`/api/v1/chats/${chatAB}/messages`)).body.messages.find((m: any) => m.clientId === 'lc-1');
    expect(after).toMatchObject({ deleted: true, text: '' });
    expect(after.files).toBeUndefined();

    // Pending: the creator's file goes with the request; the invitee reads it before accepting.
    const dave = await server.user('cf-dave');
    const pending = await createChat(alice, dave);
    const early = (await upload(alice, pending.id, png, 'plan.png', 'image/png')).body.file;
    expect((await alice.put(`/api/v1/chats/${pending.id}/messages/lc-2`, { files: [early.id] })).status).toBe(201);
    const seen = (await dave.get(`/api/v1/chats/${pending.id}/messages`)).body.messages;
    expect(seen.map((m: any) => m.files?.[0]?.id)).toEqual([early.id]);
    expect((await fetchBytes(seen[0].files[0].url)).status).toBe(200);
  });
});
