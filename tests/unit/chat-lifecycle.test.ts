/** The lifecycle rules both sides share (shared/chat-lifecycle.ts): what counts as an emoji, who a text mentions. */
import { describe, expect, it } from 'vitest';
import { EventHub, type Waiter } from '../../server/src/events/hub.js';
import type { StoredEvent } from '../../server/src/store/store.js';
import { isEmoji, mentionsIn } from '../../shared/index.js';

describe('isEmoji', () => {
  it('takes single emoji and short runs of them: skin tones, flags, keycaps, ZWJ families, subdivision flags', () => {
    for (const e of ['👍', '👍🏽', '❤️', '🇯🇵', '1️⃣', '#️⃣', '👨‍👩‍👧', '🏴󠁧󠁢󠁳󠁣󠁴󠁿', '👍👍', '🎉']) expect(isEmoji(e), e).toBe(true);
  });
  it('refuses text, digits, markup, blanks, lone joiners and selectors, and anything over 32 UTF-16 units', () => {
    for (const e of ['', ' ', 'a', '1', '#', 'hi', '👍a', ' 👍', '👍 ', '<b>', '\u200d', '\ufe0f', '🇯', '👍'.repeat(17), ':+1:']) expect(isEmoji(e), JSON.stringify(e)).toBe(false);
  });
});

describe('mentionsIn', () => {
  const members = ['bob', 'Carol', 'dave.x'];
  it('finds members case-insensitively, spelled as the members are, once each, in order', () => {
    expect(mentionsIn('@carol and @BOB, again @bob', members)).toEqual(['Carol', 'bob']);
  });
  it('ignores non-members, e-mail addresses and a bare @; trailing punctuation does not hide a name', () => {
    expect(mentionsIn('mail bob@bob.example or x@carol; @ nobody; @mallory', members)).toEqual([]);
    expect(mentionsIn('thanks @bob. and @dave.x.', members)).toEqual(['bob', 'dave.x']);
    expect(mentionsIn('(@Carol)', members)).toEqual(['Carol']);
    expect(mentionsIn('no at sign', members)).toEqual([]);
  });
});

describe('EventHub.signal (typing: never stored)', () => {
  it('hands the event to the waiters held on the topic, but not to the excepted user, with the cursor their answer carries anyway', async () => {
    const hub = new EventHub();
    const woken = new Map<number, StoredEvent[]>();
    const hold = (tokenId: number, userId: number, topics: string[], after: number): Waiter => {
      const w: Waiter = { userId, tokenId, topics, after, pending: [], wake: (events) => void woken.set(tokenId, [...events]) };
      hub.add(w);
      return w;
    };
    const settle = async () => {
      for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
    };
    const kinds = (tokenId: number) => woken.get(tokenId)?.map((e) => [e.seq, JSON.parse(e.json).type ?? 'stored']);
    hold(1, 10, ['c:x'], 7); // bob
    hold(2, 10, ['c:x'], 7); // bob's other device
    hold(3, 20, ['c:x'], 7); // alice, typing
    hold(4, 30, ['c:y'], 7); // someone elsewhere
    hub.signal('c:x', '{"type":"chat.typing","chatId":"x","username":"alice"}', 20);
    await settle();
    expect(JSON.parse(woken.get(1)![0]!.json)).toEqual({ cursor: '7', type: 'chat.typing', chatId: 'x', username: 'alice' });
    expect(kinds(2)).toEqual([[7, 'chat.typing']]);
    expect(woken.has(3)).toBe(false);
    expect(woken.has(4)).toBe(false);

    // With a stored event pending, it comes after it with that event's cursor, no further.
    const carol = hold(5, 40, ['c:x'], 3);
    hold(6, 20, ['c:x'], 3); // alice again
    hub.publish([{ seq: 9, topic: 'c:x', json: '{"cursor":"9"}', origin: 5 }]); // carol's own: no wake-up for it alone
    expect(carol.pending.map((e) => e.seq)).toEqual([9]);
    hub.signal('c:x', '{"type":"chat.typing","chatId":"x","username":"alice"}', 20);
    await settle();
    expect(kinds(5)).toEqual([
      [9, 'stored'],
      [9, 'chat.typing'],
    ]);
    expect(kinds(6)).toEqual([[9, 'stored']]);
    // The log's bookkeeping did not move: a poll from cursor 9 has nothing to read on c:x.
    expect(hub.topicsWithEvents(['c:x'], 9)).toEqual([]);
  });
});
