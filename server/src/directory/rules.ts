/**
 * Directory accounts and groups in Portico, as functions over a store transaction.
 *
 * The sync is planned from a snapshot (the directory's enabled users and groups against
 * Portico's users and groups) into a list of changes, printed by a dry run; applying re-checks
 * each change in the write, so applying the same plan twice, or two nodes syncing at once,
 * changes nothing more (the design is idempotent: no lease is needed).
 *
 * Coexistence: an account is local, directory or sso (UserRecord.source). A local account keeps
 * its ID even if the directory has the same one (the directory's is then skipped); a directory
 * group never takes over a local group of the same name. A directory account is disabled, never
 * removed, when it leaves the directory or is disabled there (its chats and history stay);
 * directory groups follow the directory entirely.
 */
import { UNUSABLE_HASH } from '../auth/passwords.js';
import * as contacts from '../contacts/rules.js';
import type { GroupRecord, StoreTx, UserRecord } from '../store/store.js';
import type { DirectorySnapshot, DirectoryUser } from './ldap.js';

export type SyncChange =
  | { op: 'create-user'; username: string; displayName: string }
  | { op: 'rename-user'; username: string; displayName: string }
  | { op: 'enable-user'; username: string }
  | { op: 'disable-user'; username: string }
  | { op: 'create-group'; group: string; displayName: string }
  | { op: 'add-member'; group: string; username: string }
  | { op: 'remove-member'; group: string; username: string }
  | { op: 'delete-group'; group: string };

export function describe(c: SyncChange): string {
  switch (c.op) {
    case 'create-user':
      return `create user ${c.username} (${c.displayName})`;
    case 'rename-user':
      return `rename user ${c.username} to ${c.displayName}`;
    case 'enable-user':
      return `enable user ${c.username}`;
    case 'disable-user':
      return `disable user ${c.username} (sessions end)`;
    case 'create-group':
      return `create group ${c.group} (${c.displayName})`;
    case 'add-member':
      return `add ${c.username} to group ${c.group}`;
    case 'remove-member':
      return `remove ${c.username} from group ${c.group}`;
    case 'delete-group':
      return `delete group ${c.group}`;
  }
}

const lc = (s: string) => s.toLowerCase();

/** The changes that make Portico follow the directory, and notes on what is left alone. */
export function planSync(users: UserRecord[], groups: GroupRecord[], dir: DirectorySnapshot): { changes: SyncChange[]; notes: string[] } {
  const changes: SyncChange[] = [];
  const notes = [...dir.skipped];
  const portico = new Map(users.map((u) => [lc(u.username), u]));
  /** Directory users who are (or will be) enabled directory accounts in Portico. */
  const active = new Set<string>();
  for (const d of dir.users) {
    const u = portico.get(lc(d.username));
    if (!u) {
      changes.push({ op: 'create-user', username: d.username, displayName: d.displayName });
    } else if (u.source !== 'directory') {
      notes.push(`${d.dn}: Portico has a ${u.source} account ${u.username}; it stays ${u.source}`);
      continue;
    } else {
      if (u.displayName !== d.displayName) changes.push({ op: 'rename-user', username: u.username, displayName: d.displayName });
      if (u.disabled) changes.push({ op: 'enable-user', username: u.username });
    }
    active.add(lc(d.username));
  }
  for (const u of users) {
    if (u.source === 'directory' && !u.disabled && !active.has(lc(u.username))) changes.push({ op: 'disable-user', username: u.username });
  }
  if (!dir.groups) return { changes, notes };
  const existing = new Map(groups.map((g) => [lc(g.name), g]));
  for (const g of dir.groups) {
    const current = existing.get(lc(g.name));
    if (current && current.source !== 'directory') {
      notes.push(`${g.dn}: Portico has a local group ${current.name}; it stays local`);
      continue;
    }
    if (!current) changes.push({ op: 'create-group', group: g.name, displayName: g.displayName });
    const want = new Set(g.members.filter((m) => active.has(lc(m))).map(lc));
    const have = new Set((current?.members ?? []).map(lc));
    for (const m of g.members) if (want.has(lc(m)) && !have.has(lc(m))) changes.push({ op: 'add-member', group: current?.name ?? g.name, username: m });
    for (const m of current?.members ?? []) if (!want.has(lc(m))) changes.push({ op: 'remove-member', group: current!.name, username: m });
  }
  const wanted = new Set(dir.groups.map((g) => lc(g.name)));
  for (const g of groups) if (g.source === 'directory' && !wanted.has(lc(g.name))) changes.push({ op: 'delete-group', group: g.name });
  return { changes, notes };
}

