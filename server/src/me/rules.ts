/**
 * Changes a user makes to themselves, over the store's write transaction: each is told, in the
 * same commit, to the user's own topic (`me.updated`, `chat.muted`: their other devices follow at
 * once) and, when it changes what others see (name, picture, status), to everyone who sees them
 * (`user.updated` on each one's topic: their contacts, those who have them through a group, and
 * the members of their chats).
 */
import { topicOf, type ChatMute, type PresenceState } from '../../../shared/index.js';
import { StoreError } from '../store/errors.js';
import type { ProfileChange, StoreTx, UserRecord } from '../store/store.js';
import { meView, publicView } from './views.js';

const PUBLIC_FIELDS: Array<keyof ProfileChange> = ['displayName', 'avatar', 'status'];

/** Applies the change and tells; answers the user before and after it. */
export async function changeProfile(
  tx: StoreTx,
  userId: number,
  change: ProfileChange,
  presenceOf: (user: UserRecord) => PresenceState,
  now = Date.now(),
): Promise<{ before: UserRecord; after: UserRecord }> {
  const before = await tx.user(userId);
  if (!before) throw new StoreError('not_found', 'user');
  await tx.updateProfile(userId, change);
  const after = (await tx.user(userId))!;
  await tx.append(topicOf.user(userId), { type: 'me.updated', user: meView(after, presenceOf(after), now) }, now);
  const seenByOthers = PUBLIC_FIELDS.some((field) => change[field] !== undefined && JSON.stringify(change[field]) !== JSON.stringify(before[field]));
  if (seenByOthers) {
    const user = publicView(after, now);
    for (const other of await tx.profileAudience(userId)) await tx.append(topicOf.user(other), { type: 'user.updated', user }, now);
  }
  return { before, after };
}

/** Mutes (until a time, or until unmuted: null) or unmutes a chat for a member; undefined if they are not in it. */
export async function muteChat(tx: StoreTx, userId: number, chatId: string, muted: boolean, until: number | null, now = Date.now()): Promise<ChatMute | undefined> {
  const status = (await tx.memberStatuses(chatId)).find(([id]) => id === userId)?.[1];
  if (status !== 'invited' && status !== 'accepted') return undefined;
  await tx.setChatMute(userId, chatId, muted, muted ? until : null);
  const mute = { chatId, muted, ...(muted && until !== null ? { mutedUntil: new Date(until).toISOString() } : {}) };
  await tx.append(topicOf.user(userId), { type: 'chat.muted', mute }, now);
  return mute;
}
