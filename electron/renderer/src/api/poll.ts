/**
 * The event loop: the client's own lane, one GET /api/v1/events at a time (held up to `wait`
 * seconds), next to the request lane of transport.ts: at most two requests are open at once.
 *
 * It starts with `GET /events?wait=0` (the head) unless a cursor is stored, then polls
 * `after=<cursor>&wait=<s>`; each event is dispatched to `on(type)` handlers in order, once, and
 * the cursor is stored after each answer (`<prefix>.cursor.<user>`) so a reload resumes where it
 * stopped. Errors back off with full jitter; held polls cut by something on the way shorten the
 * wait and, in 'auto' mode, switch to interval polling (see policy.ts).
 */
import { LIMITS, TIMINGS } from '../../../../shared/limits.js';
import { Backoff, clientBackoff } from './backoff.js';
import { ENDPOINTS, type EventsBody } from './endpoints.js';
import { asApiError } from './errors.js';
import { PollPolicy, type PollPlan } from './policy.js';
import type { Session } from './session.js';
import type { SafeStorage } from './storage.js';
import type { Transport } from './transport.js';
import type { ClientOptions, ConnectionState, Emit, ModeSetting, PollMode } from './types.js';
import { Sleeper } from './util.js';

interface PollAttempt {
  controller: AbortController;
  /** Set when we ended it ourselves. */
  why?: 'kick' | 'stop' | 'session' | 'timeout';
}

export class PollLoop {
  private readonly policy: PollPolicy;
  private readonly pollBackoff: Backoff;
  private readonly cutBackoff: Backoff;
  private readonly pollGraceMs: number;

  private cursorValue: string | undefined;
  private cursorOwner: string | undefined;
  private needReset = false;

  private running = false;
  private loopGen = 0;
  private loopDone: Promise<void> = Promise.resolve();
  private readonly sleeper = new Sleeper();
  private pollAttempt: PollAttempt | undefined;
  private state: ConnectionState = 'offline';
  private failures = 0;
  /** When the next try after a failure is due (ms since the epoch), while waiting out a backoff. */
  private retryAtValue: number | undefined;
  private readyPending = false;
  private resumed = false;

  constructor(
    options: ClientOptions,
    private readonly transport: Transport,
    private readonly session: Session,
    private readonly store: SafeStorage,
    private readonly emit: Emit,
  ) {
    const pollWait = Math.min(Math.max(options.pollWait ?? TIMINGS.pollWaitDefault, 0), TIMINGS.pollWaitMax);
    const intervalSeconds = Math.max(1, Math.round(options.intervalSeconds ?? 30));
    this.policy = new PollPolicy({
      setting: options.mode ?? 'auto',
      pollWait,
      intervalSeconds,
      ...(options.longRetryMs !== undefined ? { longRetryMs: options.longRetryMs } : {}),
    });
    const backoff = clientBackoff(options);
    this.pollBackoff = new Backoff(backoff);
    this.cutBackoff = new Backoff(backoff);
    this.pollGraceMs = options.pollTimeoutGraceMs ?? 15_000;
  }

  // ---------- state ----------

  get started(): boolean {
    return this.running;
  }
  get connection(): ConnectionState {
    return this.state;
  }
  get mode(): PollMode {
    return this.policy.mode;
  }
  get modeSetting(): ModeSetting {
    return this.policy.setting;
  }
  get pollWait(): number {
    return this.policy.wait;
  }
  get cursor(): string | undefined {
    return this.cursorValue;
  }
  get retryAt(): number | undefined {
    return this.retryAtValue;
  }

  private setConnection(state: ConnectionState, modeChanged = false): void {
    if (state === this.state && !modeChanged) return;
    this.state = state;
    this.emit('connection', { state, mode: this.policy.mode });
  }

  // ---------- the session ----------

  /** A session began: this user's cursor (when it is another user), a 'ready' to come, a poll now. */
  sessionBegan(owner: string): void {
    this.abortPoll('session');
    if (this.cursorOwner !== owner) {
      this.cursorOwner = owner;
      this.cursorValue = this.store.get(this.store.key('cursor', owner));
      this.needReset = false;
    }
    this.readyPending = true;
    this.resumed = this.cursorValue !== undefined;
    this.failures = 0;
    this.pollBackoff.reset();
    if (this.running) this.setConnection('connecting');
    this.sleeper.wake();
  }

  /** The session ended: the loop waits for the next one. */
  sessionEnded(): void {
    this.abortPoll('session');
    this.setConnection('offline');
    this.sleeper.wake();
  }

  /** Logged out: forget the user's cursor, here and in storage. */
  forgetCursor(): void {
    if (this.cursorOwner !== undefined) this.store.remove(this.store.key('cursor', this.cursorOwner));
    this.cursorValue = undefined;
    this.cursorOwner = undefined;
  }

  // ---------- control ----------

  start(): void {
    if (this.running) return;
    this.running = true;
    const gen = ++this.loopGen;
    this.policy.relearn();
    this.readyPending = true;
    this.resumed = this.cursorValue !== undefined;
    this.failures = 0;
    this.pollBackoff.reset();
    this.setConnection(this.session.token ? 'connecting' : 'offline', true);
    const previous = this.loopDone;
    this.loopDone = previous
      .then(() => this.loop(gen))
      .catch((err: unknown) => console.error('portico: the event loop stopped:', err));
  }

  stop(): void {
    if (!this.running) return;
    this.running = false;
    this.loopGen++;
    this.abortPoll('stop');
    this.sleeper.wake();
    this.setConnection('offline');
  }

