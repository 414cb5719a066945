/**
 * Presence over the real server: who shows online, when, and who is told. The harness runs the
 * server with a 300 ms grace and a 25 ms sweeper.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, drain, eventually, startTestServer, type TestServer } from '../helpers/server.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A poll held open until `stop()` (the request is aborted, as a closing panel would). */
function hold(client: Client, seconds = 30) {
  const controller = new AbortController();
  const query = new URLSearchParams({ wait: String(seconds) });
  if (client.cursor !== undefined) query.set('after', client.cursor);
  const done = client.get(`/api/v1/events?${query}`, { signal: controller.signal }).catch(() => undefined);
  return {
    async stop() {
      controller.abort();
      await done;
    },
  };
}

const presenceOf = async (watcher: Client, username: string) => {
  const res = await watcher.get('/api/v1/contacts');
  expect(res.status).toBe(200);
  const contact = res.body.contacts.find((c: any) => c.username === username);
  expect(contact, `${username} among ${watcher.username}'s contacts`).toBeDefined();
  return contact.presence as string;
};

const myPresence = async (client: Client) => {
  const res = await client.get('/api/v1/me');
  expect(res.status).toBe(200);
  return res.body.user.presence as string;
};

/** Presence events about `username` in a list of events. */
const about = (events: any[], username: string) => events.filter((e) => e.type === 'presence' && e.username === username);

