/**
 * POST with X-HTTP-Method-Override (server/src/http/method-override.ts, and the event lane's
 * message sends): for proxies that pass only GET and POST. The override must give exactly the
 * answer of the real method (routes, authentication, validation, metrics), take nothing else,
 * and the lane and the Koa way must agree for message sends.
 */
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatRoutes } from '../../server/src/chat/routes.js';
import { eventLane } from '../../server/src/events/lane.js';
import { eventRoutes } from '../../server/src/events/routes.js';
import { activeChat } from '../helpers/chat.js';
import { Client, expectError, send, startTestServer, type Reply, type TestServer } from '../helpers/server.js';

const OVERRIDE = 'X-HTTP-Method-Override';

let server: TestServer;
let alice: Client;
let bob: Client;

beforeAll(async () => {
  server = await startTestServer();
  alice = await server.user('alice');
  bob = await server.user('bob');
  await server.user('carol');
  await server.user('dave');
});
afterAll(async () => {
  await server?.destroy();
});

/** `client`'s request as POST with the override header (and the body, if any, as JSON). */
function overridden(client: Client, method: string, path: string, body?: unknown, extra: Record<string, string> = {}): Promise<Reply> {
  return client.request('POST', path, body, { headers: { [OVERRIDE]: method, ...extra } });
}

/** Status and body, with the parts that differ between two sends (ids, times) left as they are. */
const answer = (r: Reply) => ({ status: r.status, body: r.body });

