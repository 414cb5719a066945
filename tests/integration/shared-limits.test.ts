/**
 * Limits per cluster (issue 15): two server nodes on one data directory count failed logins and
 * used provider signatures together through a real Redis (PORTICO_REDIS_URL). Each case runs the
 * same steps without Redis too, where the nodes count apart: that is what makes the shared case
 * able to fail.
 */
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HAVE_REDIS, startRedis, type Redis } from '../helpers/redis.js';
import { PASSWORD, expectError, login, send, startTestServer, type TestServer } from '../helpers/server.js';

/** Two nodes sharing a data directory (and Redis when given). */
async function twoNodes(redisUrl: string | undefined) {
  const dir = mkdtempSync(join(tmpdir(), 'portico-cluster-'));
  const settings = { loginFailuresPerUser: 4, loginPerIpPerMinute: 1000, ...(redisUrl ? { redisUrl } : {}) };
  const a = await startTestServer(settings, dir);
  const b = await startTestServer(settings, dir);
  return {
    a,
    b,
    async destroy() {
      await b.close();
      await a.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Two wrong passwords on each node, then the right one on A: what does the account's address get? */
async function afterFourFailuresOverTwoNodes(a: TestServer, b: TestServer, username: string) {
  await a.user(username);
  for (const node of [a, a, b, b]) expectError(await login(node, username, 'wrong password'), 401, 'invalid_credentials');
  return login(a, username, PASSWORD);
}

describe.runIf(HAVE_REDIS)('limits shared by the nodes of a cluster', () => {
  let redis: Redis;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(() => redis?.stop());

  it('failed logins spread over two nodes lock the address at the same count as on one', async () => {
    const shared = await twoNodes(redis.url);
    try {
      expectError(await afterFourFailuresOverTwoNodes(shared.a, shared.b, 'sl-shared'), 429, 'rate_limited');
    } finally {
      await shared.destroy();
    }
    // Without Redis each node counted two: the fifth attempt is still checked (and succeeds).
    const apart = await twoNodes(undefined);
    try {
      expect((await afterFourFailuresOverTwoNodes(apart.a, apart.b, 'sl-apart')).status).toBe(200);
    } finally {
      await apart.destroy();
    }
  }, 120_000);

  it('a signed push accepted by one node is a replay on the other', async () => {
    for (const redisUrl of [redis.url, undefined]) {
      const nodes = await twoNodes(redisUrl);
      try {
        const made = await nodes.a.admin.post('/api/v1/admin/providers', { name: 'sl-signer', channels: ['sl-news'] });
        expect(made.status).toBe(201);
        const key = made.body.key as string;
        const body = 'channel=sl-news&text=Once';
        const ts = Math.floor(Date.now() / 1000);
        const mac = createHmac('sha256', key).update(`${ts}.POST./cgi/ticker.${body}`).digest('hex');
        const push = (node: TestServer) =>
          send(`${node.url}/cgi/ticker`, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-portico-provider': 'sl-signer', 'x-portico-timestamp': String(ts), 'x-portico-signature': `sha256=${mac}` },
            body,
          });
        expect((await push(nodes.a)).status).toBe(201);
        const again = await push(nodes.b);
        if (redisUrl) expectError(again, 409, 'replayed');
        else expect(again.status).toBe(201); // each node remembers only its own
      } finally {
        await nodes.destroy();
      }
    }
  }, 120_000);

  it('a node whose Redis stops keeps limiting on its own, and answers', async () => {
    const own = await startRedis();
    const nodes = await twoNodes(own.url);
    try {
      await own.stop();
      await nodes.a.user('sl-down');
      for (let i = 0; i < 4; i++) expectError(await login(nodes.a, 'sl-down', 'wrong password'), 401, 'invalid_credentials');
      expectError(await login(nodes.a, 'sl-down', PASSWORD), 429, 'rate_limited');
      expect((await login(nodes.b, 'sl-down', PASSWORD)).status).toBe(200);
    } finally {
      await nodes.destroy();
    }
  }, 120_000);
});