/** What applying a change did: false if it was already so (another node, an earlier run). */
export interface Applied {
  done: boolean;
  /** Users whose contacts moved (their polls listen elsewhere now). */
  contactsMoved: number[];
  /** A user whose sessions ended. */
  disabled?: number;
}

const none: Applied = { done: false, contactsMoved: [] };

/** Applies one change, re-checked against the rows as they are now. */
export async function applyChange(tx: StoreTx, c: SyncChange): Promise<Applied> {
  const user = 'username' in c ? await tx.userByName(c.username) : undefined;
  const isDirectory = user?.source === 'directory';
  switch (c.op) {
    case 'create-user':
      if (user) return none;
      await tx.insertUser({ username: c.username, displayName: c.displayName, passwordHash: UNUSABLE_HASH, isAdmin: false, source: 'directory' });
      return { done: true, contactsMoved: [] };
    case 'rename-user':
      if (!isDirectory || user.displayName === c.displayName) return none;
      await tx.updateProfile(user.id, { displayName: c.displayName });
      await contacts.displayNameChanged(tx, user.id);
      return { done: true, contactsMoved: [] };
    case 'enable-user':
      if (!isDirectory || !user.disabled) return none;
      await tx.setDisabled(user.id, false);
      return { done: true, contactsMoved: [] };
    case 'disable-user':
      if (!isDirectory || user.disabled) return none;
      await tx.setDisabled(user.id, true);
      return { done: true, contactsMoved: [], disabled: user.id };
    case 'create-group':
      if ((await tx.groupId(c.group)) !== undefined) return none;
      await tx.insertGroup(c.group, c.displayName, 'directory');
      return { done: true, contactsMoved: [] };
    case 'add-member': {
      const groupId = await tx.groupId(c.group);
      if (!isDirectory || user.disabled || groupId === undefined) return none;
      if ((await contacts.addGroupMembers(tx, c.group, [user.id])) === 0) return none;
      return { done: true, contactsMoved: await tx.groupMemberIds(groupId) };
    }
    case 'remove-member': {
      const groupId = await tx.groupId(c.group);
      if (!user || groupId === undefined) return none;
      const members = await tx.groupMemberIds(groupId);
      return await contacts.removeGroupMember(tx, c.group, user.id) ? { done: true, contactsMoved: members } : none;
    }
    case 'delete-group': {
      const groupId = await tx.groupId(c.group);
      if (groupId === undefined) return none;
      const members = await tx.groupMemberIds(groupId);
      await contacts.deleteGroup(tx, c.group);
      return { done: true, contactsMoved: members };
    }
  }
}

/**
 * The Portico account of a directory user who just signed in: made on the first sign-in, its
 * display name kept up to date, enabled again (the directory found them enabled). undefined if
 * the ID belongs to a local or SSO account.
 */
export async function signedInDirectoryUser(tx: StoreTx, d: DirectoryUser): Promise<UserRecord | undefined> {
  const user = await tx.userByName(d.username);
  if (!user) return await tx.insertUser({ username: d.username, displayName: d.displayName, passwordHash: UNUSABLE_HASH, isAdmin: false, source: 'directory' });
  if (user.source !== 'directory') return undefined;
  if (user.displayName !== d.displayName) {
    await tx.updateProfile(user.id, { displayName: d.displayName });
    await contacts.displayNameChanged(tx, user.id);
  }
  if (user.disabled) await tx.setDisabled(user.id, false);
  return await tx.user(user.id);
}
