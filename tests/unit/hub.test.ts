import { describe, expect, it } from 'vitest';
import { EventHub, type Waiter } from '../../server/src/events/hub.js';
import type { StoredEvent } from '../../server/src/store/store.js';

const event = (seq: number, topic: string): StoredEvent => ({ seq, topic, json: `{"cursor":"${seq}"}` });

function waiter(tokenId: number, topics: string[], after = 0, userId = tokenId) {
  let woken: StoredEvent[] | undefined;
  let wakes = 0;
  const w: Waiter = {
    userId,
    tokenId,
    topics,
    after,
    pending: [],
    wake: (events) => {
      wakes++;
      woken = [...events];
    },
  };
  return { w, get woken() { return woken; }, get wakes() { return wakes; } };
}

const tick = () => new Promise((r) => setImmediate(r));
async function settle() {
  for (let i = 0; i < 30; i++) await tick();
}

describe('EventHub', () => {
  it('notify: a passing event for the polls held on a topic, with the cursor each already has, not for the sender', async () => {
    const hub = new EventHub();
    const held = waiter(1, ['c:m'], 7);
    const behind = waiter(2, ['c:m'], 3);
    const sender = waiter(3, ['c:m'], 7);
    const elsewhere = waiter(4, ['c:other'], 7);
    [held, behind, sender, elsewhere].forEach((x) => hub.add(x.w));
    hub.publish([event(5, 'c:m')]); // `behind` (after 3) gets it first: the pointer must not move its cursor past 5
    hub.notify('c:m', (cursor) => `{"cursor":"${cursor}","type":"meeting.pointer"}`, 3);
    await settle();
    expect(held.woken?.map((e) => [e.seq, JSON.parse(e.json).cursor])).toEqual([[7, '7']]);
    expect(behind.woken?.map((e) => e.seq)).toEqual([5, 5]);
    expect(JSON.parse(behind.woken![1]!.json)).toEqual({ cursor: '5', type: 'meeting.pointer' });
    expect(sender.woken).toBeUndefined();
    expect(elsewhere.woken).toBeUndefined();
  });


  it('an answered waiter, until it is swept out of its topics, gets nothing more: events, wake-ups and signals go to its session\'s next poll', async () => {
    const hub = new EventHub();
    const first = waiter(1, ['c:x', 'u:1']);
    hub.add(first.w);
    hub.wakeWaiter(first.w); // answered now; taken out of its topics' sets only after the wake-ups
    expect(first.wakes).toBe(1);
    const next = waiter(1, ['c:x', 'u:1'], 0);
    hub.add(next.w); // the same session re-polls before the sweep
    hub.publish([event(5, 'c:x')]);
    hub.signal('c:x', '{"type":"chat.typing"}', 99);
    hub.notify('c:x', (cursor) => `{"cursor":"${cursor}","type":"meeting.pointer"}`);
    await settle();
    expect(first.wakes).toBe(1);
    expect(first.w.pending).toEqual([]);
    expect(next.wakes).toBe(1);
    expect(next.woken?.map((e) => JSON.parse(e.json).type ?? e.seq)).toEqual([5, 'chat.typing', 'meeting.pointer']);
    // Swept by now: a later event finds neither; a user's wake-up before the sweep finds only the live poll.
    const third = waiter(1, ['c:x', 'u:1'], 5);
    hub.add(third.w);
    hub.publish([event(6, 'c:x')]);
    await settle();
    const fourth = waiter(1, ['c:x', 'u:1'], 6);
    hub.add(fourth.w);
    hub.wakeUser(1);
    await settle();
    expect([first.wakes, next.wakes, third.wakes, fourth.wakes]).toEqual([1, 1, 1, 1]);
    expect(third.woken?.map((e) => e.seq)).toEqual([6]);
    expect(fourth.woken).toEqual([]);
  });

  it('wakes only the waiters of the event topic, with events after their cursor', async () => {
    const hub = new EventHub();
    const a = waiter(1, ['c:x', 'u:1']);
    const b = waiter(2, ['c:y']);
    const late = waiter(3, ['c:x'], 10);
    [a, b, late].forEach((x) => hub.add(x.w));
    hub.publish([event(5, 'c:x')]);
    await settle();
    expect(a.woken?.map((e) => e.seq)).toEqual([5]);
    expect(b.woken).toBeUndefined();
    expect(late.woken).toBeUndefined(); // its cursor is past seq 5
    expect(hub.size).toBe(2);
  });

  it('collects every event published before the wake-up, in order', async () => {
    const hub = new EventHub();
    const a = waiter(1, ['c:x', 'p:2']);
    hub.add(a.w);
    hub.publish([event(1, 'c:x'), event(2, 'c:z')]);
    hub.publish([event(3, 'p:2')]);
    await settle();
    expect(a.woken?.map((e) => e.seq)).toEqual([1, 3]);
    expect(a.wakes).toBe(1);
  });

  it('does not wake the session that sent an event for it alone; it gets it with its next answer', async () => {
    const hub = new EventHub();
    const sender = waiter(1, ['c:x'], 0, 1);
    const otherDevice = waiter(2, ['c:x'], 0, 1); // same user, another session
    const partner = waiter(3, ['c:x']);
    [sender, otherDevice, partner].forEach((x) => hub.add(x.w));
    hub.publish([{ ...event(5, 'c:x'), origin: 1 }]);
    await settle();
    expect(partner.woken?.map((e) => e.seq)).toEqual([5]);
    expect(otherDevice.woken?.map((e) => e.seq)).toEqual([5]);
    expect(sender.woken).toBeUndefined();
    expect(hub.size).toBe(1);
    // Its wait ends (or another event comes): the message is in the answer, in order.
    hub.publish([event(6, 'c:x')]);
    await settle();
    expect(sender.woken?.map((e) => e.seq)).toEqual([5, 6]);
    const timedOut = waiter(4, ['c:x'], 6, 4);
    hub.add(timedOut.w);
    hub.publish([{ ...event(7, 'c:x'), origin: 4 }]);
    await settle();
    expect(timedOut.woken).toBeUndefined();
    hub.wakeWaiter(timedOut.w);
    expect(timedOut.woken?.map((e) => e.seq)).toEqual([7]);
  });

  it('a second poll of the same session answers the first at once, empty', () => {
    const hub = new EventHub();
    const first = waiter(7, ['c:x']);
    const second = waiter(7, ['c:x']);
    hub.add(first.w);
    hub.add(second.w);
    expect(first.woken).toEqual([]);
    expect(second.woken).toBeUndefined();
    expect(hub.size).toBe(1);
  });

  it('wakeUser answers all polls of a user, removed waiters are never woken', async () => {
    const hub = new EventHub();
    // Every poll of a user listens on the user's own topic (the hub finds a user's polls by it).
    const phone = waiter(1, ['u:42', 'c:x'], 0, 42);
    const desk = waiter(2, ['u:42', 'c:x'], 0, 42);
    const gone = waiter(3, ['u:43', 'c:x'], 0, 43);
    [phone, desk, gone].forEach((x) => hub.add(x.w));
    hub.remove(gone.w);
    hub.wakeUser(42);
    hub.publish([event(1, 'c:x')]);
    await settle();
    expect(phone.wakes).toBe(1);
    expect(desk.wakes).toBe(1);
    expect(gone.wakes).toBe(0);
    expect(hub.size).toBe(0);
  });

  it('wakeUser answers with the cursor the poll came with, dropping what it held', async () => {
    // Events of the user's new topics may lie below those it holds: the next poll reads them all.
    const hub = new EventHub();
    const a = waiter(1, ['u:42', 'c:old'], 4, 42);
    hub.add(a.w);
    hub.publish([event(6, 'c:old')]);
    hub.wakeUser(42);
    await settle();
    expect(a.woken).toEqual([]);
  });

  it('wakeUser answers with its own cursor even when events are published before the wake-up runs', async () => {
    // The user accepted chat c:new (seq 7, not yet among the poll's topics); its first message
    // (8) and an event of a topic the poll listens to (9) commit before the setImmediate wake.
    // Answering with cursor 9 would step over message 8 for good: the next poll, with c:new,
    // starts after 9.
    const hub = new EventHub();
    const a = waiter(1, ['u:42', 'c:old'], 6, 42);
    hub.add(a.w);
    hub.publish([event(7, 'c:new')]);
    hub.wakeUser(42);
    hub.publish([event(8, 'c:new'), event(9, 'c:old')]);
    await settle();
    expect(a.woken).toEqual([]);
    expect(a.wakes).toBe(1);
    expect(hub.size).toBe(0);
  });

  it('fans one event out to 10,000 waiters from memory, each woken exactly once', async () => {
    const hub = new EventHub();
    const all = Array.from({ length: 10_000 }, (_, i) => waiter(i + 1, ['t:news', `u:${i + 1}`]));
    all.forEach((x) => hub.add(x.w));
    hub.publish([event(100, 't:news')]);
    await settle();
    expect(all.every((x) => x.wakes === 1 && x.woken?.[0]?.seq === 100)).toBe(true);
    expect(hub.size).toBe(0);
  });
  it('knows from memory which topics may have events in the log after a cursor', () => {
    const hub = new EventHub();
    // Before the first commit it knows nothing: every topic must be looked up in the log.
    expect(hub.topicsWithEvents(['c:x', 'u:1'], 1_000)).toEqual(['c:x', 'u:1']);
    expect(hub.isKnown(0)).toBe(false);
    hub.publish([event(11, 'c:x'), event(12, 'p:2')]);
    hub.publish([event(13, 'c:y')]);
    // Cursors from before what the hub saw (before this process started) go to the log.
    expect(hub.topicsWithEvents(['u:1'], 9)).toEqual(['u:1']);
    expect(hub.topicsWithEvents(['c:x', 'u:1'], 10)).toEqual(['c:x']);
    expect(hub.topicsWithEvents(['u:1', 'p:2', 'c:y'], 11)).toEqual(['p:2', 'c:y']);
    expect(hub.topicsWithEvents(['u:1', 'c:x'], 11)).toEqual([]);
    expect(hub.topicsWithEvents(['c:y'], 13)).toEqual([]);
    // A cursor at or below the newest published event is no cursor from the future.
    expect(hub.isKnown(13)).toBe(true);
    expect(hub.isKnown(14)).toBe(false);
  });
  it('remembers a bounded number of topics: cursors older than what it forgot go to the log again', () => {
    const hub = new EventHub();
    const many = Array.from({ length: 100_001 }, (_, i) => event(i + 1, `c:${i + 1}`));
    hub.publish(many);
    hub.publish([event(100_002, 'c:1')]); // the oldest topic has news again: it is kept
    // The older half was forgotten: for a cursor below that point nothing can be ruled out.
    expect(hub.topicsWithEvents(['c:2', 'c:3'], 10)).toEqual(['c:2', 'c:3']);
    // Above it, forgotten topics are known to be quiet and remembered ones are exact.
    expect(hub.topicsWithEvents(['c:2', 'c:1', 'c:99999'], 99_000)).toEqual(['c:1', 'c:99999']);
    expect(hub.topicsWithEvents(['c:2', 'c:99999'], 100_000)).toEqual([]);
  });

  it('keeps the emptied sets of a user who re-polls, but not those of everyone who ever polled', async () => {
    const hub = new EventHub();
    // The internals this is about: the per-topic sets.
    const sets = () => (hub as unknown as { byTopic: Map<string, unknown> }).byTopic.size;
    const stay = waiter(1, ['u:1', 'portal']);
    hub.add(stay.w);
    for (let i = 2; i < 100_000; i++) {
      const w = waiter(i, [`u:${i}`, `c:${i}`, 'portal']).w;
      hub.add(w);
      hub.remove(w);
    }
    expect(sets()).toBeLessThan(25_000);
    // A waiter still held is still woken after the compactions.
    hub.publish([event(1, 'u:1')]);
    await settle();
    expect(stay.woken?.map((e) => e.seq)).toEqual([1]);
    // Re-polling by the same users allocates no new sets.
    const again = waiter(2, ['u:2', 'portal']).w;
    const before = sets();
    hub.add(again);
    hub.remove(again);
    hub.add(again);
    expect(sets()).toBeLessThanOrEqual(before + 2);
  });
});
