/**
 * The API client's pure parts: the backoff, the polling policy (cuts, shorter waits, auto
 * switching and switching back), error classification, the outbox store and client ids.
 */
import { describe, expect, it } from 'vitest';
import { Backoff } from '../../electron/renderer/src/api/backoff.js';
import { ApiError } from '../../electron/renderer/src/api/errors.js';
import { Outbox, type OutboxEntry } from '../../electron/renderer/src/api/outbox.js';
import { CUTS_TO_SWITCH, MIN_HELD_WAIT, PollPolicy, type PollPlan } from '../../electron/renderer/src/api/policy.js';
import { MemoryStorage, SafeStorage } from '../../electron/renderer/src/api/storage.js';
import { newClientId } from '../../electron/renderer/src/api/util.js';

describe('Backoff', () => {
  it('full jitter: random() times a ceiling doubling from 0.5 s to the 30 s cap; reset starts over', () => {
    const draws = [1, 0.5, 0, 0.999, 1, 1, 1, 1, 1, 1];
    const backoff = new Backoff({ random: () => draws.shift()! });
    const delays = Array.from({ length: 10 }, () => backoff.next());
    expect(delays).toEqual([500, 500, 0, 3996, 8000, 16000, 30000, 30000, 30000, 30000]);
    backoff.reset();
    expect(new Backoff({ random: () => 0.5 }).next()).toBe(250);
    expect(backoff.failures).toBe(0);
  });

  it('keeps within [0, ceiling] whatever random() answers', () => {
    expect(new Backoff({ random: () => 7 }).next()).toBe(500);
    expect(new Backoff({ random: () => -1 }).next()).toBe(0);
    const b = new Backoff({ baseMs: 100, capMs: 1000, random: () => 1 });
    for (let i = 0; i < 100; i++) b.next();
    expect(b.next()).toBe(1000);
  });
});

