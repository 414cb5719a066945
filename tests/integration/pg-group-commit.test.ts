/**
 * PgStore's group commit (issue 15) against a real PostgreSQL: the writes queued on a node run in
 * one transaction, each in its own savepoint (chat-scoped ones: their chats side by side, first
 * without savepoints). A write whose rule throws rolls back alone; a
 * connection lost mid-batch acknowledges none of it and stores none of it; two nodes writing
 * batches concurrently (unscoped and chat-scoped), some held open, leave one order that a poller
 * following `seq > cursor` and both nodes' listeners see whole; a chat-scoped write waits only
 * for writes of its own chat and unscoped ones.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPgEvents } from '../../server/src/store/pg-log.js';
import { PgStore } from '../../server/src/store/pg-store.js';
import type { StoredEvent, StoreTx } from '../../server/src/store/store.js';
import { HAVE_POSTGRES, startPostgres, type Postgres } from '../helpers/postgres.js';

const newUser = (tx: StoreTx, username: string) => tx.insertUser({ username, displayName: username, passwordHash: 'x', isAdmin: false });
const event = { type: 'contacts.changed' } as const;

describe.runIf(HAVE_POSTGRES)('PgStore group commit', () => {
  let db: Postgres;
  let databases = 0;
  const stores: PgStore[] = [];

  /** A fresh database; its URL. */
  async function database() {
    const name = `gc${++databases}`;
    await db.query(`CREATE DATABASE ${name}`);
    return { name, url: db.url.replace(/\/portico$/, `/${name}`) };
  }
  async function open(url: string, options: { lanes?: number } = {}) {
    const store = await PgStore.open(url, { max: 4, ...options });
    stores.push(store);
    const published: StoredEvent[] = [];
    store.onCommit((events) => published.push(...events));
    return { store, published };
  }

  beforeAll(async () => {
    db = await startPostgres();
  }, 90_000);
  afterAll(async () => {
    for (const store of stores) await store.close().catch(() => {});
    await db?.destroy();
  });

  /**
   * A batch whose second write throws after changing rows. Unscoped: each write in its savepoint.
   * Chat-scoped (`scope`): first without savepoints, then, that write having changed rows, the
   * batch again with them (`reruns`).
   */
  async function oneWriteFails(scope?: { chatId: string }) {
    // One lane: the writes asked for together go in one batch.
    const { store, published } = await open((await database()).url, { lanes: 1 });
    const batches = store.stats.batches;
    // Asked for in one turn of the event loop: one batch.
    const write = <T>(fn: (tx: StoreTx) => Promise<T>) => store.write(fn, scope);
    const results = await Promise.allSettled([
      write(async (tx) => {
        await newUser(tx, 'before');
        await tx.append('first', event);
      }),
      write(async (tx) => {
        await newUser(tx, 'ghost');
        await tx.append('ghost', event);
        await sleep(5);
        throw new Error('boom');
      }),
      write(async (tx) => {
        // The failed write's row is gone from the batch's transaction, not only after it.
        expect(await tx.userByName('ghost')).toBeUndefined();
        await newUser(tx, 'after');
        await tx.append('third', event);
      }),
      // A statement PostgreSQL refuses (unique violation) inside a write.
      write((tx) => newUser(tx, 'BEFORE')),
      // A write that swallows a failed statement leaves its savepoint aborted: it cannot count as
      // done (its rows are gone), and it must not turn the batch's COMMIT into a rollback.
      write(async (tx) => {
        await newUser(tx, 'swallowed');
        await newUser(tx, 'before').catch(() => {});
        return 'looked fine';
      }),
      write(async (tx) => {
        await tx.append('last', event);
        return 'ok';
      }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason.message).toBe('boom');
    expect((results[3] as PromiseRejectedResult).reason.kind).toBe('unique');
    expect((results[5] as PromiseFulfilledResult<string>).value).toBe('ok');
    expect(store.stats.batches - batches).toBe(1);
    expect((await store.listUsers()).map((u) => u.username)).toEqual(['after', 'before']);
    // Published before the writes settled, in order, the rolled-back write's event not among them.
    expect(published.map((e) => e.topic)).toEqual(['first', 'third', 'last']);
    const seqs = published.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect((await store.readEvents(['first', 'ghost', 'third', 'last'], 0, 10)).map((e) => e.topic)).toEqual(['first', 'third', 'last']);
      expect(store.stats.reruns).toBe(scope ? 1 : 0);
  }

  it('a write whose rule throws rolls back to its savepoint alone; the others of the batch commit, their events in order', () => oneWriteFails());

  it('chat-scoped writes run without savepoints until one fails after changing rows: then the batch runs again with them, to the same end', () =>
    oneWriteFails({ chatId: 'c' }));

  it('a chat-scoped write that fails before changing anything needs no second run: the others commit', async () => {
    const { store, published } = await open((await database()).url, { lanes: 1 });
    const results = await Promise.allSettled([
      store.write((tx) => tx.append('one', event), { chatId: 'a' }),
      store.write(async (tx) => {
        await tx.userByName('nobody');
        await tx.append('refused', event);
        throw new Error('not a member');
      }, { chatId: 'b' }),
      store.write((tx) => tx.append('two', event), { chatId: 'c' }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(store.stats.reruns).toBe(0);
    expect(published.map((e) => e.topic)).toEqual(['one', 'two']);
  });

  it("a chat-scoped batch runs its chats side by side, each chat's writes in turn; the events in the batch's order", async () => {
    const { store, published } = await open((await database()).url, { lanes: 1 });
    const batches = store.stats.batches;
    let inFlight = 0;
    let most = 0;
    const busy = new Set<string>();
    const overlapped: string[] = [];
    const started: string[] = [];
    const write = (chat: string, name: string) =>
      store.write(
        async (tx) => {
          started.push(name);
          if (busy.has(chat)) overlapped.push(name);
          busy.add(chat);
          most = Math.max(most, ++inFlight);
          await tx.userByName('nobody');
          await newUser(tx, name);
          inFlight--;
          busy.delete(chat);
          await tx.append(name, event);
          return name;
        },
        { chatId: chat },
      );
    // Asked for in one turn of the event loop, on one lane: one batch.
    const order = ['a1', 'b1', 'c1', 'a2', 'b2', 'c2'];
    expect(await Promise.all(order.map((name) => write(name[0]!, name)))).toEqual(order);
    expect(store.stats.batches - batches).toBe(1);
    expect(store.stats.reruns).toBe(0);
    // The three chats' first writes were in flight together; no chat's two writes ever were.
    expect(most).toBe(3);
    expect(overlapped).toEqual([]);
    for (const chat of 'abc') expect(started.indexOf(`${chat}1`)).toBeLessThan(started.indexOf(`${chat}2`));
    expect(published.map((e) => e.topic)).toEqual(order);
    const seqs = published.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect((await store.listUsers()).map((u) => u.username)).toEqual([...order].sort());
  });

  it("a write that fails after changing rows while other chats' writes are in flight: the batch runs again with savepoints, the others stored once, the failed one not at all", async () => {
    const { store, published } = await open((await database()).url, { lanes: 1 });
    const results = await Promise.allSettled([
      store.write(async (tx) => {
        await newUser(tx, 'a1');
        await tx.append('a1', event);
      }, { chatId: 'a' }),
      store.write(async (tx) => {
        await newUser(tx, 'ghost');
        await tx.append('ghost', event);
        throw new Error('boom');
      }, { chatId: 'b' }),
      store.write(async (tx) => {
        await tx.userByName('nobody');
        await newUser(tx, 'c1');
        await tx.append('c1', event);
      }, { chatId: 'c' }),
      store.write(async (tx) => {
        await newUser(tx, 'a2');
        await tx.append('a2', event);
      }, { chatId: 'a' }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason.message).toBe('boom');
    expect(store.stats.reruns).toBe(1);
    expect((await store.listUsers()).map((u) => u.username)).toEqual(['a1', 'a2', 'c1']);
    expect(published.map((e) => e.topic)).toEqual(['a1', 'c1', 'a2']);
  });

  it("a chat-scoped batch whose BEGIN fails (its chat's lock wait canceled): its writes reject, none is stored, the next batch works", async () => {
    const { url } = await database();
    const [a, b] = [await open(url, { lanes: 1 }), await open(url, { lanes: 1 })];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    // Node b holds chat x's lock in an open batch.
    const holding = b.store.write(async (tx) => {
      await tx.append('x', event);
      entered();
      await gate;
    }, { chatId: 'x' });
    await inside;
    // Node a's batch for chat x waits for that lock in its BEGIN.
    const waiting = a.store.write(async (tx) => {
      await newUser(tx, 'never');
      await tx.append('x', event);
    }, { chatId: 'x' });
    await expect
      .poll(async () => (await db.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'BEGIN;%'")).rows[0].n, { timeout: 5000 })
      .toBe(1);
    // Not a connection loss: the write rejects with PostgreSQL's own error (a 500, not a 503).
    const rejected = expect(waiting).rejects.toMatchObject({ code: '57014' });
    await db.query("SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'BEGIN;%'");
    await rejected;
    release();
    await holding;
    expect(await a.store.userByName('never')).toBeUndefined();
    await a.store.write((tx) => newUser(tx, 'after'), { chatId: 'x' });
    expect((await a.store.listUsers()).map((u) => u.username)).toEqual(['after']);
  }, 30_000);

  it("an event's origin (the session whose request made it) travels through the log to every node", async () => {
    const { url } = await database();
    const a = await open(url);
    const b = await open(url);
    await a.store.write(async (tx) => {
      await tx.append('mine', event, Date.now(), 42);
      await tx.append('everyone', event);
    }, { chatId: 'c' });
    await b.store.write((tx) => tx.append('unscoped', event, Date.now(), 7));
    for (const node of [a, b]) {
      await expect.poll(() => node.published.filter((e) => ['mine', 'everyone', 'unscoped'].includes(e.topic)).length, { timeout: 5000 }).toBe(3);
      const origins = Object.fromEntries(node.published.map((e) => [e.topic, e.origin]));
      expect(origins).toMatchObject({ mine: 42, everyone: undefined, unscoped: 7 });
    }
  });

  it('writes settle in the turn of the event loop in which their events reach the listeners, not a turn later', async () => {
    const { store } = await open((await database()).url);
    // What a caller does as soon as its write settles (a subscription change answering a held
    // poll with its own cursor) must come before the hub's answers, which wait for the next turn.
    let handedInThisTurn = false;
    store.onCommit(() => {
      handedInThisTurn = true;
      setImmediate(() => (handedInThisTurn = false));
    });
    let late = 0;
    for (let round = 0; round < 40; round++) {
      await Promise.all(
        Array.from({ length: 5 }, () =>
          store.write((tx) => tx.append('turn', event)).then(() => {
            if (!handedInThisTurn) late++;
          }),
        ),
      );
    }
    expect(late).toBe(0);
  });

  it('a connection lost mid-batch: no write of the batch is acknowledged or stored, and the next batch works', async () => {
    const { name, url } = await database();
    const { store, published } = await open(url);
    await store.write((tx) => newUser(tx, 'seed')); // the write connection is open
    let holding!: () => void;
    const held = new Promise<void>((r) => (holding = r));
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const outcomes = [
      store.write(async (tx) => {
        await newUser(tx, 'one');
        await tx.append('one', event);
      }),
      store.write(async (tx) => {
        await newUser(tx, 'two');
        await tx.append('two', event);
        holding();
        await gate;
      }),
      store.write(async (tx) => {
        await newUser(tx, 'three');
        await tx.append('three', event);
      }),
    ].map((p) => p.then(() => 'acknowledged', (e: unknown) => e));
    await held;
    // Cut the batch's connection from the server side: the backend holding the write lock.
    const cut = await db.query(
      "SELECT pg_terminate_backend(pid) AS done FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = $1)",
      [name],
    );
    expect(cut.rows.length).toBeGreaterThan(0);
    release();
    for (const outcome of await Promise.all(outcomes)) expect(outcome).toMatchObject({ kind: 'unavailable', status: 503 });
    const check = await PgStore.open(url, { max: 1 });
    stores.push(check);
    expect((await check.listUsers()).map((u) => u.username)).toEqual(['seed']);
    expect(await check.readEvents(['one', 'two', 'three'], 0, 10)).toEqual([]);
    // The pool replaces the lost connection: the next write commits and publishes.
    await store.write(async (tx) => {
      await newUser(tx, 'after');
      await tx.append('after', event);
    });
    expect(published.map((e) => e.topic)).toEqual(['after']);
  });

  it('two nodes writing batches concurrently (unscoped and chat-scoped), some held open before COMMIT: one order, nothing skipped', async () => {
    const { url } = await database();
    const a = await open(url);
    const b = await open(url);
    const topic = 'race';
    let writing = true;
    // A poller on a connection of its own following `seq > cursor` over the table itself (a
    // store's readEvents stops at what its follower published, itself such a poller: below).
    const reader = new pg.Pool({ connectionString: url, max: 1 });
    const seen: number[] = [];
    const polling = (async () => {
      let cursor = 0;
      const follow = async () => {
        for (const e of await readPgEvents(reader, [topic], cursor, 1000)) {
          seen.push(e.seq);
          cursor = e.seq;
        }
      };
      while (writing) await follow();
      await sleep(50);
      await follow();
    })();
    const acknowledged: number[] = [];
    // Unscoped writes and writes scoped to a few chats: batches of both kinds, those of different
    // chats on the two nodes at the same time.
    const write = (node: PgStore, hold: number, chat: number) =>
      node.write(
        async (tx) => {
          await tx.append(topic, event);
          await tx.append(topic, event);
          // Appended, not committed: held, the batch open (a node needing its locks waits).
          if (hold) await sleep(hold);
        },
        chat % 3 === 0 ? undefined : { chatId: `chat-${chat % 4}` },
      );
    const round = async (node: PgStore, seed: number) => {
      for (let i = 0; i < 6; i++) {
        const writes = Array.from({ length: 10 }, (_, j) => write(node, (seed + i + j) % 7 === 0 ? 15 : 0, Math.floor((seed * 7 + i * 3 + j) / 5)));
        await Promise.all(writes);
        acknowledged.push(writes.length);
      }
    };
    await Promise.all([round(a.store, 1), round(b.store, 2), round(a.store, 3), round(b.store, 4)]);
    writing = false;
    await polling;
    const committed = (await readPgEvents(reader, [topic], 0, 10_000)).map((e) => e.seq);
    await reader.end();
    expect(committed.length).toBe(2 * 4 * 6 * 10);
    expect(acknowledged.length).toBe(24);
    // The poller skipped nothing and saw each once, in order.
    expect(seen).toEqual(committed);
    // Both nodes' listeners were handed every event of both, in one order (the follower catches up promptly).
    for (const node of [a, b]) {
      await expect.poll(() => node.published.filter((e) => e.topic === topic).length, { timeout: 5000 }).toBe(committed.length);
      expect(node.published.filter((e) => e.topic === topic).map((e) => e.seq)).toEqual(committed);
    }
    // Batched, not one transaction per write; batches of both kinds ran.
    expect(a.store.stats.batches + b.store.stats.batches).toBeLessThan(2 * 4 * 6 * 10);
    expect(a.store.stats.scopedBatches + b.store.stats.scopedBatches).toBeGreaterThan(0);
    expect(a.store.stats.scopedBatches + b.store.stats.scopedBatches).toBeLessThan(a.store.stats.batches + b.store.stats.batches);
  }, 60_000);

  it('on one node, a batch of another chat runs beside a held one; its chat\'s next write, and an unscoped one queued after, follow it in order', async () => {
    const { store, published } = await open((await database()).url);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    const done: string[] = [];
    const x1 = store.write(async (tx) => {
      await tx.append('x', { type: 'chat.read', n: 1 } as never);
      entered();
      await gate;
    }, { chatId: 'x' }).then(() => done.push('x1'));
    await inside;
    const x2 = store.write((tx) => tx.append('x', { type: 'chat.read', n: 2 } as never), { chatId: 'x' }).then(() => done.push('x2'));
    const y = store.write((tx) => tx.append('y', event), { chatId: 'y' }).then(() => done.push('y'));
    // Queued after y: an unscoped write waits for every batch before it, and nothing queued later passes it.
    const unscoped = store.write((tx) => tx.append('all', event)).then(() => done.push('unscoped'));
    expect(await Promise.race([y.then(() => 'committed'), sleep(10_000).then(() => 'timed out')])).toBe('committed');
    await sleep(300);
    expect(done).toEqual(['y']);
    release();
    await Promise.all([x1, x2, unscoped]);
    expect(done).toEqual(['y', 'x1', 'x2', 'unscoped']);
    expect(published.filter((e) => ['x', 'y', 'all'].includes(e.topic)).map((e) => (e.topic === 'x' ? `x${JSON.parse(e.json).n}` : e.topic))).toEqual(['y', 'x1', 'x2', 'all']);
  }, 60_000);

  it("writes scoped to a chat run beside another node's write of another chat; the same chat's writes, and unscoped ones, wait for it", async () => {
    const { url } = await database();
    const [a, b, c, d] = [await open(url), await open(url), await open(url), await open(url)];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    const done: string[] = [];
    // Node A's batch holds chat x's lock (and the write lock, shared) until the gate opens.
    const held = a.store.write(async (tx) => {
      await tx.append('x', event);
      entered();
      await gate;
    }, { chatId: 'x' }).then(() => done.push('x on A'));
    await inside;
    const other = b.store.write((tx) => tx.append('y', event), { chatId: 'y' }).then(() => done.push('y on B'));
    const timeout = sleep(10_000).then(() => 'timed out');
    expect(await Promise.race([other.then(() => 'committed'), timeout])).toBe('committed');
    // Committed and published meanwhile, with A's write still open.
    await expect.poll(() => b.published.some((e) => e.topic === 'y'), { timeout: 5000 }).toBe(true);
    // (Asked for only now: an unscoped write waiting for the write lock is ahead of every later
    // request for it, on any node, so B's write would have waited behind it.)
    const sameChat = c.store.write((tx) => tx.append('x', event), { chatId: 'x' }).then(() => done.push('x on C'));
    const unscoped = d.store.write((tx) => tx.append('all', event)).then(() => done.push('unscoped on D'));
    await sleep(300);
    expect(done).toEqual(['y on B']);
    release();
    await Promise.all([held, sameChat, unscoped]);
    expect(done.slice(0, 2)).toEqual(['y on B', 'x on A']);
    // Every node's listeners saw the four events in one order, that of the sequences.
    for (const node of [a, b, c, d]) {
      await expect.poll(() => node.published.filter((e) => ['x', 'y', 'all'].includes(e.topic)).length, { timeout: 5000 }).toBe(4);
      const seqs = node.published.filter((e) => ['x', 'y', 'all'].includes(e.topic)).map((e) => e.seq);
      expect(seqs).toEqual([...seqs].sort((p, q) => p - q));
    }
    // y committed first: its event comes first in the log, though A's x was appended before it.
    expect(a.published.find((e) => ['x', 'y', 'all'].includes(e.topic))!.topic).toBe('y');
  }, 60_000);
});
