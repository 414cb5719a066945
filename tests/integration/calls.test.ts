/**
 * Calls over the real server: ringing, answering, hanging up, declining, missing (with the ring
 * timeout shortened to 1 s, also across a restart), busy presence, signalling and its
 * authorization, ICE servers with TURN credentials, and coturn accepting those credentials.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CALL_LIMITS, Call as CallSchema, Event } from '../../shared/index.js';
import { activeChat, createChat } from '../helpers/chat.js';
import { startCoturn, turnAllocate, type Coturn } from '../helpers/coturn.js';
import { Client, collect, drain, eventually, expectError, startTestServer, type TestServer } from '../helpers/server.js';

const TURN_SECRET = 'test-turn-secret-0123456789';
// Long enough that the tests which answer do so within it on a loaded machine (1 s was not, in CI).
const RING_SECONDS = 5;

/** Every event a client gets must match the shared Event schema. */
function valid(events: any[]) {
  for (const e of events) expect(Event.safeParse(e).success, JSON.stringify(e)).toBe(true);
  return events;
}

const stateOf = (call: any, username: string) => call.members.find((m: any) => m.username === username)?.state;

describe('calls', () => {
  // A long presence grace: clients in these tests poll now and then, not all the time.
  const options = {
    presenceGraceMs: 20_000,
    callRingSeconds: RING_SECONDS,
    stunUrls: 'stun:stun.example.com:3478',
    turnUrls: 'turns:turn.example.com:443?transport=tcp,turn:turn.example.com:3478?transport=tcp',
    turnSecret: TURN_SECRET,
    turnTtlSeconds: 600,
  };
  let server: TestServer;
  let n = 0;
  /** Fresh users (online: they have polled) for each test. */
  const users = async (...names: string[]) => {
    n++;
    const clients: Array<Client & { username: string }> = [];
    for (const name of names) {
      const c = await server.user(`c${n}-${name}`, `${name[0]!.toUpperCase()}${name.slice(1)} ${n}`);
      await c.poll();
      clients.push(c as Client & { username: string });
    }
    return clients;
  };
  const start = async (caller: Client, chatId: string, video?: boolean) => {
    const res = await caller.post('/api/v1/calls', video === undefined ? { chatId } : { chatId, video });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(CallSchema.safeParse(res.body.call).success).toBe(true);
    return res.body.call;
  };
  const act = async (client: Client, callId: string, verb: 'accept' | 'decline' | 'hangup', status = 200) => {
    const res = await client.post(`/api/v1/calls/${callId}/${verb}`);
    expect(res.status, `${client.username} ${verb}: ${JSON.stringify(res.body)}`).toBe(status);
    return res.body.call;
  };
  const lastMessage = async (client: Client, chatId: string) => {
    const res = await client.get(`/api/v1/chats/${chatId}/messages?limit=1`);
    expect(res.status).toBe(200);
    return res.body.messages.at(-1);
  };

  beforeAll(async () => {
    server = await startTestServer(options);
  });
  afterAll(() => server?.destroy());

  it('1:1: rings, is answered (active), and a hang-up by either side ends it for both', async () => {
    const [alice, bob, eve] = await users('alice', 'bob', 'eve');
    const chatId = await activeChat(alice!, bob!);

    const call = await start(alice!, chatId);
    expect(call).toMatchObject({ chatId, createdBy: alice!.username, video: true, state: 'ringing' });
    expect(call.members.map((m: any) => [m.username, m.state])).toEqual([
      [alice!.username, 'joined'],
      [bob!.username, 'ringing'],
    ]);
    const ring = await bob!.waitFor('call.ring');
    expect(ring.call.id).toBe(call.id);
    // Only members see it; a stranger gets 404, as for an id that does not exist.
    expectError(await eve!.get(`/api/v1/calls/${call.id}`), 404, 'not_found');
    expectError(await eve!.post(`/api/v1/calls/${call.id}/accept`), 404, 'not_found');
    expectError(await eve!.get(`/api/v1/calls/${randomUUID()}`), 404, 'not_found');
    expect((await bob!.get(`/api/v1/calls/${call.id}`)).body.call.state).toBe('ringing');

    const answered = await act(bob!, call.id, 'accept');
    expect(answered.state).toBe('active');
    expect(answered.answeredAt).toBeDefined();
    expect(stateOf(answered, bob!.username)).toBe('joined');
    expect((await act(bob!, call.id, 'accept')).state).toBe('active'); // a repeat is harmless
    const updated = await alice!.waitFor('call.updated', (e) => e.call.id === call.id);
    expect(updated.call.state).toBe('active');

    const ended = await act(bob!, call.id, 'hangup');
    expect(ended).toMatchObject({ state: 'ended', endReason: 'hangup' });
    expect(ended.members.map((m: any) => m.state)).toEqual(['left', 'left']);
    // Both hear of the end, and get the chat's record line with it.
    for (const c of [alice!, bob!]) {
      const got = await collect(c, 2, (e) => (e.type === 'call.ended' && e.call.id === call.id) || (e.type === 'chat.message' && e.message.call?.id === call.id));
      expect(got.map((e) => e.type).sort()).toEqual(['call.ended', 'chat.message']);
    }
    expect((await act(alice!, call.id, 'hangup')).state).toBe('ended'); // idempotent
    expectError(await alice!.post(`/api/v1/calls/${call.id}/signal`, { to: bob!.username, signal: { kind: 'path', path: 'direct' } }), 409, 'conflict');

    const line = await lastMessage(alice!, chatId);
    expect(line).toMatchObject({ from: alice!.username, call: { id: call.id, outcome: 'completed' } });
    expect(line.call.durationSeconds).toBeGreaterThanOrEqual(0);
    expect(line.text).toMatch(/^Video call, \d+ s$/);

    // Again, audio only, and this time the caller hangs up.
    const second = await start(bob!, chatId, false);
    expect(second.video).toBe(false);
    await act(alice!, second.id, 'accept');
    await act(alice!, second.id, 'hangup');
    expect((await bob!.waitFor('call.ended', (e) => e.call.id === second.id)).call.endReason).toBe('hangup');
    expect((await lastMessage(bob!, chatId)).text).toMatch(/^Call, /);
    valid([...(await drain(alice!)), ...(await drain(bob!))]);
  });

  it('declined: the call ends for the caller, the chat records it', async () => {
    const [alice, bob] = await users('alice', 'bob');
    const chatId = await activeChat(alice!, bob!);
    const call = await start(alice!, chatId);
    await bob!.waitFor('call.ring');
    const declined = await act(bob!, call.id, 'decline');
    expect(declined).toMatchObject({ state: 'ended', endReason: 'declined' });
    expect(stateOf(declined, bob!.username)).toBe('declined');
    expect((await act(bob!, call.id, 'decline')).state).toBe('ended'); // a repeat is harmless
    expectError(await bob!.post(`/api/v1/calls/${call.id}/accept`), 409, 'conflict'); // too late
    const ended = await alice!.waitFor('call.ended', (e) => e.call.id === call.id);
    expect(ended.call.endReason).toBe('declined');
    expect(await lastMessage(alice!, chatId)).toMatchObject({ text: 'Declined video call', call: { id: call.id, outcome: 'declined' } });
  });

  it('missed: nobody answers within the ring timeout; the callee is told, history shows a missed call', async () => {
    const [alice, bob] = await users('alice', 'bob');
    const chatId = await activeChat(alice!, bob!);
    const call = await start(alice!, chatId);
    await bob!.waitFor('call.ring');
    const ended = await bob!.waitFor('call.ended', (e) => e.call.id === call.id, RING_SECONDS * 1000 + 10_000);
    expect(ended.call).toMatchObject({ state: 'ended', endReason: 'missed' });
    expect(stateOf(ended.call, bob!.username)).toBe('missed');
    expect(Date.parse(ended.call.endedAt) - Date.parse(ended.call.createdAt)).toBeGreaterThanOrEqual(RING_SECONDS * 1000);
    await alice!.waitFor('call.ended', (e) => e.call.id === call.id);
    const line = await lastMessage(bob!, chatId);
    expect(line).toMatchObject({ from: alice!.username, text: 'Missed video call', call: { id: call.id, outcome: 'missed' } });
    expect(line.call.durationSeconds).toBeUndefined();
    expectError(await bob!.post(`/api/v1/calls/${call.id}/accept`), 409, 'conflict');
  });

  it('refuses calls nobody can answer, callers already on a call, and chats that are not active', async () => {
    const [alice, bob, carol, dave] = await users('alice', 'bob', 'carol', 'dave');
    // Logged in but never polled: offline.
    const ghost = await server.user(`c${n}-ghost`, 'Gina Ghost');
    const withGhost = await createChat(alice!, ghost);
    await ghost.post(`/api/v1/chats/${withGhost.id}/accept`);
    const offline = await alice!.post('/api/v1/calls', { chatId: withGhost.id });
    expectError(offline, 409, 'callee_offline');
    expect(offline.body.error.message).toContain('Gina Ghost is offline');

    const ab = await activeChat(alice!, bob!);
    const bc = await activeChat(bob!, carol!);
    const ad = await activeChat(alice!, dave!);
    const call = await start(bob!, bc);
    // bob is on a call (as the caller): not rung; carol is being rung: not rung either.
    expectError(await alice!.post('/api/v1/calls', { chatId: ab }), 409, 'callee_busy');
    // The caller may not start a second call.
    expectError(await bob!.post('/api/v1/calls', { chatId: ab }), 409, 'conflict');
    // Others still can.
    const other = await start(alice!, ad);
    await act(alice!, other.id, 'hangup');
    await act(bob!, call.id, 'hangup');

    // Not a chat of mine: 404; a pending chat: 409; bad input: 400.
    expectError(await dave!.post('/api/v1/calls', { chatId: bc }), 404, 'not_found');
    expectError(await dave!.post('/api/v1/calls', { chatId: randomUUID() }), 404, 'not_found');
    const pending = await createChat(alice!, carol!);
    expectError(await alice!.post('/api/v1/calls', { chatId: pending.id }), 409, 'chat_not_active');
    expectError(await alice!.post('/api/v1/calls', { chatId: 'nope' }), 400, 'invalid_request');
    expectError(await alice!.post('/api/v1/calls', { chatId: ab, video: 'yes' }), 400, 'invalid_request');
    expectError(await alice!.get('/api/v1/calls/not-a-uuid'), 400, 'invalid_request');
  });

  it('presence: a contact sees the caller and callee busy during the call, their own state after', async () => {
    const [alice, bob, watcher] = await users('alice', 'bob', 'watcher');
    for (const name of [alice!.username, bob!.username]) expect((await watcher!.put(`/api/v1/contacts/${name}`)).status).toBe(201);
    const chatId = await activeChat(alice!, bob!);
    expect((await bob!.put('/api/v1/presence', { state: 'away' })).body.effective).toBe('away');
    const presence = async (name: string) =>
      (await watcher!.get('/api/v1/contacts')).body.contacts.find((c: any) => c.username === name).presence;
    await drain(watcher!);

    const call = await start(alice!, chatId);
    await watcher!.waitFor('presence', (e) => e.username === alice!.username && e.state === 'busy');
    expect(await presence(bob!.username)).toBe('away'); // still ringing: not on the call yet
    await act(bob!, call.id, 'accept');
    await watcher!.waitFor('presence', (e) => e.username === bob!.username && e.state === 'busy');
    expect((await bob!.get('/api/v1/me')).body.user.presence).toBe('busy');

    await act(alice!, call.id, 'hangup');
    const after = await collect(watcher!, 2, (e) => e.type === 'presence');
    expect(Object.fromEntries(after.map((e) => [e.username, e.state]))).toEqual({ [alice!.username]: 'available', [bob!.username]: 'away' });
    expect(await presence(bob!.username)).toBe('away');
  });

  it('signalling: relayed only to `to`, for members of a live call, with bounded and typed signals', async () => {
    const [alice, bob, eve] = await users('alice', 'bob', 'eve');
    const chatId = await activeChat(alice!, bob!);
    const call = await start(alice!, chatId);
    const url = `/api/v1/calls/${call.id}/signal`;
    // A realistic SDP at the size limit, CRLF lines and all, fits the JSON body limit.
    const line = 'a=candidate:1 1 udp 2122260223 192.0.2.1 54321 typ host generation 0\r\n';
    const sdp = ('v=0\r\n' + line.repeat(CALL_LIMITS.sdpChars)).slice(0, CALL_LIMITS.sdpChars);
    const offer = { kind: 'offer', sdp };
    expect((await alice!.post(url, { to: bob!.username, signal: offer })).body).toEqual({ ok: true });
    const candidate = { kind: 'candidate', candidate: { candidate: 'candidate:1 1 udp 1 192.0.2.1 5 typ host', sdpMid: '0', sdpMLineIndex: 0 } };
    expect((await alice!.post(url, { to: bob!.username, signal: candidate })).status).toBe(200);
    expect((await alice!.post(url, { to: bob!.username, signal: { kind: 'candidate', candidate: null } })).status).toBe(200);
    const got = await collect(bob!, 3, (e) => e.type === 'call.signal');
    expect(got.map((e) => [e.callId, e.from, e.signal.kind])).toEqual([
      [call.id, alice!.username, 'offer'],
      [call.id, alice!.username, 'candidate'],
      [call.id, alice!.username, 'candidate'],
    ]);
    expect(got[0].signal.sdp).toBe(sdp);
    expect(got[1].signal).toEqual(candidate);

    // bob only rings: he signals once he has joined.
    expectError(await bob!.post(url, { to: alice!.username, signal: { kind: 'answer', sdp: 'v=0' } }), 409, 'conflict');
    await act(bob!, call.id, 'accept');
    expect((await bob!.post(url, { to: alice!.username, signal: { kind: 'answer', sdp: 'v=0' } })).status).toBe(200);
    expect((await bob!.post(url, { to: alice!.username, signal: { kind: 'path', path: 'turn' } })).status).toBe(200);
    const back = await collect(alice!, 2, (e) => e.type === 'call.signal');
    expect(back.map((e) => e.signal)).toEqual([{ kind: 'answer', sdp: 'v=0' }, { kind: 'path', path: 'turn' }]);
    // Nobody else got any of it.
    expect((await drain(eve!)).filter((e) => e.type.startsWith('call.'))).toEqual([]);
    expect((await drain(bob!)).filter((e) => e.type === 'call.signal')).toEqual([]);

    // Not a member, another's call, not a member as `to`, to oneself, bad kinds and sizes.
    expectError(await eve!.post(url, { to: bob!.username, signal: { kind: 'path', path: 'direct' } }), 404, 'not_found');
    expectError(await alice!.post(url, { to: eve!.username, signal: { kind: 'path', path: 'direct' } }), 404, 'not_found');
    expectError(await alice!.post(url, { to: alice!.username, signal: { kind: 'path', path: 'direct' } }), 400, 'invalid_request');
    expectError(await alice!.post(`/api/v1/calls/${randomUUID()}/signal`, { to: bob!.username, signal: { kind: 'path', path: 'direct' } }), 404, 'not_found');
    for (const signal of [
      { kind: 'bye' },
      { kind: 'offer' },
      { kind: 'offer', sdp: '' },
      { kind: 'offer', sdp: 'x'.repeat(CALL_LIMITS.sdpChars + 1) },
      { kind: 'path', path: 'carrier-pigeon' },
      { kind: 'candidate', candidate: { candidate: 'x'.repeat(CALL_LIMITS.candidateChars + 1) } },
      { kind: 'answer', sdp: 'v=0', extra: 1 },
    ]) {
      const res = await alice!.post(url, { to: bob!.username, signal });
      expect([400, 413], JSON.stringify(signal).slice(0, 80)).toContain(res.status);
    }
    expectError(await alice!.post(url, { to: bob!.username, signal: { kind: 'bye' } }), 400, 'invalid_request');
    expectError(await alice!.post(url, { signal: { kind: 'path', path: 'direct' } }), 400, 'invalid_request');
    await act(alice!, call.id, 'hangup');
  });

  it('group call of three: one declines, two talk, the last hang-up ends it', async () => {
    const [alice, bob, carol] = await users('alice', 'bob', 'carol');
    const chat = await createChat(alice!, bob!, carol!);
    for (const c of [bob!, carol!]) expect((await c.post(`/api/v1/chats/${chat.id}/accept`)).status).toBe(200);
    const call = await start(alice!, chat.id);
    expect(call.members.map((m: any) => m.state)).toEqual(['joined', 'ringing', 'ringing']);
    await bob!.waitFor('call.ring');
    await carol!.waitFor('call.ring');
    const afterDecline = await act(bob!, call.id, 'decline');
    expect(afterDecline.state).toBe('ringing'); // carol may still answer
    const active = await act(carol!, call.id, 'accept');
    expect(active.state).toBe('active');
    expect(active.members.map((m: any) => m.state)).toEqual(['joined', 'declined', 'joined']);
    // Everyone in the call hears of every change, the one who declined included.
    await bob!.waitFor('call.updated', (e) => e.call.state === 'active');
    const ended = await act(carol!, call.id, 'hangup');
    expect(ended).toMatchObject({ state: 'ended', endReason: 'hangup' });
    expect(ended.members.map((m: any) => m.state)).toEqual(['left', 'declined', 'left']);
    for (const c of [alice!, bob!, carol!]) await c.waitFor('call.ended', (e) => e.call.id === call.id);
    expect((await lastMessage(bob!, chat.id)).call).toMatchObject({ id: call.id, outcome: 'completed' });
  });

  it('ICE servers: STUN, and TURN with an HMAC credential that expires after the TTL', async () => {
    const [alice] = await users('alice');
    const before = Math.floor(Date.now() / 1000);
    const res = await alice!.get('/api/v1/calls/ice-servers');
    expect(res.status).toBe(200);
    const { iceServers, expiresAt, policy } = res.body;
    expect(policy).toBe('auto');
    expect(iceServers[0]).toEqual({ urls: ['stun:stun.example.com:3478'] });
    const turn = iceServers[1];
    expect(turn.urls).toEqual(['turns:turn.example.com:443?transport=tcp', 'turn:turn.example.com:3478?transport=tcp']);
    const [expiry, name] = turn.username.split(':');
    expect(name).toBe(alice!.username);
    expect(Number(expiry)).toBeGreaterThanOrEqual(before + 600);
    expect(Number(expiry)).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 600);
    expect(Date.parse(expiresAt)).toBe(Number(expiry) * 1000);
    expect(turn.credential).toBe(createHmac('sha1', TURN_SECRET).update(turn.username).digest('base64'));
    expectError(await new Client(server.url).get('/api/v1/calls/ice-servers'), 401, 'unauthorized');
  });

  it('the OpenAPI document lists the call routes', async () => {
    const doc = (await server.admin.get('/api/v1/openapi.json')).body;
    for (const path of ['/api/v1/calls', '/api/v1/calls/ice-servers', '/api/v1/calls/{id}', '/api/v1/calls/{id}/signal', '/api/v1/calls/{id}/hangup']) {
      expect(Object.keys(doc.paths), path).toContain(path);
    }
  });

  /** As server.restart(), with a pause for this process's pooled connections to see the old server go. */
  const restart = async () => {
    await server.close();
    await new Promise((r) => setTimeout(r, 100));
    server = await startTestServer({ ...options, port: server.port }, server.dataDir);
  };

  // Last: restarts the server.
  it('a ring outlives a restart (missed on time, with its history line), and so does a call in progress', async () => {
    const [alice, bob] = await users('alice', 'bob');
    const chatId = await activeChat(alice!, bob!);
    const call = await start(alice!, chatId);
    await restart();
    const ended = await bob!.waitFor('call.ended', (e) => e.call.id === call.id, RING_SECONDS * 1000 + 10_000);
    expect(ended.call.endReason).toBe('missed');
    expect(stateOf(ended.call, bob!.username)).toBe('missed');
    expect((await lastMessage(alice!, chatId)).call).toEqual({ id: call.id, outcome: 'missed' });
    // And the caller is not left busy: a new call goes through (and is answered).
    const again = await start(alice!, chatId);
    await act(bob!, again.id, 'accept');
    // A call in progress survives a restart too, even for a member who appears offline (whom
    // presence does not hold open across a restart: the call does).
    expect((await bob!.put('/api/v1/presence', { state: 'offline' })).body.effective).toBe('offline');
    await restart();
    await new Promise((r) => setTimeout(r, 300)); // a few sweeps
    expect((await alice!.get(`/api/v1/calls/${again.id}`)).body.call.state).toBe('active');
    expect((await alice!.get('/api/v1/me')).body.user.presence).toBe('busy');
    await act(alice!, again.id, 'hangup');
    expect((await alice!.get('/api/v1/me')).body.user.presence).toBe('available');
  });
});

