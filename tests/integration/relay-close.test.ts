/**
 * Closing the server ends the calls' HTTP relay with it: the sweeper's timer stops (it ran on,
 * holding the buffers and the server's services, after close()), and a download held for the
 * next chunk is answered rather than left waiting.
 */
import { describe, expect, it } from 'vitest';
import { RELAY_LIMITS } from '../../shared/index.js';
import { activeChat } from '../helpers/chat.js';
import { startTestServer } from '../helpers/server.js';

describe('relay on server close', () => {
  it("stops the relay sweeper and answers a held download", async () => {
    const server = await startTestServer({ presenceGraceMs: 60_000 });
    try {
      const alice = await server.user('alice', 'Alice Adams');
      const bob = await server.user('bob', 'Bob Brown');
      const chatId = await activeChat(alice, bob);
      await bob.poll();
      const started = await alice.post('/api/v1/calls', { chatId });
      expect(started.status, JSON.stringify(started.body)).toBe(201);
      const id = started.body.call.id as string;
      expect((await bob.post(`/api/v1/calls/${id}/accept`)).status).toBe(200);

      expect(server.services.relay.sweeping).toBe(true);
      // bob waits for alice's first chunk, as long as the relay lets him.
      const held = fetch(`${server.url}/api/v1/calls/${id}/relay/alice?after=-1&wait=${RELAY_LIMITS.waitMax}`, {
        headers: { authorization: `Bearer ${bob.token}` },
      }).then((res) => res.status, () => 'cut off');
      await new Promise((ok) => setTimeout(ok, 300)); // the download is held by now
      await server.close();
      expect(server.services.relay.sweeping).toBe(false);
      // Answered with "nothing (more)", or cut off by the closing server: not left hanging.
      expect([204, 'cut off']).toContain(await held);
    } finally {
      await server.destroy();
    }
  });
});