describe('presence (grace 300 ms)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.destroy());

  it('a contact shows offline until they poll, and /me shows my own presence', async () => {
    const alice = await server.user('p1-alice');
    const bob = await server.user('p1-bob');
    expect((await alice.put('/api/v1/contacts/p1-bob')).status).toBe(201);

    // Logged in, but not polling: offline for contacts and for themselves.
    expect(await presenceOf(alice, 'p1-bob')).toBe('offline');
    expect(await myPresence(bob)).toBe('offline');
    const admin = await server.admin.get('/api/v1/admin/users');
    expect(admin.body.users.find((u: any) => u.username === 'p1-bob').presence).toBe('offline');

    await alice.poll();
    await bob.poll(0);
    expect(await myPresence(bob)).toBe('available');
    await eventually(async () => (await presenceOf(alice, 'p1-bob')) === 'available', 3000, 'bob available for alice');
    const ev = await alice.waitFor('presence', (e) => e.username === 'p1-bob');
    expect(ev.state).toBe('available');
  });

  it('a held poll makes the user available for contacts (GET /contacts and an event), past the grace', async () => {
    const alice = await server.user('p2-alice');
    const bob = await server.user('p2-bob', 'Bob Held');
    await alice.put('/api/v1/contacts/p2-bob');
    await alice.poll();

    const held = hold(bob, 30);
    try {
      const ev = await alice.waitFor('presence', (e) => e.username === 'p2-bob');
      expect(Object.keys(ev).sort()).toEqual(['at', 'cursor', 'state', 'type', 'username']);
      expect(ev).toMatchObject({ type: 'presence', username: 'p2-bob', state: 'available' });
      expect(await presenceOf(alice, 'p2-bob')).toBe('available');

      // Held for well over the grace (300 ms) and many sweeps (25 ms): still available, no offline event.
      await sleep(900);
      expect(await presenceOf(alice, 'p2-bob')).toBe('available');
      expect(about(await alice.poll(0), 'p2-bob')).toEqual([]);
      expect(await myPresence(bob)).toBe('available');
    } finally {
      await held.stop();
    }
    // The poll went away: swept to offline after the grace.
    const off = await alice.waitFor('presence', (e) => e.username === 'p2-bob', 4000);
    expect(off.state).toBe('offline');
    expect(await presenceOf(alice, 'p2-bob')).toBe('offline');
  });

  it('PUT /presence away, busy, offline (appear offline): one presence event per change', async () => {
    const alice = await server.user('p3-alice');
    const bob = await server.user('p3-bob');
    await alice.put('/api/v1/contacts/p3-bob');
    await alice.poll();

    const held = hold(bob, 30);
    try {
      const on = await alice.waitFor('presence', (e) => e.username === 'p3-bob');
      expect(on.state).toBe('available');
      const start = alice.cursor;

      const steps: Array<[string, string]> = [
        ['away', 'away'],
        ['busy', 'busy'],
        ['busy', 'busy'], // no change: no event
        ['offline', 'offline'], // appear offline while still polling
        ['available', 'available'],
      ];
      for (const [state, seen] of steps) {
        const res = await bob.put('/api/v1/presence', { state });
        expect(res.status).toBe(200);
        expect(res.body).toEqual({ state, effective: seen });
        expect(await presenceOf(alice, 'p3-bob')).toBe(seen);
        expect(await myPresence(bob)).toBe(seen);
      }

      alice.cursor = start;
      const events = about(await drain(alice), 'p3-bob');
      expect(events.map((e) => e.state)).toEqual(['away', 'busy', 'offline', 'available']);
      for (const e of events) expect(Object.keys(e).sort()).toEqual(['at', 'cursor', 'state', 'type', 'username']);
    } finally {
      await held.stop();
    }
  });

  it('a chosen state survives reconnecting: an "away" user who starts polling shows away, not available', async () => {
    const alice = await server.user('p4-alice');
    const bob = await server.user('p4-bob');
    await alice.put('/api/v1/contacts/p4-bob');
    await alice.poll();

    // Not connected: the choice is stored, the effective state stays offline, nobody is told.
    const res = await bob.put('/api/v1/presence', { state: 'away' });
    expect(res.body).toEqual({ state: 'away', effective: 'offline' });
    expect(about(await alice.poll(0), 'p4-bob')).toEqual([]);

    await bob.poll(0);
    const ev = await alice.waitFor('presence', (e) => e.username === 'p4-bob');
    expect(ev.state).toBe('away');
    expect(await myPresence(bob)).toBe('away');

    // Appear offline, then poll: watchers never see bob come online.
    await bob.put('/api/v1/presence', { state: 'offline' });
    expect((await alice.waitFor('presence', (e) => e.username === 'p4-bob')).state).toBe('offline');
    await bob.poll(0);
    await bob.poll(0);
    expect(about(await alice.poll(0.3), 'p4-bob')).toEqual([]);
    expect(await presenceOf(alice, 'p4-bob')).toBe('offline');
  });

  it('a user who stops polling is swept to offline after the grace, and not before', async () => {
    const alice = await server.user('p5-alice');
    const bob = await server.user('p5-bob');
    await alice.put('/api/v1/contacts/p5-bob');
    await alice.poll();

    const lastPollSent = Date.now();
    await bob.poll(0);
    expect((await alice.waitFor('presence', (e) => e.username === 'p5-bob')).state).toBe('available');
    const off = await alice.waitFor('presence', (e) => e.username === 'p5-bob', 4000);
    expect(off.state).toBe('offline');
    // Not before the grace: the event's own time is at least 300 ms after bob's last poll.
    expect(Date.parse(off.at) - lastPollSent).toBeGreaterThanOrEqual(300);
    expect(await presenceOf(alice, 'p5-bob')).toBe('offline');
    expect(await myPresence(bob)).toBe('offline');
  });

  it('an interval-polling client (wait=0&interval=2) stays online between its polls', async () => {
    const alice = await server.user('p6-alice');
    const bob = await server.user('p6-bob');
    await alice.put('/api/v1/contacts/p6-bob');
    await alice.poll();

    /** One poll announcing the next in 2 s; answers when it was sent. */
    const intervalPoll = async () => {
      const sent = Date.now();
      const res = await bob.get('/api/v1/events?wait=0&interval=2');
      expect(res.status).toBe(200);
      expect(Array.isArray(res.body.events)).toBe(true);
      return sent;
    };
    await intervalPoll();
    expect((await alice.waitFor('presence', (e) => e.username === 'p6-bob')).state).toBe('available');

    // Twice, 1.2 s apart: each gap is 4x the grace, yet bob never drops.
    await sleep(1200);
    expect(await presenceOf(alice, 'p6-bob')).toBe('available');
    const lastPoll = await intervalPoll();
    await sleep(1200);
    expect(await presenceOf(alice, 'p6-bob')).toBe('available');
    expect(about(await alice.poll(0), 'p6-bob')).toEqual([]);

    // Bob misses his announced next poll: offline after interval + grace.
    const off = await alice.waitFor('presence', (e) => e.username === 'p6-bob', 5000);
    expect(off.state).toBe('offline');
    expect(Date.parse(off.at) - lastPoll).toBeGreaterThanOrEqual(2000 + 300);
  });

  it('only those who have the user as a contact (personally or via a group) get the presence events', async () => {
    const alice = await server.user('p7-alice'); // personal contact of bob
    const bob = await server.user('p7-bob');
    const carol = await server.user('p7-carol'); // nothing to do with bob
    const dave = await server.user('p7-dave'); // shares a group with bob
    expect((await alice.put('/api/v1/contacts/p7-bob')).status).toBe(201);
    expect((await server.admin.post('/api/v1/admin/groups', { name: 'p7-team' })).status).toBe(201);
    expect((await server.admin.put('/api/v1/admin/groups/p7-team/members/p7-bob')).status).toBe(200);
    expect((await server.admin.put('/api/v1/admin/groups/p7-team/members/p7-dave')).status).toBe(200);

    const daveContacts = (await dave.get('/api/v1/contacts')).body.contacts;
    expect(daveContacts).toEqual([{ username: 'p7-bob', displayName: 'p7-bob', presence: 'offline', personal: false, groups: ['p7-team'] }]);
    expect((await carol.get('/api/v1/contacts')).body.contacts).toEqual([]);

    await alice.poll();
    await carol.poll();
    await dave.poll();
    const carolFrom = carol.cursor;
    const bobFrom = await bob.poll(0).then(() => bob.cursor);

    // Bob comes online and goes busy.
    await bob.poll(0);
    await bob.put('/api/v1/presence', { state: 'busy' });
    for (const watcher of [alice, dave]) {
      const seen = about(await drainUntil(watcher, 'p7-bob', 2), 'p7-bob');
      expect(seen.map((e) => e.state)).toEqual(['available', 'busy']);
    }

    // Carol (no contact) and bob himself (he has nobody) see none of it, from the same point in the log.
    carol.cursor = carolFrom;
    expect(await drain(carol)).toEqual([]);
    // Alice came online too, but bob does not have her as a contact: he is not told.
    bob.cursor = bobFrom;
    expect((await drain(bob)).filter((e) => e.type === 'presence')).toEqual([]);
  });
});