describe('calls when a client goes away (presence grace 300 ms)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ presenceGraceMs: 300, callRingSeconds: 30 });
  });
  afterAll(() => server?.destroy());

  it('a member whose panel stops polling is hung up for; the other is told, and is free again', async () => {
    const alice = await server.user('gone-alice');
    const bob = await server.user('gone-bob');
    const chatId = await activeChat(alice, bob);
    const call = (await alice.post('/api/v1/calls', { chatId })).body.call;
    await bob.waitFor('call.ring');
    expect((await bob.post(`/api/v1/calls/${call.id}/accept`)).status).toBe(200);
    // bob polls no more; alice keeps polling.
    const ended = await alice.waitFor('call.ended', (e) => e.call.id === call.id, 5000);
    expect(ended.call).toMatchObject({ state: 'ended', endReason: 'hangup' });
    expect(ended.call.members.map((m: any) => m.state)).toEqual(['left', 'left']);
    expect((await alice.get('/api/v1/me')).body.user.presence).toBe('available');
  });
});

/**
 * The coturn configuration README documents, minus what names the example host (addresses,
 * ports, certificate files: the helper's loopback ones stand in), with the test's secret.
 */
function readmeCoturnConfig(): string[] {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('## Video calls and TURN'));
  const block = /```ini\n([\s\S]*?)```/.exec(section)?.[1];
  expect(block, 'a coturn config block in README').toBeDefined();
  const lines = block!
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  expect(lines).toEqual(expect.arrayContaining(['use-auth-secret', 'tls-listening-port=443']));
  return lines
    .filter((l) => !/^(listening-ip|external-ip|listening-port|tls-listening-port|cert|pkey)=/.test(l))
    .map((l) => (l.startsWith('static-auth-secret=') ? `static-auth-secret=${TURN_SECRET}` : l));
}

