/**
 * PorticoClient: the one API client every view of the panel shares. It runs in the browser (the
 * panel at /app), in Electron's renderer and in Node; no DOM, only fetch, AbortController,
 * timers and a StorageLike.
 *
 * At most two requests are open at any time:
 *  - the poll lane: the event loop's own GET /api/v1/events (held up to `wait` seconds);
 *  - the request lane: everything else (login, api(), the conveniences, the outbox), one at a
 *    time, in the order asked.
 *
 * The event loop starts with `GET /events?wait=0` (the head) unless a cursor is stored, then
 * polls `after=<cursor>&wait=<s>`; each event is dispatched to `on(type)` handlers in order,
 * once, and the cursor is stored after each answer so a reload resumes where it stopped.
 * Errors back off with full jitter; held polls cut by something on the way shorten the wait and,
 * in 'auto' mode, switch to interval polling (see policy.ts).
 *
 * Proxies that pass only GET and POST refuse PUT, PATCH and DELETE with a 403 or 405 page of
 * their own. On such a refusal (not Portico's `{error}` body) the request is sent once more as
 * POST with `X-HTTP-Method-Override`, and once the server has answered that, every later
 * PUT/PATCH/DELETE of this client object goes that way (see `methodOverride`). The repeat is safe:
 * the proxy's refusal means the server never saw the first one, and the writes the panel makes
 * this way are idempotent anyway (a message PUT carries its client id, contacts, presence and
 * channels are set to a state, a relay chunk carries its sequence number).
 */
import type { z } from 'zod';
import type * as C from '../../../../shared/calls.js';
import type * as P from '../../../../shared/portal.js';
import type * as S from '../../../../shared/schemas.js';
import { Backoff } from './backoff.js';
import { ApiError, networkError } from './errors.js';
import { Outbox, type OutboxEntry } from './outbox.js';
import { PollPolicy, type ModeSetting, type PollMode, type PollPlan } from './policy.js';
import { SafeStorage, type StorageLike } from './storage.js';
import { SerialQueue, Sleeper, newClientId } from './util.js';

export type User = S.User;
export type Me = S.Me;
export type Contact = S.Contact;
export type Chat = S.Chat;
export type Message = S.Message;
export type PresenceState = S.PresenceState;
/** What an installed client reports with its login: install id, version, platform. */
export type LoginClientInfo = S.ClientInfo;
export type ServerEvent = S.Event;
export type ServerEventType = S.EventType;
export type TickerItem = P.TickerItem;
export type MediaItem = P.MediaItem;
export type Notice = P.Notice;
export type ChartSeries = P.ChartSeries;
export type Channel = z.infer<typeof P.Channel>;
export type History = z.infer<typeof S.HistoryResponse>;
export type TickerView = z.infer<typeof P.TickerResponse>;
export type ChannelsView = z.infer<typeof P.ChannelsResponse>;
export type LinksView = z.infer<typeof P.LinksResponse>;
export type PresenceView = z.infer<typeof S.PresenceResponse>;
export type Call = C.Call;
export type CallSignal = C.CallSignal;
export type IceServers = C.IceServersResponse;
type EventsBody = { events: ServerEvent[]; cursor: string } | { reset: true; cursor: string };

export type ConnectionState = 'connecting' | 'online' | 'offline';
export type { ModeSetting, PollMode };

/** What `on()` hands to handlers, by type. */
export type ClientEventMap = { [K in ServerEventType]: Extract<ServerEvent, { type: K }> } & {
  /** Every server event, after its own type's handlers. */
  '*': ServerEvent;
  connection: { state: ConnectionState; mode: PollMode };
  /** The first answer after start() or a login: load state now (contacts, chats, ...). */
  ready: { cursor: string; resumed: boolean };
  /** The server could not continue from our cursor: reload state; events continue from `cursor`. */
  reset: { cursor: string };
  outbox: { entries: OutboxEntry[] };
  /** The session ended on the server (expired, password changed, logged out elsewhere): show the login. */
  auth: { reason: string; message: string };
};

