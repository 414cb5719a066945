/**
 * Authorization, route by route: a user reaching for another user's resources (chats they are
 * not in, history, sending, answering requests, leaving), presence of people who are not their
 * contacts (search, polls), administration without being an administrator (every /admin route of
 * the API description), media paths that were not signed for them, provider keys outside their
 * channels or used as a login, and expired, logged-out or malformed tokens. Each attempt is
 * refused, and counted for docs/reliability.md.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverSql } from '../helpers/backend.js';
import { createChat } from '../helpers/chat.js';
import { MP4_FTYP } from '../helpers/media-samples.js';
import { Client, PASSWORD, drain, startTestServer, type TestServer } from '../helpers/server.js';
import { writeResult } from './common.js';

let server: TestServer;
let alice: Client;
let bob: Client;
let mallory: Client;
let chatId: string;
const counts: Record<string, number> = {};

beforeAll(async () => {
  server = await startTestServer({ loginPerIpPerMinute: 10_000, providerRequestsPerMinute: 10_000 });
  alice = await server.user('az-alice');
  bob = await server.user('az-bob');
  mallory = await server.user('az-mallory');
  for (const c of [alice, bob, mallory]) await c.poll(0);
  chatId = (await createChat(alice, bob)).id;
  expect((await bob.post(`/api/v1/chats/${chatId}/accept`)).status).toBe(200);
  expect((await alice.put(`/api/v1/chats/${chatId}/messages/secret-1`, { text: 'between alice and bob' })).status).toBe(201);
  expect((await alice.put('/api/v1/contacts/az-bob')).status).toBe(201);
});
afterAll(() => server?.destroy());

/** A refusal: 401/403/404 with the error shape, never the resource. Counted under `theme`. */
function refused(theme: string, res: { status: number; body: any }, what: string, allowed = [401, 403, 404]) {
  expect(allowed, `${what} -> ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`).toContain(res.status);
  expect(typeof res.body?.error?.code, what).toBe('string');
  expect(JSON.stringify(res.body)).not.toContain('between alice and bob');
  counts[theme] = (counts[theme] ?? 0) + 1;
}