describe("coturn with README's configuration (TCP and TLS) accepts the TURN credentials Portico hands out", () => {
  let coturn: Coturn | undefined;
  let server: TestServer;
  beforeAll(async () => {
    coturn = await startCoturn({ secret: TURN_SECRET, tls: true, extra: readmeCoturnConfig() });
    server = await startTestServer({ turnUrls: coturn.urls.join(','), turnSecret: TURN_SECRET });
  });
  afterAll(async () => {
    await coturn?.stop();
    await server?.destroy();
  });

  it('an Allocate with the handed-out credential succeeds; a wrong, or expired, one is refused', async () => {
    const alice = await server.user('turn-alice');
    const { iceServers } = (await alice.get('/api/v1/calls/ice-servers')).body;
    const turn = iceServers.find((s: any) => s.username);
    expect(turn.urls).toEqual(coturn!.urls);
    const ok = await turnAllocate({ port: coturn!.port, username: turn.username, credential: turn.credential });
    expect(ok, JSON.stringify(ok)).toMatchObject({ ok: true, relayed: expect.stringMatching(/^127\.0\.0\.1:\d+$/) });
    // The same over TLS, as a turns: URL on port 443 would be used.
    const overTls = await turnAllocate({ port: coturn!.tlsPort!, tls: true, username: turn.username, credential: turn.credential });
    expect(overTls, JSON.stringify(overTls)).toMatchObject({ ok: true });

    const wrong = await turnAllocate({ port: coturn!.port, username: turn.username, credential: 'AAAA' + turn.credential.slice(4) });
    expect(wrong).toMatchObject({ ok: false, code: 401 });
    const pastUser = `${Math.floor(Date.now() / 1000) - 60}:turn-alice`;
    const expired = await turnAllocate({
      port: coturn!.port,
      username: pastUser,
      credential: createHmac('sha1', TURN_SECRET).update(pastUser).digest('base64'),
    });
    expect(expired).toMatchObject({ ok: false, code: 401 });
  });
});
