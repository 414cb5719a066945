/**
 * The panel's API client (electron/renderer/src/api) for files and search (issue 16), against a
 * real server with Node's fetch: uploadFile with progress, putMessage with files (and its safe
 * retry), searchMessages with paging, and errors as ApiError.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ApiError, MemoryStorage, PorticoClient } from '../../electron/renderer/src/api/index.js';
import { activeChat } from '../helpers/chat.js';
import { PASSWORD, startTestServer, type Client, type TestServer } from '../helpers/server.js';

let server: TestServer;
let alice: PorticoClient;
let bobRaw: Client;
let chatId: string;

beforeAll(async () => {
  server = await startTestServer({ chatFileMb: 1 });
  const aliceRaw = await server.user('acf-alice');
  bobRaw = await server.user('acf-bob');
  chatId = await activeChat(aliceRaw, bobRaw);
  alice = new PorticoClient({ baseUrl: server.url, storage: new MemoryStorage() });
  await alice.login('acf-alice', PASSWORD);
});
afterAll(() => server?.destroy());

it('uploads a file with progress, sends it with a message (a retry attaches nothing twice), and bob can load it by its signed url', async () => {
  const bytes = new TextEncoder().encode('agenda: budget, hiring');
  const progress: Array<[number, number]> = [];
  const file = await alice.uploadFile(chatId, new Blob([bytes], { type: 'text/plain' }), 'agenda.txt', (sent, total) => progress.push([sent, total]));
  expect(file).toEqual({ id: expect.any(String), name: 'agenda.txt', size: bytes.length, contentType: 'application/octet-stream' });
  expect(progress.at(-1)).toEqual([bytes.length, bytes.length]);

  const message = await alice.putMessage(chatId, 'acf-1', 'the agenda', [file.id]);
  expect(message.files?.map((f) => f.name)).toEqual(['agenda.txt']);
  const again = await alice.putMessage(chatId, 'acf-1', 'the agenda', [file.id]);
  expect(again.id).toBe(message.id);
  expect(again.files).toHaveLength(1);
  const onlyFile = await alice.putMessage(chatId, 'acf-2', '', [file.id]);
  expect(onlyFile.text).toBe('');

  const res = await fetch(alice.resolveUrl(message.files![0]!.url));
  expect(res.status).toBe(200);
  expect(await res.text()).toBe('agenda: budget, hiring');
  expect(res.headers.get('content-disposition')).toMatch(/^attachment/);
});

it('answers errors as ApiError: too large (413), unknown file (400 unknown_file)', async () => {
  const big = new Blob([new Uint8Array(1024 * 1024 + 1)]);
  const tooBig = await alice.uploadFile(chatId, big, 'big.bin').catch((e: unknown) => e);
  expect(tooBig).toBeInstanceOf(ApiError);
  expect((tooBig as ApiError).status).toBe(413);
  expect((tooBig as ApiError).code).toBe('body_too_large');
  const unknown = await alice.putMessage(chatId, 'acf-3', 'x', ['A'.repeat(22)]).catch((e: unknown) => e);
  expect((unknown as ApiError).code).toBe('unknown_file');
});

it('searches with paging and highlights', async () => {
  for (let i = 0; i < 3; i++) await alice.putMessage(chatId, `acf-s${i}`, `review number ${i} of the 予算`);
  const first = await alice.searchMessages('予算 review', { limit: 2 });
  expect(first.messages.map((m) => m.text)).toEqual(['review number 2 of the 予算', 'review number 1 of the 予算']);
  expect(first.messages[0]!.highlights).toEqual([
    { start: 0, end: 6 },
    { start: 23, end: 25 },
  ]);
  const second = await alice.searchMessages('予算 review', { limit: 2, before: first.before });
  expect(second.messages.map((m) => m.text)).toEqual(['review number 0 of the 予算']);
  expect(second.before).toBeUndefined();
  expect((await alice.searchMessages('review', { chat: chatId })).messages).toHaveLength(3);
});

it('sends files through the outbox: the entry carries the file ids under its client id, kept in storage until sent', async () => {
  const storage = new MemoryStorage();
  const carl = new PorticoClient({ baseUrl: server.url, storage });
  await carl.login('acf-alice', PASSWORD, true);
  const file = await carl.uploadFile(chatId, new Blob([new TextEncoder().encode('minutes')]), 'minutes.txt');
  // Not started: the entry waits in storage, with its files.
  const entry = carl.send(chatId, '', [{ id: file.id, name: file.name }]);
  expect(entry.files).toEqual([{ id: file.id, name: 'minutes.txt' }]);
  // A new client over the same storage (a restart) sends it once, with the file.
  const again = new PorticoClient({ baseUrl: server.url, storage });
  await again.restore();
  expect(again.outbox(chatId).map((e) => e.files)).toEqual([[{ id: file.id, name: 'minutes.txt' }]]);
  again.start();
  await expect.poll(() => again.outbox(chatId).find((e) => e.clientId === entry.clientId)?.state, { timeout: 10_000 }).toBe('sent');
  const sent = again.outbox(chatId).find((e) => e.clientId === entry.clientId)!.message!;
  expect(sent.files?.map((f) => f.name)).toEqual(['minutes.txt']);
  // Sent again under the same client id (a retry): one message, the file attached once.
  const retry = await again.putMessage(chatId, entry.clientId, '', [file.id]);
  expect(retry.id).toBe(sent.id);
  expect(retry.files).toHaveLength(1);
  again.stop();
  carl.stop();
});
