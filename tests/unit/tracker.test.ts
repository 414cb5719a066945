import { describe, expect, it } from 'vitest';
import { ConnectionTracker } from '../../server/src/presence/tracker.js';

function clocked(graceMs: number) {
  let now = 1_000_000;
  const tracker = new ConnectionTracker(graceMs, () => now);
  return { tracker, advance: (ms: number) => (now += ms) };
}

describe('ConnectionTracker', () => {
  it('is connected while a poll is held, and for grace after it ends', () => {
    const { tracker, advance } = clocked(1000);
    expect(tracker.isConnected(1)).toBe(false);
    expect(tracker.pollStarted(1, 10)).toBe(true);
    advance(60_000);
    expect(tracker.expire()).toEqual([]);
    expect(tracker.isConnected(1)).toBe(true);
    tracker.pollEnded(1, 10, 0);
    advance(999);
    expect(tracker.expire()).toEqual([]);
    advance(1);
    expect(tracker.expire()).toEqual([1]);
    expect(tracker.isConnected(1)).toBe(false);
  });

  it('connectedUntil (a node\'s presence lease): a held poll\'s wait plus the grace, then the grace after it ends; 0 once gone', () => {
    const { tracker, advance } = clocked(1000);
    expect(tracker.connectedUntil(1)).toBe(0);
    tracker.pollStarted(1, 10, 25_000);
    expect(tracker.connectedUntil(1)).toBe(1_000_000 + 25_000 + 1000);
    advance(5000); // answered early (an event): the grace from now
    tracker.pollEnded(1, 10, 0);
    expect(tracker.connectedUntil(1)).toBe(1_005_000 + 1000);
    tracker.pollStarted(1, 11, 0); // a second session's poll, held past its wait: still connected
    advance(2000);
    expect(tracker.connectedUntil(1)).toBe(1_007_000 + 1000);
    tracker.pollEnded(1, 11, 30_000); // an interval-polling client: its interval too
    expect(tracker.connectedUntil(1)).toBe(1_007_000 + 1000 + 30_000);
    advance(31_000);
    expect(tracker.connectedUntil(1)).toBe(0);
  });

  it('an interval-polling client stays connected for its announced interval', () => {
    const { tracker, advance } = clocked(1000);
    tracker.pollStarted(1, 10);
    tracker.pollEnded(1, 10, 30_000);
    advance(30_500);
    expect(tracker.expire()).toEqual([]);
    advance(600);
    expect(tracker.expire()).toEqual([1]);
  });

  it('a user with two sessions stays connected until both are gone', () => {
    const { tracker } = clocked(1000);
    tracker.pollStarted(1, 10);
    expect(tracker.pollStarted(1, 11)).toBe(false);
    expect(tracker.dropSession(1, 10)).toBe(false);
    expect(tracker.dropSession(1, 11)).toBe(true);
    expect(tracker.isConnected(1)).toBe(false);
  });

  it('a session dropped while its poll is held is not revived when the poll ends', () => {
    const { tracker } = clocked(1000);
    tracker.pollStarted(1, 10);
    expect(tracker.dropSession(1, 10)).toBe(true);
    tracker.pollEnded(1, 10, 0);
    expect(tracker.isConnected(1)).toBe(false);
  });

  it('holdOpen keeps a user connected after a restart until the time is up', () => {
    const { tracker, advance } = clocked(1000);
    tracker.holdOpen(5, 1_000_000 + 5000);
    expect(tracker.isConnected(5)).toBe(true);
    advance(5000);
    expect(tracker.expire()).toEqual([5]);
  });
});