describe('POST with X-HTTP-Method-Override', () => {
  it('stands for PUT and DELETE on a route: the same answers as the real methods', async () => {
    // PUT /contacts/:username: 201 when new, 200 when already there.
    const added = await overridden(alice, 'PUT', '/api/v1/contacts/carol');
    expect(added.status).toBe(201);
    expect(added.body.contact.username).toBe('carol');
    expect(answer(await overridden(alice, 'PUT', '/api/v1/contacts/carol'))).toEqual(answer(await alice.put('/api/v1/contacts/carol')));
    expect((await alice.put('/api/v1/contacts/carol')).status).toBe(200);
    // The same answer as the real PUT gives on a fresh contact of another user.
    const real = await bob.put('/api/v1/contacts/carol');
    expect(real.status).toBe(added.status);
    expect(Object.keys(real.body)).toEqual(Object.keys(added.body));

    // DELETE /contacts/:username: {ok: true}, then 404 for both ways.
    const removed = await overridden(alice, 'DELETE', '/api/v1/contacts/carol');
    expect(answer(removed)).toEqual(answer(await bob.delete('/api/v1/contacts/carol')));
    expect(removed).toMatchObject({ status: 200, body: { ok: true } });
    expect(answer(await overridden(alice, 'DELETE', '/api/v1/contacts/carol'))).toEqual(answer(await bob.delete('/api/v1/contacts/carol')));
    expectError(await overridden(alice, 'DELETE', '/api/v1/contacts/carol'), 404, 'not_found');
    expect((await alice.get('/api/v1/contacts')).body.contacts.map((c: any) => c.username)).not.toContain('carol');

    // A body goes with it: PUT /presence.
    const presence = await overridden(alice, 'put', '/api/v1/presence', { state: 'away' }); // the value's case does not matter
    expect(presence.status).toBe(200);
    expect(answer(presence)).toEqual(answer(await alice.put('/api/v1/presence', { state: 'away' })));
  });

  it('bypasses nothing: authentication, admin rights, validation and the method table are those of the real method', async () => {
    const anonymous = new Client(server.url);
    expect(answer(await overridden(anonymous, 'DELETE', '/api/v1/contacts/bob'))).toEqual(answer(await anonymous.delete('/api/v1/contacts/bob')));
    expectError(await overridden(anonymous, 'DELETE', '/api/v1/contacts/bob'), 401, 'unauthorized');
    // A user's token on an admin route.
    expect(answer(await overridden(alice, 'DELETE', '/api/v1/admin/users/bob'))).toEqual(answer(await alice.delete('/api/v1/admin/users/bob')));
    expectError(await overridden(alice, 'DELETE', '/api/v1/admin/users/bob'), 403, 'forbidden');
    // Validation: a username the schema refuses, a body it refuses.
    const bad = await overridden(alice, 'PUT', '/api/v1/contacts/no%20spaces');
    expect(bad.status).toBe(400);
    expect(answer(bad)).toEqual(answer(await alice.put('/api/v1/contacts/no%20spaces')));
    expect(answer(await overridden(alice, 'PUT', '/api/v1/presence', { state: 'asleep' }))).toEqual(answer(await alice.put('/api/v1/presence', { state: 'asleep' })));
    // A route without that method: the same 405 as the real method gets.
    const wrong = await overridden(alice, 'DELETE', '/api/v1/me');
    expect(wrong.status).toBe(405);
    expect(answer(wrong)).toEqual(answer(await alice.delete('/api/v1/me')));
    // And a POST route is not reached by its own method through a PUT override of it.
    expect((await overridden(alice, 'PUT', '/api/v1/chats', { invitees: ['bob'] })).status).toBe(405);
    expect(bob.username).toBe('bob'); // the admin route above did not delete bob
    expect((await bob.get('/api/v1/me')).status).toBe(200);
  });

  it('refuses what it does not stand for with 400 invalid_method_override; outside /api/ the header is ignored', async () => {
    for (const value of ['GET', 'POST', 'HEAD', 'OPTIONS', 'CONNECT', 'TRACE', 'PUT, DELETE', 'PUTX', '']) {
      expectError(await overridden(alice, value, '/api/v1/contacts/dave'), 400, 'invalid_method_override', `override ${JSON.stringify(value)}`, { strict: true });
    }
    // Only POST may carry it: a GET (the event lane's path too), a PUT, a DELETE with it are refused.
    for (const [method, path] of [
      ['GET', '/api/v1/me'],
      ['GET', '/api/v1/events?wait=0'],
      ['PUT', '/api/v1/contacts/dave'],
      ['DELETE', '/api/v1/contacts/dave'],
    ] as const) {
      const res = await alice.request(method, path, undefined, { headers: { [OVERRIDE]: 'DELETE' } });
      expectError(res, 400, 'invalid_method_override', `${method} ${path}`, { strict: true });
    }
    expect((await alice.get('/api/v1/contacts')).body.contacts.map((c: any) => c.username)).not.toContain('dave'); // nothing was added
    // Outside the API the header means nothing.
    const health = await send(`${server.url}/healthz`, { headers: { [OVERRIDE]: 'DELETE' } });
    expect(health.status).toBe(200);
  });

  it('message sends: the event lane and the Koa way answer the override like the PUT, and store the message once', async () => {
    const chat = await activeChat(alice, bob);
    const path = (clientId: string, query = '') => `/api/v1/chats/${chat}/messages/${clientId}${query}`;
    // Without a query string the lane takes the send; with one (the router ignores it) Koa does.
    for (const [clientId, query] of [
      ['ov-lane', ''],
      ['ov-koa', '?via=koa'],
    ] as const) {
      const first = await overridden(alice, 'PUT', path(clientId, query), { text: `hello ${clientId}` });
      expect(first.status, clientId).toBe(201);
      expect(first.body.message).toMatchObject({ chatId: chat, clientId, from: 'alice', text: `hello ${clientId}` });
      const again = await alice.put(path(clientId, query), { text: `hello ${clientId}` });
      expect(again.status, clientId).toBe(200);
      expect(again.body).toEqual(first.body);
      const repeat = await overridden(alice, 'PUT', path(clientId, query), { text: `hello ${clientId}` });
      expect(answer(repeat)).toEqual(answer(again));
      expect(repeat.headers.get('content-type')).toBe(again.headers.get('content-type'));
      expect(repeat.headers.get('x-content-type-options')).toBe('nosniff');
      // Failures: the same error bodies.
      const conflict = await overridden(alice, 'PUT', path(clientId, query), { text: 'something else' });
      expectError(conflict, 409, 'idempotency_conflict', clientId);
      expect(answer(conflict)).toEqual(answer(await alice.put(path(clientId, query), { text: 'something else' })));
      expect(answer(await overridden(alice, 'PUT', path(`${clientId}-e`, query), { text: ' ' }))).toEqual(answer(await alice.put(path(`${clientId}-e`, query), { text: ' ' })));
      expect(answer(await overridden(new Client(server.url), 'PUT', path(`${clientId}-n`, query), { text: 'x' }))).toEqual(
        answer(await new Client(server.url).put(path(`${clientId}-n`, query), { text: 'x' })),
      );
      // Bad overrides on the message path: refused on both ways, nothing stored.
      expectError(await overridden(alice, 'GET', path(`${clientId}-bad`, query), { text: 'x' }), 400, 'invalid_method_override', clientId);
      // PATCH is the edit since issue 16: a client id never sent is 404 through the override too.
      expectError(await overridden(alice, 'PATCH', path(`${clientId}-bad`, query), { text: 'x' }), 404, 'not_found', clientId);
      expectError(await alice.request('PUT', path(`${clientId}-bad`, query), { text: 'x' }, { headers: { [OVERRIDE]: 'PUT' } }), 400, 'invalid_method_override', clientId);
    }
    const history = await bob.get(`/api/v1/chats/${chat}/messages`);
    expect(history.body.messages.map((m: { clientId: string }) => m.clientId)).toEqual(['ov-lane', 'ov-koa']);

    // The request metrics count them as the PUTs they stand for.
    const metrics = await send(`${server.url}/metrics`, {});
    const lines = String(metrics.body).split('\n').filter((l) => l.startsWith('portico_http_request_duration_seconds_count') && l.includes('/messages/:clientId'));
    expect(lines.some((l) => l.includes('method="PUT"') && l.includes('status="201"'))).toBe(true);
    expect(lines.filter((l) => l.includes('method="POST"'))).toEqual([]);
  });
});