describe('PollPolicy', () => {
  const make = (setting: 'auto' | 'long' | 'interval' = 'auto', pollWait = 25) =>
    new PollPolicy({ setting, pollWait, intervalSeconds: 30, longRetryMs: 60_000 });
  /** A held poll cut after `ms`, its probe answered. */
  const cut = (p: PollPolicy, ms: number, now = 0) => {
    const plan = p.plan(true, now);
    expect(plan.kind).toBe('held');
    expect(p.failed(plan, ms)).toBe(true);
    expect(p.plan(true, now)).toEqual({ kind: 'probe', wait: 0, interval: 0 });
    return { plan, outcome: p.probeAnswered(now) };
  };

  it('starts from the head, then holds polls of pollWait', () => {
    const p = make();
    expect(p.plan(false, 0)).toEqual({ kind: 'head', wait: 0, interval: 0 });
    expect(p.plan(true, 0)).toEqual({ kind: 'held', wait: 25, interval: 0 });
    expect(make('interval').plan(true, 0)).toEqual({ kind: 'interval', wait: 0, interval: 30 });
    expect(make('interval').plan(false, 0)).toEqual({ kind: 'head', wait: 0, interval: 30 });
  });

  it('auto: polls cut at once shorten the wait to the minimum, three in a row switch to interval', () => {
    const p = make();
    const waits: number[] = [];
    for (let i = 1; i <= CUTS_TO_SWITCH; i++) {
      const { plan, outcome } = cut(p, 200);
      waits.push(plan.wait);
      expect(outcome.modeChanged).toBe(i === CUTS_TO_SWITCH);
      expect(outcome.backoff).toBe(false);
    }
    expect(waits).toEqual([25, MIN_HELD_WAIT, MIN_HELD_WAIT]);
    expect(p.mode).toBe('interval');
    expect(p.plan(true, 1000).kind).toBe('interval');
  });

  it('auto: a cut after 10 s gives a 5 s wait, and polls that last keep long polling', () => {
    const p = make();
    expect(cut(p, 10_000).outcome).toEqual({ modeChanged: false, shortened: true, backoff: false });
    expect(p.wait).toBe(5);
    const plan = p.plan(true, 0);
    expect(plan).toEqual({ kind: 'held', wait: 5, interval: 0 });
    expect(p.answered(plan)).toBe(false);
    expect(p.cuts).toBe(0);
    // Two more cuts (not three in a row): still long.
    cut(p, 3000);
    expect(p.wait).toBe(MIN_HELD_WAIT);
    p.answered(p.plan(true, 0));
    cut(p, 1000);
    expect(p.mode).toBe('long');
    expect(p.cuts).toBe(1);
  });

  it('a cut that comes as the wait ends (a proxy timeout equal to the wait) is one too: the wait gets shorter', () => {
    const p = make('auto', 6);
    // A 6 s wait cut at 6.2 s (Squid with a 6 s read timeout), then 3 s cut at 3.4 s: 2 s from then on.
    expect(cut(p, 6200).outcome.shortened).toBe(true);
    expect(p.wait).toBe(3);
    expect(cut(p, 3400).outcome.shortened).toBe(true);
    expect(p.wait).toBe(MIN_HELD_WAIT);
    // Late cuts (a loaded machine notices a 3 s cut after nearly 6 s) still land below the limit.
    const q = make('auto', 10);
    cut(q, 5900);
    expect(q.wait).toBe(MIN_HELD_WAIT);
  });

  it('a failure that is not a cut: at once, not transient, or of a probe whose link is down', () => {
    const p = make();
    const held = p.plan(true, 0);
    expect(p.failed(held, 20)).toBe(false); // refused at once: the connection, not a cut
    expect(p.plan(true, 0).kind).toBe('probe'); // after any failure: a quick poll first
    p.answered(p.plan(true, 0));
    expect(p.failed(held, 5000, false)).toBe(false); // a 4xx is an answer
    expect(p.failed(held, 5000)).toBe(true);
    const probe = p.plan(true, 0);
    expect(p.failed(probe, 10)).toBe(false); // the probe failed too: an outage
    expect(p.cuts).toBe(0);
    expect(p.plan(true, 0).kind).toBe('probe');
    expect(p.probeAnswered(0)).toEqual({ modeChanged: false, shortened: false, backoff: false });
    expect(p.plan(true, 0)).toEqual({ kind: 'held', wait: 25, interval: 0 });
  });

  it('long chosen: never switches; once the wait cannot shrink, cuts ask for a backoff (no hot loop)', () => {
    const p = make('long');
    for (let i = 0; i < 10; i++) cut(p, 200);
    expect(p.mode).toBe('long');
    expect(p.wait).toBe(MIN_HELD_WAIT);
    expect(cut(p, 200).outcome).toEqual({ modeChanged: false, shortened: false, backoff: true });
  });

  it('auto, interval polling: tries a held poll after longRetryMs; back to long when it lasts, later again when not', () => {
    const p = make('auto', 25);
    for (let i = 0; i < CUTS_TO_SWITCH; i++) cut(p, 200, 0);
    expect(p.plan(true, 59_999).kind).toBe('interval');
    const trial = p.plan(true, 60_000);
    expect(trial).toEqual({ kind: 'held', wait: MIN_HELD_WAIT, interval: 0, trial: true });
    // Cut again: stays interval; the next trial comes after twice the time.
    expect(p.failed(trial, 200)).toBe(true);
    expect(p.probeAnswered(60_000).modeChanged).toBe(false);
    expect(p.mode).toBe('interval');
    expect(p.plan(true, 60_000 + 119_999).kind).toBe('interval');
    const second = p.plan(true, 60_000 + 120_000);
    expect(second.trial).toBe(true);
    expect(p.answered(second)).toBe(true);
    expect(p.mode).toBe('long');
  });

  it('choose() and relearn() forget what was learned', () => {
    const p = make();
    for (let i = 0; i < CUTS_TO_SWITCH; i++) cut(p, 200);
    p.relearn();
    expect([p.mode, p.wait, p.cuts]).toEqual(['long', 25, 0]);
    p.choose('interval');
    expect(p.mode).toBe('interval');
    p.choose('auto');
    expect(p.mode).toBe('long');
    const plan: PollPlan = p.plan(true, 0);
    expect(plan.wait).toBe(25);
  });
});

