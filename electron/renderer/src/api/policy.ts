/**
 * How the event loop polls next: long polls held up to `wait` seconds, or interval polls
 * (`wait=0&interval=<s>`) for links that do not keep a request open. Pure bookkeeping, no I/O,
 * so it can be tested on its own; the client asks `plan()` before each poll and reports how it
 * ended.
 *
 * A held poll that fails (no answer, or a 5xx / non-API answer from something in between) after
 * being held a while is a *suspected cut*, also when it fails about when its wait ends (a proxy
 * whose timeout equals the wait cuts every poll just then). The next poll is then a quick probe
 * (`wait=0`, which also fetches whatever is waiting). If the probe is answered, the network works
 * and the held poll was cut by something on the way (a proxy's idle or total timeout): the wait is
 * shortened to half the wait and half the time the cut came after (a proxy checks its timeouts
 * coarsely, Squid once a second, and a busy machine notices late, so the cut can come well
 * after the proxy's limit), and in 'auto' mode three cuts in a row switch to interval polling. If the probe fails too, it was an ordinary outage: backoff as usual.
 * After any failure the next long-mode poll is such a quick one too, so that being back is
 * known (and shown) at once rather than when a held poll ends.
 * In auto mode a held poll is tried again now and then (`longRetryMs`, doubling up to an hour);
 * when it lasts, long polling is back.
 */
export type PollMode = 'long' | 'interval';
export type ModeSetting = PollMode | 'auto';

export interface PollPlan {
  /** head: where to start (no cursor yet); held: a long poll; probe: a quick check after a suspected cut; interval: one short poll. */
  kind: 'head' | 'held' | 'probe' | 'interval';
  /** Seconds the server may hold the request. */
  wait: number;
  /** Seconds until the next poll, announced to the server (interval polling), else 0. */
  interval: number;
  /** A held poll tried while auto mode is interval polling, to see whether long polls work again. */
  trial?: boolean;
}

export interface PolicyOptions {
  setting?: ModeSetting;
  /** Longest hold of a long poll (s). */
  pollWait: number;
  /** Period of interval polling (s). */
  intervalSeconds: number;
  /** Auto mode, while interval polling: time until a held poll is tried again (ms). */
  longRetryMs?: number;
}

/** Shortest hold worth a long poll (s). */
export const MIN_HELD_WAIT = 2;
/** Cuts in a row after which auto mode polls at intervals. */
export const CUTS_TO_SWITCH = 3;
/** A held poll that fails after being held this long (ms) may have been cut; failing at once is a connection failure. */
export const CUT_AFTER_MS = 100;
/** The wait after a cut: this share of the time the cut came after (and of the wait). */
const SHORTEN_TO = 0.5;
const LONG_RETRY_MAX_MS = 3600_000;

export interface CutOutcome {
  /** The effective mode changed (long -> interval). */
  modeChanged: boolean;
  /** The wait was made shorter. */
  shortened: boolean;
  /** Wait with backoff before the next held poll (nothing else changes: no hot loop of cuts). */
  backoff: boolean;
}

export class PollPolicy {
  setting: ModeSetting;
  mode: PollMode;
  /** The hold of the next long poll (s): pollWait, or shorter after cuts. */
  wait: number;
  /** Confirmed cuts in a row. */
  cuts = 0;
  readonly pollWait: number;
  readonly intervalSeconds: number;
  private readonly baseLongRetryMs: number;
  private longRetryMs: number;
  private longRetryAt: number | undefined;
  private suspect: { elapsedMs: number; wait: number; trial: boolean } | undefined;
  /** After a failure: a quick poll first, so being back shows at once (not after a whole held poll). */
  private recovering = false;

  constructor(options: PolicyOptions) {
    this.pollWait = options.pollWait;
    this.intervalSeconds = options.intervalSeconds;
    this.baseLongRetryMs = this.longRetryMs = options.longRetryMs ?? 10 * 60_000;
    this.setting = options.setting ?? 'auto';
    this.mode = this.setting === 'auto' ? 'long' : this.setting;
    this.wait = this.pollWait;
  }

  /** A new choice (or a new network): forget what was learned. */
  choose(setting: ModeSetting): void {
    this.setting = setting;
    this.mode = setting === 'auto' ? 'long' : setting;
    this.relearn();
  }

  relearn(): void {
    if (this.setting === 'auto') this.mode = 'long';
    this.wait = this.pollWait;
    this.cuts = 0;
    this.suspect = undefined;
    this.recovering = false;
    this.longRetryMs = this.baseLongRetryMs;
    this.longRetryAt = undefined;
  }

  get probing(): boolean {
    return this.suspect !== undefined;
  }

  plan(hasCursor: boolean, now: number): PollPlan {
    const interval = this.mode === 'interval' ? this.intervalSeconds : 0;
    if (!hasCursor) return { kind: 'head', wait: 0, interval };
    if (this.suspect || (this.recovering && this.mode === 'long')) return { kind: 'probe', wait: 0, interval: 0 };
    if (this.mode === 'interval') {
      if (this.setting === 'auto' && this.longRetryAt !== undefined && now >= this.longRetryAt) {
        return { kind: 'held', wait: this.wait, interval: 0, trial: true };
      }
      return { kind: 'interval', wait: 0, interval };
    }
    return { kind: 'held', wait: this.wait, interval: 0 };
  }

  /** A poll was answered. Answers true when the effective mode changed. */
  answered(plan: PollPlan): boolean {
    this.recovering = false;
    if (plan.kind !== 'held') return false;
    this.cuts = 0;
    if (plan.trial && this.mode === 'interval') {
      this.mode = 'long';
      this.longRetryAt = undefined;
      this.longRetryMs = this.baseLongRetryMs;
      return true;
    }
    return false;
  }

  /**
   * A poll failed after `elapsedMs`; `transient`: no answer, a 5xx, or an answer that is not the
   * server's. Answers true when it is a suspected cut: then probe next, without backoff.
   */
  failed(plan: PollPlan, elapsedMs: number, transient = true): boolean {
    if (plan.kind === 'probe') {
      this.suspect = undefined; // the link itself fails: an outage, not a cut
      this.recovering = true;
      return false;
    }
    if (transient && plan.kind === 'held' && elapsedMs >= CUT_AFTER_MS) {
      this.suspect = { elapsedMs, wait: plan.wait, trial: plan.trial === true };
      return true;
    }
    this.recovering = true;
    return false;
  }

  /** The probe after a suspected cut was answered: the cut is confirmed. */
  probeAnswered(now: number): CutOutcome {
    this.recovering = false;
    const s = this.suspect;
    this.suspect = undefined;
    if (!s) return { modeChanged: false, shortened: false, backoff: false };
    this.cuts++;
    const candidate = Math.max(MIN_HELD_WAIT, Math.floor(Math.min(s.wait, s.elapsedMs / 1000) * SHORTEN_TO));
    const shortened = candidate < this.wait;
    if (shortened) this.wait = candidate;
    if (s.trial) {
      // Long polls still do not last: keep interval polling, try again later.
      this.longRetryMs = Math.min(this.longRetryMs * 2, LONG_RETRY_MAX_MS);
      this.longRetryAt = now + this.longRetryMs;
      return { modeChanged: false, shortened, backoff: false };
    }
    if (this.setting === 'auto' && this.mode === 'long' && this.cuts >= CUTS_TO_SWITCH) {
      this.mode = 'interval';
      this.longRetryAt = now + this.longRetryMs;
      return { modeChanged: true, shortened, backoff: false };
    }
    return { modeChanged: false, shortened, backoff: !shortened && this.setting !== 'auto' };
  }
}
