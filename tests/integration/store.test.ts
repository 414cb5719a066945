import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../server/src/store/sqlite.js';
import type { PresenceState } from '../../shared/index.js';
import { insertUser } from '../../server/src/admin/accounts.js';
import { announcePresence } from '../../server/src/presence/rules.js';
import type { StoredEvent } from '../../server/src/store/store.js';

describe('SqliteStore', () => {
  let dir: string;
  let stores: SqliteStore[] = [];
  const open = () => {
    const s = new SqliteStore(join(dir, 'portico.db'));
    stores.push(s);
    return s;
  };
  // Through the feature that owns the rule (the store itself raises only StoreError).
  const newUser = (s: SqliteStore, username: string) => insertUser(s, { username, displayName: username, passwordHash: 'x', isAdmin: false });
  const announce = (s: SqliteStore, userId: number, state: PresenceState) => s.write((tx) => announcePresence(tx, userId, state));

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

  it('a failing write alone in its transaction leaves nothing behind, and the next write goes through', async () => {
    const store = open();
    const internals = store as unknown as { write: (run: () => unknown) => Promise<unknown>; db: { prepare: (sql: string) => { run: (...a: unknown[]) => unknown; pluck: () => { get: (...a: unknown[]) => unknown } } } };
    const setMeta = (key: string) => internals.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run(key, 'v');
    await expect(
      internals.write(() => {
        setMeta('half-done');
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    await internals.write(() => setMeta('whole'));
    const meta = (key: string) => internals.db.prepare('SELECT value FROM meta WHERE key = ?').pluck().get(key);
    expect(meta('half-done')).toBeUndefined();
    expect(meta('whole')).toBe('v');
  });

  it('WAL checkpoints run on their own thread: commits never checkpoint, yet the database file gets the data', async () => {
    const store = open();
    const file = join(dir, 'portico.db');
    expect((store as unknown as { db: { pragma: (p: string, o: object) => unknown } }).db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    const before = statSync(file).size;
    const long = 'x'.repeat(2000);
    await Promise.all(Array.from({ length: 300 }, (_, i) => store.createUser({ username: `u${i}`, displayName: long, passwordHash: long, isAdmin: false })));
    // ~1.2 MB committed to the WAL; the thread copies it into the database within its period.
    await expect.poll(() => statSync(file).size, { timeout: 5000, interval: 100 }).toBeGreaterThan(before + 1_000_000);
    expect((await store.listUsers()).length).toBe(300);
  });

  it('listeners get committed events once, in order, including events another process wrote', async () => {
    const server = open();
    const cli = open();
    const seen: StoredEvent[] = [];
    server.onCommit((events) => seen.push(...events));
    const ann = await newUser(server, 'ann');
    const ben = await newUser(server, 'ben');
    await announce(server, ann.id, 'available'); // seq 1, published
    await announce(cli, ben.id, 'available'); // seq 2, written elsewhere: not yet seen
    expect(seen.map((e) => e.seq)).toEqual([1]);
    await announce(server, ann.id, 'away'); // seq 3: the gap is filled first
    expect(seen.map((e) => e.seq)).toEqual([1, 2, 3]);
    await announce(cli, ben.id, 'busy'); // seq 4
    expect(await server.syncExternal()).toBe(true);
    expect(seen.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(await server.syncExternal()).toBe(false);
    expect(JSON.parse(seen[3]!.json)).toMatchObject({ cursor: '4', type: 'presence', username: 'ben', state: 'busy' });
  });

  it('durable commits sync off the event loop: acknowledged only when on disk, published in order, close waits for them', async () => {
    const store = open();
    const seen: number[] = [];
    store.onCommit((events) => seen.push(...events.map((e) => e.seq)));
    const users = await Promise.all(Array.from({ length: 20 }, (_, i) => newUser(store, `u${i}`)));
    // 40 turns of the event loop, 5 writes each: batches commit while earlier ones still sync.
    const acks: Array<Promise<unknown>> = [];
    const order: number[] = [];
    for (let turn = 0; turn < 40; turn++) {
      for (let i = 0; i < 5; i++) {
        const n = turn * 5 + i;
        acks.push(announce(store, users[n % 20]!.id, n % 2 ? 'away' : 'busy').then(() => order.push(n)));
      }
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(acks);
    expect(order).toEqual([...order].sort((a, b) => a - b)); // settled in commit order
    expect(seen).toEqual(Array.from({ length: seen.length }, (_, i) => i + 1)); // once each, no gaps
    expect(seen.length).toBeGreaterThanOrEqual(20);

    // A sync that fails: the batch is refused and not published; the next one that is on disk
    // publishes both, in order.
    const internals = store as unknown as { walFd: number | undefined };
    const fd = internals.walFd;
    internals.walFd = 2 ** 30; // not an open descriptor: fsync fails with EBADF
    const head = seen.at(-1)!;
    await expect(announce(store, users[0]!.id, 'available')).rejects.toThrow(/could not sync/);
    expect(seen.at(-1)).toBe(head);
    internals.walFd = fd;
    await announce(store, users[1]!.id, 'available');
    expect(seen.slice(-2)).toEqual([head + 1, head + 2]);

    // close() while batches are syncing: they are acknowledged first, and on disk after.
    const last = Promise.all(users.slice(0, 5).map((u) => announce(store, u.id, 'offline')));
    await store.close();
    stores = stores.filter((s) => s !== store);
    await last;
    const again = open();
    expect(await again.headSeq()).toBe(head + 2 + 5);
  });

  it('pruning records how far the log was cut, and the head survives', async () => {
    const store = open();
    const ann = await newUser(store, 'ann');
    await announce(store, ann.id, 'available');
    await announce(store, ann.id, 'offline');
    expect(await store.pruneEvents(Date.now() + 1)).toBe(2);
    expect(await store.prunedThrough()).toBe(2);
    expect(await store.headSeq()).toBe(2);
    await announce(store, ann.id, 'available');
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