export interface ClientOptions {
  /** '' for the same origin (the browser at /app), or 'https://portal.example'. */
  baseUrl: string;
  /** localStorage in the browser; a MemoryStorage (Map-backed) in tests. */
  storage: StorageLike;
  /** Defaults to globalThis.fetch. */
  fetch?: typeof fetch;
  /** Hold of a long poll, seconds (default 25, at most 55). */
  pollWait?: number;
  /** Period of interval polling, seconds (default 30). */
  intervalSeconds?: number;
  /** For the backoff jitter (default Math.random). */
  random?: () => number;
  /** Polling mode to begin with (default 'auto'). */
  mode?: ModeSetting;
  /** Prefix of the storage keys (default 'portico'). */
  storagePrefix?: string;
  /** Request-lane requests are abandoned after this long (ms, default 30 000). */
  requestTimeoutMs?: number;
  /** A held poll is abandoned this long after its wait should have ended (ms, default 15 000). */
  pollTimeoutGraceMs?: number;
  /** Backoff: first ceiling and cap (ms, default 500 and 30 000). */
  backoffBaseMs?: number;
  backoffCapMs?: number;
  /** Auto mode while interval polling: first time until long polls are tried again (ms, default 10 min). */
  longRetryMs?: number;
}

interface StoredSession {
  token: string;
  user: User;
}

interface PollAttempt {
  controller: AbortController;
  /** Set when we ended it ourselves. */
  why?: 'kick' | 'stop' | 'session' | 'timeout';
}

interface RequestOptions {
  /** The token to send: the current session's when undefined, none when null. */
  token?: string | null;
  /** Emit 'auth' on a 401 (default true). */
  authEvent?: boolean;
}

/** Most events in one answer (LIMITS.eventsPage): a full page means more are waiting. */
const EVENTS_PAGE = 500;
const POLL_WAIT_MAX = 55;
/** Consecutive 500s for one message after which it counts as failed (a server bug, not an outage). */
const SERVER_ERRORS_TO_FAIL = 5;

/** The methods a GET/POST-only proxy refuses, and the header that carries them over a POST. */
const OVERRIDABLE = new Set(['PUT', 'PATCH', 'DELETE']);
export const METHOD_OVERRIDE_HEADER = 'X-HTTP-Method-Override';

/** A 403/405 that is not the server's own answer: a proxy on the way refused the method. */
const refusedByProxy = (err: unknown): boolean => err instanceof ApiError && (err.status === 403 || err.status === 405) && !err.fromServer;

const asApiError = (err: unknown): ApiError =>
  err instanceof ApiError ? err : networkError(err instanceof Error ? err.message : String(err), err);

const enc = encodeURIComponent;

function parseEvents(data: unknown): EventsBody {
  const body = data as { events?: unknown; cursor?: unknown; reset?: unknown } | null;
  if (body && typeof body === 'object' && typeof body.cursor === 'string' && (body.reset === true || Array.isArray(body.events))) {
    return body as EventsBody;
  }
  throw new ApiError(200, 'bad_response', 'the events answer has an unexpected shape');
}

function readSession(value: unknown): StoredSession | undefined {
  const s = value as Partial<StoredSession> | null;
  if (!s || typeof s !== 'object' || typeof s.token !== 'string' || !s.token) return undefined;
  const u = s.user as Partial<User> | undefined;
  if (!u || typeof u.username !== 'string' || typeof u.id !== 'number') return undefined;
  return { token: s.token, user: { id: u.id, username: u.username, displayName: typeof u.displayName === 'string' ? u.displayName : u.username } };
}

export class PorticoClient {
  readonly baseUrl: string;
  private readonly fetchImpl: typeof fetch;
  private readonly store: SafeStorage;
  private readonly queue = new SerialQueue();
  private readonly policy: PollPolicy;
  private readonly pollBackoff: Backoff;
  private readonly cutBackoff: Backoff;
  private readonly sendBackoff: Backoff;
  private readonly requestTimeoutMs: number;
  private readonly pollGraceMs: number;
  private readonly handlers = new Map<string, Set<(payload: any) => void>>();
  private readonly outboxStore: Outbox;

  private token: string | undefined;
  private currentUser: User | undefined;
  /** Changes with every login, logout and lost session: answers for an older one are dropped. */
  private epoch = 0;
  private cursorValue: string | undefined;
  private cursorOwner: string | undefined;
  private needReset = false;

  private started = false;
  private loopGen = 0;
  private loopDone: Promise<void> = Promise.resolve();
  private readonly loopSleeper = new Sleeper();
  private readonly senderSleeper = new Sleeper();
  private pollAttempt: PollAttempt | undefined;
  private state: ConnectionState = 'offline';
  private failures = 0;
  private readyPending = false;
  private resumed = false;
  private senderActive = false;
  /** A proxy refused a PUT/PATCH/DELETE and the override worked: send them as POST from now on. */
  private overrideMethods = false;

