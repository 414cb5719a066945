/**
 * The PostgreSQL event log (issue 15) against a real PostgreSQL: migrations once across nodes
 * starting together, one order with nothing skipped while writers commit out of step, and
 * cross-node wake-up by LISTEN/NOTIFY that survives its connection being cut.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rng } from '../helpers/random.js';
import { announcement, BatchEvents, PgLogFollower, pgHeadSeq, readPgEvents, readPgLog } from '../../server/src/store/pg-log.js';
import { migratePostgres, PG_MIGRATIONS } from '../../server/src/store/pg-schema.js';
import type { StoredEvent } from '../../server/src/store/store.js';
import { HAVE_POSTGRES, startPostgres, type Postgres } from '../helpers/postgres.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.runIf(HAVE_POSTGRES)('event log on PostgreSQL', () => {
  let db: Postgres;
  let pools: pg.Pool[];

  beforeAll(async () => {
    db = await startPostgres();
    // Two "nodes" start together on the empty database.
    pools = [new pg.Pool({ connectionString: db.url, max: 8 }), new pg.Pool({ connectionString: db.url, max: 8 })];
    // An idle pooled connection the server ends (the terminate below, the shutdown at the end)
    // is reported on the pool; the pool replaces it.
    for (const pool of pools) pool.on('error', () => {});
    const applied = await Promise.all(pools.map((p) => migratePostgres(p)));
    expect(applied.sort()).toEqual([0, PG_MIGRATIONS.length]);
  }, 90_000);
  afterAll(async () => {
    await Promise.all((pools ?? []).map((p) => p.end()));
    await db?.destroy();
  });

  it('migrates once: the schema is at the newest version and a second run applies nothing', async () => {
    expect((await db.query('SELECT version FROM schema_version')).rows).toEqual([{ version: PG_MIGRATIONS.length }]);
    expect(await migratePostgres(pools[0]!)).toBe(0);
  });

  /**
   * Three writers append one event per transaction and wait a random 0–4 ms between the append
   * (the sequence is allocated) and COMMIT; a reader follows `seq > cursor` as a poll does.
   * `ordered`: through BatchEvents, as a group commit appends (the order lock); otherwise a bare INSERT.
   */
  async function race(ordered: boolean, seed: number) {
    const topic = `race-${ordered}-${seed}`;
    const next = rng(seed);
    let writing = true;
    const committed: number[] = [];
    const writer = async (pool: pg.Pool, n: number) => {
      for (let i = 0; i < n; i++) {
        const client = await pool.connect();
        try {
          await client.query('BEGIN');
          let seq: number;
          if (ordered) {
            // As a group commit closes, with the wait inside PostgreSQL between the allocation and COMMIT.
            const events = new BatchEvents();
            events.append(topic, '{"type":"test"}', Date.now());
            const [append, commit] = events.closing();
            const answers = (await client.query(`${append}; SELECT pg_sleep(${(next() * 0.004).toFixed(4)}); ${commit}`)) as unknown as pg.QueryResult[];
            seq = events.sequences(answers[0]!)[0]!;
          } else {
            seq = Number((await client.query('INSERT INTO events (topic, body, at) VALUES ($1, $2, $3) RETURNING seq', [topic, '{"type":"test"}', Date.now()])).rows[0].seq);
            await sleep(next() * 4);
            await client.query('COMMIT');
          }
          committed.push(seq);
        } finally {
          client.release();
        }
      }
    };
    const seen: number[] = [];
    const reader = (async () => {
      let cursor = 0;
      while (writing) {
        for (const e of await readPgEvents(pools[1]!, [topic], cursor, 1000)) {
          seen.push(e.seq);
          cursor = e.seq;
        }
      }
      for (const e of await readPgEvents(pools[1]!, [topic], cursor, 10_000)) seen.push(e.seq);
    })();
    await Promise.all([writer(pools[0]!, 60), writer(pools[0]!, 60), writer(pools[1]!, 60)]);
    writing = false;
    await reader;
    const skipped = committed.filter((s) => !seen.includes(s));
    return { committed, seen, skipped };
  }

  it('without the order lock a poller skips events that commit late (the failure the lock prevents)', async () => {
    let skipped = 0;
    for (let seed = 1; seed <= 3 && skipped === 0; seed++) skipped += (await race(false, seed)).skipped.length;
    expect(skipped).toBeGreaterThan(0);
  }, 60_000);

  it('with the order lock a poller sees every committed event once, in sequence order', async () => {
    for (const seed of [11, 12, 13]) {
      const { committed, seen, skipped } = await race(true, seed);
      expect(skipped).toEqual([]);
      expect(seen).toEqual([...committed].sort((a, b) => a - b));
      expect(new Set(seen).size).toBe(seen.length);
    }
  }, 60_000);

  it('closes a batch with every text as it was appended (quotes, backslashes, escapes, any character), in order', async () => {
    const texts = [`it's`, `back\\slash \\' E'\\x41'`, `$$; COMMIT; DROP TABLE events; --`, `line\nbreak\ttab`, `\u00e9t\u00e9 \u{1F600} \u200b`, `"'"'`, `\\`, ''];
    const bodies = texts.map((text) => JSON.stringify({ type: 'test', text }));
    const client = await pools[0]!.connect();
    let seqs: number[];
    try {
      await client.query('BEGIN');
      const events = new BatchEvents();
      bodies.forEach((body, i) => events.append(i % 2 ? "quote'topic" : 'plain-topic', body, Date.now(), i % 3 ? i : undefined));
      const answers = (await client.query(events.closing().join('; '))) as unknown as pg.QueryResult[];
      expect(answers[answers.length - 1]!.command).toBe('COMMIT');
      seqs = events.sequences(answers[0]!);
    } finally {
      client.release();
    }
    const stored = await readPgLog(pools[1]!, seqs[0]! - 1, 100);
    expect(stored.map((e) => e.seq)).toEqual(seqs);
    expect(stored.map((e) => e.topic)).toEqual(bodies.map((_, i) => (i % 2 ? "quote'topic" : 'plain-topic')));
    expect(stored.map((e) => (JSON.parse(e.json) as { text: string }).text)).toEqual(texts);
    expect(stored.map((e) => e.origin)).toEqual(bodies.map((_, i) => (i % 3 ? i : undefined)));
    expect((await db.query("SELECT to_regclass('events') AS t")).rows[0].t).toBe('events');
  });

  it('refuses to write a number that is not an integer into a closing statement', () => {
    const events = new BatchEvents();
    events.append('t', '{}', 1.5);
    expect(() => events.closing()).toThrow(/not an integer/);
  });

  it("a batch's NOTIFY carries its events when they fit: another node's follower hands them on without reading the log, the same as the log holds them", async () => {
    const got: StoredEvent[] = [];
    let logReads = 0;
    const follower = new PgLogFollower({
      connect: async () => {
        const c = new pg.Client({ connectionString: db.url });
        await c.connect();
        const query = c.query.bind(c) as (...args: unknown[]) => unknown;
        (c as unknown as { query: unknown }).query = (...args: unknown[]) => {
          if (String(args[0]).startsWith('SELECT seq, topic, body, origin FROM events')) logReads++;
          return query(...args);
        };
        return c;
      },
      db: pools[1]!,
      from: await pgHeadSeq(pools[1]!),
      publish: (events) => got.push(...events),
      onError: () => {},
      safetyMs: 60_000,
    });
    await follower.start();
    await expect.poll(() => logReads).toBe(1); // the catch-up at start
    const commit = async (bodies: string[]) => {
      const client = await pools[0]!.connect();
      try {
        await client.query('BEGIN');
        const events = new BatchEvents();
        bodies.forEach((body, i) => events.append(i % 2 ? "it's" : 'carried', body, Date.now(), i % 2 ? 7 : undefined));
        events.append('carried', '{"type":"test","text":"back\\\\slash \\" \\u00e9 \u{1F600}"}', Date.now());
        return events.sequences(((await client.query(events.closing().join('; '))) as unknown as pg.QueryResult[])[0]!);
      } finally {
        client.release();
      }
    };
    try {
      const small = await commit(['{"type":"test","n":1}', '{"type":"test","n":2}']);
      await expect.poll(() => got.length, { timeout: 2000, interval: 5 }).toBe(3);
      expect(logReads).toBe(1);
      expect(got).toEqual(await readPgLog(pools[0]!, small[0]! - 1, 100));

      // Too large to ride along (over 8,000 bytes): announced only, read from the log.
      const large = await commit(Array.from({ length: 40 }, (_, n) => JSON.stringify({ type: 'test', n, pad: 'x'.repeat(200) })));
      await expect.poll(() => got.length, { timeout: 2000, interval: 5 }).toBe(3 + 41);
      expect(logReads).toBe(2);
      expect(got.slice(3)).toEqual(await readPgLog(pools[0]!, large[0]! - 1, 100));
    } finally {
      await follower.stop();
    }
  });

  it('reads what a notification announces (the last sequence, and the events when they rode along); anything else only announces', () => {
    const events = new BatchEvents();
    events.append('a', '{"type":"x"}', 1, 5);
    events.append('b', '{"type":"y","t":"\\\\"}', 2);
    expect(announcement(`12 ${JSON.stringify([['a', '{"type":"x"}', 5], ['b', '{"type":"y","t":"\\\\"}', null]])}`)).toEqual({ last: 12, events: events.stored([11, 12]) });
    expect(announcement('12')).toEqual({ last: 12, events: [] });
    expect(announcement('12 [not json')).toEqual({ last: 12, events: [] });
    expect(announcement('')).toEqual({ last: 0, events: [] });
    expect(Number.isNaN(announcement('x [1]').last)).toBe(true);
  });

  it('a commit on one node wakes the follower of another at once, and a cut LISTEN connection loses nothing', async () => {
    const got: StoredEvent[] = [];
    const errors: unknown[] = [];
    const follower = new PgLogFollower({
      connect: async () => {
        const c = new pg.Client({ connectionString: db.url, application_name: 'portico-follower' });
        await c.connect();
        return c;
      },
      db: pools[1]!,
      from: await pgHeadSeq(pools[1]!),
      publish: (events) => got.push(...events),
      onError: (e) => errors.push(e),
      safetyMs: 60_000, // no timer catch-up in this test: only notifications and reconnects
    });
    await follower.start();
    const append = async (n: number) => {
      const client = await pools[0]!.connect();
      try {
        await client.query('BEGIN');
        const events = new BatchEvents();
        for (let i = 0; i < n; i++) events.append('wake', `{"type":"test","n":${i}}`, Date.now());
        await client.query(events.closing().join('; '));
      } finally {
        client.release();
      }
    };
    try {
      const t0 = performance.now();
      await append(3);
      await expect.poll(() => got.length, { timeout: 2000, interval: 5 }).toBe(3);
      console.log(`cross-node wake-up: ${(performance.now() - t0).toFixed(1)} ms`);

      // Cut the follower's LISTEN connection from the server side, and write meanwhile.
      await db.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'portico-follower'");
      await append(2);
      await expect.poll(() => follower.listening, { timeout: 5000 }).toBe(true);
      await append(1);
      await expect.poll(() => got.length, { timeout: 5000, interval: 10 }).toBe(6);
      const seqs = got.map((e) => e.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      expect(new Set(seqs).size).toBe(6);
      expect((await readPgLog(pools[0]!, seqs[0]! - 1, 100)).filter((e) => e.topic === 'wake').map((e) => e.seq)).toEqual(seqs);
    } finally {
      await follower.stop();
    }
  }, 60_000);
});
