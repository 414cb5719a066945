/**
 * The sessions and users that bearer tokens resolve to, kept in memory so a poll costs no
 * database read to authenticate. The store drops entries inside the very write that changes
 * them (logout, password reset, user removal, presence fields), so a revoked token stops at
 * once; changes by another process (the admin CLI) clear it all when the store notices them.
 * Any new write to `users` or `sessions` in the store must call the matching `forget…` here.
 */
import type { SessionRecord, UserRecord } from './store.js';

interface CachedSession {
  tokenId: number;
  userId: number;
  expiresAt: number;
  lastUsedAt: number;
}

/** Far more than any server holds; only a bound against a flood of distinct valid tokens. */
const MAX_ENTRIES = 200_000;

export class SessionCache {
  private readonly byHash = new Map<string, CachedSession>();
  private readonly hashOfToken = new Map<number, string>();
  private readonly users = new Map<number, UserRecord>();

  get(tokenHash: Buffer, loadUser: (userId: number) => UserRecord | undefined): SessionRecord | undefined {
    const s = this.byHash.get(tokenHash.toString('base64'));
    if (!s) return undefined;
    let user = this.users.get(s.userId);
    if (!user) {
      user = loadUser(s.userId);
      if (!user) return undefined;
      this.users.set(s.userId, user);
    }
    return { tokenId: s.tokenId, expiresAt: s.expiresAt, lastUsedAt: s.lastUsedAt, user };
  }

  put(tokenHash: Buffer, record: SessionRecord) {
    if (this.byHash.size >= MAX_ENTRIES) this.clear();
    const key = tokenHash.toString('base64');
    this.byHash.set(key, { tokenId: record.tokenId, userId: record.user.id, expiresAt: record.expiresAt, lastUsedAt: record.lastUsedAt });
    this.hashOfToken.set(record.tokenId, key);
    this.users.set(record.user.id, record.user);
  }

  touched(tokenId: number, lastUsedAt: number, expiresAt: number) {
    const s = this.byHash.get(this.hashOfToken.get(tokenId) ?? '');
    if (s) Object.assign(s, { lastUsedAt, expiresAt });
  }

  forgetSession(tokenId: number) {
    const key = this.hashOfToken.get(tokenId);
    if (key === undefined) return;
    this.hashOfToken.delete(tokenId);
    this.byHash.delete(key);
  }

  /** The user's record changed. */
  forgetUser(userId: number) {
    this.users.delete(userId);
  }

  /** The user's record changed and all their sessions ended (password reset, removal). */
  forgetUserAndSessions(userId: number) {
    this.users.delete(userId);
    for (const [key, s] of this.byHash) {
      if (s.userId !== userId) continue;
      this.byHash.delete(key);
      this.hashOfToken.delete(s.tokenId);
    }
  }

  clear() {
    this.byHash.clear();
    this.hashOfToken.clear();
    this.users.clear();
  }
}
