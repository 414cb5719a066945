/**
 * Call state over the real server (issue 18; docs/calls.md): joining and rejoining a call that
 * runs in a chat, adding people to a chat (history shared on accept, then the call), hold and
 * resume (messages held and released, also across a restart), transfer accepted, declined and
 * timed out, and that a non-member can do none of it.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Event } from '../../shared/index.js';
import { activeChat, groupChat, ok, userMaker } from '../helpers/chat.js';
import { Client, drain, expectError, startTestServer, type TestServer } from '../helpers/server.js';

const RING_SECONDS = 3;
const stateOf = (call: any, username: string) => call.members.find((m: any) => m.username === username)?.state;
/** Every event a client gets must match the shared Event schema. */
function valid(events: any[]) {
  for (const e of events) expect(Event.safeParse(e).success, JSON.stringify(e)).toBe(true);
  return events;
}

describe('call state: join, add people, hold, transfer', () => {
  const options = { presenceGraceMs: 20_000, callRingSeconds: RING_SECONDS };
  let server: TestServer;
  type C = Client & { username: string };
  const users = userMaker(() => server, 's');
  /** An answered 1:1 call between a and b. */
  const callOfTwo = async (a: C, b: C, chatId?: string) => {
    const id = chatId ?? (await activeChat(a, b));
    const { call } = await ok(a.post('/api/v1/calls', { chatId: id }), 201);
    await ok(b.post(`/api/v1/calls/${call.id}/accept`));
    return { chatId: id, callId: call.id as string };
  };
  const send = (c: C, chatId: string, text: string) => ok(c.put(`/api/v1/chats/${chatId}/messages/${randomUUID()}`, { text }), 201);
  const history = async (c: C, chatId: string) => (await ok(c.get(`/api/v1/chats/${chatId}/messages`))).messages as any[];

  beforeAll(async () => {
    server = await startTestServer(options);
  });
  afterAll(() => server?.destroy());

  it('join: members of the chat see the call, join late, leave and rejoin until it ends; strangers get 404', async () => {
    const [alice, bob, carol, dave, eve] = await users('alice', 'bob', 'carol', 'dave', 'eve');
    const chatId = await groupChat(alice!, bob!, carol!, dave!);
    const { call } = await ok(alice!.post('/api/v1/calls', { chatId }), 201);
    // Everyone taking part in the chat sees it running: the chat list and chat.call on the chat's topic.
    const seen = await carol!.waitFor('chat.call', (e) => e.call.id === call.id);
    expect(seen.chatId).toBe(chatId);
    expect((await ok(carol!.get('/api/v1/chats'))).chats.find((c: any) => c.id === chatId).call.id).toBe(call.id);
    expect((await ok(dave!.get(`/api/v1/chats/${chatId}`))).chat.call.id).toBe(call.id);
    await ok(bob!.post(`/api/v1/calls/${call.id}/accept`));
    await ok(carol!.post(`/api/v1/calls/${call.id}/decline`));
    await ok(dave!.post(`/api/v1/calls/${call.id}/decline`));
    // One call per chat: a member who is not in it joins it rather than start another.
    expectError(await carol!.post('/api/v1/calls', { chatId }), 409, 'conflict');

    // A stranger: 404, as for a call that does not exist; nothing in its chat list.
    expectError(await eve!.post(`/api/v1/calls/${call.id}/join`), 404, 'not_found');
    expectError(await eve!.get(`/api/v1/calls/${call.id}`), 404, 'not_found');
    expectError(await eve!.post(`/api/v1/calls/${randomUUID()}/join`), 404, 'not_found');
    expectError(await eve!.post('/api/v1/calls/not-a-uuid/join'), 400, 'invalid_request');

    // Carol declined, and joins after all: the others hear it (the mesh negotiates with her).
    expect((await ok(carol!.get(`/api/v1/calls/${call.id}`))).call.state).toBe('active');
    const joined = (await ok(carol!.post(`/api/v1/calls/${call.id}/join`))).call;
    expect(stateOf(joined, carol!.username)).toBe('joined');
    expect((await ok(carol!.post(`/api/v1/calls/${call.id}/join`))).call.state).toBe('active'); // a repeat changes nothing
    await alice!.waitFor('call.updated', (e) => e.call.id === call.id && stateOf(e.call, carol!.username) === 'joined');
    await bob!.waitFor('call.updated', (e) => e.call.id === call.id && stateOf(e.call, carol!.username) === 'joined');
    // Bob leaves; the call goes on between alice and carol, and bob rejoins.
    expect((await ok(bob!.post(`/api/v1/calls/${call.id}/hangup`))).call.state).toBe('active');
    const back = (await ok(bob!.post(`/api/v1/calls/${call.id}/join`))).call;
    expect(back.members.filter((m: any) => m.state === 'joined').length).toBe(3);
    await carol!.waitFor('call.updated', (e) => e.call.id === call.id && stateOf(e.call, bob!.username) === 'joined');
    // Dave too: four are the most (CALL_LIMITS.members) ...
    await ok(dave!.post(`/api/v1/calls/${call.id}/join`));
    // ... then the last ones leave: it ends when fewer than two are left in it.
    for (const c of [alice!, bob!, carol!]) await ok(c.post(`/api/v1/calls/${call.id}/hangup`));
    const ended = await dave!.waitFor('call.ended', (e) => e.call.id === call.id);
    expect(ended.call.state).toBe('ended');
    expectError(await bob!.post(`/api/v1/calls/${call.id}/join`), 409, 'conflict');
    expect((await ok(bob!.get('/api/v1/chats'))).chats.find((c: any) => c.id === chatId).call).toBeUndefined();
    valid(await drain(carol!));
  });

  it('join: at most CALL_LIMITS.members in a call, and not from another call', async () => {
    const [a, b, c, d, e] = await users('a1', 'b1', 'c1', 'd1', 'e1');
    const chatId = await groupChat(a!, b!, c!, d!, e!);
    const { call } = await ok(a!.post('/api/v1/calls', { chatId }), 201);
    for (const x of [b!, c!, d!]) await ok(x.post(`/api/v1/calls/${call.id}/accept`));
    expectError(await e!.post(`/api/v1/calls/${call.id}/join`), 409, 'conflict', 'a fifth');
    await ok(d!.post(`/api/v1/calls/${call.id}/hangup`));
    // Now e may come in; d, on another call meanwhile, may not come back.
    const [f] = await users('f1');
    const other = await callOfTwo(d!, f!);
    await ok(e!.post(`/api/v1/calls/${call.id}/join`));
    await ok(c!.post(`/api/v1/calls/${call.id}/hangup`));
    expectError(await d!.post(`/api/v1/calls/${call.id}/join`), 409, 'conflict', 'on another call');
    await ok(d!.post(`/api/v1/calls/${other.callId}/hangup`));
    await ok(d!.post(`/api/v1/calls/${call.id}/join`));
  });

  it('add people: only a member taking part may; the added get a request, read all the history on accept, and join the call', async () => {
    const [alice, bob, carol, eve] = await users('alice', 'bob', 'carol', 'eve');
    const chatId = await activeChat(alice!, bob!);
    await send(alice!, chatId, 'before carol came');
    await send(bob!, chatId, 'me too');
    const { callId } = await callOfTwo(alice!, bob!, chatId);

    // Bad input and strangers.
    const path = `/api/v1/chats/${chatId}/members`;
    for (const body of [{}, { usernames: [] }, { usernames: ['no spaces'] }, { usernames: 'x' }, { usernames: [carol!.username], extra: 1 }]) {
      expectError(await alice!.post(path, body), 400, 'invalid_request', JSON.stringify(body));
    }
    expectError(await alice!.post(path, { usernames: ['nobody-here'] }), 400, 'invalid_request');
    expectError(await eve!.post(path, { usernames: [carol!.username] }), 403, 'forbidden');
    expectError(await eve!.post(path, { usernames: ['nobody-here'] }), 403, 'forbidden');
    expectError(await eve!.post(`/api/v1/chats/${randomUUID()}/members`, { usernames: [carol!.username] }), 404, 'not_found');

    const { chat } = await ok(alice!.post(path, { usernames: [carol!.username, bob!.username] }));
    expect(chat.members.map((m: any) => [m.username, m.status])).toEqual([
      [alice!.username, 'accepted'],
      [bob!.username, 'accepted'],
      [carol!.username, 'invited'],
    ]);
    const added = await bob!.waitFor('chat.added', (e) => e.chat.id === chatId);
    expect(added).toMatchObject({ by: alice!.username, usernames: [carol!.username] });
    const request = await carol!.waitFor('chat.request', (e) => e.chat.id === chatId);
    expect(request.from).toBe(alice!.username);
    // A repeat invites nobody twice.
    expect((await ok(bob!.post(path, { usernames: [carol!.username] }))).chat.members.length).toBe(3);
    // An invitee is not taking part yet: it may not add, nor join the call.
    expectError(await carol!.post(path, { usernames: [eve!.username] }), 403, 'forbidden');
    expectError(await carol!.post(`/api/v1/calls/${callId}/join`), 404, 'not_found');

    await ok(carol!.post(`/api/v1/chats/${chatId}/accept`));
    // The whole history is shared (the chat's default), the call's record aside.
    expect((await history(carol!, chatId)).map((m) => m.text)).toEqual(['before carol came', 'me too']);
    // The call runs: carol sees it and joins it.
    expect((await ok(carol!.get(`/api/v1/chats/${chatId}`))).chat.call.id).toBe(callId);
    const joined = (await ok(carol!.post(`/api/v1/calls/${callId}/join`))).call;
    expect(joined.members.map((m: any) => m.state)).toEqual(['joined', 'joined', 'joined']);
    await alice!.waitFor('call.updated', (e) => e.call.id === callId && stateOf(e.call, carol!.username) === 'joined');
    valid([...(await drain(alice!)), ...(await drain(carol!))]);

    // An ended chat takes nobody in.
    const [x, y] = await users('x', 'y');
    const closed = await activeChat(x!, y!);
    await ok(y!.post(`/api/v1/chats/${closed}/leave`));
    expectError(await x!.post(`/api/v1/chats/${closed}/members`, { usernames: [carol!.username] }), 409, 'chat_closed');
  });

  it('add people: no more than the member limit', async () => {
    const [alice, bob] = await users('alice', 'bob');
    const chatId = await activeChat(alice!, bob!);
    // 51 members would be past LIMITS.invitees + 1: the names need not be looked at beyond existing.
    const many: string[] = [];
    for (let i = 0; i < 49; i++) {
      const name = `${alice!.username}-many${i}`;
      expect((await server.admin.post('/api/v1/admin/users', { username: name, password: 'correct horse battery' })).status).toBe(201);
      many.push(name);
    }
    expectError(await alice!.post(`/api/v1/chats/${chatId}/members`, { usernames: many }), 409, 'conflict');
    expect((await ok(alice!.get(`/api/v1/chats/${chatId}`))).chat.members.length).toBe(2);
    expect((await ok(alice!.post(`/api/v1/chats/${chatId}/members`, { usernames: many.slice(0, 48) }))).chat.members.length).toBe(50);
  });

  it('ring: people added during a call are rung into it when they accept, by who added them, and answer to join', async () => {
    const [alice, bob, carol, dave] = await users('alice', 'bob', 'carol', 'dave');
    const chatId = await activeChat(alice!, bob!);
    const { callId } = await callOfTwo(alice!, bob!, chatId);
    await ok(bob!.post(`/api/v1/chats/${chatId}/members`, { usernames: [carol!.username, dave!.username] }));
    await carol!.waitFor('chat.request', (e) => e.chat.id === chatId);
    // Nobody rings before the request is accepted.
    expect((await drain(carol!)).filter((e) => e.type === 'call.ring')).toEqual([]);
    await ok(carol!.post(`/api/v1/chats/${chatId}/accept`));
    const ring = await carol!.waitFor('call.ring', (e) => e.call.id === callId);
    const mine = ring.call.members.find((m: any) => m.username === carol!.username);
    expect(mine).toMatchObject({ state: 'ringing', rungBy: bob!.username });
    // The others see carol rung (and nobody else's member carries rungBy).
    const seen = await alice!.waitFor('call.updated', (e) => e.call.id === callId && stateOf(e.call, carol!.username) === 'ringing');
    expect(seen.call.members.filter((m: any) => m.rungBy).map((m: any) => m.username)).toEqual([carol!.username]);
    // She answers: three in the call.
    const joined = (await ok(carol!.post(`/api/v1/calls/${callId}/accept`))).call;
    expect(joined.members.map((m: any) => [m.username, m.state])).toEqual([
      [alice!.username, 'joined'],
      [bob!.username, 'joined'],
      [carol!.username, 'joined'],
    ]);
    expect(joined.members.some((m: any) => m.rungBy)).toBe(false);
    // Dave declines the ring: he stays in the chat, the call goes on.
    await ok(dave!.post(`/api/v1/chats/${chatId}/accept`));
    await dave!.waitFor('call.ring', (e) => e.call.id === callId);
    const declined = (await ok(dave!.post(`/api/v1/calls/${callId}/decline`))).call;
    expect(declined.state).toBe('active');
    expect(stateOf(declined, dave!.username)).toBe('declined');
    expect((await ok(dave!.get(`/api/v1/chats/${chatId}`))).chat.members.find((m: any) => m.username === dave!.username).status).toBe('accepted');
    valid([...(await drain(alice!)), ...(await drain(carol!)), ...(await drain(dave!))]);
  });

  it('ring: a member in the call rings chat members who are not in it; the ring times out from when it started; others may not ring', async () => {
    const [alice, bob, carol, dave, eve] = await users('alice', 'bob', 'carol', 'dave', 'eve');
    const chatId = await groupChat(alice!, bob!, carol!, dave!);
    const { call } = await ok(alice!.post('/api/v1/calls', { chatId }), 201);
    const callId = call.id as string;
    await ok(bob!.post(`/api/v1/calls/${callId}/accept`));
    await ok(carol!.post(`/api/v1/calls/${callId}/decline`));
    await ok(dave!.post(`/api/v1/calls/${callId}/decline`));
    const path = `/api/v1/calls/${callId}/ring`;

    // Bad input, strangers, and members of the chat who are not in the call.
    for (const body of [{}, { usernames: [] }, { usernames: ['no spaces'] }, { usernames: 'x' }, { usernames: [carol!.username], extra: 1 }, { usernames: ['a1', 'a2', 'a3', 'a4'] }]) {
      expectError(await alice!.post(path, body), 400, 'invalid_request', JSON.stringify(body));
    }
    expectError(await alice!.post(path, { usernames: ['nobody-here'] }), 400, 'invalid_request');
    expectError(await alice!.post(path, { usernames: [eve!.username] }), 400, 'invalid_request'); // not in the chat: add first
    expectError(await eve!.post(path, { usernames: [carol!.username] }), 404, 'not_found');
    expectError(await eve!.post(path, { usernames: ['nobody-here'] }), 404, 'not_found');
    expectError(await eve!.post(`/api/v1/calls/${randomUUID()}/ring`, { usernames: [carol!.username] }), 404, 'not_found');
    expectError(await carol!.post(path, { usernames: [dave!.username] }), 403, 'forbidden');

    // Past the first ring's time: a new ring counts from now.
    await new Promise((r) => setTimeout(r, RING_SECONDS * 1000 + 300));
    const rung = (await ok(alice!.post(path, { usernames: [carol!.username, bob!.username] }))).call;
    expect(stateOf(rung, carol!.username)).toBe('ringing');
    expect(stateOf(rung, bob!.username)).toBe('joined'); // in it already: as it was
    const ring = await carol!.waitFor('call.ring', (e) => e.call.id === callId && e.call.state === 'active');
    expect(ring.call.members.find((m: any) => m.username === carol!.username).rungBy).toBe(alice!.username);
    await new Promise((r) => setTimeout(r, 1200)); // a sweep or more: the ring goes on
    expect(stateOf((await ok(alice!.get(`/api/v1/calls/${callId}`))).call, carol!.username)).toBe('ringing');
    // Not answered in time: missed; the call goes on.
    const missed = await carol!.waitFor('call.updated', (e) => e.call.id === callId && stateOf(e.call, carol!.username) === 'missed', RING_SECONDS * 1000 + 3000);
    expect(missed.call.state).toBe('active');

    // A repeat ring while it rings changes nothing; an offline member is not rung.
    await ok(alice!.post(path, { usernames: [dave!.username] }));
    expect(stateOf((await ok(alice!.post(path, { usernames: [dave!.username] }))).call, dave!.username)).toBe('ringing');
    await ok(dave!.post(`/api/v1/calls/${callId}/accept`));
    await ok(carol!.post('/api/v1/logout'));
    expectError(await alice!.post(path, { usernames: [carol!.username] }), 409, 'callee_offline');
    // On hold: nobody is rung in (a call of two holds).
    await ok(dave!.post(`/api/v1/calls/${callId}/hangup`));
    await ok(alice!.post(`/api/v1/calls/${callId}/hold`));
    expectError(await bob!.post(path, { usernames: [dave!.username] }), 409, 'conflict');
    await ok(alice!.post(`/api/v1/calls/${callId}/hangup`));
    expectError(await bob!.post(path, { usernames: [dave!.username] }), 409, 'conflict'); // ended
    valid([...(await drain(alice!)), ...(await drain(dave!))]);
  });

  it('hold: either side holds, both hear it, messages meanwhile are held and delivered on resume', async () => {
    const [alice, bob, eve] = await users('alice', 'bob', 'eve');
    const { chatId, callId } = await callOfTwo(alice!, bob!);
    await drain(alice!);
    await drain(bob!);

    expectError(await eve!.post(`/api/v1/calls/${callId}/hold`), 404, 'not_found');
    expectError(await eve!.post(`/api/v1/calls/${callId}/resume`), 404, 'not_found');
    const held = (await ok(bob!.post(`/api/v1/calls/${callId}/hold`))).call;
    expect(held.heldBy).toBe(bob!.username);
    for (const c of [alice!, bob!]) expect((await c.waitFor('call.held', (e) => e.call.id === callId)).by).toBe(bob!.username);
    expect((await ok(bob!.post(`/api/v1/calls/${callId}/hold`))).call.heldBy).toBe(bob!.username); // a repeat
    expectError(await alice!.post(`/api/v1/calls/${callId}/hold`), 409, 'conflict');
    expectError(await alice!.post(`/api/v1/calls/${callId}/resume`), 409, 'conflict'); // only bob resumes

    const during = await send(alice!, chatId, 'sent on hold');
    expect(during.message.state).toBe('held');
    // Bob does not have it yet: no event, not in his history; alice has it, marked held.
    expect((await drain(bob!)).filter((e) => e.type === 'chat.message')).toEqual([]);
    expect((await history(bob!, chatId)).map((m) => m.text)).not.toContain('sent on hold');
    expect((await history(alice!, chatId)).find((m) => m.text === 'sent on hold').state).toBe('held');
    const listed = (await ok(bob!.get('/api/v1/chats'))).chats.find((c: any) => c.id === chatId);
    expect(listed.lastMessage?.text).not.toBe('sent on hold');
    expect(listed.unread).toBe(0); // not counted before it is delivered

    const resumed = (await ok(bob!.post(`/api/v1/calls/${callId}/resume`))).call;
    expect(resumed.heldBy).toBeUndefined();
    expect((await alice!.waitFor('call.resumed', (e) => e.call.id === callId)).by).toBe(bob!.username);
    const delivered = await bob!.waitFor('chat.message', (e) => e.message.id === during.message.id);
    expect(delivered.message.state).toBeUndefined();
    expect((await history(bob!, chatId)).find((m) => m.id === during.message.id).state).toBeUndefined();
    expect((await ok(bob!.get('/api/v1/chats'))).chats.find((c: any) => c.id === chatId).unread).toBe(1);
    await send(alice!, chatId, 'after resume');
    expect((await bob!.waitFor('chat.message', (e) => e.message.text === 'after resume')).message.state).toBeUndefined();

    // Held again, then hung up while held: the messages come then.
    await ok(alice!.post(`/api/v1/calls/${callId}/hold`));
    const late = await send(bob!, chatId, 'held, then hung up');
    expect(late.message.state).toBe('held');
    await ok(alice!.post(`/api/v1/calls/${callId}/hangup`));
    expect((await alice!.waitFor('chat.message', (e) => e.message.id === late.message.id)).message.state).toBeUndefined();
    expectError(await alice!.post(`/api/v1/calls/${callId}/hold`), 409, 'conflict');
  });

  it('hold: a call of three cannot be held', async () => {
    const [a, b, c] = await users('a', 'b', 'c');
    const chatId = await groupChat(a!, b!, c!);
    const { call } = await ok(a!.post('/api/v1/calls', { chatId }), 201);
    await ok(b!.post(`/api/v1/calls/${call.id}/accept`));
    expectError(await a!.post(`/api/v1/calls/${call.id}/hold`), 409, 'conflict', 'c still rings');
    await ok(c!.post(`/api/v1/calls/${call.id}/accept`));
    expectError(await a!.post(`/api/v1/calls/${call.id}/hold`), 409, 'conflict', 'three');
    expectError(await a!.post(`/api/v1/calls/${call.id}/transfer`, { to: c!.username }), 409, 'conflict', 'three');
  });

  it('transfer accepted: the colleague is rung with who and why, takes over the call and the chat; the transferor leaves', async () => {
    const [agent, customer, colleague, eve] = await users('agent', 'customer', 'colleague', 'eve');
    const { chatId, callId } = await callOfTwo(agent!, customer!);
    await send(customer!, chatId, 'I need billing');
    const path = `/api/v1/calls/${callId}/transfer`;
    for (const body of [{}, { to: '' }, { to: 'a b' }, { to: colleague!.username, reason: 'x'.repeat(201) }, { to: colleague!.username, extra: true }]) {
      expectError(await agent!.post(path, body), 400, 'invalid_request', JSON.stringify(body));
    }
    expectError(await agent!.post(path, { to: 'nobody-at-all' }), 400, 'invalid_request');
    expectError(await eve!.post(path, { to: colleague!.username }), 404, 'not_found');
    expectError(await eve!.post(path, { to: 'nobody-at-all' }), 404, 'not_found');
    expectError(await agent!.post(path, { to: customer!.username }), 409, 'conflict');
    expectError(await agent!.post(path, { to: agent!.username }), 409, 'conflict');

    const ringing = (await ok(agent!.post(path, { to: colleague!.username, reason: 'billing question' }))).call;
    expect(ringing.transfer).toMatchObject({ from: agent!.username, to: colleague!.username, reason: 'billing question' });
    expect(ringing.heldBy).toBe(agent!.username);
    const ring = await colleague!.waitFor('call.ring', (e) => e.call.id === callId);
    expect(ring.call.transfer).toMatchObject({ from: agent!.username, fromName: expect.any(String), reason: 'billing question' });
    expect((await customer!.waitFor('call.held', (e) => e.call.id === callId)).by).toBe(agent!.username);
    expectError(await agent!.post(path, { to: eve!.username }), 409, 'conflict'); // one at a time
    // A message meanwhile is held, and comes to the colleague too once the call is theirs.
    const meanwhile = await send(customer!, chatId, 'still there?');
    expect(meanwhile.message.state).toBe('held');

    const taken = (await ok(colleague!.post(`/api/v1/calls/${callId}/accept`))).call;
    expect(taken.state).toBe('active');
    expect(stateOf(taken, agent!.username)).toBe('left');
    expect(stateOf(taken, customer!.username)).toBe('joined');
    expect(stateOf(taken, colleague!.username)).toBe('joined');
    expect(taken.transfer).toBeUndefined();
    expect(taken.heldBy).toBeUndefined();
    await customer!.waitFor('call.resumed', (e) => e.call.id === callId);
    await agent!.waitFor('call.updated', (e) => e.call.id === callId && stateOf(e.call, agent!.username) === 'left');
    // The colleague takes part in the chat and reads its whole history, held message included.
    const { chat } = await ok(colleague!.get(`/api/v1/chats/${chatId}`));
    expect(chat.members.find((m: any) => m.username === colleague!.username).status).toBe('accepted');
    expect((await history(colleague!, chatId)).map((m) => m.text)).toEqual(['I need billing', 'still there?']);
    await colleague!.waitFor('chat.message', (e) => e.message.id === meanwhile.message.id); // its poll listens to the chat now
    // The call goes on between the two: one hang-up ends it.
    await ok(customer!.post(`/api/v1/calls/${callId}/hangup`));
    expect((await colleague!.waitFor('call.ended', (e) => e.call.id === callId)).call.endReason).toBe('hangup');
  });

  it('transfer declined, or not answered in time: the call comes back to the transferor, off hold', async () => {
    const [agent, customer, colleague] = await users('agent', 'customer', 'colleague');
    const { chatId, callId } = await callOfTwo(agent!, customer!);
    await ok(agent!.post(`/api/v1/calls/${callId}/transfer`, { to: colleague!.username }));
    await colleague!.waitFor('call.ring', (e) => e.call.id === callId);
    expectError(await agent!.post(`/api/v1/calls/${callId}/resume`), 409, 'conflict'); // the transfer settles it
    const back = (await ok(colleague!.post(`/api/v1/calls/${callId}/decline`))).call;
    expect(back.state).toBe('active');
    expect(back.transfer).toBeUndefined();
    expect(back.heldBy).toBeUndefined();
    expect(stateOf(back, agent!.username)).toBe('joined');
    expect(stateOf(back, colleague!.username)).toBe('declined');
    await customer!.waitFor('call.resumed', (e) => e.call.id === callId);
    await agent!.waitFor('call.resumed', (e) => e.call.id === callId);
    // The colleague did not join the chat.
    expectError(await colleague!.get(`/api/v1/chats/${chatId}/messages`), 403, 'forbidden');

    // Again, and nobody answers: the ring times out the same way.
    await ok(agent!.post(`/api/v1/calls/${callId}/transfer`, { to: colleague!.username, reason: 'try again' }));
    const timedOut = await agent!.waitFor('call.resumed', (e) => e.call.id === callId, RING_SECONDS * 1000 + 5000);
    expect(stateOf(timedOut.call, colleague!.username)).toBe('missed');
    expect(timedOut.call.state).toBe('active');
    expect((await ok(agent!.get(`/api/v1/calls/${callId}`))).call.transfer).toBeUndefined();
  });

  it('warm transfer: the colleague joins and talks with the transferor while the other waits on hold; the transferor hangs up to hand over, or the colleague calls it off', async () => {
    const [agent, customer, colleague] = await users('agent', 'customer', 'colleague');
    const { chatId, callId } = await callOfTwo(agent!, customer!);
    const ringing = (await ok(agent!.post(`/api/v1/calls/${callId}/transfer`, { to: colleague!.username, reason: 'consult', warm: true }))).call;
    expect(ringing.transfer).toMatchObject({ to: colleague!.username, warm: true });
    await colleague!.waitFor('call.ring', (e) => e.call.id === callId && e.call.transfer?.warm === true);
    // The colleague answers: three are in it, still on hold for the customer, nobody handed over yet.
    const consult = (await ok(colleague!.post(`/api/v1/calls/${callId}/accept`))).call;
    expect(consult.members.map((m: any) => m.state)).toEqual(['joined', 'joined', 'joined']);
    expect(consult.heldBy).toBe(agent!.username);
    expect(consult.transfer?.warm).toBe(true);
    expectError(await colleague!.get(`/api/v1/chats/${chatId}/messages`), 403, 'forbidden'); // not the chat's yet
    expectError(await agent!.post(`/api/v1/calls/${callId}/resume`), 409, 'conflict');
    const held = await send(customer!, chatId, 'waiting on hold');
    expect(held.message.state).toBe('held');
    // The agent hangs up: the call is the colleague's, and so is the chat.
    const handed = (await ok(agent!.post(`/api/v1/calls/${callId}/hangup`))).call;
    expect(handed.state).toBe('active');
    expect(handed.members.map((m: any) => m.state)).toEqual(['left', 'joined', 'joined']);
    expect(handed.transfer).toBeUndefined();
    expect(handed.heldBy).toBeUndefined();
    await customer!.waitFor('call.resumed', (e) => e.call.id === callId);
    expect((await history(colleague!, chatId)).map((m) => m.text)).toContain('waiting on hold');

    // Again, and this time the colleague calls it off: back to the two, off hold.
    const [agent2, customer2, colleague2] = await users('agent2', 'customer2', 'colleague2');
    const second = await callOfTwo(agent2!, customer2!);
    await ok(agent2!.post(`/api/v1/calls/${second.callId}/transfer`, { to: colleague2!.username, warm: true }));
    await ok(colleague2!.post(`/api/v1/calls/${second.callId}/accept`));
    const back = (await ok(colleague2!.post(`/api/v1/calls/${second.callId}/hangup`))).call;
    expect(back.members.map((m: any) => m.state)).toEqual(['joined', 'joined', 'left']);
    expect(back.heldBy).toBeUndefined();
    expect(back.transfer).toBeUndefined();
    expectError(await colleague2!.get(`/api/v1/chats/${second.chatId}/messages`), 403, 'forbidden');
  });

  // Last: restarts the server.
  it('hold outlives a restart: the held message is kept, and delivered on resume', async () => {
    const [alice, bob] = await users('alice', 'bob');
    const { chatId, callId } = await callOfTwo(alice!, bob!);
    await ok(alice!.post(`/api/v1/calls/${callId}/hold`));
    const held = await send(bob!, chatId, 'across a restart');
    await drain(alice!);
    await server.close();
    await new Promise((r) => setTimeout(r, 100));
    server = await startTestServer({ ...options, port: server.port }, server.dataDir);
    expect((await ok(alice!.get(`/api/v1/calls/${callId}`))).call.heldBy).toBe(alice!.username);
    expect((await history(alice!, chatId)).map((m) => m.id)).not.toContain(held.message.id);
    expect((await history(bob!, chatId)).find((m) => m.id === held.message.id).state).toBe('held');
    await ok(alice!.post(`/api/v1/calls/${callId}/resume`));
    expect((await alice!.waitFor('chat.message', (e) => e.message.id === held.message.id)).message.text).toBe('across a restart');
    expect((await history(alice!, chatId)).find((m) => m.id === held.message.id).state).toBeUndefined();
  });
});
