/**
 * The rules moved out of the store, run against the real embedded store (in memory): each is
 * one write through `store.write(tx => ...)`, atomic, and the store itself raises only
 * storage errors. The same against the PostgreSQL store (issue 15: its own database per test
 * on a real PostgreSQL).
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { insertUser } from '../../server/src/admin/accounts.js';
import { startCall } from '../../server/src/calls/transitions.js';
import { createChat, leaveAllChats, moveMember, putMessage } from '../../server/src/chat/rules.js';
import { addContact } from '../../server/src/contacts/rules.js';
import { announcePresence, announceRemoval, refreshPresenceOf } from '../../server/src/presence/rules.js';
import { StoreError } from '../../server/src/store/errors.js';
import { PgStore } from '../../server/src/store/pg-store.js';
import { SqliteStore } from '../../server/src/store/sqlite.js';
import type { Store, StoredEvent, UserRecord } from '../../server/src/store/store.js';
import { HAVE_POSTGRES, startPostgres, type Postgres } from '../helpers/postgres.js';

type RulesStore = Store;

let postgres: Postgres | undefined;
let databases = 0;
const backends: Array<{ name: string; open: () => Promise<RulesStore> }> = [{ name: 'SQLite', open: async () => new SqliteStore(':memory:') }];
if (HAVE_POSTGRES) {
  backends.push({
    name: 'PostgreSQL',
    open: async () => {
      const name = `rules${++databases}`;
      await postgres!.query(`CREATE DATABASE ${name}`);
      return PgStore.open(postgres!.url.replace(/\/portico$/, `/${name}`), { max: 4 });
    },
  });
  beforeAll(async () => {
    postgres = await startPostgres();
  }, 90_000);
  afterAll(async () => {
    await postgres?.destroy();
  });
}

describe.each(backends)('rules over the store transaction ($name)', ({ open }) => {
  let store: RulesStore;
  let events: StoredEvent[];
  let ann: UserRecord, ben: UserRecord, cid: UserRecord;
  const user = (username: string) => store.createUser({ username, displayName: username, passwordHash: 'x', isAdmin: false });
  const types = () => events.map((e) => `${e.topic} ${JSON.parse(e.json).type}`);

  beforeEach(async () => {
    store = await open();
    events = [];
    store.onCommit((e) => events.push(...e));
    [ann, ben, cid] = await Promise.all([user('ann'), user('ben'), user('cid')]);
  });
  afterEach(() => store.close());

  it('the store raises a storage error for a taken username; the accounts feature names it username_taken', async () => {
    const taken = await store.createUser({ username: 'ANN', displayName: 'x', passwordHash: 'x', isAdmin: false }).catch((e) => e);
    expect(taken).toBeInstanceOf(StoreError);
    expect(taken).toMatchObject({ kind: 'unique', status: 409, code: 'conflict' });
    await expect(insertUser(store, { username: 'Ann', displayName: 'x', passwordHash: 'x', isAdmin: false })).rejects.toMatchObject({ code: 'username_taken' });
  });

  it('a chat: requested, accepted, messages while pending or active, one per client id, closed when the other leaves', async () => {
    const chat = await store.write((tx) => createChat(tx, ann.id, [ben.id]));
    expect(types()).toEqual([`u:${ben.id} chat.request`]);
    const send = (from: UserRecord, clientId: string, text: string) => store.write((tx) => putMessage(tx, { chatId: chat.id, fromUserId: from.id, fromUsername: from.username, clientId, text }));
    // Pending: the creator's message is kept, and the invitee hears of it on their own topic (issue 16).
    expect((await send(ann, 'a0', 'early')).created).toBe(true);
    await expect(send(cid, 'c1', 'hi')).rejects.toMatchObject({ code: 'forbidden' });
    await expect(store.write((tx) => moveMember(tx, chat.id, cid.id, ['invited'], 'accepted'))).rejects.toMatchObject({ code: 'forbidden' });
    expect((await store.write((tx) => moveMember(tx, chat.id, ben.id, ['invited'], 'accepted'))).state).toBe('active');
    await expect(store.write((tx) => moveMember(tx, chat.id, ben.id, ['invited'], 'accepted'))).rejects.toMatchObject({ code: 'conflict' });
    const first = await send(ann, 'a1', 'hi');
    expect(first.created).toBe(true);
    expect(await send(ann, 'a1', 'hi')).toEqual({ message: first.message, created: false });
    await expect(send(ann, 'a1', 'other')).rejects.toMatchObject({ code: 'idempotency_conflict' });
    await expect(store.write((tx) => putMessage(tx, { chatId: 'nope', fromUserId: ann.id, fromUsername: ann.username, clientId: 'x', text: 'x' }))).rejects.toMatchObject({ code: 'not_found' });
    await store.write((tx) => moveMember(tx, chat.id, ben.id, ['invited', 'accepted'], 'left'));
    await expect(store.write((tx) => moveMember(tx, chat.id, ann.id, ['invited'], 'accepted'))).rejects.toMatchObject({ code: 'chat_closed' });
    await expect(send(ann, 'a2', 'anyone?')).rejects.toMatchObject({ code: 'chat_not_active' });
    expect(types().slice(1)).toEqual([
      `c:${chat.id} chat.message`,
      `u:${ben.id} chat.message`,
      `c:${chat.id} chat.accepted`,
      `c:${chat.id} chat.message`,
      `c:${chat.id} chat.left`,
    ]);
    expect((await store.messages(chat.id, undefined, 10)).map((m) => m.text)).toEqual(['early', 'hi']);
  });

  it('what a send checks, read at once, is what the single reads answer (members, hold, a retry with files and mentions)', async () => {
    const chat = await store.write((tx) => createChat(tx, ann.id, [ben.id, cid.id]));
    await store.write((tx) => moveMember(tx, chat.id, ben.id, ['invited'], 'accepted'));
    await store.write((tx) => tx.insertChatFile({ id: 'f-1', chatId: chat.id, uploaderId: ann.id, name: 'a.png', size: 3, contentType: 'image/png', sha256: 'x', thumbSha256: 'y', createdAt: 1 }));
    await store.write((tx) => putMessage(tx, { chatId: chat.id, fromUserId: ann.id, fromUsername: ann.username, clientId: 'c-1', text: 'hi @ben', files: ['f-1'] }));
    const single = (clientId: string, userId = ann.id) =>
      store.write(async (tx) => ({
        members: await tx.memberStatuses(chat.id),
        held: await tx.calls.heldInChat(chat.id),
        existing: await tx.messageByClientId(chat.id, userId, clientId),
      }));
    const atOnce = (clientId: string, userId = ann.id) => store.write((tx) => tx.sendChecks(chat.id, userId, clientId));
    const sorted = <T extends { members: Array<[number, string]> }>(c: T) => ({ ...c, members: [...c.members].sort((a, b) => a[0] - b[0]) });
    const retry = await atOnce('c-1');
    expect(retry.existing).toMatchObject({ text: 'hi @ben', mentions: ['ben'], files: [{ id: 'f-1', name: 'a.png' }] });
    expect(sorted(retry)).toEqual(sorted(await single('c-1')));
    expect(sorted(await atOnce('new'))).toEqual(sorted(await single('new')));
    expect((await atOnce('new')).existing).toBeUndefined();
    // A call on hold in the chat; a chat nobody is in, for a sender who does not exist.
    const callId = await store.write((tx) => tx.calls.insert({ chatId: chat.id, createdBy: 'ann', createdAt: 1, video: false, members: [[ann.id, 'joined'], [ben.id, 'joined']] }));
    await store.write((tx) => tx.calls.setHold(callId, ann.id));
    expect((await atOnce('new')).held).toBe(true);
    expect(sorted(await atOnce('new'))).toEqual(sorted(await single('new')));
    expect(await store.write((tx) => tx.sendChecks('no-such-chat', 999_999, 'x'))).toEqual({ members: [], held: false, existing: undefined });
  });

  it('a rule that throws midway undoes its writes and events (check-then-write is one transaction)', async () => {
    const chat = await store.write((tx) => createChat(tx, ann.id, [ben.id, cid.id]));
    events = [];
    await expect(
      store.write(async (tx) => {
        await moveMember(tx, chat.id, ben.id, ['invited'], 'accepted');
        await moveMember(tx, chat.id, ben.id, ['invited'], 'accepted'); // not from accepted: throws
      }),
    ).rejects.toMatchObject({ code: 'conflict' });
    expect(events).toEqual([]);
    expect((await store.chatById(chat.id))!.memberStatus.get(ben.id)).toBe('invited');
  });

  it('removing a user: watchers told they are offline and that their contacts changed, their chats left, then the rows go', async () => {
    await store.write((tx) => addContact(tx, ben.id, ann.id));
    const chat = await store.write((tx) => createChat(tx, ann.id, [ben.id]));
    await store.write((tx) => moveMember(tx, chat.id, ben.id, ['invited'], 'accepted'));
    expect(await store.write((tx) => announcePresence(tx, ann.id, 'available'))).toBe(true);
    expect(await store.write((tx) => announcePresence(tx, ann.id, 'available'))).toBe(false);
    events = [];
    await store.write(async (tx) => {
      await announceRemoval(tx, (await tx.user(ann.id))!);
      await leaveAllChats(tx, ann.id);
      await tx.deleteUser(ann.id);
    });
    expect(types()).toEqual([`u:${ben.id} presence`, `u:${ben.id} contacts.changed`, `c:${chat.id} chat.left`]);
    expect(await store.userById(ann.id)).toBeUndefined();
    expect((await store.chatById(chat.id))!.chat.state).toBe('closed');
  });

  it('presence of many users in one write: announced in the order given, only where it changed, unknown users skipped', async () => {
    await store.write((tx) => announcePresence(tx, ben.id, 'busy'));
    events = [];
    const want = new Map([[ann.id, 'available'], [ben.id, 'busy'], [cid.id, 'away']] as const);
    await store.write((tx) => refreshPresenceOf(tx, [cid.id, 9999, ben.id, ann.id], (u) => want.get(u.id)!));
    expect(events.map((e) => JSON.parse(e.json)).map((e) => `${e.username} ${e.state}`)).toEqual(['cid away', 'ann available']);
    expect(events.map((e) => e.topic)).toEqual([`p:${cid.id}`, `p:${ann.id}`]);
    expect((await store.userById(cid.id))!.announcedPresence).toBe('away');
    expect((await store.userById(ann.id))!.announcedPresence).toBe('available');
    expect((await store.userById(ben.id))!.announcedPresence).toBe('busy');
    // Again with nothing changed: no write of an event.
    events = [];
    await store.write((tx) => refreshPresenceOf(tx, [ann.id, ben.id, cid.id], (u) => want.get(u.id)!));
    expect(events).toEqual([]);
  });

  it('a call needs an active chat and someone online, checked inside the write', async () => {
    const chat = await store.write((tx) => createChat(tx, ann.id, [ben.id]));
    const call = (online: boolean) => store.write((tx) => startCall(tx, { chatId: chat.id, caller: ann, video: false, maxMembers: 4, online: () => online }));
    await expect(call(true)).rejects.toMatchObject({ code: 'chat_not_active' });
    await store.write((tx) => moveMember(tx, chat.id, ben.id, ['invited'], 'accepted'));
    await expect(call(false)).rejects.toMatchObject({ code: 'callee_offline' });
    const started = await call(true);
    expect(started.call.members.map((m) => [m.username, m.state])).toEqual([
      ['ann', 'joined'],
      ['ben', 'ringing'],
    ]);
    await expect(call(true)).rejects.toMatchObject({ code: 'conflict' }); // ann is on it already
  });
});
