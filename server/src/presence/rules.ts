/** Presence announcements, written against the store's write transaction (StoreTx). */
import { topicOf, type PresenceState } from '../../../shared/index.js';
import type { StoreTx, UserRecord } from '../store/store.js';

/** Records and announces (event `presence`) a new effective presence; false if it was already that. */
export async function announcePresence(tx: StoreTx, userId: number, state: PresenceState): Promise<boolean> {
  return (await refreshPresenceOf(tx, [userId], () => state)) > 0;
}

/** Announces the presence `effective` derives from the user as stored now, if it changed. */
export async function refreshPresence(tx: StoreTx, userId: number, effective: (user: UserRecord) => PresenceState): Promise<boolean> {
  return (await refreshPresenceOf(tx, [userId], effective)) > 0;
}

/**
 * refreshPresence for many users in one write (those gathered from a connect storm): one read of
 * them all and one update per new state, not two round trips each (on PostgreSQL each is one).
 * Announces in the order given; answers how many changed.
 */
export async function refreshPresenceOf(tx: StoreTx, userIds: number[], effective: (user: UserRecord) => PresenceState): Promise<number> {
  const byId = new Map((await tx.users(userIds)).map((user) => [user.id, user]));
  const changed: Array<{ user: UserRecord; state: PresenceState }> = [];
  for (const userId of userIds) {
    const user = byId.get(userId);
    if (!user) continue;
    const state = effective(user);
    if (user.announcedPresence !== state) changed.push({ user, state });
  }
  for (const state of new Set(changed.map((c) => c.state))) {
    await tx.setAnnouncedPresenceOf(changed.filter((c) => c.state === state).map((c) => c.user.id), state);
  }
  for (const { user, state } of changed) await tx.append(topicOf.presence(user.id), { type: 'presence', username: user.username, state });
  return changed.length;
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
