/**
 * Contact and group changes, written against the store's write transaction (StoreTx): each
 * change tells every user whose contact list it changed, on their own topic (`contacts.changed`),
 * in the same commit, so an open panel reloads its list at once.
 */
import { topicOf } from '../../../shared/index.js';
import { StoreError } from '../store/errors.js';
import type { StoreTx } from '../store/store.js';

async function contactsChanged(tx: StoreTx, userIds: Iterable<number>) {
  for (const userId of userIds) await tx.append(topicOf.user(userId), { type: 'contacts.changed' });
}

async function groupIdOf(tx: StoreTx, name: string) {
  const groupId = await tx.groupId(name);
  if (groupId === undefined) throw new StoreError('not_found', `group ${name}`);
  return groupId;
}

/** False if they were already a personal contact. */
export async function addContact(tx: StoreTx, userId: number, contactId: number): Promise<boolean> {
  const added = await tx.insertContact(userId, contactId);
  if (added) await contactsChanged(tx, [userId]);
  return added;
}

/** False if they were not a personal contact. */
export async function removeContact(tx: StoreTx, userId: number, contactId: number): Promise<boolean> {
  const removed = await tx.deleteContact(userId, contactId);
  if (removed) await contactsChanged(tx, [userId]);
  return removed;
}

/** False if there is no such group; its members are told. */
export async function deleteGroup(tx: StoreTx, name: string): Promise<boolean> {
  const groupId = await tx.groupId(name);
  if (groupId === undefined) return false;
  await contactsChanged(tx, await tx.groupMemberIds(groupId));
  await tx.deleteGroup(groupId);
  return true;
}

/** Adds all of them or (one write, one savepoint) none; answers how many were not members yet. */
export async function addGroupMembers(tx: StoreTx, name: string, userIds: number[]): Promise<number> {
  const groupId = await groupIdOf(tx, name);
  let added = 0;
  for (const userId of userIds) if (await tx.insertGroupMember(groupId, userId)) added++;
  if (added > 0) await contactsChanged(tx, await tx.groupMemberIds(groupId));
  return added;
}

/** False if they were not a member; the members before the change are told (the removed one too). */
export async function removeGroupMember(tx: StoreTx, name: string, userId: number): Promise<boolean> {
  const groupId = await groupIdOf(tx, name);
  const members = await tx.groupMemberIds(groupId);
  const removed = await tx.deleteGroupMember(groupId, userId);
  if (removed) await contactsChanged(tx, members);
  return removed;
}

/** The user's display name changed: whoever has them in their list reloads it. */
export async function displayNameChanged(tx: StoreTx, userId: number) {
  await contactsChanged(tx, await tx.presenceWatchers(userId));
}
