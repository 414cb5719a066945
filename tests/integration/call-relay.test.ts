/**
 * The calls' HTTP relay against a real server: chunks go through in order; the ring buffer holds
 * only the last few per sender (memory and delay bounded); a receiver that fell behind gets the
 * newest and is told what it skipped; a download waits for the next chunk; only joined members of
 * an active call may send or receive; bad input gets 4xx; an ended call frees its buffers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RELAY_LIMITS } from '../../shared/index.js';
import { activeChat } from '../helpers/chat.js';
import { expectError, startTestServer, type Client, type TestServer } from '../helpers/server.js';

const WEBM = 'video/webm;codecs=vp8,opus';

describe('call HTTP relay', () => {
  let server: TestServer;
  let alice: Client;
  let bob: Client;
  let carol: Client;
  let chatId: string;

  const chunk = (seq: number, size = 1000) => Buffer.alloc(size, seq % 251);
  const put = (who: Client, callId: string, seq: number, body: Buffer = chunk(seq), type = WEBM) =>
    fetch(`${server.url}/api/v1/calls/${callId}/relay/${seq}`, { method: 'PUT', headers: { authorization: `Bearer ${who.token}`, 'content-type': type }, body: new Uint8Array(body) });
  const get = (who: Client, callId: string, from: string, after: number, wait = 0, signal?: AbortSignal) =>
    fetch(`${server.url}/api/v1/calls/${callId}/relay/${from}?after=${after}&wait=${wait}`, { headers: { authorization: `Bearer ${who.token}` }, signal: signal ?? null });
  const errorOf = async (res: Response) => ({ status: res.status, body: await res.json(), headers: res.headers });

  /** A call from alice to bob, answered: active, both joined. */
  async function activeCall(): Promise<string> {
    await bob.poll(); // bob counts as online
    const started = await alice.post('/api/v1/calls', { chatId });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    const id = started.body.call.id as string;
    const accepted = await bob.post(`/api/v1/calls/${id}/accept`);
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(200);
    expect(accepted.body.call.state).toBe('active');
    return id;
  }

  beforeAll(async () => {
    server = await startTestServer({ presenceGraceMs: 60_000 });
    alice = await server.user('alice', 'Alice Adams');
    bob = await server.user('bob', 'Bob Brown');
    carol = await server.user('carol', 'Carol Chen');
    chatId = await activeChat(alice, bob);
  });
  afterAll(() => server?.destroy());

  it('carries chunks in order, keeps only the last few, and skips a receiver that fell behind to the newest', async () => {
    const id = await activeCall();
    expect((await put(alice, id, 0)).status).toBe(200);
    let res = await get(bob, id, 'alice', -1);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(WEBM);
    expect(res.headers.get('x-relay-seq')).toBe('0');
    expect(Buffer.from(await res.arrayBuffer()).equals(chunk(0))).toBe(true);

    expect((await put(alice, id, 1)).status).toBe(200);
    res = await get(bob, id, 'alice', 0);
    expect([res.headers.get('x-relay-seq'), res.headers.get('x-relay-skipped')]).toEqual(['1', '0']);
    expect(Buffer.from(await res.arrayBuffer()).equals(chunk(1))).toBe(true);

    // Ten more while bob is away: only the last chunksKept stay on the server.
    for (let seq = 2; seq < 12; seq++) {
      const up = await put(alice, id, seq);
      expect(up.status).toBe(200);
      expect((await up.json()).kept).toBeLessThanOrEqual(RELAY_LIMITS.chunksKept);
    }
    res = await get(bob, id, 'alice', 1);
    expect(res.headers.get('x-relay-seq')).toBe('11');
    expect(res.headers.get('x-relay-skipped')).toBe('9');
    expect(res.headers.get('x-relay-newest')).toBe('11');
    expect(Buffer.from(await res.arrayBuffer()).equals(chunk(11))).toBe(true);

    // Just one behind: the next one, not a skip.
    await put(alice, id, 12);
    res = await get(bob, id, 'alice', 11);
    expect([res.headers.get('x-relay-seq'), res.headers.get('x-relay-skipped')]).toEqual(['12', '0']);

    // A retried (not newer) chunk is ignored.
    expect((await put(alice, id, 12, chunk(99))).status).toBe(200);
    res = await get(bob, id, 'alice', 11);
    expect(Buffer.from(await res.arrayBuffer()).equals(chunk(12))).toBe(true);

    // Both directions are separate.
    expect((await put(bob, id, 0, chunk(5))).status).toBe(200);
    res = await get(alice, id, 'bob', -1);
    expect(Buffer.from(await res.arrayBuffer()).equals(chunk(5))).toBe(true);
    expect((await bob.post(`/api/v1/calls/${id}/hangup`)).status).toBe(200);
  });

  it('holds a download until the next chunk arrives, and answers 204 when none came', async () => {
    const id = await activeCall();
    const empty = await get(bob, id, 'alice', -1, 1);
    expect(empty.status).toBe(204);
    const held = get(bob, id, 'alice', -1, 10);
    await new Promise((r) => setTimeout(r, 200));
    expect((await put(alice, id, 0, chunk(7))).status).toBe(200);
    const res = await held;
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(chunk(7))).toBe(true);
    expect((await alice.post(`/api/v1/calls/${id}/hangup`)).status).toBe(200);
  });

  it('lets only joined members of an active call use it, refuses bad input, and frees an ended call', async () => {
    const id = await activeCall();
    // Not a member of the call: no hint that it exists.
    expectError(await errorOf(await put(carol, id, 0)), 404, 'not_found');
    expectError(await errorOf(await get(carol, id, 'alice', -1)), 404, 'not_found');
    // No token.
    const anon = await fetch(`${server.url}/api/v1/calls/${id}/relay/0`, { method: 'PUT', headers: { 'content-type': WEBM }, body: new Uint8Array(chunk(0)) });
    expect(anon.status).toBe(401);
    // Bad input.
    expectError(await errorOf(await put(alice, id, 0, chunk(0), 'text/html')), 415, 'unsupported_media_type');
    expectError(await errorOf(await put(alice, id, 0, chunk(0), 'video/webm\r\nx: y'.replace(/\r\n/, ' '))), 415, 'unsupported_media_type');
    expectError(await errorOf(await put(alice, id, 0, Buffer.alloc(0))), 400, 'invalid_request');
    expectError(await errorOf(await put(alice, id, 0, Buffer.alloc(RELAY_LIMITS.chunkBytes + 1))), 413, 'body_too_large');
    expectError(await errorOf(await fetch(`${server.url}/api/v1/calls/${id}/relay/-1`, { method: 'PUT', headers: { authorization: `Bearer ${alice.token}`, 'content-type': WEBM }, body: new Uint8Array(chunk(0)) })), 400, 'invalid_request');
    expectError(await errorOf(await fetch(`${server.url}/api/v1/calls/not-a-uuid/relay/0`, { method: 'PUT', headers: { authorization: `Bearer ${alice.token}`, 'content-type': WEBM }, body: new Uint8Array(chunk(0)) })), 400, 'invalid_request');
    expectError(await errorOf(await get(alice, id, 'bob', -1, 99)), 400, 'invalid_request');
    expectError(await errorOf(await get(alice, id, 'carol', -1)), 404, 'not_found');

    // A held download ends when the call does; after that the relay refuses.
    const held = get(bob, id, 'alice', -1, 15);
    await new Promise((r) => setTimeout(r, 200));
    const started = Date.now();
    expect((await put(alice, id, 0)).status).toBe(200);
    expect((await held).status).toBe(200);
    expect((await alice.post(`/api/v1/calls/${id}/hangup`)).status).toBe(200);
    expectError(await errorOf(await put(alice, id, 1)), 409, 'conflict');
    expectError(await errorOf(await get(bob, id, 'alice', 0)), 409, 'conflict');
    expect(Date.now() - started).toBeLessThan(10_000);

    // A call still ringing has no relay yet.
    await bob.poll();
    const ringing = await alice.post('/api/v1/calls', { chatId });
    expect(ringing.status).toBe(201);
    expectError(await errorOf(await put(alice, ringing.body.call.id, 0)), 409, 'conflict');
    expect((await bob.post(`/api/v1/calls/${ringing.body.call.id}/decline`)).status).toBe(200);
  });
});
