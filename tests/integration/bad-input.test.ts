/**
 * Hostile and broken input against the real server: every JSON-body route of the API description
 * gets bad JSON, the wrong content type, too much data, unknown fields and bad UTF-8; every
 * protected route is tried without a token. Every error must be `{error: {code, message}}`, and
 * the server must come out of it healthy with its data intact. Also: the API description itself,
 * /healthz and /metrics.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorBody, LIMITS } from '../../shared/index.js';
import { Client, PASSWORD, eventually, expectError, startTestServer, type TestServer } from '../helpers/server.js';

interface RawReply {
  status: number;
  body: any;
  text: string;
  headers: Headers;
}

/** A request exactly as given: no helpful defaults for content type or body. */
async function raw(
  baseUrl: string,
  method: string,
  path: string,
  opts: { token?: string; body?: string | Uint8Array; contentType?: string } = {},
): Promise<RawReply> {
  const headers: Record<string, string> = {};
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.contentType) headers['content-type'] = opts.contentType;
  const res = await fetch(baseUrl + path, { method, headers, body: opts.body as BodyInit | undefined });
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, body, text, headers: res.headers };
}

const encoder = new TextEncoder();
/** A JSON text padded with insignificant whitespace to exactly `bytes` bytes. */
const padded = (value: unknown, bytes: number) => {
  const json = JSON.stringify(value);
  return json.slice(0, -1) + ' '.repeat(bytes - encoder.encode(json).length) + json.slice(-1);
};

