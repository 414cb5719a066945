/**
 * How a user is shown: to others (the public view: name, picture, a status that has not expired)
 * and to themselves (`/me`: that plus their do-not-disturb settings). Used by every feature that
 * shows a user, so the picture and status look the same in contacts, search, chats and events.
 */
import { avatarPath, type Me, type PresenceState, type PublicUser, type UserStatus } from '../../../shared/index.js';
import type { StoredStatus, UserRecord } from '../store/store.js';

const iso = (ms: number) => new Date(ms).toISOString();

/** The status as shown, or undefined when none is set or it has run out. */
export function statusView(status: StoredStatus | null, now = Date.now()): UserStatus | undefined {
  if (!status || (status.until !== undefined && status.until <= now)) return undefined;
  return {
    ...(status.emoji !== undefined ? { emoji: status.emoji } : {}),
    text: status.text,
    ...(status.until !== undefined ? { until: iso(status.until) } : {}),
  };
}

/** `{avatarUrl}` when the user has a picture, else nothing (spread into a view). */
export const avatarOf = (u: Pick<UserRecord, 'avatar'>): { avatarUrl?: string } => (u.avatar ? { avatarUrl: avatarPath(u.avatar) } : {});

export function publicView(u: UserRecord, now = Date.now()): PublicUser {
  const status = statusView(u.status, now);
  return { id: u.id, username: u.username, displayName: u.displayName, ...avatarOf(u), ...(status ? { status } : {}) };
}

export function meView(u: UserRecord, presence: PresenceState, now = Date.now()): Me {
  return {
    ...publicView(u, now),
    isAdmin: u.isAdmin,
    presence,
    dndUntil: u.dndUntil !== null && u.dndUntil > now ? iso(u.dndUntil) : null,
    notifyMentionsWhenBusy: u.notifyMentionsWhenBusy,
  };
}
