/**
 * Presence and the once-per-cluster duties across nodes (issue 15): three in-process nodes on one
 * PostgreSQL, each with the harness's 300 ms presence grace and 25 ms sweepers. A panel whose
 * polls alternate between nodes (each poll held longer than the grace, so each node alone would
 * see it gone between two of its polls) never shows offline, and once it stops, a third user's
 * stream gets exactly one offline event; busy chosen on one node does not flap on another; an
 * unanswered call gives one missed-call line with three sweepers; a call member polling on one
 * node is not hung up by another's sweeper; a ticker channel choice made on one node wakes the
 * poll held on another; presence leases are written while a write holds the cluster-wide lock;
 * a node that goes away leaves its panels to the leader's sweep (one offline event each); one node
 * leads and another takes over when it stops or its lock connection is cut.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PG_LOCKS } from '../../server/src/store/pg-schema.js';
import { activeChat } from '../helpers/chat.js';
import { tempDir } from '../helpers/cli.js';
import { HAVE_POSTGRES, startPostgres, type Postgres } from '../helpers/postgres.js';
import { ADMIN_PASSWORD, Client, eventually, send, startTestServer, type TestServer } from '../helpers/server.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const GRACE = 300;
const RING_SECONDS = 1;

describe.runIf(HAVE_POSTGRES)('presence and duties across nodes on one PostgreSQL', () => {
  let db: Postgres;
  let nodes: TestServer[] = [];
  let n = 0;

  beforeAll(async () => {
    db = await startPostgres();
    const options = { databaseUrl: db.url, presenceGraceMs: GRACE, callRingSeconds: RING_SECONDS, loginPerIpPerMinute: 10_000, providerRequestsPerMinute: 1000 };
    nodes = await Promise.all(['a', 'b', 'c'].map((name) => startTestServer(options, tempDir(`portico-${name}-`))));
  }, 90_000);
  afterAll(async () => {
    for (const node of nodes) await node.close().catch(() => {});
    await db?.destroy();
  });

  /** A user made through node a; one client per node, all on the same session. */
  const user = async (name: string) => {
    const username = `${name}${++n}`;
    const onA = await nodes[0]!.user(username);
    return nodes.map((node) => new Client(node.url, onA.token, username));
  };
  /** `watcher` has `username` as a contact. */
  const watch = async (watcher: Client, username: string) => expect((await watcher.put(`/api/v1/contacts/${username}`)).status).toBe(201);
  /** Every event of `client`'s stream until `stop()` answers them (polls held 0.2 s at a time). */
  const listen = (client: Client) => {
    const events: any[] = [];
    let stopped = false;
    const done = (async () => {
      while (!stopped) events.push(...(await client.poll(0.2)));
      return events;
    })();
    return {
      stop() {
        stopped = true;
        return done;
      },
    };
  };
  const presenceAbout = (events: any[], username: string) => events.filter((e) => e.type === 'presence' && e.username === username).map((e) => e.state);
  /** Polls held 0.6 s each (twice the grace), alternating over these clients, for `times` polls. */
  const alternate = async (clients: Client[], times: number, between?: (i: number) => Promise<void>) => {
    for (let i = 0; i < times; i++) {
      await clients[i % clients.length]!.poll(0.6);
      await between?.(i);
    }
  };
  const contactPresence = async (watcher: Client, username: string) =>
    ((await watcher.get('/api/v1/contacts')).body.contacts as Array<{ username: string; presence: string }>).find((c) => c.username === username)?.presence;

  it('polls alternating between nodes never show offline; after they stop, exactly one offline event', async () => {
    const [wA, , wC] = await user('watcher');
    const [pA, pB] = await user('panel');
    await watch(wA!, pA!.username!);
    await wC!.poll();
    const heard = listen(wC!);
    await alternate([pA!, pB!], 6);
    // Connected on one node or another the whole time: shown available on every node.
    for (const node of nodes) expect(await contactPresence(new Client(node.url, wA!.token), pA!.username!)).toBe('available');
    await sleep(GRACE * 5); // the grace and well past it, after the last poll
    expect(presenceAbout(await heard.stop(), pA!.username!)).toEqual(['available', 'offline']);
  }, 30_000);

  it('busy chosen on one node does not flap while the polls go to the others', async () => {
    const [wA, , wC] = await user('watcher');
    const [pA, pB, pC] = await user('panel');
    await watch(wA!, pA!.username!);
    await wC!.poll();
    const heard = listen(wC!);
    await alternate([pB!, pC!, pA!], 8, async (i) => {
      if (i === 1) expect((await pA!.put('/api/v1/presence', { state: 'busy' })).body).toEqual({ state: 'busy', effective: 'busy' });
    });
    const still = pB!.poll(2); // held while the watcher's stream is read
    await sleep(100);
    expect(presenceAbout(await heard.stop(), pA!.username!)).toEqual(['available', 'busy']);
    expect(await contactPresence(wC!, pA!.username!)).toBe('busy');
    await still;
  }, 30_000);

  it('an unanswered call rung through a gives exactly one missed-call line, with three nodes sweeping', async () => {
    const [callerA] = await user('caller');
    const [, calleeB] = await user('callee');
    const chatId = await activeChat(callerA!, calleeB!);
    const call = (await callerA!.post('/api/v1/calls', { chatId })).body.call;
    expect(call?.state).toBe('ringing');
    const caller = listen(callerA!); // the caller stays connected (else the sweep hangs them up)
    const ended = await calleeB!.waitFor('call.ended', (e) => e.call.id === call.id, RING_SECONDS * 1000 + 10_000);
    expect(ended.call.endReason).toBe('missed');
    await sleep(500); // the other sweepers have had many turns
    await caller.stop();
    const messages = (await callerA!.get(`/api/v1/chats/${chatId}/messages`)).body.messages as Array<{ text: string; call?: { id: string } }>;
    expect(messages.filter((m) => m.call?.id === call.id).map((m) => m.text)).toEqual(['Missed video call']);
  }, 30_000);

  it('busy while on a call started through a, available again when it is hung up through b', async () => {
    const [wA, , wC] = await user('watcher');
    const [callerA, callerB] = await user('caller');
    const [calleeA] = await user('callee');
    await watch(wA!, callerA!.username!);
    const chatId = await activeChat(callerA!, calleeA!);
    await wC!.poll();
    const heard = listen(wC!);
    const keep = [listen(callerA!), listen(calleeA!)]; // both stay connected
    const call = (await callerA!.post('/api/v1/calls', { chatId })).body.call;
    expect((await calleeA!.post(`/api/v1/calls/${call.id}/accept`)).status).toBe(200);
    await sleep(GRACE);
    expect((await callerB!.post(`/api/v1/calls/${call.id}/hangup`)).status).toBe(200);
    await sleep(GRACE * 2);
    expect(presenceAbout(await heard.stop(), callerA!.username!)).toEqual(['busy', 'available']);
    await Promise.all(keep.map((k) => k.stop()));
  }, 30_000);

  it("a call whose members poll on a is not hung up by the other nodes' sweepers", async () => {
    const [callerA] = await user('caller');
    const [calleeA] = await user('callee');
    const chatId = await activeChat(callerA!, calleeA!);
    const call = (await callerA!.post('/api/v1/calls', { chatId })).body.call;
    expect((await calleeA!.post(`/api/v1/calls/${call.id}/accept`)).status).toBe(200);
    // Both keep polling on a only, for several graces; b and c see no poll of theirs.
    await Promise.all([alternate([callerA!], 4), alternate([calleeA!], 4)]);
    const now = (await new Client(nodes[1]!.url, callerA!.token).get(`/api/v1/calls/${call.id}`)).body.call;
    expect(now.state).not.toBe('ended');
    expect(now.members.map((m: any) => m.state)).toEqual(['joined', 'joined']);
    // Once they stop, they are hung up (by whichever node): the sweep still works.
    await eventually(async () => (await callerA!.get(`/api/v1/calls/${call.id}`)).body.call.state === 'ended', 5000, 'the call ended once nobody polls');
  }, 30_000);

  it('a ticker channel choice made on a wakes the poll held on b, which then gets the channel', async () => {
    const admin = nodes[0]!.admin;
    const [news, sport] = [`pt-news${++n}`, `pt-sport${n}`];
    const provider = await admin.post('/api/v1/admin/providers', { name: `prov${n}`, channels: [news, sport] });
    expect(provider.status).toBe(201);
    const [readerA, readerB] = await user('reader');
    await readerB!.poll(); // b now knows the reader's topics (no channel chosen)
    const started = Date.now();
    const held = readerB!.poll(20);
    await sleep(200); // held on b
    expect((await readerA!.put('/api/v1/channels/mine', { channels: [sport] })).status).toBe(200);
    expect(await held).toEqual([]); // answered early: its topics changed
    expect(Date.now() - started).toBeLessThan(10_000);
    const item = readerB!.waitFor('ticker.item', (e) => e.text === 'Goal!');
    const pushed = await send(`${nodes[2]!.url}/cgi/ticker`, {
      method: 'POST',
      body: new URLSearchParams({ channel: sport, text: 'Goal!' }),
      headers: { authorization: `Bearer ${provider.body.key}` },
    });
    expect(pushed.status).toBe(201);
    expect((await item).channel).toBe(sport);
  }, 30_000);

  it('leases are written outside the cluster-wide write lock: a poll on another node is leased while a write holds it', async () => {
    const [pA, pB] = await user('panel');
    await pA!.poll(); // online through a
    const id = (await pA!.get('/api/v1/me')).body.user.id;
    const onA = pA!.poll(3); // and held there meanwhile
    const locker = new pg.Client({ connectionString: db.url });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('SELECT pg_advisory_xact_lock($1)', [PG_LOCKS.write.toString()]);
      const held = pB!.poll(1); // b: came online there; its announcement waits for the lock, its lease does not
      await eventually(
        async () => (await db.query('SELECT count(*)::int AS n FROM presence_leases WHERE user_id = $1', [id])).rows[0].n === 2,
        3000,
        'leases of a and b',
      );
      await locker.query('COMMIT');
      await Promise.all([held, onA]);
    } finally {
      await locker.end();
    }
  }, 30_000);

  it('a node that goes away with its panels: once their leases run out, one offline event (by the leader)', async () => {
    const [wA] = await user('watcher');
    const [pA, pB] = await user('panel');
    await watch(wA!, pA!.username!);
    await wA!.poll();
    const heard = listen(wA!);
    const held = pB!.poll(1).catch(() => []); // held on b when b stops
    await sleep(300);
    const b = nodes[1]!;
    await b.close();
    nodes = nodes.filter((node) => node !== b);
    await held;
    await sleep(1000 + GRACE * 4); // its lease (the wait and the grace) has run out, and then some
    expect(presenceAbout(await heard.stop(), pA!.username!)).toEqual(['available', 'offline']);
  }, 30_000);

  it('one node leads the once-per-cluster duties; when it stops, another takes over', async () => {
    const leaders = () => nodes.filter((node) => node.services.store.cluster!.leads());
    await eventually(() => leaders().length === 1, 5000, 'one leader');
    const first = leaders()[0]!;
    await first.close();
    nodes = nodes.filter((node) => node !== first);
    await eventually(() => leaders().length === 1, 5000, 'a new leader');
    expect(leaders()[0]).not.toBe(first);
    // The users still log in and poll through the others.
    expect((await Client.login(nodes[0]!.url, 'admin', ADMIN_PASSWORD)).token).toBeTruthy();
    // The leader's lock connection cut (as when its node dies): the lock goes with the session.
    const holder = async () =>
      (
        await db.query<{ pid: number }>(
          "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1 AND ((classid::bigint << 32) | objid::bigint) = $1",
          [PG_LOCKS.leader.toString()],
        )
      ).rows[0]?.pid;
    const cut = await holder();
    expect(cut).toBeDefined();
    await db.query('SELECT pg_terminate_backend($1)', [cut]);
    await eventually(async () => leaders().length === 1 && (await holder()) !== undefined && (await holder()) !== cut, 5000, 'a leader on another session');
  }, 30_000);
});