describe('bad input', () => {
  let server: TestServer;
  let alice: Client;
  let bob: Client;
  let chatId: string;
  let doc: any;

  beforeAll(async () => {
    server = await startTestServer();
    alice = await server.user('bi-alice', 'Alice Input');
    bob = await server.user('bi-bob');
    await server.user('bi-victim');
    expect((await alice.put('/api/v1/contacts/bi-bob')).status).toBe(201);
    expect((await server.admin.post('/api/v1/admin/groups', { name: 'bi-group' })).status).toBe(201);
    expect((await server.admin.put('/api/v1/admin/groups/bi-group/members/bi-bob')).status).toBe(200);
    chatId = (await alice.post('/api/v1/chats', { invitees: ['bi-bob'] })).body.chat.id;
    expect((await bob.post(`/api/v1/chats/${chatId}/accept`)).status).toBe(200);
    doc = (await raw(server.url, 'GET', '/api/v1/openapi.json')).body;
  });
  afterAll(() => server.destroy());

  /** Path values and a valid body for each JSON-body route; the URLs name existing things. */
  const PATH_VALUES = () => ({ username: 'bi-victim', contact: 'bi-bob', name: 'bi-group', id: chatId, clientId: 'bad-input-1', messageId: '1', fileId: 'A'.repeat(22), seqOrMember: '0', token: 'no-token', sha256: '0'.repeat(64), file: 'latest.yml', installId: '00000000-0000-4000-8000-000000000001', guestId: '1' });
  const VALID_BODIES: Record<string, unknown> = {
    'post /api/v1/login': { username: 'bi-victim', password: PASSWORD },
    'put /api/v1/presence': { state: 'busy' },
    'post /api/v1/chats': { invitees: ['bi-victim'] },
    'put /api/v1/chats/{id}/messages/{clientId}': { text: 'must never be stored' },
    'patch /api/v1/chats/{id}/messages/{clientId}': { text: 'must never be stored' },
    'put /api/v1/chats/{id}/messages/{messageId}/reactions': { emoji: '👍' },
    'put /api/v1/chats/{id}/read': { upTo: 1 },
    'post /api/v1/admin/users': { username: 'bi-intruder', password: PASSWORD },
    'put /api/v1/admin/users/{username}/password': { password: 'changed by bad input' },
    'post /api/v1/admin/groups': { name: 'bi-other-group' },
    'post /api/v1/admin/providers': { name: 'bi-provider', channels: ['bi-channel'] },
    'put /api/v1/admin/channels/{name}': { title: 'must never be stored' },
    'put /api/v1/admin/providers/{name}/channels': { channels: ['bi-never'] },
    'put /api/v1/channels/mine': { channels: [] },
    'put /api/v1/admin/links': { html: '<p>must never be stored</p>' },
    'post /api/v1/calls': { chatId: '00000000-0000-4000-8000-000000000000' },
    'post /api/v1/calls/{id}/signal': { to: 'bi-bob', signal: { kind: 'path', path: 'direct' } },
    'post /api/v1/calls/{id}/transfer': { to: 'bi-bob', reason: 'must never be stored' },
    'post /api/v1/calls/{id}/ring': { usernames: ['bi-bob'] },
    'patch /api/v1/chats/{id}': { history: 'all' },
    'post /api/v1/chats/{id}/members': { usernames: ['bi-nobody'] },
    'patch /api/v1/me': { displayName: 'must never be stored' },
    'post /api/v1/me/password': { oldPassword: 'not the password', newPassword: 'must never be stored' },
    'put /api/v1/chats/{id}/mute': { muted: true },
    'post /api/v1/meetings': { title: 'must never be stored' },
    'post /api/v1/guest/knock': { number: '12345678901', name: 'bi-guest' },
    'post /api/v1/meetings/{id}/guests/{guestId}/presenter': { allowed: true },
    'put /api/v1/meetings/{id}/presentation': { documentId: '00000000-0000-4000-8000-000000000000', page: 1 },
    'post /api/v1/meetings/{id}/pointer': { x: 0.5, y: 0.5 },
    'post /api/v1/sso/exchange': { code: 'not-a-code' },
  };

  const operations = () => {
    const ops: Array<{ key: string; method: string; url: string; secured: boolean; hasBody: boolean; jsonBody: boolean; admin: boolean }> = [];
    const values: Record<string, string> = PATH_VALUES();
    for (const [path, methods] of Object.entries(doc.paths as Record<string, Record<string, any>>)) {
      for (const [method, op] of Object.entries(methods)) {
        ops.push({
          key: `${method} ${path}`,
          method: method.toUpperCase(),
          url: path.replace(/\{(\w+)\}/g, (_, name: string) => {
            expect(values[name], `a value for {${name}}`).toBeDefined();
            return encodeURIComponent(values[name]!);
          }),
          // `{}` among the schemes: a token is optional (/metrics, open from loopback).
          secured: Array.isArray(op.security) && op.security.length > 0 && !op.security.some((s: object) => Object.keys(s).length === 0),
          hasBody: op.requestBody !== undefined,
          // Provider pushes (/cgi/...) also take forms: tests/integration/providers-ticker.test.ts covers them.
          jsonBody: op.requestBody !== undefined && Object.keys(op.requestBody.content).join() === 'application/json',
          admin: path.startsWith('/api/v1/admin/'),
        });
      }
    }
    return ops;
  };
  /** No token needed: login, and the operations and file routes (the path is the capability, or they are public). */
  const PUBLIC = [
    'post /api/v1/login',
    'post /api/v1/guest/knock',
    'get /api/v1/sso',
    'get /api/v1/sso/start',
    'get /api/v1/sso/callback',
    'post /api/v1/sso/exchange',
    'get /healthz',
    'get /metrics',
    'get /api/v1/openapi.json',
    'get /media/{token}/{sha256}',
    'get /games/{token}/{sha256}/{file}',
    'get /updates/{file}',
    'get /avatars/{file}',
    // a member's token, or the signed path (issue 16)
    'get /api/v1/chats/{id}/files/{fileId}',
    'get /api/v1/chats/{id}/files/{fileId}/thumbnail',
  ];
  const bodyOps = () => operations().filter((o) => o.jsonBody);
  const tokenFor = (op: { admin: boolean }) => (op.admin ? server.admin.token : alice.token);

  it('the JSON-body routes of the API description are the ones we know how to fill', () => {
    expect(bodyOps().map((o) => o.key).sort()).toEqual(Object.keys(VALID_BODIES).sort());
  });

  it('invalid JSON is 400 invalid_json on every JSON-body route', async () => {
    for (const op of bodyOps()) {
      for (const text of ['{"state":', '{state: "away"}', "{'a': 1}", '', '[1, 2', 'tru']) {
        const res = await raw(server.url, op.method, op.url, { token: tokenFor(op), body: text, contentType: 'application/json' });
        expectError(res, 400, 'invalid_json', `${op.key} ${JSON.stringify(text)}`, { strict: true });
      }
    }
  });

  it('a text/plain (or missing) content type is 415 unsupported_media_type on every JSON-body route', async () => {
    for (const op of bodyOps()) {
      const body = JSON.stringify(VALID_BODIES[op.key]);
      for (const contentType of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', undefined]) {
        const res = await raw(server.url, op.method, op.url, { token: tokenFor(op), body: encoder.encode(body), contentType });
        expectError(res, 415, 'unsupported_media_type', `${op.key} as ${contentType}`, { strict: true });
      }
    }
  });

  it('a body over 64 KiB is 413 body_too_large on every JSON-body route (64 KiB exactly is fine)', async () => {
    for (const op of bodyOps()) {
      const body = padded(VALID_BODIES[op.key], LIMITS.jsonBodyBytes + 1);
      const res = await raw(server.url, op.method, op.url, { token: tokenFor(op), body, contentType: 'application/json' });
      expectError(res, 413, 'body_too_large', op.key, { strict: true });
      const huge = JSON.stringify({ ...(VALID_BODIES[op.key] as object), filler: 'x'.repeat(1024 * 1024) });
      expectError(
        await raw(server.url, op.method, op.url, { token: tokenFor(op), body: huge, contentType: 'application/json' }),
        413,
        'body_too_large',
        `${op.key} 1 MiB`,
        { strict: true },
      );
    }
    // The limit is exact: 65536 bytes of valid JSON are read (and then validated).
    const exact = await raw(server.url, 'PUT', '/api/v1/presence', {
      token: bob.token,
      body: padded({ state: 'away' }, LIMITS.jsonBodyBytes),
      contentType: 'application/json',
    });
    expect(exact.status).toBe(200);
    expect(exact.body).toEqual({ state: 'away', effective: 'offline' });
    expect((await bob.put('/api/v1/presence', { state: 'available' })).status).toBe(200);
  });

  it('an unknown extra field is 400 invalid_request naming it, on every JSON-body route', async () => {
    for (const op of bodyOps()) {
      const body = JSON.stringify({ ...(VALID_BODIES[op.key] as object), sneaky: true });
      const res = await raw(server.url, op.method, op.url, { token: tokenFor(op), body, contentType: 'application/json' });
      expectError(res, 400, 'invalid_request', op.key, { strict: true });
      expect(res.body.error.message, op.key).toContain('sneaky');
      expect(Array.isArray(res.body.error.issues), op.key).toBe(true);
      for (const issue of res.body.error.issues) expect(Object.keys(issue).sort()).toEqual(['message', 'path']);
    }
  });

  it('invalid UTF-8 is 400 on every JSON-body route', async () => {
    for (const op of bodyOps()) {
      const json = JSON.stringify(VALID_BODIES[op.key]);
      // Insert the bytes inside the first string value: lone continuation byte, overlong '/', a UTF-16 surrogate.
      for (const bad of [[0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe2, 0x82]]) {
        const at = json.indexOf('"', json.indexOf(':')) + 1;
        const bytes = new Uint8Array([...encoder.encode(json.slice(0, at)), ...bad, ...encoder.encode(json.slice(at))]);
        const res = await raw(server.url, op.method, op.url, { token: tokenFor(op), body: bytes, contentType: 'application/json' });
        expectError(res, 400, 'invalid_json', `${op.key} with bytes ${bad}`, { strict: true });
      }
    }
  });

  it('every protected route is 401 unauthorized without a valid token', async () => {
    const secured = operations().filter((o) => o.secured);
    expect(secured.length).toBeGreaterThanOrEqual(25);
    expect(operations().filter((o) => !o.secured).map((o) => o.key).sort()).toEqual(PUBLIC.sort());
    const forged = 'A'.repeat(43);
    for (const op of secured) {
      const body = op.hasBody ? JSON.stringify(VALID_BODIES[op.key] ?? { channel: 'weather', text: 'no key' }) : undefined;
      const contentType = body ? 'application/json' : undefined;
      for (const token of [undefined, forged, 'short', 'has spaces in it and is long enough']) {
        const res = await raw(server.url, op.method, op.url, { token, body, contentType });
        expectError(res, 401, 'unauthorized', `${op.key} with token ${token}`, { strict: true });
        expect(res.headers.get('www-authenticate')).toBe('Bearer');
      }
      // Not Bearer: Basic with the right password is no way in either.
      const basic = await fetch(server.url + op.url, {
        method: op.method,
        headers: { authorization: `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}` },
      });
      expect(basic.status, op.key).toBe(401);
    }
  });

  it('a message of 4001 characters, or of only whitespace, is 400 and nothing is stored', async () => {
    await bob.poll();
    const url = (clientId: string) => `/api/v1/chats/${chatId}/messages/${clientId}`;
    expectError(await alice.put(url('long'), { text: 'a'.repeat(LIMITS.messageChars + 1) }), 400, 'invalid_request', '4001 chars', { strict: true });
    for (const text of ['', ' ', '   \n\t  ', '\u00a0\u2003']) {
      expectError(await alice.put(url('blank'), { text }), 400, 'invalid_request', JSON.stringify(text), { strict: true });
    }
    expectError(await alice.put(url('nulltext'), { text: null }), 400, 'invalid_request', 'null text', { strict: true });
    expectError(await alice.put(url('numtext'), { text: 42 }), 400, 'invalid_request', 'number text', { strict: true });
    expectError(await alice.put(url('notext'), {}), 400, 'invalid_request', 'no text', { strict: true });

    const history = await alice.get(`/api/v1/chats/${chatId}/messages`);
    expect(history.status).toBe(200);
    expect(history.body).toEqual({ messages: [] });
    expect((await bob.poll(0)).filter((e) => e.type === 'chat.message')).toEqual([]);

    // The same client ids are still free: 4000 characters are fine.
    const ok = await alice.put(url('long'), { text: 'a'.repeat(LIMITS.messageChars) });
    expect(ok.status).toBe(201);
    expect(ok.body.message.text).toHaveLength(LIMITS.messageChars);
    const after = await alice.get(`/api/v1/chats/${chatId}/messages`);
    expect(after.body.messages.map((m: any) => [m.clientId, m.text.length])).toEqual([['long', LIMITS.messageChars]]);
  });

  it('bad path and query parameters are 400 invalid_request', async () => {
    const cases: Array<[Client, string, string, unknown?]> = [
      [alice, 'PUT', '/api/v1/contacts/bad!name'],
      [alice, 'PUT', '/api/v1/contacts/-starts-with-dash'],
      [alice, 'PUT', '/api/v1/contacts/x'],
      [alice, 'PUT', `/api/v1/contacts/${'a'.repeat(LIMITS.usernameChars + 1)}`],
      [alice, 'PUT', '/api/v1/contacts/bad%20name'],
      [alice, 'PUT', '/api/v1/contacts/%E0%A4%A'],
      [alice, 'DELETE', '/api/v1/contacts/%3Cscript%3E'],
      [alice, 'GET', '/api/v1/chats/not-a-uuid'],
      [alice, 'GET', '/api/v1/chats/12345'],
      [alice, 'POST', '/api/v1/chats/not-a-uuid/accept', {}],
      [alice, 'POST', `/api/v1/chats/${chatId}x/leave`, {}],
      [alice, 'GET', '/api/v1/chats/not-a-uuid/messages'],
      [alice, 'PUT', '/api/v1/chats/not-a-uuid/messages/m1', { text: 'hi' }],
      [alice, 'PUT', `/api/v1/chats/${chatId}/messages/bad%20id`, { text: 'hi' }],
      [alice, 'PUT', `/api/v1/chats/${chatId}/messages/${'c'.repeat(LIMITS.clientIdChars + 1)}`, { text: 'hi' }],
      [alice, 'GET', `/api/v1/chats/${chatId}/messages?limit=0`],
      [alice, 'GET', `/api/v1/chats/${chatId}/messages?limit=${LIMITS.historyPageMax + 1}`],
      [alice, 'GET', `/api/v1/chats/${chatId}/messages?before=-1`],
      [alice, 'GET', `/api/v1/chats/${chatId}/messages?limit=abc`],
      [alice, 'GET', '/api/v1/events?after=abc&wait=0'],
      [alice, 'GET', '/api/v1/events?wait=56'],
      [alice, 'GET', '/api/v1/events?wait=-1'],
      [alice, 'GET', '/api/v1/events?wait=0&interval=1.5'],
      [alice, 'GET', `/api/v1/users?q=${'q'.repeat(LIMITS.usernameChars + 1)}`],
      [alice, 'POST', '/api/v1/chats', { invitees: [] }],
      [alice, 'POST', '/api/v1/chats', { invitees: ['bad name'] }],
      [alice, 'POST', '/api/v1/chats', { invitees: 'bi-bob' }],
      [alice, 'PUT', '/api/v1/presence', { state: 'sleeping' }],
      [server.admin, 'DELETE', '/api/v1/admin/users/no%20way'],
      [server.admin, 'PUT', '/api/v1/admin/users/bi-victim/contacts/no!pe'],
      [server.admin, 'PUT', '/api/v1/admin/groups/bad%20group/members/bi-bob'],
      [server.admin, 'POST', '/api/v1/admin/users', { username: 'no spaces', password: PASSWORD }],
      [server.admin, 'POST', '/api/v1/admin/users', { username: 'bi-admin-flag', password: PASSWORD, isAdmin: 'yes' }],
      [server.admin, 'POST', '/api/v1/admin/groups', { name: 'bad group' }],
    ];
    for (const [client, method, path, body] of cases) {
      expectError(await client.request(method, path, body), 400, 'invalid_request', `${method} ${path}`, { strict: true });
    }
  });

  it('an unknown path is 404 JSON, a known path with the wrong method is 405 JSON', async () => {
    for (const path of ['/nope', '/api/v1/nope', '/api/v2/me', '/api/v1/contacts/bi-bob/extra', '/api/v1/chats/' + randomUUID() + '/nope']) {
      expectError(await raw(server.url, 'GET', path, { token: alice.token }), 404, 'not_found', path, { strict: true });
    }
    expectError(await raw(server.url, 'GET', '/nope'), 404, 'not_found', '/nope without a token', { strict: true });
    const wrong = await raw(server.url, 'PATCH', '/api/v1/contacts', { token: alice.token });
    expectError(wrong, 405, 'invalid_request', 'PATCH /api/v1/contacts', { strict: true });
    expect(wrong.headers.get('allow')).toContain('GET');
    // A chat that does not exist (well-formed id) is a 404 too.
    expectError(await alice.get(`/api/v1/chats/${randomUUID()}`), 404, 'not_found', 'unknown chat', { strict: true });
  });

  it('after all of it the server is healthy and the data is intact', async () => {
    const health = await raw(server.url, 'GET', '/healthz');
    expect(health.status).toBe(200);
    expect(health.body).toEqual({ ok: true, version: expect.stringMatching(/^\d+\.\d+\.\d+/) });

    const users = (await server.admin.get('/api/v1/admin/users')).body.users.map((u: any) => u.username).sort();
    expect(users).toEqual(['admin', 'bi-alice', 'bi-bob', 'bi-victim']);
    expect((await server.admin.get('/api/v1/admin/groups')).body.groups).toEqual([{ name: 'bi-group', displayName: 'bi-group', members: ['bi-bob'] }]);

    // Passwords unchanged: the victim still logs in with the old one.
    expect((await new Client(server.url).post('/api/v1/login', { username: 'bi-victim', password: PASSWORD })).status).toBe(200);

    // Contacts, chats and presence choices are as they were.
    expect((await alice.get('/api/v1/contacts')).body.contacts.map((c: any) => [c.username, c.personal])).toEqual([['bi-bob', true]]);
    const chats = (await alice.get('/api/v1/chats')).body.chats;
    expect(chats.map((c: any) => [c.id, c.state])).toEqual([[chatId, 'active']]);
    await alice.poll(0);
    expect((await alice.get('/api/v1/me')).body.user.presence).toBe('available');

    // And it still works.
    const sent = await alice.put(`/api/v1/chats/${chatId}/messages/final`, { text: 'still here' });
    expect(sent.status).toBe(201);
    expect((await bob.waitFor('chat.message', (e) => e.message.clientId === 'final')).message.text).toBe('still here');
  });
});

