/**
 * The session: the token and its user, login, logout, and restore of a remembered login
 * (storage key `<prefix>.session`, only with "remember me"). What a session change means for the
 * event loop and the outbox is up to the hooks (client.ts wires them to poll.ts and
 * outbox-sender.ts).
 */
import { ENDPOINTS } from './endpoints.js';
import { ApiError, asApiError } from './errors.js';
import type { SafeStorage } from './storage.js';
import type { Transport } from './transport.js';
import type { Emit, LoginClientInfo, Me, User } from './types.js';

interface StoredSession {
  token: string;
  user: User;
}

function readSession(value: unknown): StoredSession | undefined {
  const s = value as Partial<StoredSession> | null;
  if (!s || typeof s !== 'object' || typeof s.token !== 'string' || !s.token) return undefined;
  const u = s.user as Partial<User> | undefined;
  if (!u || typeof u.username !== 'string' || typeof u.id !== 'number') return undefined;
  return { token: s.token, user: { id: u.id, username: u.username, displayName: typeof u.displayName === 'string' ? u.displayName : u.username } };
}

export interface SessionHooks {
  /** A session began (login, restore): `owner` is the user's storage name (their cursor and outbox). */
  began(owner: string): void;
  /** The session ended here (logout, or the server refused the token). */
  ended(): void;
  /** Logged out: forget this user's cursor and outbox too. */
  loggedOut(): void;
}

export class Session {
  private tokenValue: string | undefined;
  private currentUser: User | undefined;
  private epochValue = 0;
  /** Set by the client once its parts exist (they need the session, the session needs them). */
  hooks: SessionHooks | undefined;

  constructor(
    private readonly store: SafeStorage,
    private readonly transport: Transport,
    private readonly emit: Emit,
  ) {}

  get token(): string | undefined {
    return this.tokenValue;
  }

  get user(): User | undefined {
    return this.currentUser;
  }

  /** Changes with every login, logout and lost session: answers for an older one are dropped. */
  get epoch(): number {
    return this.epochValue;
  }

  private remember(token: string, user: User): void {
    this.store.setJson(this.store.key('session'), { token, user: { id: user.id, username: user.username, displayName: user.displayName } });
  }

  async login(username: string, password: string, remember: boolean, client?: LoginClientInfo): Promise<User> {
    const res = await this.transport.call(ENDPOINTS.login, [username, password, client], { token: null });
    this.begin(res.token, res.user, remember);
    return res.user;
  }

  /** Single sign-on: trades the one-time code the server's callback handed the panel for a session. */
  async ssoExchange(code: string, remember: boolean, client?: LoginClientInfo, verifier?: string): Promise<User> {
    const res = await this.transport.call(ENDPOINTS.ssoExchange, [code, client, verifier], { token: null });
    this.begin(res.token, res.user, remember);
    return res.user;
  }

  async restore(): Promise<User | undefined> {
    const session = readSession(this.store.getJson(this.store.key('session')));
    if (!session) return undefined;
    this.begin(session.token, session.user, true);
    try {
      const user: Me = await this.transport.call(ENDPOINTS.me, [], { authEvent: false });
      if (this.tokenValue !== session.token) return this.currentUser;
      this.currentUser = user;
      this.remember(session.token, user);
      return user;
    } catch (err) {
      const e = asApiError(err);
      if (!e.isUnauthorized) return this.currentUser;
      if (this.tokenValue === session.token) this.end();
      return undefined;
    }
  }

  /**
   * A meeting guest's session (issue 19): the token from the knock stands in for a login. It is
   * remembered only in this client's own storage (the guest page gives it sessionStorage).
   */
  beginGuest(token: string, user: User): void {
    this.begin(token, user, true);
  }

  /** The guest session remembered in this tab, without asking the server (a guest has no /me). */
  restoreGuest(): User | undefined {
    const session = readSession(this.store.getJson(this.store.key('session')));
    if (!session) return undefined;
    this.begin(session.token, session.user, true);
    return session.user;
  }

  async logout(): Promise<void> {
    const token = this.tokenValue;
    this.end();
    this.hooks?.loggedOut();
    if (token === undefined) return;
    try {
      await this.transport.call(ENDPOINTS.logout, [], { token, authEvent: false });
    } catch {
      /* gone already, or unreachable: the token is forgotten here either way */
    }
  }

  private begin(token: string, user: User, remember: boolean): void {
    this.epochValue++;
    this.tokenValue = token;
    this.currentUser = user;
    if (remember) this.remember(token, user);
    else this.store.remove(this.store.key('session'));
    this.hooks?.began(user.username.toLowerCase());
  }

  /** Forgets the session here (token and user); the cursor and the outbox stay for the same user's next login. */
  private end(): void {
    this.epochValue++;
    this.tokenValue = undefined;
    this.currentUser = undefined;
    this.store.remove(this.store.key('session'));
    this.hooks?.ended();
  }

  /** The server refused this token: end the session and tell the views ('auth'). */
  lost(token: string, error: ApiError): void {
    if (token !== this.tokenValue) return; // an older session's answer
    this.end();
    this.emit('auth', { reason: error.code, message: error.message });
  }
}