  stopped(): Promise<void> {
    return this.loopDone;
  }

  pollNow(): void {
    this.pollBackoff.reset();
    this.abortPoll('kick');
    this.sleeper.wake();
  }

  /** Forget what auto mode learned (a new network). */
  relearn(): void {
    const before = this.policy.mode;
    this.policy.relearn();
    if (this.policy.mode !== before) this.setConnection(this.state, true);
  }

  setMode(mode: ModeSetting): void {
    const before = this.policy.mode;
    this.policy.choose(mode);
    if (this.policy.mode !== before) this.setConnection(this.state, true);
    this.abortPoll('kick');
    this.sleeper.wake();
  }

  private abortPoll(why: NonNullable<PollAttempt['why']>): void {
    const attempt = this.pollAttempt;
    if (attempt && attempt.why === undefined) {
      attempt.why = why;
      attempt.controller.abort();
    }
  }

  // ---------- the loop ----------

  private async poll(plan: PollPlan, token: string, attempt: PollAttempt): Promise<EventsBody> {
    const query = new URLSearchParams();
    if (plan.kind !== 'head' && this.cursorValue !== undefined) query.set('after', this.cursorValue);
    query.set('wait', String(plan.wait));
    if (plan.interval > 0) query.set('interval', String(plan.interval));
    const timer = setTimeout(() => {
      if (attempt.why === undefined) {
        attempt.why = 'timeout';
        attempt.controller.abort();
      }
    }, plan.wait * 1000 + this.pollGraceMs);
    try {
      const events = ENDPOINTS.events;
      return events.pick(await this.transport.exchange(events.method, events.path(query), undefined, token, attempt.controller.signal));
    } finally {
      clearTimeout(timer);
    }
  }

  private async loop(gen: number): Promise<void> {
    const live = () => this.loopGen === gen;
    while (live()) {
      const token = this.session.token;
      if (token === undefined) {
        await this.sleeper.sleep(Infinity); // until a login, or stop()
        continue;
      }
      const epoch = this.session.epoch;
      this.sleeper.clear(); // wakes asked for before this poll are answered by it
      const plan = this.policy.plan(this.cursorValue !== undefined, Date.now());
      const attempt: PollAttempt = { controller: new AbortController() };
      this.pollAttempt = attempt;
      const began = Date.now();
      let body: EventsBody;
      try {
        body = await this.poll(plan, token, attempt);
      } catch (err) {
        if (this.pollAttempt === attempt) this.pollAttempt = undefined;
        if (!live() || epoch !== this.session.epoch) continue;
        if (attempt.why === 'kick' || attempt.why === 'stop' || attempt.why === 'session') continue;
        const e = asApiError(err);
        if (e.isUnauthorized) {
          this.session.lost(token, e);
          continue;
        }
        if (e.status === 400 && e.fromServer && plan.kind !== 'head') {
          // The server does not take our cursor: start again from the head, as after a reset.
          this.cursorValue = undefined;
          this.needReset = true;
        }
        if (this.policy.failed(plan, Date.now() - began, e.isTransient)) continue; // suspected cut: probe at once
        this.failures++;
        this.setConnection(this.failures >= 2 ? 'offline' : 'connecting');
        const retryAfterMs = (e.retryAfter ?? 0) * 1000;
        const delay = Math.max(this.pollBackoff.next(), Math.min(retryAfterMs, this.pollBackoff.capMs));
        this.retryAtValue = Date.now() + delay;
        await this.sleeper.sleep(delay);
        this.retryAtValue = undefined;
        continue;
      }
      if (this.pollAttempt === attempt) this.pollAttempt = undefined;
      if (!live() || epoch !== this.session.epoch) continue; // answered after stop/logout: not handled, the cursor stays
      this.failures = 0;
      this.pollBackoff.reset();
      let modeChanged = false;
      let pause = false;
      if (plan.kind === 'probe') {
        const outcome = this.policy.probeAnswered(Date.now());
        modeChanged = outcome.modeChanged;
        pause = outcome.backoff;
      } else {
        if (plan.kind === 'held') this.cutBackoff.reset();
        modeChanged = this.policy.answered(plan);
      }
      this.setConnection('online', modeChanged);
      this.handle(body, plan);
      if (!live() || epoch !== this.session.epoch) continue;
      if (pause) await this.sleeper.sleep(this.cutBackoff.next());
      else if (this.policy.mode === 'interval') {
        // A full page means more are waiting: fetch the rest at once.
        const full = 'events' in body && body.events.length >= LIMITS.eventsPage;
        if (!full) await this.sleeper.sleep(this.policy.intervalSeconds * 1000);
      }
    }
  }

  /** Dispatches one answer, in order, and stores the cursor. */
  private handle(body: EventsBody, plan: PollPlan): void {
    let reset = false;
    if ('reset' in body) {
      this.setCursor(body.cursor);
      reset = true;
    } else {
      for (const event of body.events) {
        this.emit(event.type, event);
        this.emit('*', event);
      }
      this.setCursor(body.cursor);
      if (plan.kind === 'head' && this.needReset) reset = true;
    }
    if (this.readyPending) {
      this.readyPending = false;
      this.emit('ready', { cursor: body.cursor, resumed: this.resumed });
    }
    if (reset) {
      this.needReset = false;
      this.emit('reset', { cursor: body.cursor });
    }
  }

  private setCursor(cursor: string): void {
    this.cursorValue = cursor;
    if (this.cursorOwner !== undefined) this.store.set(this.store.key('cursor', this.cursorOwner), cursor);
  }
}