describe('ApiError', () => {
  it('tells the server answer from the network and from things in between', () => {
    const cases: Array<[ApiError, boolean, boolean]> = [
      [new ApiError(0, 'network', 'x'), true, false],
      [new ApiError(500, 'internal_error', 'x'), true, false],
      [new ApiError(502, 'http_502', 'x'), true, false],
      [new ApiError(429, 'rate_limited', 'x'), true, false],
      [new ApiError(200, 'bad_response', 'x'), true, false],
      [new ApiError(407, 'http_407', 'x'), true, false],
      [new ApiError(401, 'http_401', 'x'), true, false], // some proxy's 401: not our session
      [new ApiError(401, 'unauthorized', 'x'), false, true],
      [new ApiError(409, 'chat_not_active', 'x'), false, false],
      [new ApiError(400, 'invalid_request', 'x'), false, false],
    ];
    for (const [error, transient, unauthorized] of cases) {
      expect([error.code, error.isTransient, error.isUnauthorized]).toEqual([error.code, transient, unauthorized]);
    }
    const e = new ApiError(0, 'network', 'gone');
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('ApiError');
    expect(e.message).toBe('gone');
  });
});

describe('Outbox', () => {
  const entry = (clientId: string, state: OutboxEntry['state'] = 'sending'): OutboxEntry => ({
    clientId,
    chatId: 'c',
    text: clientId,
    state,
    createdAt: new Date(0).toISOString(),
  });

  it('keeps unsent entries per user in storage, in order; sent ones only in memory', () => {
    const storage = new MemoryStorage();
    const outbox = new Outbox(new SafeStorage(storage, 'portico'));
    outbox.load('alice');
    outbox.add(entry('a'));
    outbox.add(entry('b'));
    outbox.update(outbox.get('a')!, { state: 'failed', error: 'forbidden' });
    outbox.update(outbox.get('b')!, { state: 'sent' });
    expect(outbox.list().map((e) => [e.clientId, e.state])).toEqual([
      ['a', 'failed'],
      ['b', 'sent'],
    ]);
    expect(JSON.parse(storage.getItem('portico.outbox.alice')!).map((e: OutboxEntry) => e.clientId)).toEqual(['a']);

    const again = new Outbox(new SafeStorage(storage, 'portico'));
    again.load('alice');
    expect(again.list()).toEqual([{ ...entry('a', 'failed'), error: 'forbidden' }]);
    again.update(again.get('a')!, { state: 'sending' });
    expect(again.list()[0]!.error).toBeUndefined();

    const bob = new Outbox(new SafeStorage(storage, 'portico'));
    bob.load('bob');
    expect(bob.list()).toEqual([]);
    again.clear();
    expect(storage.getItem('portico.outbox.alice')).toBeNull();
  });

  it('ignores broken storage and storage that throws', () => {
    const storage = new MemoryStorage();
    storage.setItem('portico.outbox.alice', '{not json');
    const outbox = new Outbox(new SafeStorage(storage, 'portico'));
    outbox.load('alice');
    expect(outbox.list()).toEqual([]);
    const throwing = new Outbox(
      new SafeStorage(
        {
          getItem: () => {
            throw new Error('denied');
          },
          setItem: () => {
            throw new Error('quota');
          },
          removeItem: () => undefined,
        },
        'portico',
      ),
    );
    const warn = console.warn;
    console.warn = () => undefined;
    try {
      throwing.load('alice');
      throwing.add(entry('x'));
      expect(throwing.list()).toHaveLength(1);
    } finally {
      console.warn = warn;
    }
  });
});

describe('newClientId', () => {
  it('is a UUID the server accepts as a client id, different each time', () => {
    const ids = new Set(Array.from({ length: 100 }, newClientId));
    expect(ids.size).toBe(100);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
