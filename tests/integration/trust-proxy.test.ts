/**
 * PORTICO_TRUST_PROXY: the client address is the one the nearest trusted proxy saw, never what the
 * client wrote at the left of X-Forwarded-For. The test plays the proxy: it connects from loopback
 * and sends the X-Forwarded-For a proxy would pass on (the client's own value, then the address the
 * proxy appended). A second local address (127.0.0.2) stands for a machine that is not a proxy.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Agent, fetch as undiciFetch } from 'undici';
import { PASSWORD, expectError, startTestServer, type TestServer } from '../helpers/server.js';

const agents: Agent[] = [];
afterAll(async () => {
  await Promise.all(agents.map((a) => a.close()));
});

/** A request with this X-Forwarded-For (and, optionally, from this local address). */
async function via(server: TestServer, path: string, forwardedFor: string, { body, from }: { body?: unknown; from?: string } = {}) {
  let dispatcher: Agent | undefined;
  if (from) agents.push((dispatcher = new Agent({ localAddress: from })));
  const res = await undiciFetch(server.url + path, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'x-forwarded-for': forwardedFor, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    dispatcher,
  });
  const text = await res.text();
  let parsed: any = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* metrics text */
  }
  return { status: res.status, body: parsed, headers: res.headers as unknown as Headers };
}

const loginVia = (server: TestServer, forwardedFor: string, password = 'wrong password', from?: string) =>
  via(server, '/api/v1/login', forwardedFor, { body: { username: 'tp-bob', password }, from });

describe('PORTICO_TRUST_PROXY=true (one proxy in front)', () => {
  it('a client-written "127.0.0.1" at the left of X-Forwarded-For does not open /metrics', async () => {
    const server = await startTestServer({ trustProxy: true });
    try {
      expectError(await via(server, '/metrics', '127.0.0.1, 203.0.113.7'), 401, 'unauthorized');
      expectError(await via(server, '/metrics', '::1,203.0.113.7'), 401, 'unauthorized');
      // What the proxy itself saw decides: a client on the proxy's machine is local.
      expect((await via(server, '/metrics', '203.0.113.7, 127.0.0.1')).status).toBe(200);
    } finally {
      await server.destroy();
    }
  });

  it('changing the client-written part does not dodge the per-address login limit', async () => {
    const server = await startTestServer({ trustProxy: true, loginPerIpPerMinute: 3 });
    try {
      await server.user('tp-bob');
      const statuses = [];
      for (let i = 0; i < 5; i++) statuses.push((await loginVia(server, `10.0.0.${i}, 203.0.113.7`)).status);
      expect(statuses).toEqual([401, 401, 401, 429, 429]);
      // Another client behind the same proxy is not affected.
      expect((await loginVia(server, '203.0.113.8', PASSWORD)).status).toBe(200);
    } finally {
      await server.destroy();
    }
  });
});

describe('PORTICO_TRUST_PROXY=2 (two proxies in front)', () => {
  it('takes the second entry from the right', async () => {
    const server = await startTestServer({ trustProxy: '2', loginPerIpPerMinute: 2 });
    try {
      expectError(await via(server, '/metrics', '127.0.0.1, 203.0.113.7, 10.0.0.1'), 401, 'unauthorized');
      expect((await via(server, '/metrics', '203.0.113.7, 127.0.0.1, 10.0.0.1')).status).toBe(200);
      await server.user('tp-bob');
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await loginVia(server, `10.9.9.${i}, 198.51.100.4, 10.0.0.1`)).status);
      expect(statuses).toEqual([401, 401, 429]);
    } finally {
      await server.destroy();
    }
  });
});

describe('PORTICO_TRUST_PROXY as a list of proxy addresses', () => {
  it('the client is the rightmost address that is not a trusted proxy; X-Forwarded-For from others is ignored', async () => {
    const server = await startTestServer({ trustProxy: '127.0.0.1, 10.0.0.0/8', loginPerIpPerMinute: 3 });
    try {
      expectError(await via(server, '/metrics', '127.0.0.1, 203.0.113.7'), 401, 'unauthorized');
      expectError(await via(server, '/metrics', '127.0.0.1, 203.0.113.7, 10.1.2.3'), 401, 'unauthorized');
      // A listed address counts as a proxy wherever it stands; the first one not listed is the client.
      expectError(await via(server, '/metrics', '203.0.113.7, 127.0.0.1, 10.1.2.3'), 401, 'unauthorized');
      expect((await via(server, '/metrics', '203.0.113.7, ::1, 10.1.2.3')).status).toBe(200);

      await server.user('tp-bob');
      const behind = [];
      for (let i = 0; i < 4; i++) behind.push((await loginVia(server, `172.16.0.${i}, 198.51.100.9, 10.0.0.2`)).status);
      expect(behind).toEqual([401, 401, 401, 429]);

      // 127.0.0.2 is no proxy: its X-Forwarded-For is not believed, it is counted as itself.
      const direct = [];
      for (let i = 0; i < 4; i++) direct.push((await loginVia(server, `198.51.100.${20 + i}`, 'wrong', '127.0.0.2')).status);
      expect(direct).toEqual([401, 401, 401, 429]);
      expect((await via(server, '/metrics', '203.0.113.7', { from: '127.0.0.2' })).status).toBe(200); // it is loopback itself
    } finally {
      await server.destroy();
    }
  });
});
