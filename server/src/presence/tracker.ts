/**
 * Who is connected, from their polls alone. A session is connected while it holds a poll, and
 * for `grace` (plus the interval an interval-polling client announced) after its last poll
 * ended; a user is connected while any of their sessions is. Pure bookkeeping with an injected
 * clock, so the rules can be tested without waiting.
 */
interface SessionState {
  held: number;
  /** The latest end of the waits of the polls held (ms since epoch): a held poll is answered by then. */
  heldUntil: number;
  /** Connected until then once no poll is held (ms since epoch). */
  until: number;
}

export class ConnectionTracker {
  private readonly users = new Map<number, Map<number, SessionState>>();

  constructor(
    private readonly graceMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  isConnected(userId: number): boolean {
    const sessions = this.users.get(userId);
    if (!sessions) return false;
    const now = this.now();
    for (const s of sessions.values()) if (s.held > 0 || s.until > now) return true;
    return false;
  }

  /** Number of connected users. */
  get size() {
    return this.users.size;
  }

  /** A poll started (held up to `waitMs`); answers true if the user was not connected before. */
  pollStarted(userId: number, tokenId: number, waitMs = 0): boolean {
    const was = this.isConnected(userId);
    const s = this.session(userId, tokenId);
    s.held++;
    s.heldUntil = Math.max(s.heldUntil, this.now() + waitMs);
    return !was;
  }

  /**
   * Until when the user counts as connected here if nothing more happens: a held poll's wait plus
   * the grace, or the time its end left; 0 if not connected (what a node's presence lease says).
   */
  connectedUntil(userId: number): number {
    const sessions = this.users.get(userId);
    if (!sessions) return 0;
    const now = this.now();
    let until = 0;
    for (const s of sessions.values()) until = Math.max(until, s.held > 0 ? Math.max(s.heldUntil, now) + this.graceMs : s.until);
    return until > now ? until : 0;
  }

  /**
   * A poll ended; the session stays connected for grace + the announced interval. A session
   * dropped meanwhile (logout, password reset) stays dropped: its last poll ending revives nothing.
   */
  pollEnded(userId: number, tokenId: number, intervalMs: number) {
    const s = this.users.get(userId)?.get(tokenId);
    if (!s) return;
    s.held = Math.max(0, s.held - 1);
    s.until = Math.max(s.until, this.now() + this.graceMs + intervalMs);
  }

  /** Keeps a user connected until `until` without a poll (after a server restart). */
  holdOpen(userId: number, until: number) {
    const s = this.session(userId, -1);
    s.until = Math.max(s.until, until);
  }

  /** The session ended (logout); answers true if the user is no longer connected. */
  dropSession(userId: number, tokenId: number): boolean {
    const sessions = this.users.get(userId);
    if (!sessions?.delete(tokenId)) return false;
    if (sessions.size === 0) this.users.delete(userId);
    return !this.isConnected(userId);
  }

  /** Forgets every session of the user (removed, or password reset). */
  dropUser(userId: number) {
    this.users.delete(userId);
  }

  /** Drops sessions whose time ran out; answers the users who are no longer connected. */
  expire(): number[] {
    const now = this.now();
    const gone: number[] = [];
    for (const [userId, sessions] of this.users) {
      for (const [tokenId, s] of sessions) if (s.held === 0 && s.until <= now) sessions.delete(tokenId);
      if (sessions.size === 0) {
        this.users.delete(userId);
        gone.push(userId);
      }
    }
    return gone;
  }

  private session(userId: number, tokenId: number): SessionState {
    let sessions = this.users.get(userId);
    if (!sessions) this.users.set(userId, (sessions = new Map()));
    let s = sessions.get(tokenId);
    if (!s) sessions.set(tokenId, (s = { held: 0, heldUntil: 0, until: 0 }));
    return s;
  }
}
