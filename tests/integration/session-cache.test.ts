/**
 * Tokens are resolved from memory after their first use (so a poll costs no session query);
 * every way a token ends must still end it at once: logout, password reset, user removal, and
 * the same done by another process on the data directory (the admin CLI) — without waiting for
 * the server's periodic look at external changes.
 */
import { backend } from '../helpers/backend.js';
import { Agent, request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseFile } from '../../server/src/server.js';
import { SqliteStore } from '../../server/src/store/sqlite.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
beforeAll(async () => {
  // The periodic sync is made slow, so only the per-request check can notice another process.
  server = await startTestServer({ externalSyncMs: 60_000 });
});
afterAll(() => server.destroy());

describe('cached sessions end at once', () => {
  it('logout', async () => {
    const ann = await server.user('ann');
    expect((await ann.get('/api/v1/me')).status).toBe(200);
    expect((await ann.get('/api/v1/me')).status).toBe(200); // now from the cache
    expect((await ann.post('/api/v1/logout')).status).toBeLessThan(300);
    expect((await ann.get('/api/v1/me')).status).toBe(401);
  });

  it('password reset and removal through the admin API', async () => {
    const ben = await server.user('ben');
    const cat = await server.user('cat');
    expect((await ben.get('/api/v1/me')).status).toBe(200);
    expect((await cat.get('/api/v1/me')).status).toBe(200);
    expect((await server.admin.put('/api/v1/admin/users/ben/password', { password: 'another long password' })).status).toBeLessThan(300);
    expect((await ben.get('/api/v1/me')).status).toBe(401);
    expect((await server.admin.delete('/api/v1/admin/users/cat')).status).toBeLessThan(300);
    expect((await cat.get('/api/v1/me')).status).toBe(401);
  });

  it('a changed user record is not served stale (presence chosen after the token was cached)', async () => {
    const dan = await server.user('dan');
    const stop = new AbortController();
    // A held poll keeps dan connected, so /me shows his chosen state.
    const held = dan.get('/api/v1/events?wait=20', { signal: stop.signal }).catch(() => undefined);
    try {
      await expect.poll(async () => (await dan.get('/api/v1/me')).body.user.presence).toBe('available');
      expect((await dan.put('/api/v1/presence', { state: 'away' })).status).toBe(200);
      expect((await dan.get('/api/v1/me')).body.user.presence).toBe('away');
    } finally {
      stop.abort();
      await held;
    }
  });

  // SQLite's per-process session cache and another process on the same file: on PostgreSQL
  // sessions are not cached (pg-nodes.test.ts shows a logout on one node holding on another).
  it.skipIf(backend === 'postgres')('a session deleted or a user removed by another process', async () => {
    const eve = await server.user('eve');
    const fay = await server.user('fay');
    expect((await eve.get('/api/v1/me')).status).toBe(200);
    expect((await fay.get('/api/v1/me')).status).toBe(200);
    const other = new SqliteStore(databaseFile(server.dataDir));
    try {
      const eveId = (await other.userByName('eve'))!.id;
      await other.setPassword(eveId, 'scrypt$not$a$real$hash'); // ends all of eve's sessions
      expect((await eve.get('/api/v1/me')).status).toBe(401);
      await other.deleteUser((await other.userByName('fay'))!.id);
      expect((await fay.get('/api/v1/me')).status).toBe(401);
    } finally {
      await other.close();
    }
  });

  it('one keep-alive connection that carries another token (or a bad one) is each time who that token is', async () => {
    const gil = await server.user('gil');
    const hal = await server.user('hal');
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const sockets = new Set<unknown>();
    const me = (authorization?: string) =>
      new Promise<{ status: number; username?: string }>((resolve, reject) => {
        const req = request(`${server.url}/api/v1/me`, { agent, headers: authorization ? { authorization } : {} }, (res) => {
          sockets.add(res.socket);
          let body = '';
          res.on('data', (c) => (body += c)).on('end', () => resolve({ status: res.statusCode!, username: JSON.parse(body).user?.username }));
        });
        req.on('error', reject).end();
      });
    try {
      // The connection remembers its last token's hash: each change must be looked up anew.
      expect(await me(`Bearer ${gil.token}`)).toEqual({ status: 200, username: 'gil' });
      expect(await me(`Bearer ${hal.token}`)).toEqual({ status: 200, username: 'hal' });
      expect((await me(`Bearer ${'x'.repeat(43)}`)).status).toBe(401);
      expect((await me()).status).toBe(401);
      expect(await me(`Bearer ${gil.token}`)).toEqual({ status: 200, username: 'gil' });
      expect((await gil.post('/api/v1/logout')).status).toBeLessThan(300);
      expect((await me(`Bearer ${gil.token}`)).status).toBe(401);
      expect(sockets.size).toBe(1);
    } finally {
      agent.destroy();
    }
  });
});
