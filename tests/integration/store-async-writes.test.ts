/**
 * The SQLite group commit with async writes (issue 15 step 1): StoreTx answers promises, so a
 * write may await between its reads and its writes. The batch awaits each write in its own
 * savepoint: no other write interleaves, a failing one rolls back alone, and a read from outside
 * while the batch's transaction is open does not see its uncommitted rows.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../server/src/store/sqlite.js';
import type { StoredEvent, StoreTx } from '../../server/src/store/store.js';

describe('SqliteStore: async writes in the group commit', () => {
  let dir: string;
  let store: SqliteStore;
  let published: StoredEvent[];
  const newUser = (tx: StoreTx, username: string) => tx.insertUser({ username, displayName: username, passwordHash: 'x', isAdmin: false });
  const topics = () => published.map((e) => e.topic);

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'portico-async-'));
    store = new SqliteStore(join(dir, 'portico.db'));
    published = [];
    store.onCommit((events) => published.push(...events));
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a write that awaits (timers included) between its read and its write is not interleaved with another queued write', async () => {
    const steps: string[] = [];
    // Both check then insert: interleaved, both would find no row and the second insert would fail.
    const claim = (who: string, pause: number) =>
      store.write(async (tx) => {
        steps.push(`${who} reads`);
        const taken = await tx.userByName('seat');
        await sleep(pause); // a real turn of the event loop, not only microtasks
        if (taken) {
          steps.push(`${who} finds it taken`);
          return false;
        }
        const user = await newUser(tx, 'seat');
        // Its own earlier write is visible to its next read.
        expect((await tx.user(user.id))?.username).toBe('seat');
        await tx.append(`claim:${who}`, { type: 'contacts.changed' });
        steps.push(`${who} takes it`);
        return true;
      });
    const results = await Promise.all([claim('a', 30), claim('b', 0), claim('c', 5)]);
    expect(results).toEqual([true, false, false]);
    expect(steps).toEqual(['a reads', 'a takes it', 'b reads', 'b finds it taken', 'c reads', 'c finds it taken']);
    expect(topics()).toEqual(['claim:a']);
  });

  it('the log is read only up to what is published: an event committed but not yet on disk is not handed out', async () => {
    const before = await store.headSeq();
    const writing = store.write(async (tx) => {
      await tx.append('topic:a', { type: 'contacts.changed' });
      await sleep(20); // the batch stays open: the read below waits for its COMMIT, and runs before its fsync
    });
    await sleep(5); // the write is running: its batch's transaction is open
    const during = store.readEvents(['topic:a'], before, 10);
    expect(await during).toEqual([]);
    await writing;
    expect((await store.readEvents(['topic:a'], before, 10)).map((e) => e.topic)).toEqual(['topic:a']);
    expect(topics()).toEqual(['topic:a']);
  });

  it('a failing async write rolls back alone: its rows and events go, the others in its batch commit', async () => {
    const results = await Promise.allSettled([
      store.write(async (tx) => {
        await newUser(tx, 'before');
        await tx.append('first', { type: 'contacts.changed' });
      }),
      store.write(async (tx) => {
        await newUser(tx, 'ghost');
        await tx.append('ghost', { type: 'contacts.changed' });
        await sleep(5);
        throw new Error('boom');
      }),
      store.write(async (tx) => {
        // The failed write's row is gone from the batch's transaction, not only after it.
        expect(await tx.userByName('ghost')).toBeUndefined();
        await newUser(tx, 'after');
        await tx.append('third', { type: 'contacts.changed' });
      }),
      // A synchronous throw inside an async write, and a unique conflict through the rows.
      store.write(async (tx) => newUser(tx, 'BEFORE')),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected']);
    expect((results[1] as PromiseRejectedResult).reason.message).toBe('boom');
    expect((results[3] as PromiseRejectedResult).reason.kind).toBe('unique');
    expect((await store.listUsers()).map((u) => u.username)).toEqual(['after', 'before']);
    expect(topics()).toEqual(['first', 'third']);
    // Sequences stay gapless for the listeners (the rolled-back one was never handed out).
    expect(published.map((e) => e.seq)).toEqual([1, 2]);
  });

  it('a read from outside during an open batch does not see its uncommitted rows, and answers once it ends', async () => {
    let readDuringBatch: Promise<unknown> | undefined;
    let eventsDuringBatch: Promise<StoredEvent[]> | undefined;
    let settledEarly = false;
    const failing = store.write(async (tx) => {
      await newUser(tx, 'ghost');
      await tx.append('ghost', { type: 'contacts.changed' });
      // The same connection holds the uncommitted row: these must not read it.
      readDuringBatch = store.userByName('ghost');
      eventsDuringBatch = store.readEvents(['ghost'], 0, 10);
      void readDuringBatch.then(() => (settledEarly = true));
      await sleep(20);
      expect(settledEarly).toBe(false); // waits for the batch, rather than reading inside it
      throw new Error('rolled back');
    });
    await expect(failing).rejects.toThrow('rolled back');
    expect(await readDuringBatch).toBeUndefined();
    expect(await eventsDuringBatch).toEqual([]);

    // A committed write is what such a read sees.
    let later: Promise<unknown> | undefined;
    await store.write(async (tx) => {
      await newUser(tx, 'real');
      later = store.userByName('real');
    });
    expect(await later).toMatchObject({ username: 'real' });
  });

  it('writes queued while a batch is open go in a later batch, and close() waits for both', async () => {
    const order: string[] = [];
    const first = store.write(async (tx) => {
      await sleep(10);
      // Queued now: the open batch is not its place.
      void store.write(async (inner) => {
        order.push('second');
        await newUser(inner, 'second');
      });
      order.push('first');
      await newUser(tx, 'first');
    });
    await first;
    await store.close();
    expect(order).toEqual(['first', 'second']);
    const reopened = new SqliteStore(join(dir, 'portico.db'));
    expect((await reopened.listUsers()).map((u) => u.username)).toEqual(['first', 'second']);
    await reopened.close();
    store = new SqliteStore(':memory:'); // for afterEach
  });
});
