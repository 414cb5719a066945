import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../server/src/store/sqlite.js';
import type { StoredEvent } from '../../server/src/store/store.js';

describe('SqliteStore', () => {
  let dir: string;
  let stores: SqliteStore[] = [];
  const open = () => {
    const s = new SqliteStore(join(dir, 'portico.db'));
    stores.push(s);
    return s;
  };
  const newUser = (s: SqliteStore, username: string) => s.createUser({ username, displayName: username, passwordHash: 'x', isAdmin: false });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'portico-store-'));
    stores = [];
  });
  afterEach(async () => {
    for (const s of stores) await s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('group-commits writes made in the same tick; a failing one does not undo the others', async () => {
    const store = open();
    const results = await Promise.allSettled([newUser(store, 'ann'), newUser(store, 'ANN'), newUser(store, 'ben')]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason.code).toBe('username_taken');
    expect((await store.listUsers()).map((u) => u.username)).toEqual(['ann', 'ben']);
  });

  it('listeners get committed events once, in order, including events another process wrote', async () => {
    const server = open();
    const cli = open();
    const seen: StoredEvent[] = [];
    server.onCommit((events) => seen.push(...events));
    const ann = await newUser(server, 'ann');
    const ben = await newUser(server, 'ben');
    await server.announcePresence(ann.id, 'available'); // seq 1, published
    await cli.announcePresence(ben.id, 'available'); // seq 2, written elsewhere: not yet seen
    expect(seen.map((e) => e.seq)).toEqual([1]);
    await server.announcePresence(ann.id, 'away'); // seq 3: the gap is filled first
    expect(seen.map((e) => e.seq)).toEqual([1, 2, 3]);
    await cli.announcePresence(ben.id, 'busy'); // seq 4
    expect(await server.syncExternal()).toBe(true);
    expect(seen.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(await server.syncExternal()).toBe(false);
    expect(JSON.parse(seen[3]!.json)).toMatchObject({ cursor: '4', type: 'presence', username: 'ben', state: 'busy' });
  });

  it('pruning records how far the log was cut, and the head survives', async () => {
    const store = open();
    const ann = await newUser(store, 'ann');
    await store.announcePresence(ann.id, 'available');
    await store.announcePresence(ann.id, 'offline');
    expect(await store.pruneEvents(Date.now() + 1)).toBe(2);
    expect(await store.prunedThrough()).toBe(2);
    expect(await store.headSeq()).toBe(2);
    await store.announcePresence(ann.id, 'available');
    expect(await store.headSeq()).toBe(3);
  });

  it('migrations are recorded, and a newer schema is refused', async () => {
    const store = open();
    await store.close();
    stores = [];
    const Database = (await import('better-sqlite3')).default;
    const db = new Database(join(dir, 'portico.db'));
    db.pragma('user_version = 99');
    db.close();
    expect(() => open()).toThrow(/newer database/);
  });
});
