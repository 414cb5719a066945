/**
 * The Store: every piece of durable state behind one interface, so that the SQLite default can
 * later be joined by PostgreSQL for several server nodes. Each write method is one atomic
 * operation that also appends the events it causes to the event log; listeners registered with
 * `onCommit` learn of those events only after they are durable.
 */
import type { Chat, Message, PresenceState } from '../../../shared/index.js';
import type { CallStore } from './calls.js';
import type { PortalStore } from './portal.js';
import type { TerminalStore } from './terminals.js';

export interface UserRecord {
  id: number;
  username: string;
  displayName: string;
  passwordHash: string;
  isAdmin: boolean;
  /** What the user chose: available, away, busy, or offline (= appear offline). */
  chosenPresence: PresenceState;
  /** The effective presence last announced to watchers. */
  announcedPresence: PresenceState;
  createdAt: number;
}

export interface SessionRecord {
  tokenId: number;
  expiresAt: number;
  lastUsedAt: number;
  user: UserRecord;
}

export interface ContactRecord {
  user: UserRecord;
  personal: boolean;
  groups: string[];
}

export interface GroupRecord {
  name: string;
  displayName: string;
  members: string[];
}

export type MemberStatus = 'invited' | 'accepted' | 'declined' | 'left';

/** A chat as stored; `toChat` makes the protocol view. */
export interface ChatRecord {
  chat: Chat;
  /** userId -> status, for authorization without name lookups. */
  memberStatus: Map<number, MemberStatus>;
}

/** An event in the log: `json` is the full protocol event, cursor included. */
export interface StoredEvent {
  seq: number;
  topic: string;
  json: string;
  /**
   * The session whose request made the event, when that request's answer already told it (a sent
   * message): its held poll is not woken for it alone and gets it with its next answer. In memory
   * only; events read back from the log wake everyone.
   */
  origin?: number;
}

/** Topics a user's poll listens to (see events/topics.ts). */
export interface Subscriptions {
  contactIds: number[];
  chatIds: string[];
}

export interface Store {
  /** Channels, providers and the content they push. */
  readonly portal: PortalStore;
  /** Installed clients (terminals) and the seats they take. */
  readonly terminals: TerminalStore;
  /** Calls between chat members. */
  readonly calls: CallStore;
  /** Add a listener for events made durable: each event once, in sequence order, without gaps. */
  onCommit(listener: (events: StoredEvent[]) => void): void;
  close(): Promise<void>;

  // users
  createUser(input: { username: string; displayName: string; passwordHash: string; isAdmin: boolean }): Promise<UserRecord>;
  userByName(username: string): Promise<UserRecord | undefined>;
  userById(id: number): Promise<UserRecord | undefined>;
  listUsers(): Promise<UserRecord[]>;
  searchUsers(query: string, limit: number): Promise<UserRecord[]>;
  countUsers(): Promise<number>;
  /** Sets the password hash and ends every session of the user. */
  setPassword(userId: number, passwordHash: string): Promise<void>;
  /** Removes the user: leaves their chats (with events), drops contacts, groups and sessions. */
  deleteUser(userId: number): Promise<void>;

  // sessions
  createSession(userId: number, tokenHash: Buffer, expiresAt: number): Promise<number>;
  sessionByTokenHash(tokenHash: Buffer): Promise<SessionRecord | undefined>;
  touchSession(tokenId: number, lastUsedAt: number, expiresAt: number): Promise<void>;
  deleteSession(tokenId: number): Promise<void>;
  deleteExpiredSessions(now: number): Promise<number>;

  // presence
  setChosenPresence(userId: number, state: PresenceState): Promise<void>;
  /** Records and announces (event `presence`) a new effective presence; false if it was already that. */
  announcePresence(userId: number, state: PresenceState): Promise<boolean>;
  /** Users whose last announced presence is not offline (e.g. before a restart). */
  usersAnnouncedOnline(): Promise<UserRecord[]>;

  // contacts and groups
  addContact(userId: number, contactId: number): Promise<boolean>;
  removeContact(userId: number, contactId: number): Promise<boolean>;
  listContacts(userId: number): Promise<ContactRecord[]>;
  subscriptions(userId: number): Promise<Subscriptions>;
  createGroup(name: string, displayName: string): Promise<GroupRecord>;
  deleteGroup(name: string): Promise<boolean>;
  /** Adds all of them in one transaction (all or none); answers how many were not members yet. */
  addGroupMembers(name: string, userIds: number[]): Promise<number>;
  removeGroupMember(name: string, userId: number): Promise<boolean>;
  listGroups(): Promise<GroupRecord[]>;

  // chats
  createChat(creatorId: number, inviteeIds: number[]): Promise<Chat>;
  chatById(chatId: string): Promise<ChatRecord | undefined>;
  chatsOf(userId: number): Promise<Chat[]>;
  /**
   * Moves a member from one of `from` to `to` and announces it (chat.accepted / chat.declined /
   * chat.left); announces chat.closed to members still invited when the chat closes.
   */
  changeMembership(chatId: string, userId: number, from: MemberStatus[], to: 'accepted' | 'declined' | 'left'): Promise<Chat>;
  /** Stores a message once per (chat, sender, clientId); a repeat returns the stored one. */
  putMessage(input: { chatId: string; fromUserId: number; fromTokenId?: number; clientId: string; text: string }): Promise<{ message: Message; created: boolean }>;
  messages(chatId: string, before: number | undefined, limit: number): Promise<Message[]>;

  // event log
  readEvents(topics: string[], after: number, limit: number): Promise<StoredEvent[]>;
  /** Highest sequence in the log (0 when empty). */
  headSeq(): Promise<number>;
  /** Events up to this sequence were removed by retention. */
  prunedThrough(): Promise<number>;
  pruneEvents(olderThan: number): Promise<number>;
  /**
   * Looks for commits by other processes (the admin CLI, later other nodes): publishes their
   * events to the listeners and answers true if anything changed, so caches can be dropped.
   */
  syncExternal(): Promise<boolean>;
}