  constructor(options: ClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.store = new SafeStorage(options.storage, options.storagePrefix ?? 'portico');
    const pollWait = Math.min(Math.max(options.pollWait ?? 25, 0), POLL_WAIT_MAX);
    const intervalSeconds = Math.max(1, Math.round(options.intervalSeconds ?? 30));
    this.policy = new PollPolicy({
      setting: options.mode ?? 'auto',
      pollWait,
      intervalSeconds,
      ...(options.longRetryMs !== undefined ? { longRetryMs: options.longRetryMs } : {}),
    });
    const backoff = { baseMs: options.backoffBaseMs ?? 500, capMs: options.backoffCapMs ?? 30_000, random: options.random ?? Math.random };
    this.pollBackoff = new Backoff(backoff);
    this.cutBackoff = new Backoff(backoff);
    this.sendBackoff = new Backoff(backoff);
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    this.pollGraceMs = options.pollTimeoutGraceMs ?? 15_000;
    this.outboxStore = new Outbox(this.store);
  }

  // ---------- state ----------

  /** The logged-in user, after login() or restore(). */
  get user(): User | undefined {
    return this.currentUser;
  }

  /** Whether a session token is at hand (it may still turn out expired). */
  get loggedIn(): boolean {
    return this.token !== undefined;
  }

  get connection(): ConnectionState {
    return this.state;
  }

  /** The polling mode in effect. */
  get mode(): PollMode {
    return this.policy.mode;
  }

  /** The polling mode chosen: 'auto' unless setMode() chose one. */
  get modeSetting(): ModeSetting {
    return this.policy.setting;
  }

  /** The hold of the next long poll in seconds (shorter than pollWait after cuts). */
  get pollWait(): number {
    return this.policy.wait;
  }

  /**
   * Whether PUT, PATCH and DELETE go as POST with X-HTTP-Method-Override: set for the rest of this
   * object's life once a proxy refused one of them and the override got through.
   */
  get methodOverride(): boolean {
    return this.overrideMethods;
  }

  /** The cursor of the last event handled (undefined before the first poll). */
  get cursor(): string | undefined {
    return this.cursorValue;
  }

  /** An absolute URL for a path of the server (media URLs are paths on the server's origin). */
  resolveUrl(path: string): string {
    return /^[a-z][a-z0-9+.-]*:/i.test(path) ? path : this.baseUrl + path;
  }

  // ---------- events ----------

  on<K extends keyof ClientEventMap>(type: K, handler: (payload: ClientEventMap[K]) => void): () => void;
  on(type: string, handler: (payload: any) => void): () => void;
  on(type: string, handler: (payload: any) => void): () => void {
    let set = this.handlers.get(type);
    if (!set) this.handlers.set(type, (set = new Set()));
    // Wrapped, so the same function may be subscribed twice and each unsubscribe removes one.
    const entry = (payload: any) => handler(payload);
    set.add(entry);
    return () => {
      set.delete(entry);
    };
  }

  private emit(type: string, payload: unknown): void {
    const set = this.handlers.get(type);
    if (!set) return;
    for (const handler of [...set]) {
      try {
        handler(payload);
      } catch (err) {
        console.error(`portico: a '${type}' handler failed:`, err);
      }
    }
  }

  private setConnection(state: ConnectionState, modeChanged = false): void {
    if (state === this.state && !modeChanged) return;
    this.state = state;
    this.emit('connection', { state, mode: this.policy.mode });
  }

  // ---------- HTTP ----------

  /**
   * Runs `attempt` with the method as it is, or, for PUT/PATCH/DELETE once a proxy has refused
   * one, as POST with the override header; on a proxy's refusal it tries once more overridden,
   * and remembers the override when the server answered that one.
   */
  private async overridable<T>(method: string, signal: AbortSignal | undefined, attempt: (override: boolean) => Promise<T>): Promise<T> {
    if (!OVERRIDABLE.has(method)) return attempt(false);
    if (this.overrideMethods) return attempt(true);
    try {
      return await attempt(false);
    } catch (err) {
      if (!refusedByProxy(err) || signal?.aborted) throw err;
    }
    try {
      const result = await attempt(true);
      this.overrideMethods = true;
      return result;
    } catch (err) {
      // The server's own error (a 404, a 409...) also shows the override reached it.
      if (err instanceof ApiError && err.fromServer) this.overrideMethods = true;
      throw err;
    }
  }

