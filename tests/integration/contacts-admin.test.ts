/**
 * Contacts, user search, groups, the admin API, and logging in and out, over the real server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, Client, PASSWORD, eventually, expectError, login, startTestServer, type TestServer } from '../helpers/server.js';

const anonymous = (server: TestServer) => new Client(server.url);

describe('contacts, users and the admin API', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.destroy());

  it('PUT /contacts/:username adds (201, then 200), GET lists it as personal, DELETE removes it', async () => {
    const alice = await server.user('c1-alice');
    await server.user('c1-bob', 'Bob Brown');

    const first = await alice.put('/api/v1/contacts/c1-bob');
    expect(first.status).toBe(201);
    expect(first.body).toEqual({
      contact: { username: 'c1-bob', displayName: 'Bob Brown', presence: 'offline', personal: true, groups: [] },
    });
    const again = await alice.put('/api/v1/contacts/c1-bob');
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);

    const list = await alice.get('/api/v1/contacts');
    expect(list.status).toBe(200);
    expect(list.body).toEqual({ contacts: [first.body.contact] });

    const removed = await alice.delete('/api/v1/contacts/c1-bob');
    expect(removed.status).toBe(200);
    expect(removed.body).toEqual({ ok: true });
    expect((await alice.get('/api/v1/contacts')).body).toEqual({ contacts: [] });
    expectError(await alice.delete('/api/v1/contacts/c1-bob'), 404, 'not_found');
  });

  it('adding an unknown user is 404, adding yourself is 400 (in any letter case)', async () => {
    const alice = await server.user('c2-alice');
    expectError(await alice.put('/api/v1/contacts/c2-nobody'), 404, 'not_found');
    expectError(await alice.put('/api/v1/contacts/c2-alice'), 400, 'invalid_request');
    expectError(await alice.put('/api/v1/contacts/C2-ALICE'), 400, 'invalid_request');
    expectError(await alice.delete('/api/v1/contacts/c2-nobody'), 404, 'not_found');
    expect((await alice.get('/api/v1/contacts')).body).toEqual({ contacts: [] });
  });

  it('GET /users?q= finds people by user ID and by display name', async () => {
    const alice = await server.user('c3-alice');
    await server.user('c3-zed', 'Zoe Quartzfield');
    await server.user('c3-yan', 'Yan Other');

    const byName = await alice.get('/api/v1/users?q=quartzf');
    expect(byName.status).toBe(200);
    expect(byName.body.users).toEqual([{ id: expect.any(Number), username: 'c3-zed', displayName: 'Zoe Quartzfield', isContact: false, personal: false }]);

    const byId = await alice.get('/api/v1/users?q=c3-ya');
    expect(byId.body.users.map((u: any) => u.username)).toEqual(['c3-yan']);

    const several = await alice.get('/api/v1/users?q=c3-');
    expect(several.body.users.map((u: any) => u.username).sort()).toEqual(['c3-alice', 'c3-yan', 'c3-zed']);

    expect((await alice.get('/api/v1/users?q=nobody-like-this')).body).toEqual({ users: [] });
    // LIKE wildcards are taken literally.
    expect((await alice.get('/api/v1/users?q=%25')).body).toEqual({ users: [] });
  });

  it('groups made through the admin API make their members see each other', async () => {
    const alice = await server.user('c4-alice');
    const bob = await server.user('c4-bob');
    const carol = await server.user('c4-carol');

    const created = await server.admin.post('/api/v1/admin/groups', { name: 'c4-team', displayName: 'The Team' });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ group: { name: 'c4-team', displayName: 'The Team', members: [] } });
    expectError(await server.admin.post('/api/v1/admin/groups', { name: 'C4-TEAM' }), 409, 'conflict');

    expect((await server.admin.put('/api/v1/admin/groups/c4-team/members/c4-alice')).status).toBe(200);
    const added = await server.admin.put('/api/v1/admin/groups/c4-team/members/c4-bob');
    expect(added.status).toBe(200);
    expect(added.body).toEqual({ group: { name: 'c4-team', displayName: 'The Team', members: ['c4-alice', 'c4-bob'] } });
    expectError(await server.admin.put('/api/v1/admin/groups/c4-team/members/c4-nobody'), 404, 'not_found');
    expectError(await server.admin.put('/api/v1/admin/groups/c4-none/members/c4-bob'), 404, 'not_found');

    expect((await alice.get('/api/v1/contacts')).body.contacts).toEqual([
      { username: 'c4-bob', displayName: 'c4-bob', presence: 'offline', personal: false, groups: ['c4-team'] },
    ]);
    expect((await bob.get('/api/v1/contacts')).body.contacts).toEqual([
      { username: 'c4-alice', displayName: 'c4-alice', presence: 'offline', personal: false, groups: ['c4-team'] },
    ]);
    expect((await carol.get('/api/v1/contacts')).body.contacts).toEqual([]);

    // A group contact cannot be removed personally; a personal add on top marks it personal.
    expectError(await alice.delete('/api/v1/contacts/c4-bob'), 404, 'not_found');
    expect((await alice.put('/api/v1/contacts/c4-bob')).status).toBe(201);
    expect((await alice.get('/api/v1/contacts')).body.contacts[0]).toMatchObject({ username: 'c4-bob', personal: true, groups: ['c4-team'] });

    const groups = await server.admin.get('/api/v1/admin/groups');
    expect(groups.body.groups).toContainEqual({ name: 'c4-team', displayName: 'The Team', members: ['c4-alice', 'c4-bob'] });

    // Out of the group: bob no longer sees alice.
    const out = await server.admin.delete('/api/v1/admin/groups/c4-team/members/c4-alice');
    expect(out.body).toEqual({ group: { name: 'c4-team', displayName: 'The Team', members: ['c4-bob'] } });
    expect((await bob.get('/api/v1/contacts')).body.contacts).toEqual([]);
    expect((await alice.get('/api/v1/contacts')).body.contacts).toEqual([
      { username: 'c4-bob', displayName: 'c4-bob', presence: 'offline', personal: true, groups: [] },
    ]);

    expect((await server.admin.delete('/api/v1/admin/groups/c4-team')).body).toEqual({ ok: true });
    expectError(await server.admin.delete('/api/v1/admin/groups/c4-team'), 404, 'not_found');
    expect((await server.admin.get('/api/v1/admin/groups')).body.groups.map((g: any) => g.name)).not.toContain('c4-team');
  });

  it('POST /admin/users creates a user (201); a taken username in any letter case is 409 username_taken', async () => {
    const res = await server.admin.post('/api/v1/admin/users', { username: 'c5-dora', password: PASSWORD, displayName: 'Dora Explorer' });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      user: { id: expect.any(Number), username: 'c5-dora', displayName: 'Dora Explorer', isAdmin: false, presence: 'offline', createdAt: expect.any(String), source: 'local', disabled: false },
    });
    expect(Math.abs(Date.parse(res.body.user.createdAt) - Date.now())).toBeLessThan(60_000);

    const plain = await server.admin.post('/api/v1/admin/users', { username: 'c5-eve', password: PASSWORD });
    expect(plain.body.user.displayName).toBe('c5-eve');

    expectError(await server.admin.post('/api/v1/admin/users', { username: 'C5-Dora', password: PASSWORD }), 409, 'username_taken');
    expectError(await server.admin.post('/api/v1/admin/users', { username: 'c5-dora', password: PASSWORD }), 409, 'username_taken');
    expectError(await server.admin.post('/api/v1/admin/users', { username: 'c5-short', password: 'short' }), 400, 'invalid_request');

    const all = await server.admin.get('/api/v1/admin/users');
    expect(all.body.users.filter((u: any) => u.username.toLowerCase() === 'c5-dora')).toHaveLength(1);
    expect((await login(server, 'c5-dora', PASSWORD)).status).toBe(200);
  });

  it('DELETE /admin/users/:username: their token dies, they leave their chats, their messages stay', async () => {
    const alice = await server.user('c6-alice');
    const bob = await server.user('c6-bob');
    await alice.put('/api/v1/contacts/c6-bob');
    await alice.poll();
    await bob.poll();

    const chat = (await alice.post('/api/v1/chats', { invitees: ['c6-bob'] })).body.chat;
    await bob.waitFor('chat.request');
    expect((await bob.post(`/api/v1/chats/${chat.id}/accept`)).status).toBe(200);
    expect((await bob.put(`/api/v1/chats/${chat.id}/messages/b1`, { text: 'from bob' })).status).toBe(201);
    expect((await alice.put(`/api/v1/chats/${chat.id}/messages/a1`, { text: 'from alice' })).status).toBe(201);
    await alice.waitFor('chat.message', (e) => e.message.from === 'c6-bob');

    const removed = await server.admin.delete('/api/v1/admin/users/c6-bob');
    expect(removed.status).toBe(200);
    expect(removed.body).toEqual({ ok: true });

    expectError(await bob.get('/api/v1/me'), 401, 'unauthorized');
    expectError(await login(server, 'c6-bob', PASSWORD), 401, 'invalid_credentials');

    const left = await alice.waitFor('chat.left');
    expect(left.username).toBe('c6-bob');
    expect(left.chat.id).toBe(chat.id);
    expect(left.chat.state).toBe('closed');

    const history = await alice.get(`/api/v1/chats/${chat.id}/messages`);
    expect(history.status).toBe(200);
    expect(history.body.messages.map((m: any) => [m.from, m.text])).toEqual([
      ['c6-bob', 'from bob'],
      ['c6-alice', 'from alice'],
    ]);

    expect((await alice.get('/api/v1/contacts')).body.contacts).toEqual([]);
    expect((await server.admin.get('/api/v1/admin/users')).body.users.map((u: any) => u.username)).not.toContain('c6-bob');
    expectError(await server.admin.delete('/api/v1/admin/users/c6-bob'), 404, 'not_found');
  });

  it('a removed user who was online shows offline to a watcher holding a poll', async () => {
    const alice = await server.user('c7-alice');
    const bob = await server.user('c7-bob');
    await alice.put('/api/v1/contacts/c7-bob');
    await alice.poll();
    await bob.poll(0);
    expect((await alice.waitFor('presence', (e) => e.username === 'c7-bob')).state).toBe('available');
    const held = alice.poll(5);
    await eventually(() => server.services.hub.size > 0, 2000, 'alice holding a poll');
    expect((await server.admin.delete('/api/v1/admin/users/c7-bob')).status).toBe(200);
    const events = await held;
    expect(events.filter((e) => e.type === 'presence').map((e) => [e.username, e.state])).toEqual([['c7-bob', 'offline']]);
  });

  it('a removed user who was online shows offline to a watcher between polls (same cursor, same events)', async () => {
    const alice = await server.user('c7b-alice');
    const bob = await server.user('c7b-bob');
    await alice.put('/api/v1/contacts/c7b-bob');
    await alice.poll();
    await bob.poll(0);
    expect((await alice.waitFor('presence', (e) => e.username === 'c7b-bob')).state).toBe('available');
    // Alice is not polling when bob is removed; her next poll, from her cursor, must still say so.
    expect((await server.admin.delete('/api/v1/admin/users/c7b-bob')).status).toBe(200);
    const events = await alice.poll(1);
    expect(events.filter((e) => e.type === 'presence').map((e) => [e.username, e.state])).toEqual([['c7b-bob', 'offline']]);
  });

  it('PUT /admin/users/:username/password: old token 401, old password refused, new password logs in', async () => {
    const bob = await server.user('c8-bob');
    expect((await bob.get('/api/v1/me')).status).toBe(200);

    const res = await server.admin.put('/api/v1/admin/users/c8-bob/password', { password: 'a brand new secret' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ok: true });

    expectError(await bob.get('/api/v1/me'), 401, 'unauthorized');
    expectError(await login(server, 'c8-bob', PASSWORD), 401, 'invalid_credentials');
    const fresh = await login(server, 'c8-bob', 'a brand new secret');
    expect(fresh.status).toBe(200);
    expect(fresh.body.user.username).toBe('c8-bob');

    expectError(await server.admin.put('/api/v1/admin/users/c8-bob/password', { password: 'short' }), 400, 'invalid_request');
    expectError(await server.admin.put('/api/v1/admin/users/c8-nobody/password', { password: 'long enough pw' }), 404, 'not_found');
  });

  it('a password reset ends the user\'s presence: watchers are told offline', async () => {
    const alice = await server.user('c9-alice');
    const bob = await server.user('c9-bob');
    await alice.put('/api/v1/contacts/c9-bob');
    await alice.poll();
    await bob.poll(0);
    expect((await alice.waitFor('presence', (e) => e.username === 'c9-bob')).state).toBe('available');

    expect((await server.admin.put('/api/v1/admin/users/c9-bob/password', { password: 'a brand new secret' })).status).toBe(200);
    // GET /contacts says offline at once...
    expect((await alice.get('/api/v1/contacts')).body.contacts[0].presence).toBe('offline');
    // ...and the event stream must agree, or alice's panel shows bob online for good.
    const off = await alice.waitFor('presence', (e) => e.username === 'c9-bob', 3000);
    expect(off.state).toBe('offline');
  });

  it('PUT/DELETE /admin/users/:u/contacts/:c manage a user\'s personal contacts', async () => {
    const alice = await server.user('c10-alice');
    await server.user('c10-bob', 'Bob Ten');

    const added = await server.admin.put('/api/v1/admin/users/c10-alice/contacts/c10-bob');
    expect(added.status).toBe(200);
    expect(added.body).toEqual({ contacts: [{ username: 'c10-bob', displayName: 'Bob Ten', presence: 'offline', personal: true, groups: [] }] });
    expect((await alice.get('/api/v1/contacts')).body).toEqual(added.body);
    expect((await server.admin.get('/api/v1/admin/users/c10-alice/contacts')).body).toEqual(added.body);

    expectError(await server.admin.put('/api/v1/admin/users/c10-alice/contacts/c10-nobody'), 404, 'not_found');
    expectError(await server.admin.put('/api/v1/admin/users/c10-nobody/contacts/c10-bob'), 404, 'not_found');
    expectError(await server.admin.put('/api/v1/admin/users/c10-alice/contacts/c10-alice'), 400, 'invalid_request');

    const removed = await server.admin.delete('/api/v1/admin/users/c10-alice/contacts/c10-bob');
    expect(removed.status).toBe(200);
    expect(removed.body).toEqual({ contacts: [] });
    expect((await alice.get('/api/v1/contacts')).body).toEqual({ contacts: [] });
    expectError(await server.admin.delete('/api/v1/admin/users/c10-alice/contacts/c10-bob'), 404, 'not_found');
  });

  it('a non-admin gets 403 forbidden on every admin route in the API description', async () => {
    const mallory = await server.user('c11-mallory');
    await server.user('c11-victim');
    const doc = (await anonymous(server).get('/api/v1/openapi.json')).body;
    const values: Record<string, string> = { username: 'c11-victim', contact: 'c11-mallory', name: 'c11-group' };
    const bodies: Record<string, unknown> = {
      'post /api/v1/admin/users': { username: 'c11-new', password: PASSWORD },
      'put /api/v1/admin/users/{username}/password': { password: 'hijacked password' },
      'post /api/v1/admin/groups': { name: 'c11-group' },
      'post /api/v1/admin/providers': { name: 'c11-provider', channels: ['c11-channel'] },
      'put /api/v1/admin/providers/{name}/channels': { channels: ['c11-channel'] },
      'put /api/v1/admin/channels/{name}': { title: 'hijacked' },
      'put /api/v1/admin/links': { html: '<a href="https://evil.example">hijacked</a>' },
    };
    let checked = 0;
    for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, any>>)) {
      if (!path.startsWith('/api/v1/admin/')) continue;
      for (const [method, op] of Object.entries(ops)) {
        const url = path.replace(/\{(\w+)\}/g, (_, name) => values[name]!);
        const body = op.requestBody ? bodies[`${method} ${path}`] : undefined;
        expect(op.requestBody === undefined || body !== undefined, `a body for ${method} ${path}`).toBe(true);
        const res = await mallory.request(method.toUpperCase(), url, body);
        expectError(res, 403, 'forbidden');
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(12);
    // Nothing happened.
    const users = (await server.admin.get('/api/v1/admin/users')).body.users.map((u: any) => u.username);
    expect(users).toContain('c11-victim');
    expect(users).not.toContain('c11-new');
    expect((await login(server, 'c11-victim', PASSWORD)).status).toBe(200);
  });

  it('the last administrator cannot be removed (409); one of two can', async () => {
    expectError(await server.admin.delete('/api/v1/admin/users/admin'), 409, 'conflict');
    const second = await server.admin.post('/api/v1/admin/users', { username: 'c12-admin2', password: PASSWORD, isAdmin: true });
    expect(second.status).toBe(201);
    expect(second.body.user.isAdmin).toBe(true);
    const admin2 = await Client.login(server.url, 'c12-admin2', PASSWORD);
    expect((await admin2.get('/api/v1/admin/users')).status).toBe(200);

    expect((await server.admin.delete('/api/v1/admin/users/c12-admin2')).status).toBe(200);
    expectError(await admin2.get('/api/v1/admin/users'), 401, 'unauthorized');
    expectError(await server.admin.delete('/api/v1/admin/users/admin'), 409, 'conflict');
    expect((await server.admin.get('/api/v1/me')).body.user).toMatchObject({ username: 'admin', isAdmin: true });
  });

  it('login: a wrong password and an unknown user are the same 401 invalid_credentials', async () => {
    await server.user('c13-bob');
    const wrong = await login(server, 'c13-bob', 'not the password');
    const unknown = await login(server, 'c13-nobody', 'not the password');
    expectError(wrong, 401, 'invalid_credentials');
    expectError(unknown, 401, 'invalid_credentials');
    expect(unknown.body.error.message).toBe(wrong.body.error.message);
    expect(wrong.body.token).toBeUndefined();

    const ok = await login(server, 'C13-BOB', PASSWORD);
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({
      token: expect.stringMatching(/^[A-Za-z0-9_-]{20,100}$/),
      expiresAt: expect.any(String),
      user: { id: expect.any(Number), username: 'c13-bob', displayName: 'c13-bob' },
    });
    expect(Date.parse(ok.body.expiresAt)).toBeGreaterThan(Date.now() + 24 * 3600 * 1000);
  });

  it('logout ends the session: the token is then 401, other sessions live on', async () => {
    const bob = await server.user('c14-bob');
    const other = await Client.login(server.url, 'c14-bob', PASSWORD);
    expect(bob.token).not.toBe(other.token);

    const out = await bob.post('/api/v1/logout');
    expect(out.status).toBe(200);
    expect(out.body).toEqual({ ok: true });
    const after = await bob.get('/api/v1/me');
    expectError(after, 401, 'unauthorized');
    expect(after.headers.get('www-authenticate')).toBe('Bearer');
    expectError(await bob.post('/api/v1/logout'), 401, 'unauthorized');
    expectError(await bob.get('/api/v1/events?wait=0'), 401, 'unauthorized');

    expect((await other.get('/api/v1/me')).body.user.username).toBe('c14-bob');
  });
});

describe('login rate limits', () => {
  it('per account: after 3 failures a 4th attempt is 429 rate_limited with Retry-After, even with the right password', async () => {
    const server = await startTestServer({ loginFailuresPerUser: 3 });
    try {
      await server.user('r1-bob');
      await server.user('r1-carol');
      for (let i = 0; i < 3; i++) expectError(await login(server, 'r1-bob', `wrong ${i}`), 401, 'invalid_credentials');

      const blocked = await login(server, 'r1-bob', PASSWORD);
      expectError(blocked, 429, 'rate_limited');
      const retry = Number(blocked.headers.get('retry-after'));
      expect(Number.isInteger(retry)).toBe(true);
      expect(retry).toBeGreaterThan(0);
      expect(retry).toBeLessThanOrEqual(15 * 60);
      // The account is blocked in any letter case.
      expectError(await login(server, 'R1-BOB', PASSWORD), 429, 'rate_limited');

      // Others are not affected; a success clears one's failures.
      for (let round = 0; round < 2; round++) {
        for (let i = 0; i < 2; i++) expectError(await login(server, 'r1-carol', 'wrong'), 401, 'invalid_credentials');
        expect((await login(server, 'r1-carol', PASSWORD)).status).toBe(200);
      }
      expect((await login(server, 'admin', ADMIN_PASSWORD)).status).toBe(200);
    } finally {
      await server.destroy();
    }
  });

  it('per address: attempts beyond loginPerIpPerMinute are 429, whatever the account', async () => {
    const server = await startTestServer({ loginPerIpPerMinute: 4 });
    try {
      // The harness's admin login was attempt 1.
      const made = await server.admin.post('/api/v1/admin/users', { username: 'r2-bob', password: PASSWORD });
      expect(made.status).toBe(201);
      expect((await login(server, 'r2-bob', PASSWORD)).status).toBe(200);
      expectError(await login(server, 'r2-bob', 'wrong password'), 401, 'invalid_credentials');
      expect((await login(server, 'admin', ADMIN_PASSWORD)).status).toBe(200);

      const blocked = await login(server, 'r2-bob', PASSWORD);
      expectError(blocked, 429, 'rate_limited');
      const retry = Number(blocked.headers.get('retry-after'));
      expect(retry).toBeGreaterThan(0);
      expect(retry).toBeLessThanOrEqual(60);
      expectError(await login(server, 'someone-else', 'whatever'), 429, 'rate_limited');
      // Those logged in are not affected.
      expect((await server.admin.get('/api/v1/me')).status).toBe(200);
    } finally {
      await server.destroy();
    }
  });
});