describe('API description, health and metrics', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.destroy());

  const CONTRACT = [
    'post /api/v1/login',
    'post /api/v1/logout',
    'get /api/v1/me',
    'get /api/v1/contacts',
    'put /api/v1/contacts/{username}',
    'delete /api/v1/contacts/{username}',
    'get /api/v1/users',
    'put /api/v1/presence',
    'post /api/v1/chats',
    'get /api/v1/chats',
    'get /api/v1/chats/{id}',
    'post /api/v1/chats/{id}/accept',
    'post /api/v1/chats/{id}/decline',
    'post /api/v1/chats/{id}/leave',
    'put /api/v1/chats/{id}/messages/{clientId}',
    'get /api/v1/chats/{id}/messages',
    'get /api/v1/events',
    'get /api/v1/admin/users',
    'post /api/v1/admin/users',
    'delete /api/v1/admin/users/{username}',
    'put /api/v1/admin/users/{username}/password',
    'get /api/v1/admin/users/{username}/contacts',
    'put /api/v1/admin/users/{username}/contacts/{contact}',
    'delete /api/v1/admin/users/{username}/contacts/{contact}',
    'get /api/v1/admin/groups',
    'post /api/v1/admin/groups',
    'delete /api/v1/admin/groups/{name}',
    'put /api/v1/admin/groups/{name}/members/{username}',
    'delete /api/v1/admin/groups/{name}/members/{username}',
    // portal content (issue 3)
    'get /api/v1/admin/providers',
    'post /api/v1/admin/providers',
    'post /api/v1/admin/providers/{name}/key',
    'delete /api/v1/admin/providers/{name}',
    'put /api/v1/admin/providers/{name}/channels',
    'put /api/v1/admin/channels/{name}',
    'get /api/v1/channels',
    'put /api/v1/channels/mine',
    'post /cgi/ticker',
    'get /api/v1/ticker',
    'post /cgi/notice',
    'get /api/v1/notices',
    'post /cgi/chart',
    'get /api/v1/charts',
    'put /api/v1/admin/links',
    'get /api/v1/links',
    'post /cgi/media',
    'get /api/v1/media',
    // installed clients (issue 6)
    'get /api/v1/admin/terminals',
    // what the admin console needs that only the CLI had (issue 17)
    'delete /api/v1/admin/terminals/{installId}',
    'get /api/v1/admin/updates',
    // calls (issue 5)
    'get /api/v1/calls/ice-servers',
    'post /api/v1/calls',
    'get /api/v1/calls/{id}',
    'post /api/v1/calls/{id}/accept',
    'post /api/v1/calls/{id}/decline',
    'post /api/v1/calls/{id}/hangup',
    'post /api/v1/calls/{id}/signal',
    // call state: join, hold, transfer; adding people to a chat (issue 18)
    'post /api/v1/calls/{id}/join',
    'post /api/v1/calls/{id}/hold',
    'post /api/v1/calls/{id}/resume',
    'post /api/v1/calls/{id}/transfer',
    'post /api/v1/calls/{id}/ring',
    'patch /api/v1/chats/{id}',
    'post /api/v1/chats/{id}/members',
    'put /api/v1/calls/{id}/relay/{seqOrMember}',
    'get /api/v1/calls/{id}/relay/{seqOrMember}',
    // people, me, do-not-disturb (issue 17)
    'patch /api/v1/me',
    'post /api/v1/me/password',
    'put /api/v1/me/avatar',
    'delete /api/v1/me/avatar',
    'put /api/v1/chats/{id}/mute',
    // the message lifecycle (issue 16)
    'patch /api/v1/chats/{id}/messages/{clientId}',
    'delete /api/v1/chats/{id}/messages/{clientId}',
    'put /api/v1/chats/{id}/messages/{messageId}/reactions',
    'delete /api/v1/chats/{id}/messages/{messageId}/reactions',
    'put /api/v1/chats/{id}/read',
    'post /api/v1/chats/{id}/typing',
    // files in chats and search (issue 16)
    'post /api/v1/chats/{id}/files',
    'get /api/v1/search',
    // meetings with guests (issue 19)
    'post /api/v1/meetings',
    'get /api/v1/meetings',
    'delete /api/v1/meetings/{id}',
    'post /api/v1/guest/knock',
    'post /api/v1/meetings/{id}/guests/{guestId}/admit',
    'post /api/v1/meetings/{id}/guests/{guestId}/reject',
    'post /api/v1/meetings/{id}/guests/{guestId}/presenter',
    'post /api/v1/meetings/{id}/documents',
    'get /api/v1/meetings/{id}/documents',
    'put /api/v1/meetings/{id}/presentation',
    'post /api/v1/meetings/{id}/pointer',
    // served by hand, described in system/openapi.ts (issue 13)
    'get /healthz',
    'get /metrics',
    'get /api/v1/openapi.json',
    'get /media/{token}/{sha256}',
    'get /games/{token}/{sha256}/{file}',
    'get /updates/{file}',
    'get /avatars/{file}',
    'get /api/v1/chats/{id}/files/{fileId}',
    'get /api/v1/chats/{id}/files/{fileId}/thumbnail',
    'get /api/v1/sso',
    'get /api/v1/sso/start',
    'get /api/v1/sso/callback',
    'post /api/v1/sso/exchange',
  ];
  /** Answers that are not JSON: files, chunks, metrics. */
  const NOT_JSON = [
    'get /api/v1/sso/start',
    'get /api/v1/sso/callback',
    'get /api/v1/calls/{id}/relay/{seqOrMember}',
    'get /metrics',
    'get /media/{token}/{sha256}',
    'get /games/{token}/{sha256}/{file}',
    'get /updates/{file}',
    'get /avatars/{file}',
    'get /api/v1/chats/{id}/files/{fileId}',
    'get /api/v1/chats/{id}/files/{fileId}/thumbnail',
  ];
  const REDIRECTS = ['get /api/v1/sso/start', 'get /api/v1/sso/callback'];
  const resolveRef = (doc: any, x: any) => (x?.$ref ? x.$ref.slice(2).split('/').reduce((o: any, k: string) => o[k], doc) : x);

  const PUBLIC_OPS = ['get /api/v1/sso', 'get /api/v1/sso/start', 'get /api/v1/sso/callback', 'post /api/v1/sso/exchange', 'post /api/v1/login', 'post /api/v1/guest/knock', 'get /metrics', 'get /healthz', 'get /api/v1/openapi.json', 'get /media/{token}/{sha256}', 'get /games/{token}/{sha256}/{file}', 'get /updates/{file}', 'get /avatars/{file}'];
  /** A token, or the signed path instead (issue 16). */
  const TOKEN_OR_SIGNED = ['get /api/v1/chats/{id}/files/{fileId}', 'get /api/v1/chats/{id}/files/{fileId}/thumbnail'];

  it('/api/v1/openapi.json is an OpenAPI 3.1 document listing every route of the contract', async () => {
    const res = await raw(server.url, 'GET', '/api/v1/openapi.json');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const doc = res.body;
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(doc.info.title).toEqual(expect.any(String));
    expect(doc.info.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.components.securitySchemes.providerKey).toMatchObject({ type: 'http', scheme: 'bearer' });

    const listed: string[] = [];
    for (const [path, methods] of Object.entries(doc.paths as Record<string, Record<string, any>>)) {
      expect(path.startsWith('/')).toBe(true);
      const templated = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      for (const [method, op] of Object.entries(methods)) {
        const key = `${method} ${path}`;
        listed.push(key);
        expect(['get', 'put', 'post', 'delete', 'patch'], key).toContain(method);
        expect(op.summary, key).toEqual(expect.any(String));
        // The single sign-on redirects answer 302 (to the provider, back to the panel).
        const success = Object.keys(op.responses).filter((s) => /^2\d\d$/.test(s) || (REDIRECTS.includes(key) && s === '302'));
        expect(success.length, key).toBeGreaterThan(0);
        for (const s of success) {
          if (s === '204' || s === '206') continue;
          if (NOT_JSON.includes(key)) expect(op.responses[s].content['application/json'], key).toBeUndefined();
          else expect(op.responses[s].content['application/json'].schema, key).toBeTypeOf('object');
        }
        // Errors by status, each with the error body (a shared component).
        const errors = Object.keys(op.responses).filter((s) => /^[45]\d\d$/.test(s));
        expect(errors, key).toContain('500');
        for (const s of errors) {
          const schema = resolveRef(doc, resolveRef(doc, op.responses[s]).content['application/json'].schema);
          expect(schema.properties.error, `${key} ${s}`).toBeDefined();
        }
        const inPath = (op.parameters ?? []).filter((p: any) => p.in === 'path');
        expect(inPath.map((p: any) => p.name).sort(), key).toEqual(templated);
        for (const p of inPath) expect(p.required, `${key} {${p.name}}`).toBe(true);
        for (const p of op.parameters ?? []) expect(['path', 'query', 'header'], key).toContain(p.in);
        if (TOKEN_OR_SIGNED.includes(key)) expect(op.security, key).toEqual([{ bearer: [] }, {}]);
        else if (!PUBLIC_OPS.includes(key)) {
          expect(op.security, key).toEqual(path.startsWith('/cgi/') ? [{ providerKey: [] }, { providerSignature: [] }] : [{ bearer: [] }]);
        }
        // Binary bodies: a relay chunk, a chat file (raw or multipart), a picture, a meeting document.
        if (op.requestBody && !key.includes('/relay/') && !key.endsWith('/documents') && key !== 'post /api/v1/chats/{id}/files' && key !== 'put /api/v1/me/avatar') {
          const schema = op.requestBody.content['application/json'].schema;
          expect(schema.type, key).toBe('object');
          expect(schema.additionalProperties, key).toBe(false);
        }
      }
    }
    expect(listed.sort()).toEqual([...CONTRACT].sort());
    const login = doc.paths['/api/v1/login'].post;
    expect(login.security).toEqual([]);
    expect(doc.paths['/metrics'].get.security).toEqual([{}, { bearer: [] }]);
    expect(login.requestBody.content['application/json'].schema.required.sort()).toEqual(['password', 'username']);
    expect(doc.paths['/api/v1/events'].get.parameters.map((p: any) => p.name).sort()).toEqual(['after', 'interval', 'wait']);
  });

  it('the API description documents the success statuses the server actually answers', async () => {
    const doc = (await raw(server.url, 'GET', '/api/v1/openapi.json')).body;
    const alice = await server.user('oa-alice');
    const bob = await server.user('oa-bob');
    const added = await alice.put('/api/v1/contacts/oa-bob');
    expect(added.status).toBe(201);
    expect(Object.keys(doc.paths['/api/v1/contacts/{username}'].put.responses)).toContain(String(added.status));
    const chat = (await alice.post('/api/v1/chats', { invitees: ['oa-bob'] })).body.chat;
    await bob.post(`/api/v1/chats/${chat.id}/accept`);
    const sent = await alice.put(`/api/v1/chats/${chat.id}/messages/m1`, { text: 'hi' });
    expect(sent.status).toBe(201);
    expect(Object.keys(doc.paths['/api/v1/chats/{id}/messages/{clientId}'].put.responses)).toContain(String(sent.status));
  });

  it('/healthz answers ok without a token', async () => {
    const res = await raw(server.url, 'GET', '/healthz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ok: true, version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('/metrics from loopback is Prometheus text with portico_held_polls counting held polls', async () => {
    const metric = async (name: string) => {
      const res = await raw(server.url, 'GET', '/metrics');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(res.text).toContain(`# TYPE ${name} gauge`);
      const line = res.text.split('\n').find((l) => l.startsWith(`${name} `));
      expect(line, name).toBeDefined();
      return Number(line!.split(' ')[1]);
    };
    expect(await metric('portico_held_polls')).toBe(0);
    const carol = await server.user('m-carol');
    const held = carol.poll(10);
    await eventually(async () => (await metric('portico_held_polls')) === 1, 3000, 'one held poll in the metrics');
    await carol.post('/api/v1/logout'); // answers the held poll
    await held;
    await eventually(async () => (await metric('portico_held_polls')) === 0, 3000, 'no held polls in the metrics');
    const text = (await raw(server.url, 'GET', '/metrics')).text;
    expect(text).toContain('portico_http_request_duration_seconds_bucket');
    expect(text).toMatch(/portico_events_published_total \d+/);
  });

  it('/metrics from outside this machine needs an administrator token', async () => {
    const proxied = await startTestServer({ trustProxy: true });
    try {
      const outside = { 'x-forwarded-for': '203.0.113.7' };
      const anon = await fetch(`${proxied.url}/metrics`, { headers: outside });
      expect(anon.status).toBe(401);
      expect(ErrorBody.safeParse(await anon.json()).success).toBe(true);
      const user = await proxied.user('m-user');
      expect((await user.get('/metrics', { headers: outside })).status).toBe(403);
      const asAdmin = await proxied.admin.get('/metrics', { headers: outside });
      expect(asAdmin.status).toBe(200);
      expect(asAdmin.body).toContain('portico_held_polls');
    } finally {
      await proxied.destroy();
    }
  });
});
