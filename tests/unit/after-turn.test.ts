import { describe, expect, it } from 'vitest';
import { AfterTurn } from '../../server/src/after-turn.js';

const turn = () => new Promise((r) => setImmediate(r));

describe('AfterTurn', () => {
  it('runs what a turn gathered once, after it, each batch with its items in order', async () => {
    const runs: string[][] = [];
    const a = new AfterTurn<string>((items) => runs.push(['a', ...items]));
    const b = new AfterTurn<string>((items) => runs.push(['b', ...items]));
    a.add('1');
    b.add('x');
    a.add('2');
    expect(runs).toEqual([]); // nothing within the turn
    await turn();
    expect(runs).toEqual([['a', '1', '2'], ['b', 'x']]);
    a.add('3');
    await turn();
    expect(runs).toEqual([['a', '1', '2'], ['b', 'x'], ['a', '3']]);
  });

  it('a batch that throws leaves the others run, and runs again next time', async () => {
    const seen: string[] = [];
    let fail = true;
    const bad = new AfterTurn<string>((items) => {
      seen.push(...items);
      if (fail) throw new Error('boom');
    });
    const good = new AfterTurn<string>((items) => seen.push(...items));
    const thrown = new Promise<unknown>((resolve) => process.once('uncaughtException', resolve));
    bad.add('bad-1');
    good.add('good-1');
    expect(((await thrown) as Error).message).toBe('boom');
    expect(seen).toEqual(['bad-1', 'good-1']);
    fail = false;
    bad.add('bad-2');
    good.add('good-2');
    await turn();
    expect(seen).toEqual(['bad-1', 'good-1', 'bad-2', 'good-2']);
  });
});
