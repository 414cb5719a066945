/**
 * How long an empty poll is held: short waits exactly as asked; a panel's long hold ends at a
 * random moment of its last fifth, so panels that connected together stop re-polling in waves.
 */
import { describe, expect, it } from 'vitest';
import { rng } from '../helpers/random.js';
import { holdMs } from '../../server/src/events/routes.js';


/**
 * 15,000 panels whose first held polls begin within 7 s (a connect storm), each re-polling 5 ms
 * after its answer: the most re-polls in any one second between `fromS` and `toS`.
 */
function peakRepollsPerSecond(random: () => number, fromS: number, toS: number): number {
  const perSecond = new Map<number, number>();
  for (let i = 0; i < 15_000; i++) {
    for (let t = (7 * i) / 15_000; t < toS; t += holdMs(25, random) / 1000 + 0.005) {
      if (t >= fromS) perSecond.set(Math.floor(t), (perSecond.get(Math.floor(t)) ?? 0) + 1);
    }
  }
  return Math.max(...perSecond.values());
}

describe('how long an empty poll is held', () => {
  it('holds a short wait exactly as asked', () => {
    for (const wait of [0, 1, 2, 9.5]) expect(holdMs(wait, () => 0.99)).toBe(wait * 1000);
  });

  it("ends a panel's 25 s hold in its last fifth, not always at the same moment", () => {
    expect(holdMs(25, () => 0)).toBe(25_000);
    const random = rng(7);
    const holds = Array.from({ length: 1000 }, () => holdMs(25, random));
    expect(Math.min(...holds)).toBeGreaterThanOrEqual(20_000);
    expect(Math.max(...holds)).toBeLessThanOrEqual(25_000);
    expect(Math.max(...holds) - Math.min(...holds)).toBeGreaterThan(4_000);
  });

  it('spreads the re-polls of panels that connected together: the waves flatten within minutes', () => {
    // Without the spread the storm's wave comes back every 25 s, as steep as ever (~2,100 a second).
    const locked = peakRepollsPerSecond(() => 0, 250, 300);
    expect(locked).toBeGreaterThan(2_000);
    // With it, each cycle widens the wave: five minutes later its peak is well below, twenty
    // minutes later the re-polls are near even (15,000 panels over ~22.5 s is ~670 a second).
    expect(peakRepollsPerSecond(rng(11), 250, 300)).toBeLessThan(0.6 * locked);
    expect(peakRepollsPerSecond(rng(11), 1150, 1200)).toBeLessThan(800);
  });
});