/** Polls until `count` presence events about `username` arrived (3 s at most); returns all events seen. */
async function drainUntil(client: Client, username: string, count: number) {
  const all: any[] = [];
  const deadline = Date.now() + 3000;
  while (about(all, username).length < count && Date.now() < deadline) all.push(...(await client.poll(1)));
  all.push(...(await client.poll(0)));
  return all;
}

describe('presence on logout (grace 5000 ms)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ presenceGraceMs: 5000 });
  });
  afterAll(() => server.destroy());

  it('logout between polls shows offline at once, well before the grace', async () => {
    const alice = await server.user('l1-alice');
    const bob = await server.user('l1-bob');
    await alice.put('/api/v1/contacts/l1-bob');
    await alice.poll();
    await bob.poll(0);
    expect((await alice.waitFor('presence', (e) => e.username === 'l1-bob')).state).toBe('available');

    const t0 = Date.now();
    expect((await bob.post('/api/v1/logout')).body).toEqual({ ok: true });
    const off = await alice.waitFor('presence', (e) => e.username === 'l1-bob', 4000);
    expect(off.state).toBe('offline');
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(await presenceOf(alice, 'l1-bob')).toBe('offline');
    expect((await bob.get('/api/v1/me')).status).toBe(401);
  });

  it('logout while a poll is held shows offline at once, well before the grace', async () => {
    const alice = await server.user('l2-alice');
    const bob = await server.user('l2-bob');
    await alice.put('/api/v1/contacts/l2-bob');
    await alice.poll();

    // Bob's panel holds a poll, as it always does.
    const held = bob.poll(30).catch((e) => e);
    expect((await alice.waitFor('presence', (e) => e.username === 'l2-bob')).state).toBe('available');

    const t0 = Date.now();
    expect((await bob.post('/api/v1/logout')).body).toEqual({ ok: true });
    // The held poll is answered at once.
    const answered = await held;
    expect(Array.isArray(answered)).toBe(true);
    expect(Date.now() - t0).toBeLessThan(1000);

    const off = await alice.waitFor('presence', (e) => e.username === 'l2-bob', 4000);
    expect(off.state).toBe('offline');
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(await presenceOf(alice, 'l2-bob')).toBe('offline');
  });

  it('logging out one of two sessions keeps the user online', async () => {
    const alice = await server.user('l3-alice');
    const bob = await server.user('l3-bob');
    const bob2 = await Client.login(server.url, 'l3-bob', 'correct horse battery');
    await alice.put('/api/v1/contacts/l3-bob');
    await alice.poll();
    await bob.poll(0);
    await bob2.poll(0);
    expect((await alice.waitFor('presence', (e) => e.username === 'l3-bob')).state).toBe('available');

    expect((await bob.post('/api/v1/logout')).status).toBe(200);
    expect(about(await alice.poll(0.5), 'l3-bob')).toEqual([]);
    expect(await presenceOf(alice, 'l3-bob')).toBe('available');
    expect(await myPresence(bob2)).toBe('available');
  });
});
