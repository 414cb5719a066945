/**
 * The event lane (server/src/events/lane.ts): valid polls are answered outside Koa, everything
 * else goes the general way. Two views: the lane in front of a marker listener, to see which
 * requests it takes and what it answers; and the real server, where a lane answer must look like
 * any other API answer and the general way's errors must be unchanged.
 */
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AppError } from '../../server/src/errors.js';
import { eventLane } from '../../server/src/events/lane.js';
import { chatRoutes } from '../../server/src/chat/routes.js';
import { eventRoutes } from '../../server/src/events/routes.js';
import { SECURITY_HEADERS } from '../../server/src/http/headers.js';
import { route, type RouteSpec } from '../../server/src/http/route.js';
import { activeChat } from '../helpers/chat.js';
import { Client, eventually, send, startTestServer, type TestServer } from '../helpers/server.js';

const GENERAL = 299; // the marker listener's status: "this went the general way"

describe('the event lane', () => {
  let server: TestServer;
  let alice: Client;
  const observed: Array<{ method: string; route: string; status: number; seconds: number }> = [];
  const logged: unknown[] = [];
  let failWith: unknown;
  const lanes: Server[] = [];

  /** A loopback listener: the lane over the real services, in front of a marker for the general way. */
  let lastLane: ReturnType<typeof eventLane> | undefined;
  async function laneServer(): Promise<string> {
    // The real lane routes; the poll's handler fails on demand.
    const routes: RouteSpec[] = [...eventRoutes(server.services), ...chatRoutes(server.services)].map((spec: RouteSpec) => {
      const real = spec.lane;
      if (spec.path !== '/api/v1/events' || !real) return spec;
      return { ...spec, lane: (input, res, answer) => (failWith ? Promise.reject(failWith) : real(input, res, answer)) } satisfies RouteSpec;
    });
    const general: RequestListener = (_req, res) => res.writeHead(GENERAL, { 'content-type': 'text/plain' }).end('general');
    const log = pino({ level: 'error' }, { write: (line: string) => logged.push(JSON.parse(line)) });
    const handle = eventLane(
      {
        sessions: server.services.sessions,
        routes,
        log,
        observe: (method, route, status, seconds) => observed.push({ method, route, status, seconds }),
      },
      general,
    );
    lastLane = handle;
    const http = createServer(handle);
    lanes.push(http);
    await new Promise<void>((ok) => http.listen(0, '127.0.0.1', ok));
    return `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  }

  beforeAll(async () => {
    server = await startTestServer();
    alice = await server.user('alice');
  });
  afterAll(async () => {
    for (const http of lanes) await new Promise((ok) => http.close(ok));
    await server?.destroy();
  });

  it('takes only well-formed, authenticated GET polls; the rest goes the general way', async () => {
    const base = await laneServer();
    const auth = { authorization: `Bearer ${alice.token}` };
    const status = async (path: string, init: RequestInit = {}) => (await send(`${base}${path}`, init)).status;

    expect(await status('/api/v1/events?wait=0', { headers: auth })).toBe(200);
    expect(await status('/api/v1/events?wait=0&interval=5', { headers: auth })).toBe(200);
    // Not a poll the lane answers: no token, a token of nobody, a malformed header, a query the
    // schema refuses, a repeated name, another path or method.
    const general = [
      ['/api/v1/events?wait=0', {}],
      ['/api/v1/events?wait=0', { headers: { authorization: `Bearer ${'x'.repeat(43)}` } }],
      ['/api/v1/events?wait=0', { headers: { authorization: `Basic ${alice.token}` } }],
      ['/api/v1/events?wait=999', { headers: auth }],
      ['/api/v1/events?wait=0&nonsense=1', { headers: auth }],
      ['/api/v1/events?wait=0&wait=1', { headers: auth }],
      ['/api/v1/events?after=-3&wait=0', { headers: auth }],
      ['/api/v1/eventsX?wait=0', { headers: auth }],
      ['/api/v1/events/?wait=0', { headers: auth }],
      ['/api/v1/events?wait=0', { headers: auth, method: 'POST', body: '{}' }],
      ['/api/v1/events?wait=0', { headers: auth, method: 'HEAD' }],
    ] as const;
    for (const [path, init] of general) expect(await status(path, init as RequestInit), `${init && 'method' in init ? init.method : 'GET'} ${path}`).toBe(GENERAL);
  });

  it('answers like the route: the poll JSON, its length, the security headers, one histogram sample', async () => {
    const base = await laneServer();
    observed.length = 0;
    const res = await fetch(`${base}/api/v1/events?wait=0`, { headers: { authorization: `Bearer ${alice.token}` } });
    const text = await res.text();
    expect(res.status).toBe(200);
    expect(JSON.parse(text)).toEqual({ events: [], cursor: String(await server.services.store.headSeq()) });
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(Number(res.headers.get('content-length'))).toBe(Buffer.byteLength(text));
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect(res.headers.get(name), name).toBe(value);
    expect(res.headers.get('strict-transport-security')).toBeNull(); // plain HTTP
    expect(observed).toHaveLength(1);
    expect(observed[0]).toMatchObject({ method: 'GET', route: '/api/v1/events', status: 200 });
    expect(observed[0]!.seconds).toBeGreaterThanOrEqual(0);
  });

  it('a held poll whose client goes away is dropped from the hub at once', async () => {
    const base = await laneServer();
    const head = await server.services.store.headSeq();
    const before = server.services.hub.size;
    const abort = new AbortController();
    const held = fetch(`${base}/api/v1/events?after=${head}&wait=30`, { headers: { authorization: `Bearer ${alice.token}` }, signal: abort.signal }).catch((e: Error) => e);
    await eventually(() => server.services.hub.size === before + 1, 5000, "the poll held");
    abort.abort();
    expect(await held).toBeInstanceOf(Error);
    await eventually(() => server.services.hub.size === before, 5000, "the waiter dropped");
  });

  it('a failure inside the poll gets the usual error answer: its own status, or a logged 500', async () => {
    const base = await laneServer();
    const poll = () => send(`${base}/api/v1/events?wait=0`, { headers: { authorization: `Bearer ${alice.token}` } });
    try {
      failWith = new AppError(409, 'conflict', 'not now');
      const conflict = await poll();
      expect(conflict.status).toBe(409);
      expect(conflict.body).toEqual({ error: { code: 'conflict', message: 'not now' } });
      expect(conflict.headers.get('x-content-type-options')).toBe('nosniff');

      logged.length = 0;
      failWith = new Error('disk on fire');
      const broken = await poll();
      expect(broken.status).toBe(500);
      expect(broken.body.error.code).toBe('internal_error');
      expect(JSON.stringify(broken.body)).not.toContain('disk on fire'); // details go to the log only
      expect(JSON.stringify(logged)).toContain('disk on fire');
    } finally {
      failWith = undefined;
    }
    expect((await poll()).status).toBe(200); // and the lane goes on
  });

  it('once the server stops, answers close their connection (a client must not reuse it)', async () => {
    const base = await laneServer();
    const poll = () => fetch(`${base}/api/v1/events?wait=0`, { headers: { authorization: `Bearer ${alice.token}` } });
    const before = await poll();
    await before.text();
    expect(before.headers.get('connection')).toBe('keep-alive');
    lastLane!.shutDown();
    const after = await poll();
    await after.text();
    expect(after.status).toBe(200);
    expect(after.headers.get('connection')).toBe('close');
  });

  it('takes well-formed, authenticated message sends; answers them and their failures like the route', async () => {
    const base = await laneServer();
    const bob = await server.user('bob');
    const carl = await server.user('carl');
    const chat = await activeChat(alice, bob);
    const json = { authorization: `Bearer ${alice.token}`, 'content-type': 'application/json' };
    const put = (path: string, body: string, headers: Record<string, string> = json) => send(`${base}${path}`, { method: 'PUT', headers, body });
    const path = (clientId: string, chatId = chat) => `/api/v1/chats/${chatId}/messages/${clientId}`;

    observed.length = 0;
    const first = await put(path('lane-1'), JSON.stringify({ text: 'hello' }));
    expect(first.status).toBe(201);
    expect(first.body.message).toMatchObject({ chatId: chat, clientId: 'lane-1', from: 'alice', text: 'hello' });
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect(first.headers.get(name), name).toBe(value);
    expect(first.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const again = await put(path('lane-1'), JSON.stringify({ text: 'hello' }), { ...json, 'content-type': 'application/json; charset=utf-8' });
    expect(again.status).toBe(200);
    expect(again.body.message.id).toBe(first.body.message.id);
    expect(observed.map((o) => [o.method, o.route, o.status])).toEqual([
      ['PUT', '/api/v1/chats/:id/messages/:clientId', 201],
      ['PUT', '/api/v1/chats/:id/messages/:clientId', 200],
    ]);

    // Not for the lane: no or unknown token, another content type, parameters the schema refuses,
    // malformed escapes, a query string, another method.
    const general: Array<[string, string, Record<string, string>, string?]> = [
      [path('g-1'), '{"text":"x"}', { 'content-type': 'application/json' }],
      [path('g-2'), '{"text":"x"}', { ...json, authorization: `Bearer ${'x'.repeat(43)}` }],
      [path('g-3'), '{"text":"x"}', { ...json, 'content-type': 'text/plain' }],
      [path('g-4'), '{"text":"x"}', { ...json, 'content-type': 'application/jsonx' }],
      [path('g-5', 'not-a-chat-id'), '{"text":"x"}', json],
      [path('%E0%A4%A'), '{"text":"x"}', json],
      [`${path('g-6')}?x=1`, '{"text":"x"}', json],
      [path('g-7'), '{"text":"x"}', json, 'POST'],
    ];
    for (const [p, body, headers, method] of general) {
      expect((await send(`${base}${p}`, { method: method ?? 'PUT', headers, body })).status, `${method ?? 'PUT'} ${p} ${JSON.stringify(headers)}`).toBe(GENERAL);
    }

    // Taken, then refused: the same error bodies the declared route gives.
    const bad = await put(path('b-1'), '{"text":');
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({ error: { code: 'invalid_json', message: 'the body is not valid JSON' } });
    const empty = await put(path('b-2'), JSON.stringify({ text: '  ' }));
    expect(empty.status).toBe(400);
    expect(empty.body.error).toMatchObject({ code: 'invalid_request', issues: [{ path: 'text' }] });
    const huge = await put(path('b-3'), JSON.stringify({ text: 'x'.repeat(200_000) }));
    expect(huge.status).toBe(413);
    expect(huge.body.error.code).toBe('body_too_large');
    const outsider = await send(`${base}${path('b-4')}`, { method: 'PUT', headers: { ...json, authorization: `Bearer ${carl.token}` }, body: '{"text":"let me in"}' });
    expect(outsider.status).toBe(403);
    expect(outsider.body.error.code).toBe('forbidden');
    const reused = await put(path('lane-1'), JSON.stringify({ text: 'something else' }));
    expect(reused.status).toBe(409);
    expect(reused.body.error.code).toBe('idempotency_conflict');
    expect(observed.slice(2).map((o) => o.status)).toEqual([400, 400, 413, 403, 409]);
    const history = await alice.get(`/api/v1/chats/${chat}/messages`);
    expect(history.body.messages.map((m: { clientId: string }) => m.clientId)).toEqual(['lane-1']); // nothing else stored
  });

  it('serves any lane route from its declaration alone: method, path, access, schemas, status', async () => {
    // No lane code knows this route: what it takes and answers follows from the declaration.
    const declared = route({
      method: 'put',
      path: '/api/v1/things/:name/parts/:part',
      tag: 'test',
      summary: 'a lane route of the test',
      access: 'user',
      params: z.strictObject({ name: z.string().max(5), part: z.coerce.number().int() }),
      query: z.strictObject({ x: z.enum(['1', '2']).optional() }),
      body: z.strictObject({ n: z.number() }),
      response: z.unknown(),
      status: 202,
      lane: async ({ params, query, body, session }, _res, answer) => answer(JSON.stringify({ params, query, body, user: session.user.username })),
    });
    const general: RequestListener = (_req, res) => res.writeHead(GENERAL, { 'content-type': 'text/plain' }).end('general');
    const lane = eventLane({ sessions: server.services.sessions, routes: [declared], log: pino({ level: 'silent' }), observe: () => {} }, general);
    const http = createServer(lane);
    lanes.push(http);
    await new Promise<void>((ok) => http.listen(0, '127.0.0.1', ok));
    const base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    const json = { authorization: `Bearer ${alice.token}`, 'content-type': 'application/json' };
    const put = (path: string, body = '{"n":1}', headers: Record<string, string> = json, method = 'PUT') => send(`${base}${path}`, { method, headers, body });

    const taken = await put('/api/v1/things/b%C3%A4r/parts/7?x=2');
    expect(taken.status).toBe(202);
    expect(taken.body).toEqual({ params: { name: 'bär', part: 7 }, query: { x: '2' }, body: { n: 1 }, user: 'alice' });
    expect((await put('/api/v1/things/bar/parts/7', '{"n":"one"}')).status).toBe(400); // taken, the body schema refuses
    for (const [path, headers, method] of [
      ['/api/v1/things/toolong/parts/7', json], // the params schema refuses
      ['/api/v1/things/bar/parts/seven', json],
      ['/api/v1/things/bar/parts/7?x=3', json], // the query schema refuses
      ['/api/v1/things/bar/parts/7/', json], // not the declared path
      ['/api/v1/things/bar/parts', json],
      ['/api/v1/things//parts/7', json],
      ['/api/v1/things/bar/parts/7', { 'content-type': 'application/json' }], // no session
      ['/api/v1/things/bar/parts/7', json, 'POST'], // another method
    ] as Array<[string, Record<string, string>, string?]>) {
      expect((await put(path, '{"n":1}', headers, method)).status, `${method ?? 'PUT'} ${path}`).toBe(GENERAL);
    }
  });

  it('on the real server: a poll answer carries the same security headers as a Koa answer, and errors are the usual ones', async () => {
    const poll = await alice.get('/api/v1/events?wait=0');
    const me = await alice.get('/api/v1/me');
    expect(poll.status).toBe(200);
    for (const name of [...Object.keys(SECURITY_HEADERS), 'content-type']) expect(poll.headers.get(name), name).toBe(me.headers.get(name));

    const anonymous = await send(`${server.url}/api/v1/events?wait=0`, {});
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error.code).toBe('unauthorized');
    expect(anonymous.headers.get('www-authenticate')).toBe('Bearer');
    const invalid = await alice.get('/api/v1/events?wait=999');
    expect(invalid.status).toBe(400);
    expect(invalid.body.error).toMatchObject({ code: 'invalid_request', issues: [{ path: 'wait' }] });
    const metrics = await send(`${server.url}/metrics`, {});
    expect(String(metrics.body)).toMatch(/portico_http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/events",status="200"\} [1-9]/);
  });
});
