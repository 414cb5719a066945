/**
 * The SQLite store's durable commits (issue 20): a batch is acknowledged and published only after
 * an fsync of the WAL issued after its COMMIT, and one fsync is in flight at a time, so the writes
 * asked for while it runs go in one batch with one fsync. The test holds the fsync to see that.
 */
import { fsync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../server/src/store/sqlite.js';
import type { StoredEvent } from '../../server/src/store/store.js';

describe('SqliteStore: one fsync of the WAL in flight at a time', () => {
  let dir: string;
  let store: SqliteStore;
  /** The fsyncs asked for and not yet let through. */
  let held: Array<() => void>;
  /** Each publication (one per settled batch): its events' topics. */
  let batches: string[][];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'portico-walsync-'));
    held = [];
    batches = [];
    const syncWal = ((fd: number, done: (error: NodeJS.ErrnoException | null) => void) => {
      held.push(() => fsync(fd, done));
    }) as typeof fsync;
    store = new SqliteStore(join(dir, 'portico.db'), { syncWal });
    store.onCommit((events: StoredEvent[]) => batches.push(events.map((e) => e.topic)));
  });
  afterEach(async () => {
    const closing = store.close();
    while (held.length > 0) held.shift()!();
    await closing;
    rmSync(dir, { recursive: true, force: true });
  });

  const send = (topic: string) => store.write((tx) => tx.append(topic, { type: 'contacts.changed' }));
  /** Lets the held fsync run and waits for what it settles. */
  const release = async () => {
    held.shift()!();
    await new Promise((r) => setTimeout(r, 50));
  };

  it('writes asked for during an fsync wait for it, then commit together under the next one', async () => {
    const settled: string[] = [];
    const track = (topic: string) => send(topic).then(() => settled.push(topic));
    const first = track('a');
    await nextTurn();
    await nextTurn();
    expect(held).toHaveLength(1); // a is committed, its fsync asked for
    expect(settled).toEqual([]); // not on disk yet: not acknowledged
    expect(batches).toEqual([]); // nor published
    // Three writes in three turns of the loop while a's fsync runs.
    const later = [track('b')];
    await nextTurn();
    later.push(track('c'));
    await nextTurn();
    later.push(track('d'));
    await nextTurn();
    await nextTurn();
    expect(held).toHaveLength(1); // no second fsync (nor COMMIT) while the first is in flight
    await release();
    await first;
    expect(batches[0]).toEqual(['a']);
    expect(held).toHaveLength(1); // b, c and d: one batch, one fsync
    expect(settled).toEqual(['a']);
    await release();
    await Promise.all(later);
    expect(batches).toEqual([['a'], ['b', 'c', 'd']]);
    expect(settled).toEqual(['a', 'b', 'c', 'd']);
  });

  it('a failed fsync fails its batch (never acknowledged); the writes queued behind it get a batch and an fsync of their own', async () => {
    const failing = ((fd: number, done: (error: NodeJS.ErrnoException | null) => void) => {
      held.push(() => done(Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' })));
    }) as typeof fsync;
    await store.close();
    store = new SqliteStore(join(dir, 'portico.db'), { syncWal: failing });
    store.onCommit((events: StoredEvent[]) => batches.push(events.map((e) => e.topic)));
    const a = send('a');
    await nextTurn();
    await nextTurn();
    const b = send('b');
    held.shift()!();
    await expect(a).rejects.toThrow(/could not sync the database to disk/);
    await nextTurn();
    await nextTurn();
    expect(held).toHaveLength(1); // b's batch committed after a's fsync ended, with its own fsync
    held.shift()!();
    await expect(b).rejects.toThrow(/could not sync/);
  });

  it('close waits for the fsync in flight and the writes queued behind it', async () => {
    const a = send('a');
    await nextTurn();
    await nextTurn();
    const b = send('b');
    let closed = false;
    const closing = store.close().then(() => (closed = true));
    await nextTurn();
    expect(closed).toBe(false);
    await release(); // a's fsync; b then commits and asks for its own
    expect(closed).toBe(false);
    await release();
    await Promise.all([a, b, closing]);
    expect(closed).toBe(true);
    expect(batches).toEqual([['a'], ['b']]);
    store = new SqliteStore(join(dir, 'portico.db')); // for afterEach
  });
});
