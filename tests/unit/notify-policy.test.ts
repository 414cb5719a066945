/** The notification decision (shared/notify-policy.ts): presence, do-not-disturb, chat mute, mentions, the user's setting. */
import { describe, expect, it } from 'vitest';
import { isBusy, isMuted, mentions, notifyDecision, type NotifyInput } from '../../shared/notify-policy.js';

const NOW = Date.parse('2026-12-07T10:00:00Z');
const later = new Date(NOW + 3_600_000).toISOString();
const earlier = new Date(NOW - 1000).toISOString();
const base: NotifyInput = { presence: 'available', dndUntil: null, notifyMentionsWhenBusy: true, mentionsMe: false, now: NOW };
const decide = (over: Partial<NotifyInput>) => notifyDecision({ ...base, ...over });

describe('notifyDecision', () => {
  it('shows a message when nothing holds it back, whatever the presence but busy', () => {
    for (const presence of ['available', 'away', 'offline'] as const) expect(decide({ presence }), presence).toBe('show');
    expect(decide({ chat: { muted: false } })).toBe('show');
  });

  it('my own message, or the chat in front of me: none, even when mentioned', () => {
    expect(decide({ fromMe: true, mentionsMe: true })).toBe('none');
    expect(decide({ chatInView: true, mentionsMe: true })).toBe('none');
  });

  it('busy presence or running do-not-disturb silence everything but mentions, as set', () => {
    for (const busy of [{ presence: 'busy' as const }, { dndUntil: later }]) {
      expect(decide(busy), JSON.stringify(busy)).toBe('silent');
      expect(decide({ ...busy, mentionsMe: true }), JSON.stringify(busy)).toBe('show');
      expect(decide({ ...busy, mentionsMe: true, notifyMentionsWhenBusy: false }), JSON.stringify(busy)).toBe('silent');
    }
  });

  it('do-not-disturb that has run out does nothing', () => {
    expect(decide({ dndUntil: earlier })).toBe('show');
    expect(decide({ dndUntil: new Date(NOW).toISOString() })).toBe('show'); // ends at that instant
  });

  it('a muted chat: none, but a mention still comes through (silent while busy unless mentions are allowed)', () => {
    expect(decide({ chat: { muted: true } })).toBe('none');
    expect(decide({ chat: { muted: true, mutedUntil: later } })).toBe('none');
    expect(decide({ chat: { muted: true }, mentionsMe: true })).toBe('show');
    expect(decide({ chat: { muted: true }, presence: 'busy' })).toBe('none');
    expect(decide({ chat: { muted: true }, presence: 'busy', mentionsMe: true })).toBe('show');
    expect(decide({ chat: { muted: true }, dndUntil: later, mentionsMe: true, notifyMentionsWhenBusy: false })).toBe('silent');
  });

  it('a mute that has run out does nothing', () => {
    expect(decide({ chat: { muted: true, mutedUntil: earlier } })).toBe('show');
    expect(isMuted({ muted: true, mutedUntil: earlier }, NOW)).toBe(false);
    expect(isMuted({ muted: true }, NOW)).toBe(true);
    expect(isMuted(undefined, NOW)).toBe(false);
  });

  it('isBusy reads presence and do-not-disturb', () => {
    expect(isBusy({ presence: 'busy', dndUntil: null, now: NOW })).toBe(true);
    expect(isBusy({ presence: 'away', dndUntil: later, now: NOW })).toBe(true);
    expect(isBusy({ presence: 'away', dndUntil: earlier, now: NOW })).toBe(false);
  });
});

describe('mentions', () => {
  it('finds @username in any case, at a word start, not inside longer names or addresses', () => {
    expect(mentions('@ann can you look?', 'ann')).toBe(true);
    expect(mentions('thanks, @Ann.', 'ann')).toBe(true);
    expect(mentions('(@ann)', 'ann')).toBe(true);
    expect(mentions('ask @ann-marie', 'ann')).toBe(false);
    expect(mentions('ask @anne', 'ann')).toBe(false);
    expect(mentions('mail ann@example.com or x@ann', 'ann')).toBe(false);
    expect(mentions('@ann.lee here', 'ann')).toBe(false);
    expect(mentions('@ann.lee here', 'ann.lee')).toBe(true);
    expect(mentions('no mention of ann', 'ann')).toBe(false);
  });
});
