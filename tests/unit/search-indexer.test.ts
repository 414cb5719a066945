/**
 * Search indexing off the send path (store/search-indexer.ts), against the real embedded store on
 * disk: a message is found at once (read directly) and after it is indexed (through the index),
 * edits and deletions before and after indexing leave no stale match, the index stays consistent,
 * and a search uses the index rather than reading every message.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../server/src/store/sqlite.js';

describe('search index kept off the send path', () => {
  let dir: string;
  let file: string;
  let store: SqliteStore;
  let userId: number;
  let chatId: string;
  let n = 0;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'portico-search-'));
    file = join(dir, 'portico.db');
    store = new SqliteStore(file);
    const [a, b] = await Promise.all(['sa', 'sb'].map((username) => store.createUser({ username, displayName: username, passwordHash: 'x', isAdmin: false })));
    userId = a!.id;
    chatId = await store.write((tx) => tx.insertChat('sa', Date.now(), [[a!.id, 'accepted'], [b!.id, 'accepted']]));
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const send = (text: string) => store.write((tx) => tx.insertMessage({ chatId, fromUserId: userId, fromUsername: 'sa', clientId: `c${++n}`, text, sentAt: Date.now() }));
  const find = async (...terms: string[]) => (await store.searchMessages(userId, { terms, limit: 50 })).map((m) => m.text);
  const indexedThrough = () => {
    const db = new Database(file, { readonly: true });
    try {
      return Number(db.prepare("SELECT value FROM meta WHERE key = 'fts_indexed_through'").pluck().get());
    } finally {
      db.close();
    }
  };

  it('finds a message before and after it is indexed, edits and deletions included', async () => {
    const first = await send('Quarterly report for ÉCOLE Nord');
    const second = await send('会議室の予約は10時です');
    expect(indexedThrough()).toBeLessThan(first.id); // not indexed yet: found directly
    expect(await find('quarterly')).toEqual(['Quarterly report for ÉCOLE Nord']);
    expect(await find('会議室')).toEqual(['会議室の予約は10時です']);

    await store.indexSearch();
    expect(indexedThrough()).toBe(second.id); // now through the index, which also folds É
    expect(await find('quarterly')).toEqual(['Quarterly report for ÉCOLE Nord']);
    expect(await find('école')).toEqual(['Quarterly report for ÉCOLE Nord']);
    expect(await find('会議室', '10時')).toEqual(['会議室の予約は10時です']);

    // Edited after indexing: the old words are gone from the index, the new ones are in.
    await store.write((tx) => tx.editMessage(first.id, 'Budget review moved to Friday', [], Date.now()));
    expect(await find('quarterly')).toEqual([]);
    expect(await find('budget')).toEqual(['Budget review moved to Friday']);
    // Edited before indexing, then indexed: indexed as it is now.
    const third = await send('Lunch at noon');
    await store.write((tx) => tx.editMessage(third.id, 'Lunch at one', [], Date.now()));
    await store.indexSearch();
    expect(await find('noon')).toEqual([]);
    expect(await find('lunch')).toEqual(['Lunch at one']);
    // Deleted (indexed, and not yet indexed): found by nothing.
    await store.write((tx) => tx.markMessageDeleted(second.id));
    const fourth = await send('Temporary note');
    await store.write((tx) => tx.markMessageDeleted(fourth.id));
    expect(await find('会議室')).toEqual([]);
    expect(await find('temporary')).toEqual([]);
    await store.indexSearch();
    expect(await find('temporary')).toEqual([]);

    // The index agrees with the messages it covers.
    await store.close();
    const db = new Database(file);
    expect(() => db.exec("INSERT INTO messages_fts(messages_fts) VALUES ('integrity-check')")).not.toThrow();
    db.close();
    store = new SqliteStore(file);
  });

  it('a message held during a call on hold is found by its author only, until released', async () => {
    const other = (await store.userByName('sb'))!;
    await store.write((tx) => tx.insertMessage({ chatId, fromUserId: userId, fromUsername: 'sa', clientId: 'h1', text: 'held back for now', sentAt: Date.now(), held: true }));
    const search = (id: number) => store.searchMessages(id, { terms: ['held back'], limit: 10 });
    expect((await search(userId)).map((m) => m.text)).toEqual(['held back for now']);
    expect(await search(other.id)).toEqual([]);
    await store.write((tx) => tx.releaseHeldMessages(chatId));
    expect((await search(other.id)).map((m) => m.text)).toEqual(['held back for now']);
  });

  it('indexes many messages in a few bounded rounds, and a search goes through the index', async () => {
    for (let i = 0; i < 5; i++) await store.write(async (tx) => { for (let k = 0; k < 1000; k++) await tx.insertMessage({ chatId, fromUserId: userId, fromUsername: 'sa', clientId: `b${i}-${k}`, text: `batch ${i} item ${k} widget`, sentAt: Date.now() }); });
    await send('the needle in the haystack');
    await store.indexSearch();
    expect(await find('needle')).toEqual(['the needle in the haystack']);
    expect((await find('widget')).length).toBe(50);
    const db = new Database(file, { readonly: true });
    try {
      const plan = db
        .prepare(
          `EXPLAIN QUERY PLAN SELECT m.id FROM messages m WHERE m.chat_id IN (SELECT chat_id FROM chat_members WHERE user_id = 1 AND status = 'accepted')
            AND (m.id IN (SELECT rowid FROM messages_fts WHERE messages_fts MATCH '"needle"')
              OR (m.id > (SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'fts_indexed_through') AND m.text LIKE '%needle%'))`,
        )
        .all()
        .map((r: any) => r.detail as string);
      // Not a scan of every message: the index's rowids and the rowid range of the newest.
      expect(plan.join('\n')).not.toMatch(/SCAN m\b(?! USING)/);
    } finally {
      db.close();
    }
  });
});
