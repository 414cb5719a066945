/** Presence announcements, written against the store's write transaction (StoreTx). */
import { topicOf, type PresenceState } from '../../../shared/index.js';
import type { StoreTx, UserRecord } from '../store/store.js';

/** Records and announces (event `presence`) a new effective presence; false if it was already that. */
export async function announcePresence(tx: StoreTx, userId: number, state: PresenceState, user?: UserRecord): Promise<boolean> {
  user ??= await tx.user(userId);
  if (!user || user.announcedPresence === state) return false;
  await tx.setAnnouncedPresence(userId, state);
  await tx.append(topicOf.presence(userId), { type: 'presence', username: user.username, state });
  return true;
}

/** Announces the presence `effective` derives from the user as stored now, if it changed. */
export async function refreshPresence(tx: StoreTx, userId: number, effective: (user: UserRecord) => PresenceState): Promise<boolean> {
  const user = await tx.user(userId);
  return user ? await announcePresence(tx, userId, effective(user), user) : false;
}

/**
 * The user is being removed: watchers stop listening on their presence topic once the contact
 * is gone, so each is told on their own topic that they are offline, and that their contact
 * list changed (an open panel reloads it). A removal is rare: per-recipient events are fine.
 */
export async function announceRemoval(tx: StoreTx, user: UserRecord) {
  for (const watcherId of await tx.presenceWatchers(user.id)) {
    if (user.announcedPresence !== 'offline') await tx.append(topicOf.user(watcherId), { type: 'presence', username: user.username, state: 'offline' });
    await tx.append(topicOf.user(watcherId), { type: 'contacts.changed' });
  }
}