describe('authorization', () => {
  it("another user's chat: read, history, send, accept, decline, leave are all refused; nothing leaks into their polls", async () => {
    const attempts: Array<[string, string, unknown?]> = [
      ['GET', `/api/v1/chats/${chatId}`],
      ['GET', `/api/v1/chats/${chatId}/messages`],
      ['GET', `/api/v1/chats/${chatId}/messages?limit=1`],
      ['PUT', `/api/v1/chats/${chatId}/messages/mallory-1`, { text: 'let me in' }],
      ['PUT', `/api/v1/chats/${chatId}/messages/secret-1`, { text: 'between alice and bob' }], // replaying their client id
      ['POST', `/api/v1/chats/${chatId}/accept`, {}],
      ['POST', `/api/v1/chats/${chatId}/decline`, {}],
      ['POST', `/api/v1/chats/${chatId}/leave`, {}],
      ['PUT', `/api/v1/chats/${chatId}/mute`, { muted: true }], // a mute is for one's own chats (issue 17)
      // the message lifecycle (issue 16)
      ['PATCH', `/api/v1/chats/${chatId}/messages/secret-1`, { text: 'rewritten' }],
      ['DELETE', `/api/v1/chats/${chatId}/messages/secret-1`],
      ['PUT', `/api/v1/chats/${chatId}/messages/1/reactions`, { emoji: '👍' }],
      ['DELETE', `/api/v1/chats/${chatId}/messages/1/reactions?emoji=%F0%9F%91%8D`],
      ['PUT', `/api/v1/chats/${chatId}/read`, { upTo: 1 }],
      ['POST', `/api/v1/chats/${chatId}/typing`],
    ];
    for (const [method, path, body] of attempts) refused('chats', await mallory.request(method, path, body), `mallory ${method} ${path}`);
    // Not listed either.
    expect((await mallory.get('/api/v1/chats')).body.chats).toEqual([]);
    // An invitee who has not accepted may read what the creator wrote meanwhile (issue 16) but not
    // write yet; one who declined may do neither.
    const pending = await createChat(alice, mallory);
    expect((await alice.put(`/api/v1/chats/${pending.id}/messages/p-1`, { text: 'before you accept' })).status).toBe(201);
    expect((await mallory.get(`/api/v1/chats/${pending.id}/messages`)).body.messages.map((m: any) => m.text)).toEqual(['before you accept']);
    refused('chats', await mallory.put(`/api/v1/chats/${pending.id}/messages/m-1`, { text: 'before accepting' }), 'pending invitee writes');
    expect((await mallory.post(`/api/v1/chats/${pending.id}/decline`)).status).toBe(200);
    refused('chats', await mallory.get(`/api/v1/chats/${pending.id}/messages`), 'decliner reads', [401, 403, 404, 409]);
    refused('chats', await mallory.put(`/api/v1/chats/${pending.id}/messages/m-2`, { text: 'after declining' }), 'decliner writes', [401, 403, 404, 409]);

    // Nothing of alice and bob's chat reached mallory's event stream; the history is untouched.
    expect((await bob.put(`/api/v1/chats/${chatId}/messages/secret-2`, { text: 'between alice and bob, again' })).status).toBe(201);
    const events = await drain(mallory);
    expect(events.filter((e) => e.chat?.id === chatId || e.message?.chatId === chatId)).toEqual([]);
    const history = (await alice.get(`/api/v1/chats/${chatId}/messages`)).body.messages.map((m: any) => m.clientId);
    expect(history).toEqual(['secret-1', 'secret-2']);
  });

  it('presence is shown for contacts only: not in search results, not in polls of non-contacts', async () => {
    // mallory is nobody's contact and has none: alice's presence changes never reach her.
    const search = await mallory.get('/api/v1/users?q=az-alice');
    expect(search.status).toBe(200);
    expect(search.body.users.map((u: any) => u.username)).toContain('az-alice');
    for (const u of search.body.users) expect(u.presence, JSON.stringify(u)).toBeUndefined();
    await drain(mallory);
    expect((await alice.put('/api/v1/presence', { state: 'busy' })).status).toBe(200);
    expect((await alice.put('/api/v1/presence', { state: 'away' })).status).toBe(200);
    const seenByBob = await drain(bob); // not alice's contact either (the list is one way)
    const seenByMallory = await drain(mallory);
    expect(seenByMallory.filter((e) => e.type === 'presence')).toEqual([]);
    counts.presence = (counts.presence ?? 0) + 2;
    // And the contact list of another user is not readable through the user API.
    refused('presence', await mallory.get('/api/v1/admin/users/az-alice/contacts'), 'mallory reads alice contacts');
    // bob watches nobody: no presence events for him either.
    expect(seenByBob.filter((e) => e.type === 'presence' && e.username === 'az-alice')).toEqual([]);
    // alice watches bob: she does see his.
    expect((await bob.put('/api/v1/presence', { state: 'busy' })).status).toBe(200);
    await alice.waitFor('presence', (e) => e.username === 'az-bob' && e.state === 'busy');
  });

  it('every administration route refuses a user who is not an administrator (403), and everyone without a token (401)', async () => {
    const doc = (await alice.get('/api/v1/openapi.json')).body;
    const values: Record<string, string> = { username: 'az-bob', contact: 'az-alice', name: 'any', id: randomUUID(), clientId: 'x', seq: '1', from: 'az-bob' };
    let routes = 0;
    for (const [path, methods] of Object.entries(doc.paths as Record<string, object>)) {
      if (!path.startsWith('/api/v1/admin/')) continue;
      for (const method of Object.keys(methods)) {
        routes++;
        const url = path.replace(/\{(\w+)\}/g, (_, n: string) => values[n] ?? 'x');
        const body = method === 'get' || method === 'delete' ? undefined : { username: 'az-evil', password: PASSWORD, name: 'evil', channels: ['evil'], html: '<p>evil</p>' };
        const res = await mallory.request(method.toUpperCase(), url, body);
        refused('admin', res, `mallory ${method} ${url}`, [403]);
        refused('admin', await new Client(server.url).request(method.toUpperCase(), url, body), `anonymous ${method} ${url}`, [401]);
      }
    }
    expect(routes).toBeGreaterThan(10);
    const users = (await server.admin.get('/api/v1/admin/users')).body.users.map((u: any) => u.username);
    expect(users).not.toContain('az-evil');
    expect((await new Client(server.url).post('/api/v1/login', { username: 'az-bob', password: PASSWORD })).status).toBe(200);
  });

  it('provider keys: only their own channels, never as a login; signed media paths cannot be altered', async () => {
    const a = await server.admin.post('/api/v1/admin/providers', { name: 'az-weather', channels: ['az-weather'] });
    const b = await server.admin.post('/api/v1/admin/providers', { name: 'az-stocks', channels: ['az-stocks'] });
    const keyA = a.body.key as string;
    const push = (route: string, key: string, fields: Record<string, string>) =>
      fetch(`${server.url}/cgi/${route}`, { method: 'POST', headers: { authorization: `Bearer ${key}` }, body: new URLSearchParams(fields) }).then(async (r) => ({ status: r.status, body: await r.json() }));
    // Into another provider's channel, or a channel that does not exist: refused, for every push route.
    for (const channel of ['az-stocks', 'az-nowhere']) {
      refused('providers', await push('ticker', keyA, { channel, text: 'hijack' }), `ticker to ${channel}`, [403, 404]);
      refused('providers', await push('notice', keyA, { channel, text: 'hijack' }), `notice to ${channel}`, [403, 404]);
      refused('providers', await push('chart', keyA, { channel, series: 'X', points: `${Math.floor(Date.now() / 1000)}:1` }), `chart to ${channel}`, [403, 404]);
      const form = new FormData();
      form.set('channel', channel);
      form.set('title', 'hijack');
      form.set('file', new Blob([new Uint8Array(10)]), 'x.mp4');
      const media = await fetch(`${server.url}/cgi/media`, { method: 'POST', headers: { authorization: `Bearer ${keyA}` }, body: form });
      refused('providers', { status: media.status, body: await media.json() }, `media to ${channel}`, [403, 404]);
    }
    // A key in the form field is the same rule.
    refused('providers', await fetch(`${server.url}/cgi/ticker`, { method: 'POST', body: new URLSearchParams({ key: keyA, channel: 'az-stocks', text: 'x' }) }).then(async (r) => ({ status: r.status, body: await r.json() })), 'form key', [403, 404]);
    // Its own channel works.
    expect((await push('ticker', keyA, { channel: 'az-weather', text: 'sunny' })).status).toBe(201);
    // A provider key is not a user's token, and a user's token is not a provider key.
    refused('providers', await new Client(server.url, keyA).get('/api/v1/me'), 'provider key as a login', [401]);
    refused('providers', await push('ticker', alice.token!, { channel: 'az-weather', text: 'x' }), 'user token as a key', [401, 403]);
    // A rotated key stops at once.
    expect((await server.admin.post('/api/v1/admin/providers/az-weather/key')).status).toBe(200);
    refused('providers', await push('ticker', keyA, { channel: 'az-weather', text: 'old key' }), 'rotated key', [401, 403]);
    expect(b.status).toBe(201);

    // Media: a signed path works; changing the token or the file is refused.
    const keyB = b.body.key as string;
    const form = new FormData();
    form.set('channel', 'az-stocks');
    form.set('title', 'chart');
    form.set('file', new Blob([new Uint8Array(Buffer.concat([MP4_FTYP, Buffer.alloc(2048, 7)]))]), 'clip.mp4'); // the server sniffs the bytes
    expect((await fetch(`${server.url}/cgi/media`, { method: 'POST', headers: { authorization: `Bearer ${keyB}` }, body: form })).status).toBe(201);
    const item = (await alice.get('/api/v1/media')).body.items.find((i: any) => i.url.startsWith('/media/'));
    expect((await fetch(server.url + item.url)).status).toBe(200);
    const [, , token, sha] = item.url.split('/');
    const flip = (s: string) => (s[0] === 'a' ? 'b' : 'a') + s.slice(1);
    for (const path of [`/media/${flip(token)}/${sha}`, `/media/${token}/${flip(sha)}`, `/media/${token.slice(0, -2)}/${sha}`, `/media/x/${sha}`, `/games/${token}/${sha}/index.html`]) {
      const res = await fetch(server.url + path);
      expect([400, 403, 404], path).toContain(res.status);
      counts.media = (counts.media ?? 0) + 1;
    }
  });

  it('expired, logged-out, malformed and removed-user tokens are 401 everywhere', async () => {
    const carol = await server.user('az-carol');
    const dave = await server.user('az-dave');
    const erin = await server.user('az-erin');
    // Expiry is kept in the database: move carol's session past it (as if 30 days unused).
    const db = await serverSql(server);
    try {
      await db.all('UPDATE sessions SET expires_at = ? WHERE user_id = (SELECT id FROM users WHERE username = ?)', [Date.now() - 1000, 'az-carol']);
    } finally {
      await db.close();
    }
    expect((await dave.post('/api/v1/logout')).status).toBeLessThan(300);
    expect((await server.admin.delete('/api/v1/admin/users/az-erin')).status).toBe(200);
    const bad = [
      ['expired', carol],
      ['logged out', dave],
      ['removed user', erin],
      ['malformed', new Client(server.url, 'not-a-token')],
      ['empty', new Client(server.url, '')],
      ['another server', new Client(server.url, 'pt_' + 'A'.repeat(43))],
    ] as const;
    const paths: Array<[string, string, unknown?]> = [
      ['GET', '/api/v1/me'],
      ['GET', '/api/v1/contacts'],
      ['GET', '/api/v1/chats'],
      ['GET', '/api/v1/events?wait=0'],
      ['PUT', '/api/v1/presence', { state: 'busy' }],
      ['PUT', `/api/v1/chats/${chatId}/messages/late`, { text: 'x' }],
      ['GET', '/api/v1/ticker'],
      ['GET', '/api/v1/media'],
      ['GET', '/api/v1/admin/users'],
    ];
    for (const [label, c] of bad) {
      for (const [method, path, body] of paths) refused('tokens', await c.request(method, path, body), `${label} ${method} ${path}`, [401]);
    }
  });

  it('writes the counts', () => {
    writeResult('authz', 'refusals', { ...counts, total: Object.values(counts).reduce((a, b) => a + b, 0) });
  });
});
