/**
 * The reads every poll storm makes on PostgreSQL (issue 15), gathered: token lookups, and a first
 * poll's subscriptions, ticker channels and the log's head. Never cached, since a token revoked on
 * one node must end on every node at once, but batched: the reads asked for while one query is in
 * flight go in the next query. Against a real PostgreSQL: many lookups at once take one query and
 * each gets its own answer; a session ended through another node is gone for every lookup asked
 * after, even while other lookups keep a query in flight all the time; the gathered first-poll
 * reads answer each user what the same reads one at a time answer.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChat, moveMember } from '../../server/src/chat/rules.js';
import { addContact } from '../../server/src/contacts/rules.js';
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

  it("a first poll's reads gathered for many users answer each what they answer one at a time", async () => {
    type User = Awaited<ReturnType<typeof session>>['user'];
    const users: User[] = [];
    for (let i = 0; i < 12; i++) users.push((await session(`first${i}`)).user);
    const [u0, u1, u2, u3, u4, u5] = users as [User, User, User, User, User, User];
    await a.write((tx) => addContact(tx, u0.id, u1.id));
    await a.write((tx) => addContact(tx, u2.id, u0.id));
    const group = await a.write((tx) => tx.insertGroup('firsts', 'Firsts', 'local'));
    for (const u of [u1, u3, u4]) await a.write((tx) => tx.insertGroupMember(group, u.id));
    const chat = await a.write((tx) => createChat(tx, u3.id, [u4.id]));
    await a.write((tx) => moveMember(tx, chat.id, u4.id, ['invited'], 'accepted'));
    await a.portal.setProviderChannels((await a.portal.createProvider({ name: 'firsts', channels: ['news', 'alerts'], keyHash: randomBytes(32), keySealed: 'x', requireSignature: false })).name, ['news', 'alerts', 'weather']);
    await a.portal.setChannelsOfUser(u5.id, ['weather', 'news']);

    const sorted = (s: { contactIds: number[]; chatIds: string[] }) => ({ contactIds: [...s.contactIds].sort(), chatIds: [...s.chatIds].sort() });
    // What each user should get, from other reads than the gathered ones (the contact list, the chosen channels).
    const defaults = (await b.portal.listChannels()).filter((c) => c.isDefault).map((c) => c.name).sort();
    const alone: Array<{ subs: ReturnType<typeof sorted>; channels: string[] }> = [];
    for (const u of users) {
      const contactIds = (await b.listContacts(u.id)).map((c) => c.user.id);
      const chosen = await b.portal.channelsOfUser(u.id);
      alone.push({ subs: sorted({ contactIds, chatIds: u === u3 || u === u4 ? [chat.id] : [] }), channels: chosen.length ? chosen : defaults });
    }
    const head = Number((await db.query('SELECT max(seq) AS seq FROM events')).rows[0].seq);
    const [subs, channels, heads] = await Promise.all([
      Promise.all(users.map((u) => a.subscriptions(u.id))),
      Promise.all(users.map((u) => a.portal.tickerChannelsFor(u.id))),
      Promise.all(users.map(() => a.headSeq())),
    ]);
    users.forEach((u, i) => {
      expect(sorted(subs[i]!), u.username).toEqual(alone[i]!.subs);
      expect(channels[i]!.map((c) => c.name), u.username).toEqual(alone[i]!.channels);
    });
    // What the rules made, so the comparison is not of empty answers.
    expect(alone[1]!.subs.contactIds).toEqual([u3.id, u4.id].sort());
    expect(alone[3]!.subs.chatIds).toEqual([chat.id]);
    expect(alone[5]!.channels).toEqual(['weather', 'news']);
    expect(alone[0]!.channels).toEqual(['alerts', 'news', 'weather']);
    expect(new Set(heads)).toEqual(new Set([head]));
    expect(head).toBeGreaterThan(0);
  });
});
