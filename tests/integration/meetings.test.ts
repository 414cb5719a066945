/**
 * Meetings with guests (issue 19), against a real server: numbers, knock → admit/reject, a guest's
 * chat, a guest kept to its meeting, the end of a meeting revoking guest tokens (and ending a held
 * poll), the knock rate limit and its timing, documents turned into page images, the page shown
 * and the pointer.
 */
import { backend } from '../helpers/backend.js';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomNumber } from '../../server/src/meetings/rules.js';
import { Event } from '../../shared/index.js';
import { createChat } from '../helpers/chat.js';
import { tinyPdf } from '../helpers/pdf.js';
import { Client, PASSWORD, collect, expectError, send, startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let host: Client;
let other: Client;
let bob: Client;

beforeAll(async () => {
  server = await startTestServer({ knocksPerMinute: 100_000 });
  host = await server.user('mt-host', 'Hanna Host');
  other = await server.user('mt-other');
  bob = await server.user('mt-bob');
  for (const c of [host, other, bob]) await c.poll(0);
});
afterAll(() => server?.destroy());

async function meeting(client = host, body: object = { title: 'Demo' }) {
  const res = await client.post('/api/v1/meetings', body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.meeting;
}

/** Knocks as a guest; answers a Client holding the guest token with its cursor set. */
async function knock(number: string, name: string) {
  const res = await new Client(server.url).post('/api/v1/guest/knock', { number, name });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  const guest = new Client(server.url, res.body.guest.token, `guest:${name}`);
  guest.cursor = res.body.cursor;
  return { guest, id: res.body.guest.id as number };
}

/** The event is one of the protocol's (shared/meetings.ts and the Event union). */
function valid(event: any) {
  const parsed = Event.safeParse(event);
  expect(parsed.success, `${JSON.stringify(event)}: ${parsed.error?.message}`).toBe(true);
  return event;
}

/** Knock, the host sees it, admits, the guest learns it. */
async function admitted(m: any, name: string) {
  const { guest, id } = await knock(m.number, name);
  const seen = valid(await host.waitFor('meeting.knock', (e) => e.guest.id === id));
  expect(seen).toMatchObject({ meetingId: m.id, guest: { id, name, address: expect.any(String) } });
  expect((await host.post(`/api/v1/meetings/${m.id}/guests/${id}/admit`)).status).toBe(200);
  const event = valid(await guest.waitFor('meeting.admitted'));
  return { guest, id, event };
}

function upload(client: Client, meetingId: string, data: Buffer, type: string) {
  return send(`${server.url}/api/v1/meetings/${meetingId}/documents`, {
    method: 'POST',
    headers: { authorization: `Bearer ${client.token}`, 'content-type': type },
    body: new Uint8Array(data),
  });
}

describe('meeting numbers', () => {
  // On PostgreSQL each of the 10,000 creations is its own fsync'd transaction behind the cluster's
  // write lock (no group commit there yet): about 12 ms each on the test machine, past the 120 s.
  it.skipIf(backend === 'postgres')('11 digits, never a mobile prefix; 10,000 live meetings have 10,000 different numbers', { timeout: 120_000 }, async () => {
    for (let i = 0; i < 10_000; i++) {
      const n = randomNumber();
      expect(n).toMatch(/^\d{11}$/);
      expect(['090', '080', '070', '050']).not.toContain(n.slice(0, 3));
    }
    const many = await server.user('mt-many');
    const numbers = new Set<string>();
    for (let batch = 0; batch < 100; batch++) {
      const made = await Promise.all(Array.from({ length: 100 }, () => many.post('/api/v1/meetings', {})));
      for (const res of made) {
        expect(res.status).toBe(201);
        expect(res.body.meeting.number).toMatch(/^\d{11}$/);
        expect(['090', '080', '070', '050']).not.toContain(res.body.meeting.number.slice(0, 3));
        numbers.add(res.body.meeting.number);
      }
    }
    expect(numbers.size).toBe(10_000);
    expect((await many.get('/api/v1/meetings')).body.meetings).toHaveLength(10_000);
  });

  it('a fixed number stays the host’s from one meeting to the next; the previous one on it ends', async () => {
    const first = await meeting(bob, { fixed: true });
    const { guest } = await knock(first.number, 'Early');
    // A guest holding its poll is told the meeting ended; then its token is refused.
    const held = guest.get(`/api/v1/events?wait=20&after=${guest.cursor}`);
    await new Promise((r) => setTimeout(r, 200));
    const second = await meeting(bob, { fixed: true, title: 'Again' });
    expect(second.number).toBe(first.number);
    expect(second.id).not.toBe(first.id);
    expect(second).toMatchObject({ fixed: true, title: 'Again', host: { username: 'mt-bob' }, joinUrl: expect.stringContaining(first.number) });
    expect((await held).body.events).toEqual([expect.objectContaining({ type: 'meeting.ended', meetingId: first.id })]);
    expectError(await guest.get('/api/v1/events?wait=0'), 401, 'unauthorized');
    const fresh = await meeting(bob);
    expect(fresh.number).not.toBe(first.number);
    expect((await bob.get('/api/v1/meetings')).body.meetings.map((m: any) => m.id).sort()).toEqual([second.id, fresh.id].sort());
  });
});

describe('knock, admit, reject', () => {
  it('an admitted guest chats in the meeting chat; its messages show its name as a guest', async () => {
    const m = await meeting();
    const { guest, event } = await admitted(m, 'Gina');
    expect(event).toMatchObject({
      meeting: { id: m.id, number: m.number, title: 'Demo', chatId: m.chatId },
      host: { username: 'mt-host', displayName: 'Hanna Host' },
      guests: [{ name: 'Gina' }],
    });
    const sent = await guest.put(`/api/v1/chats/${m.chatId}/messages/g-1`, { text: 'hello from a guest' });
    expect(sent.status, JSON.stringify(sent.body)).toBe(201);
    expect(sent.body.message).toMatchObject({ from: 'Gina (guest)', text: 'hello from a guest', clientId: 'g-1' });
    // A retry stores nothing twice; another text under the same id is refused.
    expect((await guest.put(`/api/v1/chats/${m.chatId}/messages/g-1`, { text: 'hello from a guest' })).status).toBe(200);
    expectError(await guest.put(`/api/v1/chats/${m.chatId}/messages/g-1`, { text: 'else' }), 409, 'idempotency_conflict');
    const heard = await host.waitFor('chat.message', (e) => e.message.chatId === m.chatId);
    expect(heard.message.from).toBe('Gina (guest)');
    // The host answers in the same chat (its only member: open while the meeting lasts).
    expect((await host.put(`/api/v1/chats/${m.chatId}/messages/h-1`, { text: 'welcome' })).status).toBe(201);
    expect((await guest.waitFor('chat.message', (e) => e.message.from === 'mt-host')).message).toMatchObject({ text: 'welcome' });
    const history = await guest.get(`/api/v1/chats/${m.chatId}/messages`);
    expect(history.status).toBe(200);
    expect(history.body.messages.map((x: any) => x.text)).toEqual(['hello from a guest', 'welcome']);
  });

  it('a rejected guest is told and its token ends', async () => {
    const m = await meeting();
    const { guest, id } = await knock(m.number, 'Rex');
    await host.waitFor('meeting.knock', (e) => e.guest.id === id);
    // While knocking it may poll, not chat.
    expectError(await guest.put(`/api/v1/chats/${m.chatId}/messages/r-1`, { text: 'let me in' }), 403, 'forbidden');
    const held = guest.get(`/api/v1/events?wait=20&after=${guest.cursor}`);
    await new Promise((r) => setTimeout(r, 200));
    const rejected = await host.post(`/api/v1/meetings/${m.id}/guests/${id}/reject`);
    expect(rejected.status).toBe(200);
    expect(rejected.body.guest).toEqual({ id, name: 'Rex' });
    expect((await held).body.events.map(valid)).toEqual([expect.objectContaining({ type: 'meeting.rejected', meetingId: m.id })]);
    expectError(await guest.get('/api/v1/events?wait=0'), 401, 'unauthorized');
    // It cannot be admitted after that.
    expectError(await host.post(`/api/v1/meetings/${m.id}/guests/${id}/admit`), 409, 'conflict');
  });

  it('a second guest mid-meeting: it learns who is there, the others learn it joined', async () => {
    const m = await meeting();
    const first = await admitted(m, 'First');
    await collect(host, 1, (e) => e.type === 'meeting.joined' && e.guest.id === first.id);
    const second = await admitted(m, 'Second');
    expect(second.event.guests).toEqual([
      { id: first.id, name: 'First' },
      { id: second.id, name: 'Second' },
    ]);
    expect(valid(await first.guest.waitFor('meeting.joined', (e) => e.guest.id === second.id))).toMatchObject({ meetingId: m.id, guest: { name: 'Second' } });
    await host.waitFor('meeting.joined', (e) => e.guest.id === second.id);
    // The first guest hears the second one's message.
    expect((await second.guest.put(`/api/v1/chats/${m.chatId}/messages/s-1`, { text: 'hi all' })).status).toBe(201);
    expect((await first.guest.waitFor('chat.message', (e) => e.message.text === 'hi all')).message.from).toBe('Second (guest)');
  });

  it('only the host admits; another user is told the meeting does not exist', async () => {
    const m = await meeting();
    const { id } = await knock(m.number, 'Nobody');
    expectError(await other.post(`/api/v1/meetings/${m.id}/guests/${id}/admit`), 404, 'not_found');
    expectError(await other.delete(`/api/v1/meetings/${m.id}`), 404, 'not_found');
    expect((await other.get('/api/v1/meetings')).body.meetings).toEqual([]);
  });
});

describe('a guest reaches its meeting and nothing else', () => {
  it('directory, contacts, chats, other chats, admin, another meeting: refused', async () => {
    const m = await meeting();
    const otherMeeting = await meeting(bob);
    const { guest } = await admitted(m, 'Curious');
    const privateChat = await createChat(host, other);
    for (const path of ['/api/v1/me', '/api/v1/users?q=mt', '/api/v1/contacts', '/api/v1/chats', `/api/v1/chats/${m.chatId}`, '/api/v1/admin/users', '/api/v1/meetings', '/api/v1/channels']) {
      expectError(await guest.get(path), 403, 'forbidden', path);
    }
    expectError(await guest.get(`/api/v1/chats/${privateChat.id}/messages`), 403, 'forbidden');
    expectError(await guest.put(`/api/v1/chats/${privateChat.id}/messages/x-1`, { text: 'sneak' }), 403, 'forbidden');
    expectError(await guest.post('/api/v1/chats', { invitees: ['mt-other'] }), 403, 'forbidden');
    expectError(await guest.post('/api/v1/meetings', {}), 403, 'forbidden');
    expectError(await guest.post(`/api/v1/meetings/${otherMeeting.id}/guests/1/admit`), 403, 'forbidden');
    expectError(await guest.get(`/api/v1/meetings/${otherMeeting.id}/documents`), 404, 'not_found');
    expectError(await guest.put(`/api/v1/chats/${otherMeeting.chatId}/messages/x-2`, { text: 'sneak' }), 403, 'forbidden');
    expectError(await guest.delete(`/api/v1/meetings/${m.id}`), 403, 'forbidden');
    expectError(await guest.post('/api/v1/logout'), 403, 'forbidden');
  });
});

describe('every route a guest token is not declared for', () => {
  /** The routes that accept a guest token (declared `guests: true`); every other one answers it 403. */
  const GUEST_ROUTES = [
    'get /api/v1/events',
    'put /api/v1/chats/{id}/messages/{clientId}',
    'get /api/v1/chats/{id}/messages',
    'post /api/v1/meetings/{id}/documents',
    'get /api/v1/meetings/{id}/documents',
    'put /api/v1/meetings/{id}/presentation',
    'post /api/v1/meetings/{id}/pointer',
    // its meeting chat's call
    'get /api/v1/calls/ice-servers',
    'post /api/v1/calls',
    'get /api/v1/calls/{id}',
    'post /api/v1/calls/{id}/accept',
    'post /api/v1/calls/{id}/decline',
    'post /api/v1/calls/{id}/hangup',
    'post /api/v1/calls/{id}/signal',
    'put /api/v1/calls/{id}/relay/{seqOrMember}',
    'get /api/v1/calls/{id}/relay/{seqOrMember}',
  ];

  it('answers 403 forbidden, whatever the path values and body, before reading them', async () => {
    const m = await meeting();
    const { guest } = await admitted(m, 'Sweeper');
    const doc = (await new Client(server.url).get('/api/v1/openapi.json')).body;
    let tried = 0;
    for (const [path, methods] of Object.entries(doc.paths as Record<string, Record<string, any>>)) {
      for (const [method, op] of Object.entries(methods)) {
        const key = `${method} ${path}`;
        // Token routes only (not /metrics, open from loopback: `{}` among its schemes).
        const security: object[] = op.security ?? [];
        const bearerOnly = security.some((s) => 'bearer' in s) && !security.some((s) => Object.keys(s).length === 0);
        if (!bearerOnly || GUEST_ROUTES.includes(key)) continue;
        const url = path.replace(/\{(\w+)\}/g, (_, name: string) => (name === 'id' ? m.id : name === 'guestId' ? '1' : 'x'));
        const res = await guest.request(method.toUpperCase(), url, op.requestBody ? {} : undefined);
        expectError(res, 403, 'forbidden', `guest ${key}`);
        tried++;
      }
    }
    expect(tried).toBeGreaterThan(40);
    // The guest still takes part: the refusals changed nothing.
    expect((await guest.put(`/api/v1/chats/${m.chatId}/messages/sw-1`, { text: 'still here' })).status).toBe(201);
  });
});

describe('the meeting’s call', () => {
  it('the host calls, a guest answers and signals; a guest calls; the meeting’s end hangs the guests up', async () => {
    const m = await meeting();
    const { guest, id } = await admitted(m, 'Caller');
    const member = `guest-${id}`;
    const started = await host.post('/api/v1/calls', { chatId: m.chatId, video: false });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    const call = started.body.call;
    expect(call.members).toEqual([
      { username: 'mt-host', displayName: 'Hanna Host', state: 'joined' },
      { username: member, displayName: 'Caller (guest)', state: 'ringing' },
    ]);
    expect((await guest.waitFor('call.ring')).call.id).toBe(call.id);
    expect((await guest.get(`/api/v1/calls/${call.id}`)).status).toBe(200);
    const accepted = await guest.post(`/api/v1/calls/${call.id}/accept`);
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(200);
    expect(accepted.body.call.state).toBe('active');
    await host.waitFor('call.updated', (e) => e.call.id === call.id && e.call.state === 'active');
    // Signalling both ways.
    expect((await guest.post(`/api/v1/calls/${call.id}/signal`, { to: 'mt-host', signal: { kind: 'path', path: 'direct' } })).status).toBe(200);
    expect(await host.waitFor('call.signal', (e) => e.callId === call.id)).toMatchObject({ from: member });
    expect((await host.post(`/api/v1/calls/${call.id}/signal`, { to: member, signal: { kind: 'path', path: 'turn' } })).status).toBe(200);
    expect(await guest.waitFor('call.signal', (e) => e.callId === call.id)).toMatchObject({ from: 'mt-host' });
    expect((await guest.get('/api/v1/calls/ice-servers')).status).toBe(200);
    // Nobody else sees the call; the guest calls no other chat.
    expectError(await other.get(`/api/v1/calls/${call.id}`), 404, 'not_found');
    const privateChat = await createChat(host, other);
    expectError(await guest.post('/api/v1/calls', { chatId: privateChat.id }), 404, 'not_found');
    // The guest hangs up (a 1:1 call ends), then calls the host itself.
    expect((await guest.post(`/api/v1/calls/${call.id}/hangup`)).status).toBe(200);
    await host.waitFor('call.ended', (e) => e.call.id === call.id);
    const second = await guest.post('/api/v1/calls', { chatId: m.chatId, video: true });
    expect(second.status, JSON.stringify(second.body)).toBe(201);
    expect((await host.waitFor('call.ring', (e) => e.call.id === second.body.call.id)).call.createdBy).toBe(member);
    expect((await host.post(`/api/v1/calls/${second.body.call.id}/accept`)).status).toBe(200);
    // The meeting ends: the guest is hung up, the call ends for the host.
    expect((await host.delete(`/api/v1/meetings/${m.id}`)).status).toBe(200);
    // The chat's record line (by the guest who called) comes in the same write, just before call.ended.
    const [line, ended] = await collect(host, 2, (e) => e.message?.call?.id === second.body.call.id || (e.type === 'call.ended' && e.call.id === second.body.call.id));
    expect(line.message.from).toBe(member);
    expect(ended.call.members.find((x: any) => x.username === member).state).toBe('left');
  });
});

describe('the end of a meeting', () => {
  it('ends the guests’ held polls at once, then their tokens answer 401', async () => {
    const m = await meeting();
    const { guest } = await admitted(m, 'Stayer');
    const knocking = await knock(m.number, 'Late');
    const started = Date.now();
    const held = guest.get(`/api/v1/events?wait=30&after=${guest.cursor}`);
    const heldKnocking = knocking.guest.get(`/api/v1/events?wait=30&after=${knocking.guest.cursor}`);
    await new Promise((r) => setTimeout(r, 200));
    expect((await host.delete(`/api/v1/meetings/${m.id}`)).status).toBe(200);
    const [answer, answerKnocking] = await Promise.all([held, heldKnocking]);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(answer.body.events.map((e: any) => e.type)).toContain('meeting.ended');
    answer.body.events.forEach(valid);
    expect(answerKnocking.body.events.map((e: any) => e.type)).toContain('meeting.ended');
    for (const g of [guest, knocking.guest]) {
      expectError(await g.get('/api/v1/events?wait=0'), 401, 'unauthorized');
      expectError(await g.put(`/api/v1/chats/${m.chatId}/messages/after`, { text: 'still here?' }), 401, 'unauthorized');
    }
    // Its number is free: a knock on it is a 404, and the host's own chat is closed.
    expectError(await new Client(server.url).post('/api/v1/guest/knock', { number: m.number, name: 'Too late' }), 404, 'not_found');
    expectError(await host.put(`/api/v1/chats/${m.chatId}/messages/h-late`, { text: 'anyone?' }), 409, 'chat_not_active');
    expect((await host.get('/api/v1/meetings')).body.meetings.map((x: any) => x.id)).not.toContain(m.id);
  });
});

describe('a restart', () => {
  it('keeps the meeting, its number and its guests’ tokens', async () => {
    let own = await startTestServer();
    try {
      const hostess = await own.user('mt-restart');
      const m = (await hostess.post('/api/v1/meetings', { title: 'Kept' })).body.meeting;
      const res = await new Client(own.url).post('/api/v1/guest/knock', { number: m.number, name: 'Patient' });
      expect(res.status).toBe(202);
      expect((await hostess.post(`/api/v1/meetings/${m.id}/guests/${res.body.guest.id}/admit`)).status).toBe(200);
      own = await own.restart();
      const guest = new Client(own.url, res.body.guest.token);
      expect((await guest.put(`/api/v1/chats/${m.chatId}/messages/after-restart`, { text: 'still in' })).status).toBe(201);
      const again = await Client.login(own.url, 'mt-restart', PASSWORD);
      expect((await again.get('/api/v1/meetings')).body.meetings).toEqual([expect.objectContaining({ id: m.id, number: m.number, title: 'Kept' })]);
      expect((await new Client(own.url).post('/api/v1/guest/knock', { number: m.number, name: 'Second' })).status).toBe(202);
    } finally {
      await own.destroy();
    }
  });
});

describe('knocking', () => {
  it('an unknown number is a 404 after about the same time as a known one', async () => {
    const m = await meeting();
    const anyone = new Client(server.url);
    const time = async (number: string) => {
      const t = performance.now();
      const res = await anyone.post('/api/v1/guest/knock', { number, name: 'Timer' });
      return { ms: performance.now() - t, status: res.status };
    };
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 5; i++) {
      const k = await time(m.number);
      expect(k.status).toBe(202);
      known.push(k.ms);
      let n = randomNumber();
      while (n === m.number) n = randomNumber();
      const u = await time(n);
      expect(u.status).toBe(404);
      unknown.push(u.ms);
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[2]!;
    expect(median(known)).toBeGreaterThanOrEqual(290);
    expect(median(unknown)).toBeGreaterThanOrEqual(290);
    expect(Math.abs(median(known) - median(unknown))).toBeLessThan(150);
  });

  it('bad knocks are 400s: a number of the wrong shape, no name', async () => {
    const anyone = new Client(server.url);
    expectError(await anyone.post('/api/v1/guest/knock', { number: '123', name: 'x' }), 400, 'invalid_request');
    expectError(await anyone.post('/api/v1/guest/knock', { number: '12345678901', name: '  ' }), 400, 'invalid_request');
  });

  it('at most 20 knocks a minute per address: then 429 with Retry-After', async () => {
    const limited = await startTestServer();
    try {
      const anyone = new Client(limited.url);
      for (let i = 0; i < 20; i++) expect((await anyone.post('/api/v1/guest/knock', { number: randomNumber(), name: 'Guesser' })).status).toBe(404);
      const res = await anyone.post('/api/v1/guest/knock', { number: randomNumber(), name: 'Guesser' });
      expectError(res, 429, 'rate_limited');
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    } finally {
      await limited.destroy();
    }
  });
});

describe('documents, the page shown, the pointer', () => {
  it('a 3-page PDF becomes 3 page images everyone in the meeting can load; the page shown and the pointer reach the guest', async () => {
    const m = await meeting();
    const { guest, id } = await admitted(m, 'Viewer');
    const res = await upload(host, m.id, tinyPdf(3), 'application/pdf');
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const doc = res.body.document;
    expect(doc.pages).toHaveLength(3);
    for (const page of doc.pages) {
      expect(page.width).toBeGreaterThan(0);
      expect(page.height).toBeGreaterThan(0);
      expect(Math.max(page.width, page.height)).toBeLessThanOrEqual(1600);
      const img = await fetch(server.url + page.url);
      expect(img.status).toBe(200);
      expect(img.headers.get('content-type')).toBe('image/png');
      expect((await img.arrayBuffer()).byteLength).toBeGreaterThan(0);
    }
    const stored = join(server.dataDir, 'meetings', m.id, doc.id, 'p1.png');
    expect(statSync(stored).mode & 0o777).toBe(0o600);
    // A tampered link is refused.
    expect((await fetch(server.url + doc.pages[0].url.replace('/p1.png', '/p2.png'))).status).toBe(403);
    // The guest lists the documents.
    expect((await guest.get(`/api/v1/meetings/${m.id}/documents`)).body.documents.map((d: any) => d.id)).toEqual([doc.id]);

    const shown = await host.put(`/api/v1/meetings/${m.id}/presentation`, { documentId: doc.id, page: 2 });
    expect(shown.status, JSON.stringify(shown.body)).toBe(200);
    const page = valid(await guest.waitFor('meeting.page'));
    expect(page).toMatchObject({ meetingId: m.id, page: 2, document: { id: doc.id } });
    expect(page.document.pages).toHaveLength(3);
    expectError(await host.put(`/api/v1/meetings/${m.id}/presentation`, { documentId: doc.id, page: 4 }), 400, 'invalid_request');

    // The pointer reaches a held poll, and is not in the log.
    const held = guest.get(`/api/v1/events?wait=10&after=${guest.cursor}`);
    await new Promise((r) => setTimeout(r, 200));
    expect((await host.post(`/api/v1/meetings/${m.id}/pointer`, { x: 0.25, y: 0.5 })).status).toBe(200);
    const answer = await held;
    expect(answer.body.events).toEqual([expect.objectContaining({ type: 'meeting.pointer', x: 0.25, y: 0.5, page: 2, documentId: doc.id, from: 'mt-host' })]);
    valid(answer.body.events[0]);
    expect(answer.body.cursor).toBe(guest.cursor);
    expect((await guest.get(`/api/v1/events?wait=0&after=0`)).body.events.map((e: any) => e.type)).not.toContain('meeting.pointer');
    expectError(await host.post(`/api/v1/meetings/${m.id}/pointer`, { x: 2, y: 0 }), 400, 'invalid_request');

    // A guest let in now starts on the page shown.
    const late = await admitted(m, 'Latecomer');
    expect(late.event.presentation).toMatchObject({ page: 2, document: { id: doc.id } });
    expect(late.event.presentation.document.pages).toHaveLength(3);

    // A few moves a second; past that 429 with Retry-After.
    const moves = await Promise.all(Array.from({ length: 15 }, () => host.post(`/api/v1/meetings/${m.id}/pointer`, { x: 0.1, y: 0.1 })));
    const limited = moves.find((r) => r.status === 429);
    expect(limited, 'a 429 among 15 moves at once').toBeDefined();
    expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThan(0);

    // A guest presents only once the host allows it.
    expectError(await upload(guest, m.id, tinyPdf(1), 'application/pdf'), 403, 'forbidden');
    expectError(await guest.put(`/api/v1/meetings/${m.id}/presentation`, { documentId: doc.id, page: 1 }), 403, 'forbidden');
    expect((await host.post(`/api/v1/meetings/${m.id}/guests/${id}/presenter`, { allowed: true })).status).toBe(200);
    const own = await upload(guest, m.id, tinyPdf(1), 'application/pdf');
    expect(own.status, JSON.stringify(own.body)).toBe(201);
    expect(own.body.document.pages).toHaveLength(1);
    expect((await guest.put(`/api/v1/meetings/${m.id}/presentation`, { documentId: own.body.document.id, page: 1 })).status).toBe(200);
    // Another user may neither upload to nor list this meeting's documents.
    expectError(await upload(other, m.id, tinyPdf(1), 'application/pdf'), 404, 'not_found');
    expectError(await other.get(`/api/v1/meetings/${m.id}/documents`), 404, 'not_found');

    // The meeting ends: its page images are gone.
    expect((await host.delete(`/api/v1/meetings/${m.id}`)).status).toBe(200);
    expect((await fetch(server.url + doc.pages[0].url)).status).toBe(404);
  });

  it('a PNG is one page; a malformed PDF is a clear 400; other files a 415', async () => {
    const m = await meeting();
    const png = (await import('sharp')).default({ create: { width: 40, height: 30, channels: 3, background: '#36c' } }).png();
    const res = await upload(host, m.id, await png.toBuffer(), 'image/png');
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.document.pages).toEqual([{ url: expect.any(String), width: 40, height: 30 }]);
    const broken = await upload(host, m.id, Buffer.from('%PDF-1.4\n1 0 obj\n<< this is not a pdf >>\nendobj\ntrailer garbage\n%%EOF\n'), 'application/pdf');
    expectError(broken, 400, 'invalid_request');
    expect(broken.body.error.message).toMatch(/PDF/);
    expectError(await upload(host, m.id, Buffer.from('just some text'), 'application/pdf'), 415, 'unsupported_media_type');
    expectError(await upload(host, m.id, tinyPdf(1), 'text/plain'), 415, 'unsupported_media_type');
  });
});
