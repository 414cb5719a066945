/**
 * Contact and group changes, written against the store's write transaction (StoreTx): each
 * change tells every user whose contact list it changed, on their own topic (`contacts.changed`),
 * in the same commit, so an open panel reloads its list at once.
 */
import { topicOf } from '../../../shared/index.js';
import { StoreError } from '../store/errors.js';
import type { StoreTx } from '../store/store.js';

function contactsChanged(tx: StoreTx, userIds: Iterable<number>) {
  for (const userId of userIds) tx.append(topicOf.user(userId), { type: 'contacts.changed' });
}

function groupIdOf(tx: StoreTx, name: string) {
  const groupId = tx.groupId(name);
  if (groupId === undefined) throw new StoreError('not_found', `group ${name}`);
  return groupId;
}

/** False if they were already a personal contact. */
export function addContact(tx: StoreTx, userId: number, contactId: number): boolean {
  const added = tx.insertContact(userId, contactId);
  if (added) contactsChanged(tx, [userId]);
  return added;
}

/** False if they were not a personal contact. */
export function removeContact(tx: StoreTx, userId: number, contactId: number): boolean {
  const removed = tx.deleteContact(userId, contactId);
  if (removed) contactsChanged(tx, [userId]);
  return removed;
}

/** False if there is no such group; its members are told. */
export function deleteGroup(tx: StoreTx, name: string): boolean {
  const groupId = tx.groupId(name);
  if (groupId === undefined) return false;
  contactsChanged(tx, tx.groupMemberIds(groupId));
  tx.deleteGroup(groupId);
  return true;
}

/** Adds all of them or (one write, one savepoint) none; answers how many were not members yet. */
export function addGroupMembers(tx: StoreTx, name: string, userIds: number[]): number {
  const groupId = groupIdOf(tx, name);
  const added = userIds.filter((userId) => tx.insertGroupMember(groupId, userId)).length;
  if (added > 0) contactsChanged(tx, tx.groupMemberIds(groupId));
  return added;
}

/** False if they were not a member; the members before the change are told (the removed one too). */
export function removeGroupMember(tx: StoreTx, name: string, userId: number): boolean {
  const groupId = groupIdOf(tx, name);
  const members = tx.groupMemberIds(groupId);
  const removed = tx.deleteGroupMember(groupId, userId);
  if (removed) contactsChanged(tx, members);
  return removed;
}

/** The user's display name changed: whoever has them in their list reloads it. */
export function displayNameChanged(tx: StoreTx, userId: number) {
  contactsChanged(tx, tx.presenceWatchers(userId));
}
