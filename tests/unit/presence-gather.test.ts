/**
 * Presence announcements that need no answer (first polls, polls that stopped) are gathered into
 * one write at a time, against the real embedded store on disk: a storm of first polls makes a
 * handful of writes, not one each, and every announcement still lands, in order with the user's
 * own choices.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PresenceService } from '../../server/src/presence/service.js';
import { ConnectionTracker } from '../../server/src/presence/tracker.js';
import { SqliteStore } from '../../server/src/store/sqlite.js';
import type { StoredEvent, UserRecord } from '../../server/src/store/store.js';

describe('presence announcements gathered under load', () => {
  let dir: string;
  let store: SqliteStore;
  let events: StoredEvent[];
  let writes: number;
  let presence: PresenceService;
  const errors: unknown[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'portico-presence-'));
    store = new SqliteStore(join(dir, 'portico.db'));
    events = [];
    store.onCommit((e) => events.push(...e));
    writes = 0;
    const write = store.write.bind(store);
    store.write = ((fn: never) => {
      writes++;
      return write(fn);
    }) as typeof store.write;
    presence = new PresenceService(store, new ConnectionTracker(60_000), (e) => errors.push(e));
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const announced = () => events.map((e) => JSON.parse(e.json) as { type: string; username: string; state: string }).filter((e) => e.type === 'presence');

  it('200 first polls in one turn: every user is announced online, in a few writes', async () => {
    const users: UserRecord[] = [];
    for (let i = 0; i < 200; i++) users.push(await store.createUser({ username: `g${i}`, displayName: `g${i}`, passwordHash: 'x', isAdmin: false }));
    writes = 0;
    users.forEach((u, i) => presence.pollStarted(u.id, 1000 + i));
    await presence.idle();
    expect(errors).toEqual([]);
    expect(new Set(announced().map((e) => `${e.username} ${e.state}`))).toEqual(new Set(users.map((u) => `${u.username} available`)));
    expect(writes).toBeLessThanOrEqual(2); // the first at once, the rest gathered behind it
  });

  it('a choice right after coming online is announced after "online", never overtaken by it', async () => {
    const [a, b] = [await store.createUser({ username: 'ga', displayName: 'ga', passwordHash: 'x', isAdmin: false }), await store.createUser({ username: 'gb', displayName: 'gb', passwordHash: 'x', isAdmin: false })];
    presence.pollStarted(a.id, 1); // written at once
    presence.pollStarted(b.id, 2); // gathered behind a's write
    await presence.choose(b.id, 'busy');
    await presence.idle();
    expect(announced().filter((e) => e.username === 'gb').map((e) => e.state)).toEqual(['available', 'busy']);
    expect((await store.userById(b.id))!.announcedPresence).toBe('busy');
  });
  it('first polls a millisecond apart: the writes are spaced (one per 5 ms at most), not one per arrival', async () => {
    const users: UserRecord[] = [];
    for (let i = 0; i < 30; i++) users.push(await store.createUser({ username: `s${i}`, displayName: `s${i}`, passwordHash: 'x', isAdmin: false }));
    writes = 0;
    const began = performance.now();
    for (const [i, u] of users.entries()) {
      presence.pollStarted(u.id, 2000 + i);
      await new Promise((r) => setTimeout(r, 1)); // each write is done long before the next arrival
    }
    await presence.idle();
    const elapsed = performance.now() - began;
    expect(errors).toEqual([]);
    expect(new Set(announced().map((e) => e.username))).toEqual(new Set(users.map((u) => u.username)));
    // Node's timers count whole milliseconds, so a 5 ms wait may end after a little over 4 ms.
    expect(writes).toBeLessThanOrEqual(Math.ceil(elapsed / 4) + 1);
    expect(writes).toBeLessThan(users.length / 2);
  });
});
