import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';

describe('a chat between two users, end to end', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.destroy());

  it('request, accept, a message each way, all delivered by long poll', async () => {
    const alice = await server.user('alice', 'Alice Adams');
    const bob = await server.user('bob', 'Bob Brown');
    await alice.poll();
    await bob.poll();

    const created = await alice.post('/api/v1/chats', { invitees: ['bob'] });
    expect(created.status).toBe(201);
    expect(created.body.chat.state).toBe('pending');
    const chatId = created.body.chat.id;

    const request = await bob.waitFor('chat.request');
    expect(request.chat.id).toBe(chatId);
    expect(request.from).toBe('alice');

    // Alice holds a poll; Bob's acceptance wakes it.
    const held = alice.poll(10);
    expect((await bob.post(`/api/v1/chats/${chatId}/accept`)).status).toBe(200);
    const woken = await held;
    expect(woken.map((e) => e.type)).toContain('chat.accepted');

    const sent = await alice.put(`/api/v1/chats/${chatId}/messages/m1`, { text: 'Hello Bob' });
    expect(sent.status).toBe(201);
    const got = await bob.waitFor('chat.message');
    expect(got.message).toEqual(sent.body.message);

    await bob.put(`/api/v1/chats/${chatId}/messages/r1`, { text: 'Hi Alice' });
    expect((await alice.waitFor('chat.message', (e) => e.message.from === 'bob')).message.text).toBe('Hi Alice');
  });
});
