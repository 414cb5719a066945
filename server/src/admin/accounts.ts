/**
 * What IT admins do to accounts, contacts and groups: one implementation for the admin API and
 * the command line. `changed` tells the running server whose subscriptions moved.
 */
import { CreateUserRequest, DisplayName, GroupName, ResetPasswordRequest, Username } from '../../../shared/index.js';
import { hashPassword } from '../auth/passwords.js';
import { AppError, conflict, notFound } from '../errors.js';
import { leaveAllChats } from '../chat/rules.js';
import * as contacts from '../contacts/rules.js';
import { announceRemoval } from '../presence/rules.js';
import { isStoreError } from '../store/errors.js';
import type { NewUser, Store, UserRecord } from '../store/store.js';

export interface AccountHooks {
  /** Subscriptions of these users changed (contacts, groups). */
  subscriptionsChanged(userIds: number[]): void;
  /** The user's sessions are gone: end their polls and presence. */
  userRemoved(userId: number): void | Promise<void>;
}

/** Stores a new user; a taken username (in any case) is 409 username_taken. */
export async function insertUser(store: Pick<Store, 'createUser'>, input: NewUser) {
  try {
    return await store.createUser(input);
  } catch (error) {
    if (isStoreError(error, 'unique')) throw conflict('username_taken', `the username ${input.username} is taken`);
    throw error;
  }
}

const noHooks: AccountHooks = { subscriptionsChanged() {}, userRemoved() {} };

export class Accounts {
  constructor(
    private readonly store: Store,
    readonly hooks: AccountHooks = noHooks,
  ) {}

  async user(username: string): Promise<UserRecord> {
    const user = await this.store.userByName(username);
    if (!user) throw notFound(`user ${username}`);
    return user;
  }

  async createUser(input: { username: string; password: string; displayName?: string; isAdmin?: boolean }) {
    const valid = CreateUserRequest.parse(input);
    return insertUser(this.store, {
      username: valid.username,
      displayName: valid.displayName ?? valid.username,
      passwordHash: await hashPassword(valid.password),
      isAdmin: valid.isAdmin,
    });
  }

  async removeUser(username: string) {
    const user = await this.user(username);
    if (user.isAdmin && (await this.store.listUsers()).filter((u) => u.isAdmin).length === 1) {
      throw conflict('conflict', 'this is the last administrator; make another one first');
    }
    // One write: watchers told, chats left (with their events), then the rows go.
    await this.store.write(async (tx) => {
      const current = await tx.user(user.id);
      if (!current) throw notFound('user');
      await announceRemoval(tx, current);
      await leaveAllChats(tx, user.id);
      await tx.deleteUser(user.id);
    });
    await this.hooks.userRemoved(user.id);
  }

  async resetPassword(username: string, password: string) {
    const user = await this.user(username);
    if (user.source !== 'local') {
      const where = user.source === 'directory' ? 'the company directory (Active Directory / LDAP)' : 'the company sign-in (single sign-on)';
      throw new AppError(409, 'managed_by_directory', `${user.username}'s password is kept by ${where}, not by Portico: change it there`);
    }
    await this.store.setPassword(user.id, await hashPassword(ResetPasswordRequest.parse({ password }).password));
    await this.hooks.userRemoved(user.id); // every session ended: same as for a removed user
  }

  listUsers() {
    return this.store.listUsers();
  }

  async addContact(username: string, contactName: string) {
    const [user, contact] = await this.pair(username, contactName);
    const added = await this.store.write((tx) => contacts.addContact(tx, user.id, contact.id));
    this.hooks.subscriptionsChanged([user.id]);
    return added;
  }

  async removeContact(username: string, contactName: string) {
    const [user, contact] = await this.pair(username, contactName);
    if (!(await this.store.write((tx) => contacts.removeContact(tx, user.id, contact.id)))) throw notFound(`${contactName} among ${username}'s personal contacts`);
    this.hooks.subscriptionsChanged([user.id]);
  }

  async contactsOf(username: string) {
    return this.store.listContacts((await this.user(username)).id);
  }

  async createGroup(name: string, displayName?: string) {
    const valid = GroupName.parse(name);
    try {
      return await this.store.createGroup(valid, DisplayName.parse(displayName ?? name));
    } catch (error) {
      if (isStoreError(error, 'unique')) throw conflict('conflict', `the group ${valid} exists`);
      throw error;
    }
  }

  async removeGroup(name: string) {
    const members = await this.groupMemberIds(name);
    if (!(await this.store.write((tx) => contacts.deleteGroup(tx, name)))) throw notFound(`group ${name}`);
    this.hooks.subscriptionsChanged(members);
  }

  /** Adds every one of them or, if one is unknown (or the group is), none. */
  async addToGroup(name: string, ...usernames: string[]) {
    const found = await Promise.all(usernames.map((u) => this.store.userByName(u)));
    const unknown = usernames.filter((_, i) => !found[i]);
    if (unknown.length > 0) throw notFound(`${unknown.length === 1 ? 'user' : 'users'} ${unknown.join(', ')}`);
    const added = await this.store.write((tx) => contacts.addGroupMembers(tx, name, found.map((u) => u!.id)));
    this.hooks.subscriptionsChanged(await this.groupMemberIds(name));
    return added;
  }

  async removeFromGroup(name: string, username: string) {
    const user = await this.user(username);
    const members = await this.groupMemberIds(name);
    if (!(await this.store.write((tx) => contacts.removeGroupMember(tx, name, user.id)))) throw notFound(`${username} in group ${name}`);
    this.hooks.subscriptionsChanged(members);
  }

  async group(name: string) {
    const group = (await this.store.listGroups()).find((g) => g.name.toLowerCase() === name.toLowerCase());
    if (!group) throw notFound(`group ${name}`);
    return group;
  }

  listGroups() {
    return this.store.listGroups();
  }

  private async pair(username: string, contactName: string) {
    Username.parse(contactName);
    const user = await this.user(username);
    const contact = await this.user(contactName);
    if (user.id === contact.id) throw new AppError(400, 'invalid_request', 'a user cannot be their own contact');
    return [user, contact] as const;
  }

  private async groupMemberIds(name: string) {
    const group = await this.group(name);
    const ids: number[] = [];
    for (const username of group.members) {
      const user = await this.store.userByName(username);
      if (user) ids.push(user.id);
    }
    return ids;
  }
}