describe('the event lane and the override', () => {
  const GENERAL = 299; // the marker listener's status: "this went the general way"

  it('takes a POST overriding to PUT on the message path as the send it stands for; every other request with the header goes the general way', async () => {
    const observed: Array<[string, string, number]> = [];
    const general: RequestListener = (_req, res) => res.writeHead(GENERAL, { 'content-type': 'text/plain' }).end('general');
    const lane = eventLane(
      {
        sessions: server.services.sessions,
        routes: [...eventRoutes(server.services), ...chatRoutes(server.services)],
        log: pino({ level: 'silent' }),
        observe: (method, route, status) => observed.push([method, route, status]),
      },
      general,
    );
    const http = createServer(lane);
    await new Promise<void>((ok) => http.listen(0, '127.0.0.1', ok));
    try {
      const base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
      const carol = await server.user('carol-lane');
      const dave = await server.user('dave-lane');
      const chat = await activeChat(carol, dave);
      const path = `/api/v1/chats/${chat}/messages/lane-ov-1`;
      const json = { authorization: `Bearer ${carol.token}`, 'content-type': 'application/json' };
      const body = JSON.stringify({ text: 'via the lane' });

      const sent = await send(`${base}${path}`, { method: 'POST', headers: { ...json, [OVERRIDE]: 'PUT' }, body });
      expect(sent.status).toBe(201);
      expect(sent.body.message).toMatchObject({ clientId: 'lane-ov-1', text: 'via the lane' });
      const failed = await send(`${base}${path}`, { method: 'POST', headers: { ...json, [OVERRIDE]: 'PUT' }, body: '{"text":' });
      expectError(failed, 400, 'invalid_json');
      expect(observed).toEqual([
        ['PUT', '/api/v1/chats/:id/messages/:clientId', 201],
        ['PUT', '/api/v1/chats/:id/messages/:clientId', 400],
      ]);

      const elsewhere: Array<[string, string, Record<string, string>]> = [
        ['POST', path, { ...json, [OVERRIDE]: 'DELETE' }],
        ['POST', path, { ...json, [OVERRIDE]: 'GET' }],
        ['POST', path, json], // a plain POST, as before
        ['PUT', path, { ...json, [OVERRIDE]: 'PUT' }], // only POST may carry it: the middleware refuses it
        ['POST', path, { ...json, authorization: `Bearer ${'x'.repeat(43)}`, [OVERRIDE]: 'PUT' }], // no session: the route's 401
        ['GET', '/api/v1/events?wait=0', { authorization: json.authorization, [OVERRIDE]: 'DELETE' }],
        ['POST', '/api/v1/events?wait=0', { authorization: json.authorization, [OVERRIDE]: 'PUT' }],
      ];
      for (const [method, p, headers] of elsewhere) {
        const res = await send(`${base}${p}`, { method, headers, ...(method === 'GET' ? {} : { body }) });
        expect(res.status, `${method} ${p} ${JSON.stringify(headers)}`).toBe(GENERAL);
      }
      expect(observed).toHaveLength(2);
      // A plain GET poll is still the lane's.
      expect((await send(`${base}/api/v1/events?wait=0`, { headers: { authorization: json.authorization } })).status).toBe(200);
    } finally {
      await new Promise((ok) => http.close(ok));
    }
  });
});
