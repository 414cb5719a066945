/**
 * Bearer tokens: 256 random bits handed to the client once; only their SHA-256 is stored
 * (a token is already high-entropy, so a fast hash is enough). Expiry slides with use.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { SessionRecord, Store, UserRecord } from '../store/store.js';

const DAY = 24 * 3600 * 1000;
/** Sliding expiry is written at most this often per session, not on every poll. */
const TOUCH_EVERY = 3600 * 1000;

export const hashToken = (token: string) => createHash('sha256').update(token).digest();

export class Sessions {
  constructor(
    private readonly store: Store,
    private readonly lifetimeDays: number,
  ) {}

  async create(userId: number): Promise<{ token: string; expiresAt: number; tokenId: number }> {
    const token = randomBytes(32).toString('base64url');
    const expiresAt = Date.now() + this.lifetimeDays * DAY;
    const tokenId = await this.store.createSession(userId, hashToken(token), expiresAt);
    return { token, expiresAt, tokenId };
  }

  /** The live session of a token (given by its hash: see bearerTokenHash), or undefined. */
  async verify(tokenHash: Buffer): Promise<SessionRecord | undefined> {
    const session = await this.store.sessionByTokenHash(tokenHash);
    const now = Date.now();
    if (!session || session.expiresAt <= now) return undefined;
    if (now - session.lastUsedAt > TOUCH_EVERY) {
      session.expiresAt = now + this.lifetimeDays * DAY;
      await this.store.touchSession(session.tokenId, now, session.expiresAt);
    }
    return session;
  }

  /**
   * The session of a meeting guest's token (by its hash), while the guest knocks or takes part
   * and its meeting lasts; undefined otherwise (rejected, ended, unknown). Read from the store on
   * each request, so an ended meeting or a rejection ends the token at once.
   */
  async verifyGuest(tokenHash: Buffer): Promise<SessionRecord | undefined> {
    const found = await this.store.meetings.guestByTokenHash(tokenHash);
    if (!found) return undefined;
    const { guest, meeting } = found;
    if (meeting.endedAt !== null || (guest.status !== 'knocking' && guest.status !== 'admitted')) return undefined;
    const now = Date.now();
    return {
      tokenId: guestUserId(guest.id),
      expiresAt: now + DAY,
      lastUsedAt: now,
      user: guestStandIn(guest),
      guest: { id: guest.id, meetingId: meeting.id, chatId: meeting.chatId, name: guest.name, admitted: guest.status === 'admitted' },
    };
  }
}

/** A guest's stand-in user id (and its session's token id, for the event hub): negative, never a real user's. */
export const guestUserId = (guestId: number) => -guestId;

/**
 * The user a meeting guest's session stands in for, so chat, event and call code can name it:
 * its negative id, `guest-<id>` as username (the calls list members by it), its name marked.
 */
export function guestStandIn(guest: { id: number; name: string; createdAt: number }): UserRecord {
  return {
    id: guestUserId(guest.id),
    username: `guest-${guest.id}`,
    displayName: `${guest.name} (guest)`,
    passwordHash: '',
    isAdmin: false,
    chosenPresence: 'available',
    announcedPresence: 'available',
    createdAt: guest.createdAt,
    source: 'local',
    disabled: false,
    avatar: null,
    status: null,
    dndUntil: null,
    notifyMentionsWhenBusy: false,
  };
}
