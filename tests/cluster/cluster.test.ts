/**
 * The cluster suite (issue 15): 3 built-server nodes on one PostgreSQL and one Redis behind a real
 * nginx (round robin; the call relay hashed by call id), all started by the test on loopback
 * (tests/helpers/cluster.ts). Through nginx and through chosen nodes: a message sent through one
 * node wakes a poll held on another at once; a logout, a password change or a removal on one node
 * ends the token on the others, held polls included; accepting a chat on one node while the poll
 * is held on another still delivers the chat's messages; admin contact and group changes reach
 * polls on every node; failed logins and provider pushes are counted once for the cluster.
 * (Presence across nodes and singleton duties are tested with their own work.)
 */
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activeChat, createChat } from '../helpers/chat.js';
import { HAVE_CLUSTER_PARTS, startCluster, via, type Cluster } from '../helpers/cluster.js';
import { Client, PASSWORD, expectError, send } from '../helpers/server.js';

let cluster: Cluster;
/** The nodes' own addresses (past nginx). */
let A: string;
let B: string;
let C: string;

const LOGIN_FAILURES_PER_ADDRESS = 4;
const LOGIN_FAILURES_PER_ACCOUNT = 6;
const PROVIDER_RATE = 5;

describe.runIf(HAVE_CLUSTER_PARTS)('3 nodes behind nginx on one PostgreSQL and Redis', { timeout: 60_000 }, () => {
  beforeAll(async () => {
    cluster = await startCluster({
      env: {
        PORTICO_LOGIN_FAILURES_PER_ADDRESS: String(LOGIN_FAILURES_PER_ADDRESS),
        PORTICO_LOGIN_FAILURES_PER_ACCOUNT: String(LOGIN_FAILURES_PER_ACCOUNT),
        PORTICO_LOGIN_PER_IP_PER_MINUTE: '10000',
        PORTICO_PROVIDER_RATE: String(PROVIDER_RATE),
        // Presence across nodes is not this suite's: long enough that a poll on each node counts.
        PORTICO_PRESENCE_GRACE_MS: '60000',
      },
    });
    [A, B, C] = cluster.nodes.map((n) => n.url) as [string, string, string];
  }, 120_000);
  afterAll(async () => {
    await cluster?.destroy();
  });

  it('started together on an empty database and data directory: one schema, one admin, one secret; nginx spreads requests over the 3 nodes', async () => {
    expect(Number((await cluster.db.query("SELECT count(*) AS n FROM users WHERE username = 'admin'")).rows[0].n)).toBe(1);
    // A session opened on one node is good on every node (one secret, one database).
    for (const url of [A, B, C]) expect((await via(cluster.admin, url).get('/api/v1/me')).status).toBe(200);
    const before = cluster.nginx.accessLog().length;
    for (let i = 0; i < 6; i++) expect((await cluster.admin.get('/api/v1/me')).status).toBe(200);
    const upstreams = new Set(cluster.nginx.accessLog().slice(before).map((e) => e.upstream));
    expect(upstreams.size).toBe(3);
    // Each node's banner names the database, not a portico.db it does not use, and not its password.
    const password = decodeURIComponent(new URL(cluster.db.url).password);
    for (const node of cluster.nodes) {
      expect(node.output()).toContain(`Database:        PostgreSQL 127.0.0.1:${cluster.db.port}/portico`);
      expect(node.output()).not.toContain('portico.db');
      expect(node.output()).not.toContain(password);
    }
  });

  it('a message sent through one node wakes a poll held on another at once, every time; through nginx every message once, in order', async () => {
    const ann = await cluster.user('cx-ann', A);
    const ben = await cluster.user('cx-ben', B);
    const chat = await activeChat(ann, ben);
    // ben's poll held on B (wait 20 s), ann sends on A: the time from the send to ben's answer.
    const delays: number[] = [];
    for (let i = 0; i < 10; i++) {
      const held = ben.poll(20);
      await new Promise((r) => setTimeout(r, 100)); // held by now
      const began = Date.now();
      expect((await ann.put(`/api/v1/chats/${chat}/messages/w${i}`, { text: `wake ${i}` })).status).toBe(201);
      // (A held poll may also be answered empty: another node's change of who listens to what
      // re-polls everyone; the next poll then finds the message.)
      let events = await held;
      while (!events.some((e) => e.message?.text === `wake ${i}`) && Date.now() - began < 5000) events = await ben.poll(5);
      delays.push(Date.now() - began);
      expect(events.map((e) => e.message?.text)).toContain(`wake ${i}`);
    }
    delays.sort((x, y) => x - y);
    // A wake-up by NOTIFY takes milliseconds; a once-a-second catch-up would take 500 ms in the median.
    expect(delays[Math.floor(delays.length / 2)], `delays ${delays.join(', ')} ms`).toBeLessThan(250);

    // Through nginx: three users, the polls and sends spread round robin over the nodes.
    const [cy, dee, eve] = await Promise.all(['cx-cy', 'cx-dee', 'cx-eve'].map((u) => cluster.user(u)));
    for (const c of [cy!, dee!, eve!]) await c.poll(0); // their cursors: from before the chat
    const group = await createChat(cy!, dee!, eve!);
    for (const c of [dee!, eve!]) expect((await c.post(`/api/v1/chats/${group.id}/accept`)).status).toBe(200);
    const sent: string[] = [];
    for (let i = 0; i < 12; i++) {
      const from = [cy!, dee!, eve!][i % 3]!;
      sent.push(`${from.username} ${i}`);
      expect((await from.put(`/api/v1/chats/${group.id}/messages/n${i}`, { text: `${from.username} ${i}` })).status).toBe(201);
    }
    for (const reader of [cy!, dee!, eve!]) {
      const got: string[] = [];
      const deadline = Date.now() + 10_000;
      while (got.length < sent.length && Date.now() < deadline) {
        for (const e of await reader.poll(1)) if (e.type === 'chat.message' && e.message.chatId === group.id) got.push(e.message.text);
      }
      expect(got, reader.username).toEqual(sent);
    }
  });

  /** A poll held on `url` with the client's token: its status, events, and how long it was held. */
  const holdOn = async (client: Client, url: string, waitS = 20) => {
    const began = Date.now();
    const res = await send(`${url}/api/v1/events?after=${client.cursor}&wait=${waitS}`, { headers: { authorization: `Bearer ${client.token}` } });
    return { status: res.status, events: (res.body.events ?? []) as any[], ms: Date.now() - began };
  };
  const held = () => new Promise((r) => setTimeout(r, 300)); // the poll has reached its node and is held

  it('a logout on one node ends the token on the others: a poll held there ends at once, carries nothing sent after, and the next is 401', async () => {
    const ann = await cluster.user('iv-ann', C);
    const dee = await cluster.user('iv-dee', A);
    const chat = await activeChat(ann, dee);
    const poll = holdOn(dee, B);
    await held();
    expect((await dee.post('/api/v1/logout')).status).toBe(200); // on A
    expect((await ann.put(`/api/v1/chats/${chat}/messages/after-logout`, { text: 'not for a logged-out panel' })).status).toBe(201);
    const ended = await poll;
    expect(ended.events.filter((e) => e.type === 'chat.message')).toEqual([]);
    expect(ended.ms, 'held poll ended by the logout, not by its 20 s wait').toBeLessThan(5000);
    for (const url of [A, B, C, cluster.url]) expect((await via(dee, url).get('/api/v1/me')).status, url).toBe(401);
  });

  it('a logout on one node while another session keeps the user online (no presence change to wake it): the poll held on another node ends at once', async () => {
    const ann = await cluster.user('iv-two-ann', C);
    const kim = await cluster.user('iv-two-kim', A);
    const desk = await Client.login(C, 'iv-two-kim', PASSWORD); // her other session, polling on C
    const chat = await activeChat(ann, kim);
    await desk.poll(0); // her cursor
    const other = holdOn(desk, C, 5);
    const poll = holdOn(kim, B);
    await held();
    expect((await kim.post('/api/v1/logout')).status).toBe(200); // on A
    expect((await ann.put(`/api/v1/chats/${chat}/messages/after-logout-two`, { text: 'not for the ended session' })).status).toBe(201);
    const ended = await poll;
    expect(ended.events.filter((e) => e.type === 'chat.message')).toEqual([]);
    expect(ended.ms, 'held poll ended by the logout, not by its 20 s wait').toBeLessThan(5000);
    expect((await via(kim, B).get('/api/v1/me')).status).toBe(401);
    expect((await other).status).toBe(200);
    expect((await via(desk, B).get('/api/v1/me')).status).toBe(200);
  });

  it('a password change on one node ends the other sessions on the others (held polls included) and keeps its own', async () => {
    const ann = await cluster.user('iv-pw-ann', C);
    const mine = await cluster.user('iv-pw-eve', A);
    const other = await Client.login(B, 'iv-pw-eve', PASSWORD);
    const chat = await activeChat(ann, other);
    const poll = holdOn(other, B);
    await held();
    expect((await mine.post('/api/v1/me/password', { oldPassword: PASSWORD, newPassword: 'a new long password' })).status).toBe(200);
    expect((await ann.put(`/api/v1/chats/${chat}/messages/after-pw`, { text: 'not for the old session' })).status).toBe(201);
    const ended = await poll;
    expect(ended.events.filter((e) => e.type === 'chat.message')).toEqual([]);
    expect(ended.ms).toBeLessThan(5000);
    expect((await via(other, B).get('/api/v1/me')).status).toBe(401);
    expect((await via(mine, B).get('/api/v1/me')).status).toBe(200);
  });

  it('a user removed through one node: the token ends on the others, held polls included', async () => {
    const ann = await cluster.user('iv-rm-ann', C);
    const gone = await cluster.user('iv-rm-gus', B);
    const chat = await activeChat(ann, gone);
    const poll = holdOn(gone, B);
    await held();
    expect((await via(cluster.admin, A).delete('/api/v1/admin/users/iv-rm-gus')).status).toBe(200);
    await ann.put(`/api/v1/chats/${chat}/messages/after-rm`, { text: 'not for a removed user' });
    const ended = await poll;
    expect(ended.events.filter((e) => e.type === 'chat.message')).toEqual([]);
    expect(ended.ms).toBeLessThan(5000);
    for (const url of [A, B, C]) expect((await via(gone, url).get('/api/v1/me')).status, url).toBe(401);
  });

  it("accepting a chat on one node while the poll is held on another still delivers that chat's messages", async () => {
    const fay = await cluster.user('iv-fay', A);
    const hal = await cluster.user('iv-hal', B);
    await fay.poll(0);
    await hal.poll(0);
    const chat = await createChat(fay, hal);
    await hal.waitFor('chat.request', (e) => e.chat.id === chat.id);
    // Past B's check for other nodes' changes of who listens to what (every second), so that the
    // request's own re-poll does not happen to carry the acceptance too.
    await new Promise((r) => setTimeout(r, 1500));
    // hal's panel holds its poll on B; the click on "accept" goes to A (nginx put it there).
    const onB = holdOn(hal, B);
    await held();
    expect((await via(hal, A).post(`/api/v1/chats/${chat.id}/accept`)).status).toBe(200);
    hal.cursor = String(Math.max(Number(hal.cursor), ...(await onB).events.map((e) => Number(e.cursor))));
    for (let i = 0; i < 3; i++) expect((await fay.put(`/api/v1/chats/${chat.id}/messages/acc${i}`, { text: `after accept ${i}` })).status).toBe(201);
    const got: string[] = [];
    const deadline = Date.now() + 5000;
    while (got.length < 3 && Date.now() < deadline) {
      const res = await holdOn(hal, B, 1);
      expect(res.status).toBe(200);
      for (const e of res.events) {
        hal.cursor = e.cursor;
        if (e.type === 'chat.message' && e.message.chatId === chat.id) got.push(e.message.text);
      }
    }
    expect(got).toEqual(['after accept 0', 'after accept 1', 'after accept 2']);
  });

  it('admin contact and group changes reach polls held on every node', async () => {
    const users = await Promise.all(['iv-g1', 'iv-g2', 'iv-g3'].map((u, i) => cluster.user(u, [A, B, C][i])));
    for (const u of users) await u.poll(0);
    // Each user's poll held on its own node; the admin works through nginx.
    const waiting = users.map((u) => u.waitFor('contacts.changed', () => true, 8000));
    await held();
    expect((await cluster.admin.post('/api/v1/admin/groups', { name: 'iv-team' })).status).toBe(201);
    for (const u of users) expect((await cluster.admin.put(`/api/v1/admin/groups/iv-team/members/${u.username}`)).status).toBe(200);
    await Promise.all(waiting);
    for (const [i, u] of users.entries()) {
      const contacts = (await u.get('/api/v1/contacts')).body.contacts.map((c: any) => c.username).sort();
      expect(contacts, `${u.username} on node ${i}`).toEqual(users.filter((o) => o !== u).map((o) => o.username).sort());
    }
    // A contact the admin gives one user (through node C) reaches that user's poll on A.
    const [g1] = users;
    const next = g1!.waitFor('contacts.changed', () => true, 8000);
    await held();
    const other = await cluster.user('iv-g4');
    expect((await via(cluster.admin, C).put(`/api/v1/admin/users/iv-g1/contacts/${other.username}`)).status).toBeLessThan(300);
    await next;
    expect((await g1!.get('/api/v1/contacts')).body.contacts.map((c: any) => c.username)).toContain('iv-g4');
  });

  it('failed logins spread over the 3 nodes lock the address, and the account, at the same count as on one node', async () => {
    await cluster.user('lim-ann');
    // Through nginx (one address, 127.0.0.1): the failures go round robin to the nodes.
    const before = cluster.nginx.accessLog().length;
    for (let i = 0; i < LOGIN_FAILURES_PER_ADDRESS; i++) expectError(await new Client(cluster.url).post('/api/v1/login', { username: 'lim-ann', password: 'wrong' }), 401, 'invalid_credentials');
    const nodes = new Set(cluster.nginx.accessLog().slice(before).map((e) => e.upstream));
    expect(nodes.size).toBe(3);
    expectError(await new Client(cluster.url).post('/api/v1/login', { username: 'lim-ann', password: PASSWORD }), 429, 'rate_limited');

    // The account from many addresses (each node told by its proxy header): locked at its count too.
    await cluster.user('lim-ben');
    const from = (i: number) => ({ 'content-type': 'application/json', 'x-forwarded-for': `127.0.9.${i + 1}` });
    const attempt = (i: number, password: string) =>
      send(`${[A, B, C][i % 3]}/api/v1/login`, { method: 'POST', headers: from(i), body: JSON.stringify({ username: 'lim-ben', password }) });
    for (let i = 0; i < LOGIN_FAILURES_PER_ACCOUNT; i++) expectError(await attempt(i, 'wrong'), 401, 'invalid_credentials');
    expectError(await attempt(LOGIN_FAILURES_PER_ACCOUNT, PASSWORD), 429, 'rate_limited');
  });

  it('provider pushes spread over the 3 nodes meet the rate limit at the same count as on one node', async () => {
    const made = await cluster.admin.post('/api/v1/admin/providers', { name: 'cx-feed', channels: ['cx-news'] });
    expect(made.status).toBe(201);
    const push = (url: string, i: number) =>
      send(`${url}/cgi/ticker`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${made.body.key}` }, body: JSON.stringify({ channel: 'cx-news', text: `item ${i}` }) });
    for (let i = 0; i < PROVIDER_RATE; i++) expect((await push([A, B, C][i % 3]!, i)).status, `push ${i}`).toBe(201);
    for (const url of [A, B, C]) expectError(await push(url, 99), 429, 'rate_limited');
  });

  it("the HTTP call relay through nginx: every request of a call reaches the one node holding its buffers (hash by call id)", async () => {
    const ann = await cluster.user('rl-ann');
    const ben = await cluster.user('rl-ben');
    const chat = await activeChat(ann, ben);
    for (const url of [A, B, C]) await via(ben, url).poll(0); // ben is online on every node
    const started = await ann.post('/api/v1/calls', { chatId: chat });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    const id = started.body.call.id as string;
    expect((await ben.post(`/api/v1/calls/${id}/accept`)).status).toBe(200);
    const before = cluster.nginx.accessLog().length;
    const WEBM = 'video/webm;codecs=vp8,opus';
    const chunk = (seq: number) => new Uint8Array(Buffer.alloc(500, seq + 1));
    let after = -1;
    for (let seq = 0; seq < 6; seq++) {
      const up = await fetch(`${cluster.url}/api/v1/calls/${id}/relay/${seq}`, { method: 'PUT', headers: { authorization: `Bearer ${ann.token}`, 'content-type': WEBM }, body: chunk(seq) });
      expect(up.status, `upload ${seq}`).toBe(200);
      const down = await fetch(`${cluster.url}/api/v1/calls/${id}/relay/rl-ann?after=${after}&wait=2`, { headers: { authorization: `Bearer ${ben.token}` } });
      expect(down.status, `download ${seq}`).toBe(200);
      expect(down.headers.get('x-relay-seq')).toBe(String(seq));
      expect(Buffer.from(await down.arrayBuffer()).equals(Buffer.from(chunk(seq)))).toBe(true);
      after = seq;
    }
    const relayedSince = () => cluster.nginx.accessLog().slice(before).filter((e) => e.request.includes('/relay/'));
    // nginx writes a request's log line after answering it: the last one may land a moment later.
    await expect.poll(() => relayedSince().length, { timeout: 2000 }).toBeGreaterThanOrEqual(12);
    const relayed = relayedSince();
    expect(relayed).toHaveLength(12);
    expect(new Set(relayed.map((e) => e.upstream)).size).toBe(1);
    // Past nginx, the other nodes do not have the call's chunks: the hash is what makes it work.
    const holder = relayed[0]!.upstream;
    const other = [A, B, C].find((u) => !u.endsWith(holder))!;
    const elsewhere = await fetch(`${other}/api/v1/calls/${id}/relay/rl-ann?after=-1&wait=0`, { headers: { authorization: `Bearer ${ben.token}` } });
    expect(elsewhere.headers.get('x-relay-seq')).toBeNull();
  });
});
