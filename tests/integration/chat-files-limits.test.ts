/**
 * Chat file uploads against bodies that do not come (issue 16): who sends is checked before a
 * byte of the body is read (a non-member is answered while the body has not even been sent),
 * and a body trickled below the minimum rate is cut with 408, leaving nothing in the spool.
 */
import { request } from 'node:http';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { activeChat } from '../helpers/chat.js';
import { type Client, startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let alice: Client;
let mallory: Client;
let chatId: string;

beforeAll(async () => {
  server = await startTestServer({ uploadRateWindowMs: 500, uploadMinBytesPerSecond: 10_000 });
  alice = await server.user('cl-alice');
  const bob = await server.user('cl-bob');
  mallory = await server.user('cl-mallory');
  chatId = await activeChat(alice, bob);
});
afterAll(() => server?.destroy());

/** Starts an upload announcing `length` bytes and sends only `first`; answers the status and body once the server answers. */
function partialUpload(client: Client, length: number, first: Buffer, trickleMs?: number) {
  const url = new URL(`${server.url}/api/v1/chats/${chatId}/files?name=slow.bin`);
  return new Promise<{ status: number; body: any }>((resolve, reject) => {
    const req = request(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${client.token}`, 'content-type': 'application/octet-stream', 'content-length': String(length) },
    });
    let timer: NodeJS.Timeout | undefined;
    req.on('response', (res) => {
      clearInterval(timer);
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => {
        req.destroy();
        resolve({ status: res.statusCode!, body: JSON.parse(text) });
      });
    });
    req.on('error', (error) => (timer === undefined ? reject(error) : undefined));
    req.write(first);
    if (trickleMs) timer = setInterval(() => req.write(Buffer.alloc(10, 1)), trickleMs);
  });
}

const spooled = () => {
  try {
    return readdirSync(join(server.dataDir, 'tmp'));
  } catch {
    return [];
  }
};

it('a non-member is refused (404) before the body is read: the answer comes though most of it was never sent', async () => {
  const answer = await partialUpload(mallory, 50 * 1024 * 1024, Buffer.alloc(1000, 2));
  expect(answer.status).toBe(404);
  expect(answer.body.error.code).toBe('not_found');
  expect(spooled()).toEqual([]);
});

it('an announced size over the limit is refused (413) before the body is read', async () => {
  const answer = await partialUpload(alice, 101 * 1024 * 1024, Buffer.alloc(1000, 3));
  expect(answer.status).toBe(413);
  expect(answer.body.error.code).toBe('body_too_large');
});

it('a member trickling the body below the minimum rate gets 408; nothing stays in the spool', async () => {
  const answer = await partialUpload(alice, 10 * 1024 * 1024, Buffer.alloc(100, 4), 100);
  expect(answer.status).toBe(408);
  expect(answer.body.error.code).toBe('invalid_request');
  expect(spooled()).toEqual([]);
  // The server goes on serving uploads.
  expect((await alice.get(`/api/v1/chats/${chatId}/messages`)).status).toBe(200);
});
