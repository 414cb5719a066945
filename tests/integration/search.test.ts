/**
 * Message search (issue 16): English and Japanese (two-character words, which a trigram index
 * alone never matches, and longer ones), only the chats the searcher takes part in, one chat,
 * paging by message id, the ranges to mark; messages stored before the index existed are found.
 */
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../server/src/store/migrations.js';
import { SqliteStore } from '../../server/src/store/sqlite.js';
import { activeChat, createChat } from '../helpers/chat.js';
import { Client, expectError, startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let alice: Client;
let bob: Client;
let carol: Client;
let chatAB: string;
let chatAC: string;
let chatBC: string;

const search = (client: Client, params: Record<string, string | number>) =>
  client.get(`/api/v1/search?${new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)]))}`);
const texts = (res: { body: any }) => res.body.messages.map((m: any) => m.text);
/** The marked parts of a hit, as the client would cut them out. */
const marked = (m: { text: string; highlights: Array<{ start: number; end: number }> }) => m.highlights.map((h) => m.text.slice(h.start, h.end));

beforeAll(async () => {
  server = await startTestServer();
  alice = await server.user('se-alice');
  bob = await server.user('se-bob');
  carol = await server.user('se-carol');
  chatAB = await activeChat(alice, bob);
  chatAC = await activeChat(alice, carol);
  chatBC = await activeChat(bob, carol);
  const say = (c: Client, chat: string, id: string, text: string) => c.put(`/api/v1/chats/${chat}/messages/${id}`, { text }).then((r) => expect(r.status).toBe(201));
  await say(alice, chatAB, 'ab-1', 'The quarterly budget review is on Friday');
  await say(bob, chatAB, 'ab-2', '明日の会議は10時です');
  await say(alice, chatAB, 'ab-3', '会議室を予約しました');
  await say(bob, chatAB, 'ab-4', 'Budget approved. BUDGET, budget!');
  await say(alice, chatAC, 'ac-1', 'carol, the budget for the party?');
  await say(bob, chatBC, 'bc-1', 'secret budget talk between bob and carol, 会議 too');
});
afterAll(() => server?.destroy());

describe('search', () => {
  it('finds English words case-insensitively, newest first, with the matches marked', async () => {
    const res = await search(alice, { q: 'budget' });
    expect(res.status).toBe(200);
    expect(texts(res)).toEqual(['carol, the budget for the party?', 'Budget approved. BUDGET, budget!', 'The quarterly budget review is on Friday']);
    const approved = res.body.messages[1];
    expect(marked(approved)).toEqual(['Budget', 'BUDGET', 'budget']);
    expect(approved.highlights[0]).toEqual({ start: 0, end: 6 });
    expect(approved).toMatchObject({ chatId: chatAB, clientId: 'ab-4', from: 'se-bob' });
    // Every term must occur; each is marked.
    const both = await search(alice, { q: 'budget friday' });
    expect(texts(both)).toEqual(['The quarterly budget review is on Friday']);
    expect(marked(both.body.messages[0])).toEqual(['budget', 'Friday']);
    expect(texts(await search(alice, { q: 'budget nowhere' }))).toEqual([]);
    // Short English terms too (under three characters: not through the trigram index).
    expect(texts(await search(alice, { q: 'on Fri' }))).toEqual(['The quarterly budget review is on Friday']);
  });

  it('finds Japanese: a two-character word (会議) and longer ones (会議室, 10時です)', async () => {
    const two = await search(alice, { q: '会議' });
    expect(texts(two)).toEqual(['会議室を予約しました', '明日の会議は10時です']);
    expect(two.body.messages.map(marked)).toEqual([['会議'], ['会議']]);
    expect(two.body.messages[1].highlights).toEqual([{ start: 3, end: 5 }]);
    expect(texts(await search(alice, { q: '会議室' }))).toEqual(['会議室を予約しました']);
    expect(texts(await search(alice, { q: '10時です' }))).toEqual(['明日の会議は10時です']);
    // A full-width space separates terms too.
    expect(texts(await search(alice, { q: '明日\u300010時' }))).toEqual(['明日の会議は10時です']);
    // One character.
    expect(texts(await search(alice, { q: '室' }))).toEqual(['会議室を予約しました']);
  });

  it('searches only the chats the user takes part in; `chat` narrows to one (404/403 for others)', async () => {
    // alice is not in bob and carol's chat.
    expect(texts(await search(alice, { q: 'secret' }))).toEqual([]);
    expect(texts(await search(alice, { q: '会議' }))).not.toContain('secret budget talk between bob and carol, 会議 too');
    expect(texts(await search(carol, { q: 'budget' }))).toEqual(['secret budget talk between bob and carol, 会議 too', 'carol, the budget for the party?']);
    expect(texts(await search(bob, { q: 'budget', chat: chatBC }))).toEqual(['secret budget talk between bob and carol, 会議 too']);
    expect(texts(await search(alice, { q: 'budget', chat: chatAC }))).toEqual(['carol, the budget for the party?']);
    expectError(await search(alice, { q: 'budget', chat: chatBC }), 403, 'forbidden', 'not a member');
    expectError(await search(alice, { q: 'budget', chat: crypto.randomUUID() }), 404, 'not_found', 'unknown chat');
    // An invitee who has not accepted finds nothing of the chat, and may not name it.
    const dave = await server.user('se-dave');
    const pending = await createChat(alice, dave, bob);
    // (The creator may write while the chat is pending; the invitee reads it with the request, but
    // search covers only chats one takes part in.)
    expect((await alice.put(`/api/v1/chats/${pending.id}/messages/x`, { text: 'agenda before dave accepts' })).status).toBe(201);
    expect(texts(await search(alice, { q: 'agenda' }))).toEqual(['agenda before dave accepts']);
    expect(texts(await search(dave, { q: 'agenda' }))).toEqual([]);
    expectError(await search(dave, { q: 'agenda', chat: pending.id }), 403, 'forbidden', 'invitee');
    // After leaving, the chat's messages are no longer searchable.
    expect((await carol.post(`/api/v1/chats/${chatAC}/leave`)).status).toBe(200);
    expect(texts(await search(carol, { q: 'budget' }))).toEqual(['secret budget talk between bob and carol, 会議 too']);
  });

  it('pages by message id with `before`', async () => {
    const first = await search(alice, { q: 'budget', limit: 2 });
    expect(texts(first)).toEqual(['carol, the budget for the party?', 'Budget approved. BUDGET, budget!']);
    expect(first.body.before).toBe(first.body.messages[1].id);
    const second = await search(alice, { q: 'budget', limit: 2, before: first.body.before });
    expect(texts(second)).toEqual(['The quarterly budget review is on Friday']);
    expect(second.body.before).toBeUndefined();
  });

  it('takes terms literally (no query syntax, no LIKE wildcards) and refuses an empty query', async () => {
    const say = (id: string, text: string) => alice.put(`/api/v1/chats/${chatAB}/messages/${id}`, { text });
    await say('lit-1', '100% sure "quoted" NEAR(a b) *star*');
    await say('lit-2', '1000 sure');
    expect(texts(await search(alice, { q: '0%' }))).toEqual(['100% sure "quoted" NEAR(a b) *star*']);
    expect(texts(await search(alice, { q: '"quoted"' }))).toEqual(['100% sure "quoted" NEAR(a b) *star*']);
    expect(texts(await search(alice, { q: 'NEAR(a' }))).toEqual(['100% sure "quoted" NEAR(a b) *star*']);
    expect(texts(await search(alice, { q: '*star*' }))).toEqual(['100% sure "quoted" NEAR(a b) *star*']);
    expect(texts(await search(alice, { q: '_' }))).toEqual([]);
    expectError(await search(alice, { q: '' }), 400, 'invalid_request', 'empty');
    expectError(await search(alice, { q: '   ' }), 400, 'invalid_request', 'blank');
    expectError(await alice.get('/api/v1/search'), 400, 'invalid_request', 'no q');
    expectError(await new Client(server.url).get('/api/v1/search?q=budget'), 401, 'unauthorized', 'no token');
  });
});

describe('the index', () => {
  it('indexes messages stored before it existed, and follows later changes to the rows', async () => {
    // A database at the schema before the search migration, with messages in it.
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'portico-search-'));
    const file = join(dir, 'portico.db');
    const version = MIGRATIONS.findIndex((m) => m.includes('messages_fts'));
    const old = new Database(file);
    for (const m of MIGRATIONS.slice(0, version)) old.exec(m);
    old.pragma(`user_version = ${version}`);
    old.prepare("INSERT INTO users (username, display_name, password_hash, created_at) VALUES ('u', 'U', 'x', 0)").run();
    old.prepare("INSERT INTO chats (id, created_by, created_at) VALUES ('c', 'u', 0)").run();
    old.prepare("INSERT INTO chat_members (chat_id, user_id, status, position) VALUES ('c', 1, 'accepted', 0)").run();
    old.prepare("INSERT INTO messages (chat_id, from_user_id, from_username, client_id, text, sent_at) VALUES ('c', 1, 'u', 'm1', '古い会議の記録', 0)").run();
    old.prepare("INSERT INTO messages (chat_id, from_user_id, from_username, client_id, text, sent_at) VALUES ('c', 1, 'u', 'm2', 'an old agenda', 0)").run();
    old.close();
    const store = new SqliteStore(file);
    try {
      const find = async (term: string) => (await store.searchMessages(1, { terms: [term], limit: 10 })).map((m) => m.clientId);
      expect(await find('会議')).toEqual(['m1']);
      expect(await find('会議の記録')).toEqual(['m1']);
      expect(await find('agenda')).toEqual(['m2']);
      // An edit or a delete by any path (here plain SQL, as a later PATCH/DELETE would do) keeps the index right.
      const db = (store as unknown as { db: Database.Database }).db;
      db.prepare("UPDATE messages SET text = 'the new schedule' WHERE client_id = 'm2'").run();
      expect(await find('agenda')).toEqual([]);
      expect(await find('schedule')).toEqual(['m2']);
      db.prepare("DELETE FROM messages WHERE client_id = 'm1'").run();
      expect(await find('会議の記録')).toEqual([]);
      // FTS5's own check of the index against the messages: it throws when they differ.
      expect(() => db.prepare("INSERT INTO messages_fts(messages_fts, rank) VALUES ('integrity-check', 1)").run()).not.toThrow();
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
