/**
 * Token lookups on PostgreSQL (issue 15): never cached, since a token revoked on one node must end
 * on every node at once, but batched: the lookups asked for while one query is in flight go in the
 * next query. Against a real PostgreSQL: many lookups at once take one query and each gets its own
 * answer; a session ended through another node is gone for every lookup asked after, even while
 * other lookups keep a query in flight all the time.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgStore } from '../../server/src/store/pg-store.js';
import { HAVE_POSTGRES, startPostgres, type Postgres } from '../helpers/postgres.js';

describe.runIf(HAVE_POSTGRES)('PgStore token lookups', () => {
  let db: Postgres;
  let a: PgStore;
  let b: PgStore;
  const hour = () => Date.now() + 3_600_000;

  beforeAll(async () => {
    db = await startPostgres();
    a = await PgStore.open(db.url, { max: 4 });
    b = await PgStore.open(db.url, { max: 4 });
  }, 90_000);
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await db?.destroy();
  });

  async function session(username: string) {
    const user = await a.createUser({ username, displayName: username, passwordHash: 'x', isAdmin: false });
    const hash = randomBytes(32);
    const tokenId = await a.createSession(user.id, hash, hour());
    return { user, hash, tokenId };
  }

  it('300 lookups asked at once: one query, each its own answer (known, unknown, the same token twice)', async () => {
    const known: Array<Awaited<ReturnType<typeof session>>> = [];
    for (let i = 0; i < 20; i++) known.push(await session(`many${i}`));
    const asked = Array.from({ length: 300 }, (_, i) => (i % 3 === 2 ? { hash: randomBytes(32), user: undefined } : known[i % known.length]!));
    const queries = a.stats.sessionQueries;
    const answers = await Promise.all(asked.map((x) => a.sessionByTokenHash(x.hash)));
    expect(a.stats.sessionQueries - queries).toBe(1);
    answers.forEach((answer, i) => {
      const want = asked[i]!;
      if (!want.user) expect(answer).toBeUndefined();
      else {
        expect(answer?.user.username).toBe(want.user.username);
        expect(answer?.tokenId).toBe((want as { tokenId: number }).tokenId);
      }
    });
  });

  it('a session ended on another node is gone for every lookup asked after, while lookups keep a query in flight', async () => {
    const busy = await session('busy');
    let stop = false;
    // Lookups back to back: most of the time one query is in flight and the next lookups wait for it.
    const churn = (async () => {
      while (!stop) await Promise.all(Array.from({ length: 20 }, () => a.sessionByTokenHash(busy.hash)));
    })();
    try {
      for (let i = 0; i < 50; i++) {
        const s = await session(`ended${i}`);
        expect((await a.sessionByTokenHash(s.hash))?.user.username).toBe(`ended${i}`);
        await b.deleteSession(s.tokenId);
        expect(await a.sessionByTokenHash(s.hash)).toBeUndefined();
      }
      const batched = a.stats.sessionLookups / a.stats.sessionQueries;
      expect(batched).toBeGreaterThan(2); // the churn's lookups did share queries
    } finally {
      stop = true;
      await churn;
    }
  }, 60_000);
});