  /** One request and its whole answer (the body is read before this returns). */
  private exchange<T>(method: string, path: string, body: unknown, token: string | undefined, signal: AbortSignal): Promise<T> {
    return this.overridable(method, signal, (override) => this.exchangeOnce<T>(method, override, path, body, token, signal));
  }

  private async exchangeOnce<T>(method: string, override: boolean, path: string, body: unknown, token: string | undefined, signal: AbortSignal): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    if (override) headers[METHOD_OVERRIDE_HEADER] = method;
    const init: RequestInit = { method: override ? 'POST' : method, headers, signal };
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let res: Response;
    let text: string;
    try {
      const f = this.fetchImpl;
      res = await f(this.baseUrl + path, init);
      text = await res.text();
    } catch (err) {
      throw networkError(err instanceof Error ? err.message : String(err), err);
    }
    let data: unknown;
    let parsed = false;
    if (text !== '') {
      try {
        data = JSON.parse(text);
        parsed = true;
      } catch {
        /* not JSON */
      }
    }
    const retryHeader = Number(res.headers.get('retry-after'));
    const retryAfter = Number.isFinite(retryHeader) && retryHeader > 0 ? retryHeader : undefined;
    if (!res.ok) {
      const error = parsed ? (data as { error?: { code?: unknown; message?: unknown; issues?: unknown } } | null)?.error : undefined;
      if (error && typeof error.code === 'string') {
        throw new ApiError(res.status, error.code, typeof error.message === 'string' ? error.message : error.code, {
          ...(Array.isArray(error.issues) ? { issues: error.issues as Array<{ path: string; message: string }> } : {}),
          ...(retryAfter !== undefined ? { retryAfter } : {}),
        });
      }
      throw new ApiError(res.status, `http_${res.status}`, `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`, {
        ...(retryAfter !== undefined ? { retryAfter } : {}),
      });
    }
    if (!parsed && text !== '') throw new ApiError(res.status, 'bad_response', 'the answer is not JSON (a proxy or login page in between?)');
    return data as T;
  }

  /** A request on the request lane: after the ones asked before it, one at a time, with a timeout. */
  private request<T>(method: string, path: string, body: unknown, options: RequestOptions = {}): Promise<T> {
    return this.queue.run(async () => {
      const token = options.token === undefined ? this.token : (options.token ?? undefined);
      const controller = new AbortController();
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        controller.abort();
      }, this.requestTimeoutMs);
      try {
        return await this.exchange<T>(method, path, body, token, controller.signal);
      } catch (err) {
        if (timedOut) throw networkError(`no answer within ${this.requestTimeoutMs} ms`, err);
        const e = asApiError(err);
        if (e.isUnauthorized && token !== undefined && options.authEvent !== false) this.sessionLost(token, e);
        throw e;
      } finally {
        clearTimeout(timer);
      }
    });
  }

  /**
   * Any API request, JSON in and out. Throws ApiError: the server's {error: {code, message}} with
   * its status, or status 0 / code 'network' when no answer came. A 401 ends the session and
   * emits 'auth'.
   */
  api<T>(method: string, path: string, body?: unknown): Promise<T> {
    return this.request<T>(method.toUpperCase(), path, body);
  }

  // ---------- session ----------

  /**
   * Logs in; with `remember` the token is kept in storage for restore(). `client` (installed apps
   * only: install id, version, platform) registers this terminal on the server.
   */
  async login(username: string, password: string, remember = false, client?: LoginClientInfo): Promise<User> {
    const body = client ? { username, password, client } : { username, password };
    const res = await this.request<{ token: string; user: User }>('POST', '/api/v1/login', body, { token: null });
    this.begin(res.token, res.user, remember);
    return res.user;
  }

  /**
   * The remembered session, checked with GET /me. Undefined when none is stored or the server no
   * longer accepts it. When the server cannot be reached, the remembered user is answered anyway
   * (an offline start: the event loop and the outbox go on trying; 'auth' fires if the token
   * turns out expired).
   */
  async restore(): Promise<User | undefined> {
    const session = readSession(this.store.getJson(this.store.key('session')));
    if (!session) return undefined;
    this.begin(session.token, session.user, true);
    try {
      const { user } = await this.request<{ user: Me }>('GET', '/api/v1/me', undefined, { authEvent: false });
      if (this.token !== session.token) return this.currentUser;
      this.currentUser = user;
      this.store.setJson(this.store.key('session'), { token: session.token, user: { id: user.id, username: user.username, displayName: user.displayName } });
      return user;
    } catch (err) {
      const e = asApiError(err);
      if (!e.isUnauthorized) return this.currentUser;
      if (this.token === session.token) this.endSession();
      return undefined;
    }
  }

  /**
   * Logs out: ends the session on the server (best effort) and forgets it here, with this user's
   * cursor and outbox (unsent messages are dropped: check outbox() first). The event loop, if
   * started, waits for the next login.
   */
  async logout(): Promise<void> {
    const token = this.token;
    const owner = this.outboxStore.owner;
    this.endSession();
    if (owner !== undefined) this.store.remove(this.store.key('cursor', owner));
    this.cursorValue = undefined;
    this.cursorOwner = undefined;
    this.outboxStore.clear();
    this.emitOutbox();
    if (token === undefined) return;
    try {
      await this.request('POST', '/api/v1/logout', {}, { token, authEvent: false });
    } catch {
      /* gone already, or unreachable: the token is forgotten here either way */
    }
  }

  private begin(token: string, user: User, remember: boolean): void {
    this.epoch++;
    this.abortPoll('session');
    this.token = token;
    this.currentUser = user;
    const owner = user.username.toLowerCase();
    if (this.cursorOwner !== owner) {
      this.cursorOwner = owner;
      this.cursorValue = this.store.get(this.store.key('cursor', owner));
      this.needReset = false;
    }
    this.outboxStore.load(owner);
    if (remember) this.store.setJson(this.store.key('session'), { token, user: { id: user.id, username: user.username, displayName: user.displayName } });
    else this.store.remove(this.store.key('session'));
    this.readyPending = true;
    this.resumed = this.cursorValue !== undefined;
    this.failures = 0;
    this.pollBackoff.reset();
    if (this.started) this.setConnection('connecting');
    this.loopSleeper.wake();
    this.emitOutbox();
    this.kickSender(true);
  }

  /** Forgets the session here (token and user); keeps the cursor and the outbox for the same user's next login. */
  private endSession(): void {
    this.epoch++;
    this.abortPoll('session');
    this.token = undefined;
    this.currentUser = undefined;
    this.store.remove(this.store.key('session'));
    this.setConnection('offline');
    this.loopSleeper.wake();
    this.senderSleeper.wake();
  }

  /** The server refused this token. */
  private sessionLost(token: string, error: ApiError): void {
    if (token !== this.token) return; // an older session's answer
    this.endSession();
    this.emit('auth', { reason: error.code, message: error.message });
  }

  // ---------- the event loop ----------

  /** Starts the event loop and the outbox sender (they wait for a login if there is no session yet). */
  start(): void {
    if (this.started) return;
    this.started = true;
    const gen = ++this.loopGen;
    this.policy.relearn();
    this.readyPending = true;
    this.resumed = this.cursorValue !== undefined;
    this.failures = 0;
    this.pollBackoff.reset();
    this.setConnection(this.token ? 'connecting' : 'offline', true);
    const previous = this.loopDone;
    this.loopDone = previous
      .then(() => this.loop(gen))
      .catch((err: unknown) => console.error('portico: the event loop stopped:', err));
    this.kickSender();
  }

  /** Stops the event loop (the held poll is aborted) and the outbox sender. api() still works. */
  stop(): void {
    if (!this.started) return;
    this.started = false;
    this.loopGen++;
    this.abortPoll('stop');
    this.loopSleeper.wake();
    this.senderSleeper.wake();
    this.setConnection('offline');
  }

  /** Resolves when the event loop has ended after stop(). */
  stopped(): Promise<void> {
    return this.loopDone;
  }

  /**
   * Poll again now, without waiting out a backoff or an interval (after a resume from sleep, a
   * click on "retry", ...); also retries the outbox at once.
   */
  pollNow(): void {
    this.pollBackoff.reset();
    this.abortPoll('kick');
    this.loopSleeper.wake();
    this.kickSender(true);
  }

  /** The network changed (another Wi-Fi, VPN up, resume): forget what auto mode learned, poll now. */
  networkChanged(): void {
    const before = this.policy.mode;
    this.policy.relearn();
    if (this.policy.mode !== before) this.setConnection(this.state, true);
    this.pollNow();
  }

  /** Chooses long polling, interval polling, or 'auto' (long, interval while held polls get cut). Applies at once. */
  setMode(mode: PollMode | 'auto'): void {
    const before = this.policy.mode;
    this.policy.choose(mode);
    if (this.policy.mode !== before) this.setConnection(this.state, true);
    this.abortPoll('kick');
    this.loopSleeper.wake();
  }

  private abortPoll(why: NonNullable<PollAttempt['why']>): void {
    const attempt = this.pollAttempt;
    if (attempt && attempt.why === undefined) {
      attempt.why = why;
      attempt.controller.abort();
    }
  }

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
      return parseEvents(await this.exchange('GET', `/api/v1/events?${query}`, undefined, token, attempt.controller.signal));
    } finally {
      clearTimeout(timer);
    }
  }

  private async loop(gen: number): Promise<void> {
    const live = () => this.loopGen === gen;
    while (live()) {
      const token = this.token;
      if (token === undefined) {
        await this.loopSleeper.sleep(Infinity); // until a login, or stop()
        continue;
      }
      const epoch = this.epoch;
      this.loopSleeper.clear(); // wakes asked for before this poll are answered by it
      const plan = this.policy.plan(this.cursorValue !== undefined, Date.now());
      const attempt: PollAttempt = { controller: new AbortController() };
      this.pollAttempt = attempt;
      const began = Date.now();
      let body: EventsBody;
      try {
        body = await this.poll(plan, token, attempt);
      } catch (err) {
        if (this.pollAttempt === attempt) this.pollAttempt = undefined;
        if (!live() || epoch !== this.epoch) continue;
        if (attempt.why === 'kick' || attempt.why === 'stop' || attempt.why === 'session') continue;
        const e = asApiError(err);
        if (e.isUnauthorized) {
          this.sessionLost(token, e);
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
        await this.loopSleeper.sleep(Math.max(this.pollBackoff.next(), Math.min(retryAfterMs, this.pollBackoff.capMs)));
        continue;
      }
      if (this.pollAttempt === attempt) this.pollAttempt = undefined;
      if (!live() || epoch !== this.epoch) continue; // answered after stop/logout: not handled, the cursor stays
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
      if (!live() || epoch !== this.epoch) continue;
      if (pause) await this.loopSleeper.sleep(this.cutBackoff.next());
      else if (this.policy.mode === 'interval') {
        const full = 'events' in body && body.events.length >= EVENTS_PAGE;
        if (!full) await this.loopSleeper.sleep(this.policy.intervalSeconds * 1000);
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

  // ---------- the outbox ----------

  /**
   * Queues a message: answered at once with its entry (state 'sending', a new client id), kept in
   * storage until the server has it, sent in order once the client is started.
   */
  send(chatId: string, text: string): OutboxEntry {
    if (this.outboxStore.owner === undefined) throw new Error('not logged in');
    const entry: OutboxEntry = { clientId: newClientId(), chatId, text, state: 'sending', createdAt: new Date().toISOString() };
    this.outboxStore.add(entry);
    this.emitOutbox();
    this.kickSender();
    return { ...entry };
  }

  /** Sends a failed entry again (same client id); for one still sending, tries at once. */
  retry(clientId: string): void {
    const entry = this.outboxStore.get(clientId);
    if (!entry || entry.state === 'sent') return;
    if (entry.state === 'failed') {
      this.outboxStore.update(entry, { state: 'sending' });
      this.emitOutbox();
    }
    this.kickSender(true);
  }

  /** Drops a failed (or sent) entry; answers whether it did. An entry still sending cannot be taken back. */
  discard(clientId: string): boolean {
    const entry = this.outboxStore.get(clientId);
    if (!entry || entry.state === 'sending') return false;
    this.outboxStore.remove(clientId);
    this.emitOutbox();
    return true;
  }

  /** The outbox, oldest first (copies): unsent, failed, and the recently sent. */
  outbox(chatId?: string): OutboxEntry[] {
    return this.outboxStore.list(chatId);
  }

  private emitOutbox(): void {
    this.emit('outbox', { entries: this.outbox() });
  }

  private kickSender(wake = false): void {
    if (wake) this.senderSleeper.wake();
    if (this.senderActive || !this.started || this.token === undefined) return;
    this.senderActive = true;
    void this.sendLoop()
      .catch((err: unknown) => console.error('portico: the outbox sender stopped:', err))
      .finally(() => {
        this.senderActive = false;
        if (this.started && this.token !== undefined && this.outboxStore.next()) this.kickSender();
      });
  }

  private async sendLoop(): Promise<void> {
    let serverErrors = 0;
    let lastId: string | undefined;
    while (this.started && this.token !== undefined) {
      const entry = this.outboxStore.next();
      if (!entry) return;
      if (entry.clientId !== lastId) serverErrors = 0;
      lastId = entry.clientId;
      const owner = this.outboxStore.owner;
      this.senderSleeper.clear();
      const current = () => this.outboxStore.owner === owner && this.outboxStore.get(entry.clientId) === entry;
      try {
        const { message } = await this.request<{ message: Message }>(
          'PUT',
          `/api/v1/chats/${enc(entry.chatId)}/messages/${enc(entry.clientId)}`,
          { text: entry.text },
        );
        if (!current()) continue;
        this.sendBackoff.reset();
        this.outboxStore.update(entry, { state: 'sent', message });
        this.emitOutbox();
      } catch (err) {
        const e = asApiError(err);
        if (!current() || e.isUnauthorized) continue; // a lost session stops the loop; a new one resends
        if (e.isTransient && !(e.status === 500 && e.fromServer && ++serverErrors >= SERVER_ERRORS_TO_FAIL)) {
          const retryAfterMs = (e.retryAfter ?? 0) * 1000;
          await this.senderSleeper.sleep(Math.max(this.sendBackoff.next(), Math.min(retryAfterMs, this.sendBackoff.capMs)));
          continue;
        }
        this.sendBackoff.reset();
        this.outboxStore.update(entry, { state: 'failed', error: e.code, errorMessage: e.message });
        this.emitOutbox();
      }
    }
  }

  // ---------- conveniences ----------

  async me(): Promise<Me> {
    return (await this.api<{ user: Me }>('GET', '/api/v1/me')).user;
  }
  async contacts(): Promise<Contact[]> {
    return (await this.api<{ contacts: Contact[] }>('GET', '/api/v1/contacts')).contacts;
  }
  async searchUsers(q: string): Promise<User[]> {
    return (await this.api<{ users: User[] }>('GET', `/api/v1/users?${new URLSearchParams({ q })}`)).users;
  }
  async addContact(username: string): Promise<Contact> {
    return (await this.api<{ contact: Contact }>('PUT', `/api/v1/contacts/${enc(username)}`)).contact;
  }
  async removeContact(username: string): Promise<void> {
    await this.api('DELETE', `/api/v1/contacts/${enc(username)}`);
  }
  setPresence(state: PresenceState): Promise<PresenceView> {
    return this.api<PresenceView>('PUT', '/api/v1/presence', { state });
  }
  async chats(): Promise<Chat[]> {
    return (await this.api<{ chats: Chat[] }>('GET', '/api/v1/chats')).chats;
  }
  async chat(id: string): Promise<Chat> {
    return (await this.api<{ chat: Chat }>('GET', `/api/v1/chats/${enc(id)}`)).chat;
  }
  async createChat(invitees: string[]): Promise<Chat> {
    return (await this.api<{ chat: Chat }>('POST', '/api/v1/chats', { invitees })).chat;
  }
  async accept(id: string): Promise<Chat> {
    return (await this.api<{ chat: Chat }>('POST', `/api/v1/chats/${enc(id)}/accept`, {})).chat;
  }
  async decline(id: string): Promise<Chat> {
    return (await this.api<{ chat: Chat }>('POST', `/api/v1/chats/${enc(id)}/decline`, {})).chat;
  }
  async leave(id: string): Promise<Chat> {
    return (await this.api<{ chat: Chat }>('POST', `/api/v1/chats/${enc(id)}/leave`, {})).chat;
  }
  /** A page of history, oldest first; pass the answer's `before` for the page before it. */
  history(chatId: string, before?: number, limit?: number): Promise<History> {
    const query = new URLSearchParams();
    if (before !== undefined) query.set('before', String(before));
    if (limit !== undefined) query.set('limit', String(limit));
    const qs = query.toString();
    return this.api<History>('GET', `/api/v1/chats/${enc(chatId)}/messages${qs ? `?${qs}` : ''}`);
  }
  ticker(): Promise<TickerView> {
    return this.api<TickerView>('GET', '/api/v1/ticker');
  }
  /** Live media items; their `url` is a path: use resolveUrl(). */
  async media(): Promise<MediaItem[]> {
    return (await this.api<{ items: MediaItem[] }>('GET', '/api/v1/media')).items;
  }
  async notices(): Promise<Notice[]> {
    return (await this.api<{ notices: Notice[] }>('GET', '/api/v1/notices')).notices;
  }
  async charts(channel?: string, series?: string): Promise<ChartSeries[]> {
    const query = new URLSearchParams();
    if (channel !== undefined) query.set('channel', channel);
    if (series !== undefined) query.set('series', series);
    const qs = query.toString();
    return (await this.api<{ series: ChartSeries[] }>('GET', `/api/v1/charts${qs ? `?${qs}` : ''}`)).series;
  }
  links(): Promise<LinksView> {
    return this.api<LinksView>('GET', '/api/v1/links');
  }
  channels(): Promise<ChannelsView> {
    return this.api<ChannelsView>('GET', '/api/v1/channels');
  }
  setMyChannels(names: string[]): Promise<ChannelsView> {
    return this.api<ChannelsView>('PUT', '/api/v1/channels/mine', { channels: names });
  }
  /** Rings the chat's other members (409 callee_offline / callee_busy when nobody can answer). */
  async startCall(chatId: string, video = true): Promise<Call> {
    return (await this.api<{ call: Call }>('POST', '/api/v1/calls', { chatId, video })).call;
  }
  async getCall(id: string): Promise<Call> {
    return (await this.api<{ call: Call }>('GET', `/api/v1/calls/${enc(id)}`)).call;
  }
  async acceptCall(id: string): Promise<Call> {
    return (await this.api<{ call: Call }>('POST', `/api/v1/calls/${enc(id)}/accept`, {})).call;
  }
  async declineCall(id: string): Promise<Call> {
    return (await this.api<{ call: Call }>('POST', `/api/v1/calls/${enc(id)}/decline`, {})).call;
  }
  async hangUp(id: string): Promise<Call> {
    return (await this.api<{ call: Call }>('POST', `/api/v1/calls/${enc(id)}/hangup`, {})).call;
  }
  /** Offer, answer, ICE candidate or media path, to one other member (arrives as their call.signal event). */
  async sendSignal(id: string, to: string, signal: CallSignal): Promise<void> {
    await this.api('POST', `/api/v1/calls/${enc(id)}/signal`, { to, signal });
  }
  /** STUN/TURN servers with short-lived TURN credentials, and the site's media path policy. */
  iceServers(): Promise<IceServers> {
    return this.api<IceServers>('GET', '/api/v1/calls/ice-servers');
  }
  /**
   * A binary request of a call's HTTP relay (electron/renderer/src/calls/relay-media.ts), outside
   * the request lane: media must neither wait behind messages nor hold them up. The caller keeps
   * to one upload and one download at a time. Failures throw ApiError like api().
   */
  async relayFetch(path: string, init: { method: 'GET' | 'PUT'; body?: Blob; signal?: AbortSignal }): Promise<Response> {
    const token = this.token;
    try {
      return await this.overridable(init.method, init.signal, (override) => this.relayOnce(path, init, token, override));
    } catch (err) {
      if (err instanceof ApiError && err.isUnauthorized && token !== undefined) this.sessionLost(token, err);
      throw err;
    }
  }

  private async relayOnce(path: string, init: { method: 'GET' | 'PUT'; body?: Blob; signal?: AbortSignal }, token: string | undefined, override: boolean): Promise<Response> {
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (init.body) headers['content-type'] = init.body.type;
    if (override) headers[METHOD_OVERRIDE_HEADER] = init.method;
    let res: Response;
    try {
      const f = this.fetchImpl;
      const method = override ? 'POST' : init.method;
      res = await f(this.baseUrl + path, { method, headers, body: init.body ?? null, signal: init.signal ?? null, cache: 'no-store' });
    } catch (err) {
      throw networkError(err instanceof Error ? err.message : String(err), err);
    }
    if (res.ok) return res;
    const data = (await res.json().catch(() => undefined)) as { error?: { code?: unknown; message?: unknown } } | undefined;
    const code = typeof data?.error?.code === 'string' ? data.error.code : `http_${res.status}`;
    throw new ApiError(res.status, code, typeof data?.error?.message === 'string' ? data.error.message : code);
  }
}
