/**
 * The Store: every piece of durable state behind one interface, so that the SQLite default can
 * later be joined by PostgreSQL for several server nodes. It is storage only: rows, the event
 * log, and atomic writes. The rules (who may send, the chat's life, call set-up, presence
 * fan-out) live in the features, written against `write(tx => ...)`: row operations and
 * `tx.append` inside one transaction, so a check and the write it allows are atomic. Listeners
 * registered with `onCommit` learn of appended events only after they are durable. The store
 * raises only StoreError (errors.ts): not found, unique conflict.
 */
import type { Chat, ChatHistory, EventDraft, Message, MessageCall, PresenceState, Reaction } from '../../../shared/index.js';
import type { ClusterLink, PresenceLeaseReads } from './cluster.js';
import type { CallRows, CallStore } from './calls.js';
import type { MeetingRows, MeetingStore } from './meetings.js';
import type { PortalRows, PortalStore } from './portal.js';
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
  /** Where the account comes from: made here, the company directory (LDAP), or single sign-on. */
  source: UserSource;
  /** A directory account the directory disabled or removed: it cannot sign in. */
  disabled: boolean;
  /** The stored picture's key (avatars/), or null: initials. */
  avatar: string | null;
  /** The status message as set (`until` in ms); whether it has expired is the reader's question. */
  status: StoredStatus | null;
  /** Do not disturb until then (ms), or null. */
  dndUntil: number | null;
  notifyMentionsWhenBusy: boolean;
}

export interface StoredStatus {
  emoji?: string;
  text: string;
  until?: number;
}

/** Fields of a user the user changes themselves (PATCH /me, the picture); absent ones stay. */
export interface ProfileChange {
  displayName?: string;
  avatar?: string | null;
  status?: StoredStatus | null;
  dndUntil?: number | null;
  notifyMentionsWhenBusy?: boolean;
}

export interface NewUser {
  username: string;
  displayName: string;
  passwordHash: string;
  isAdmin: boolean;
  /** Default local. */
  source?: UserSource;
}

export type UserSource = 'local' | 'directory' | 'sso';

export interface SessionRecord {
  tokenId: number;
  expiresAt: number;
  lastUsedAt: number;
  user: UserRecord;
  /**
   * Set for a meeting guest's token (no account): `user` is then a stand-in with a negative id
   * (never a real user's), and only routes declared with `guests: true` accept the session.
   */
  guest?: GuestSession;
}

/** A meeting guest's session: valid while it knocks or takes part and the meeting lasts. */
export interface GuestSession {
  id: number;
  meetingId: string;
  chatId: string;
  name: string;
  admitted: boolean;
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
  /** local: made by an admin; directory: kept by the directory sync. */
  source: 'local' | 'directory';
}

export type MemberStatus = 'invited' | 'accepted' | 'declined' | 'left';

/** A chat as stored; `toChat` makes the protocol view. */
export interface ChatRecord {
  chat: Chat;
  /** userId -> status, for authorization without name lookups. */
  memberStatus: Map<number, MemberStatus>;
}

/** A message to store: `fromUserId` null for the server's own lines (a call that ended). */
export interface NewMessage {
  chatId: string;
  fromUserId: number | null;
  fromUsername: string;
  clientId: string;
  text: string;
  sentAt: number;
  call?: MessageCall;
  mentions?: string[];
  /** Ids of chat files sent with it, in order. */
  files?: string[];
  /** Sent while a call in its chat is on hold: kept from the others until released. */
  held?: boolean;
}

/** A file uploaded to a chat; its bytes (and its thumbnail's) are stored once per content, by SHA-256. */
export interface ChatFileRecord {
  id: string;
  chatId: string;
  uploaderId: number | null;
  name: string;
  size: number;
  contentType: string;
  sha256: string;
  thumbSha256?: string;
  createdAt: number;
}

/** A message search: every term must occur in the text (case-insensitive substrings, any script). */
export interface MessageSearch {
  terms: string[];
  /** Only this chat (the caller has checked membership). */
  chatId?: string;
  /** Only messages with a smaller id. */
  before?: number;
  limit: number;
}

/** An event in the log: `json` is the full protocol event, cursor included. */
export interface StoredEvent {
  seq: number;
  topic: string;
  json: string;
  /**
   * The session whose request made the event, when that request's answer already told it (a sent
   * message): its held poll is not woken for it alone and gets it with its next answer. Kept in
   * memory on SQLite (events read back from the log wake everyone), in the log on PostgreSQL (its
   * nodes publish what they read from it).
   */
  origin?: number;
}

/** Topics a user's poll listens to (see events/topics.ts). */
export interface Subscriptions {
  contactIds: number[];
  chatIds: string[];
}

/**
 * Row operations inside one atomic write. Every one answers a promise, so that a store whose row
 * operations are round trips (PostgreSQL) can serve them; await each (a promise in a condition is
 * always true). The embedded store runs the whole write within its group commit (one savepoint of
 * the batch's transaction), no other write interleaving; a throw (a rejection) undoes it all.
 * Plain `Promise<T>`, not `T | Promise<T>`: `await` wraps a plain value in a promise anyway, so
 * answering values would save SQLite nothing measurable, and the type lets a checker flag a
 * forgotten await (scripts/check-awaits.ts).
 */
/** What a send checks (StoreTx.sendChecks). */
export interface SendChecks {
  /** The chat's members' statuses (empty for an unknown chat), as `memberStatuses`. */
  members: Array<[userId: number, status: MemberStatus]>;
  /** A call in the chat is on hold (`calls.heldInChat`). */
  held: boolean;
  /** The sender's message with this client id (a retry), as `messageByClientId`. */
  existing: Message | undefined;
}

export interface StoreTx {
  /** Appends an event to the log; published once the commit is on disk. `origin`: see StoredEvent. */
  append(topic: string, draft: EventDraft, now?: number, origin?: number): Promise<void>;

  user(userId: number): Promise<UserRecord | undefined>;
  /** Those of these users who exist, in no particular order: one read for many (a connect storm's presence). */
  users(userIds: number[]): Promise<UserRecord[]>;
  userByName(username: string): Promise<UserRecord | undefined>;
  /** Records the presence last announced for these users, in one write. */
  setAnnouncedPresenceOf(userIds: number[], state: PresenceState): Promise<void>;
  /** Users who watch this user's presence: it is their contact, or in a group with them. */
  presenceWatchers(userId: number): Promise<number[]>;
  /** Removes the user's row; their sessions, contacts, group and chat memberships go with it. */
  deleteUser(userId: number): Promise<void>;
  /** StoreError 'unique' if the username is taken (in any case). */
  insertUser(input: NewUser): Promise<UserRecord>;
  /** Disabling also ends every session of the user. */
  setDisabled(userId: number, disabled: boolean): Promise<void>;
  updateProfile(userId: number, change: ProfileChange): Promise<void>;
  /** How many users have this picture (one file serves all who uploaded the same one). */
  avatarUsers(key: string): Promise<number>;
  /** Users who see this user: it is their contact (or in a group with them), or they share a chat (invited or accepted). */
  profileAudience(userId: number): Promise<number[]>;
  /** until: ms, or null for "until unmuted"; muted false removes the row. */
  setChatMute(userId: number, chatId: string, muted: boolean, until: number | null): Promise<void>;

  chat(chatId: string): Promise<ChatRecord | undefined>;
  chatExists(chatId: string): Promise<boolean>;
  /** A new chat with its members in this order; answers its id. */
  insertChat(createdBy: string, createdAt: number, members: Array<[userId: number, status: MemberStatus]>): Promise<string>;
  /** The members' statuses only (cheaper than `chat`); empty for an unknown chat. */
  memberStatuses(chatId: string): Promise<Array<[userId: number, status: MemberStatus]>>;
  setMemberStatus(chatId: string, userId: number, status: MemberStatus): Promise<void>;
  /** A new member of an existing chat, after the others. */
  addChatMember(chatId: string, userId: number, status: MemberStatus): Promise<void>;
  /** Who added a member to the running chat, and the message id after which they read (null: all of it). */
  chatMemberAdded(chatId: string, userId: number): Promise<{ by: number | null; visibleFrom: number | null }>;
  setChatMemberAdded(chatId: string, userId: number, by: number | null, visibleFrom: number | null): Promise<void>;
  /** The message id after which this member reads (0: all): their `visible_from` when the chat's history is 'since_added'. */
  visibleAfter(chatId: string, userId: number): Promise<number>;
  /** The newest message id of the chat (0: none). */
  lastMessageId(chatId: string): Promise<number>;
  setChatHistory(chatId: string, history: ChatHistory): Promise<void>;
  /** Delivers the chat's held messages (their held mark goes); answers them, oldest first. */
  releaseHeldMessages(chatId: string): Promise<Message[]>;
  /** Chats where the user has one of these statuses. */
  chatIdsOf(userId: number, statuses: MemberStatus[]): Promise<string[]>;
  messageByClientId(chatId: string, fromUserId: number, clientId: string): Promise<Message | undefined>;
  /** What sending into a chat checks, read at once (on PostgreSQL one round trip instead of four). */
  sendChecks(chatId: string, fromUserId: number, clientId: string): Promise<SendChecks>;
  /** Unique per (chat, sender, client id): StoreError 'unique' for a repeat. */
  insertMessage(input: NewMessage): Promise<Message>;
  /** A message of this chat by its id, reactions included. */
  message(chatId: string, messageId: number): Promise<Message | undefined>;
  /** Whether anyone's message in this chat has this client id. */
  clientIdUsed(chatId: string, clientId: string): Promise<boolean>;
  /** New text (and its mentions, [] for none); answers the message as stored. */
  editMessage(messageId: number, text: string, mentions: string[], editedAt: number): Promise<Message>;
  /** Keeps the row as a place: no text, mentions or reactions. */
  markMessageDeleted(messageId: number): Promise<Message>;
  /** Each answers whether a row changed. */
  addReaction(messageId: number, userId: number, emoji: string, at: number): Promise<boolean>;
  removeReaction(messageId: number, userId: number, emoji: string): Promise<boolean>;
  /** Different emoji this user has on this message. */
  reactionCount(messageId: number, userId: number): Promise<number>;
  reactions(messageId: number): Promise<Reaction[]>;
  readUpTo(chatId: string, userId: number): Promise<number>;
  setReadUpTo(chatId: string, userId: number, upTo: number): Promise<void>;
  /** Messages not deleted nor held (a call on hold), after `after`, not from this user. */
  unreadCount(chatId: string, userId: number, after: number): Promise<number>;
  /** An active chat of exactly these two users, both taking part. */
  activeOneToOne(userId: number, otherId: number): Promise<string | undefined>;
  /** A new chat file (StoreError 'unique' if the id is taken). */
  insertChatFile(file: ChatFileRecord): Promise<void>;
  /** The files with these ids that exist, whatever their chat. */
  chatFiles(ids: string[]): Promise<ChatFileRecord[]>;

  readonly calls: CallRows;
  readonly meetings: MeetingRows;
  readonly portal: PortalRows;
  /** Several nodes (PostgreSQL): presence leases read inside the write; undefined on SQLite. */
  readonly cluster?: PresenceLeaseReads;

  // contacts and groups: each answers whether a row changed
  insertContact(userId: number, contactId: number): Promise<boolean>;
  deleteContact(userId: number, contactId: number): Promise<boolean>;
  groupId(name: string): Promise<number | undefined>;
  groupMemberIds(groupId: number): Promise<number[]>;
  deleteGroup(groupId: number): Promise<void>;
  /** StoreError 'unique' if the name is taken (in any case); answers its id. */
  insertGroup(name: string, displayName: string, source: GroupRecord['source']): Promise<number>;
  setGroupDisplayName(groupId: number, displayName: string): Promise<void>;
  insertGroupMember(groupId: number, userId: number): Promise<boolean>;
  deleteGroupMember(groupId: number, userId: number): Promise<boolean>;
}

/**
 * What a write changes, when it changes only one chat's own rows (its messages, their files and
 * reactions, its members' read marks) and appends events. On PostgreSQL, scoped writes of
 * different chats commit in parallel across nodes; unscoped writes exclude every other write in
 * the cluster, as one SQLite process does. SQLite runs one write at a time either way. A scoped
 * write's `fn` may be run twice (PostgreSQL runs its batch again, with a savepoint per write, when
 * one of them failed after changing rows), so it must act only through `tx`.
 */
export interface WriteScope {
  chatId: string;
}

export interface Store {
  /**
   * One atomic write, group-committed with the others of this turn; settles once on disk. `fn`
   * may be async: it uses only `tx` (a read of the Store itself awaited inside `fn` would wait
   * for this write's commit) and awaits every call it makes.
   */
  write<T>(fn: (tx: StoreTx) => Promise<T> | T, scope?: WriteScope): Promise<T>;
  /** Channels, providers and the content they push. */
  readonly portal: PortalStore;
  /** Installed clients (terminals) and the seats they take. */
  readonly terminals: TerminalStore;
  /** Calls between chat members. */
  readonly calls: CallStore;
  /** Meetings with guests, their documents. */
  readonly meetings: MeetingStore;
  /** What the nodes of a cluster share beyond rows and log (PostgreSQL); undefined on SQLite: one node. */
  readonly cluster?: ClusterLink;
  /** Add a listener for events made durable: each event once, in sequence order, without gaps. */
  onCommit(listener: (events: StoredEvent[]) => void): void;
  close(): Promise<void>;

  // users
  /** StoreError 'unique' if the username is taken (in any case). */
  createUser(input: NewUser): Promise<UserRecord>;
  userByName(username: string): Promise<UserRecord | undefined>;
  userById(id: number): Promise<UserRecord | undefined>;
  listUsers(): Promise<UserRecord[]>;
  searchUsers(query: string, limit: number): Promise<UserRecord[]>;
  countUsers(): Promise<number>;
  /**
   * Sets the password hash and ends every session of the user but `keepTokenId` (the one that
   * changed it, if any); answers the ended sessions' ids.
   */
  setPassword(userId: number, passwordHash: string, keepTokenId?: number): Promise<number[]>;
  /** Removes the user's rows (see StoreTx.deleteUser); the rules around it are admin/accounts'. */
  deleteUser(userId: number): Promise<void>;

  // sessions
  createSession(userId: number, tokenHash: Buffer, expiresAt: number): Promise<number>;
  sessionByTokenHash(tokenHash: Buffer): Promise<SessionRecord | undefined>;
  touchSession(tokenId: number, lastUsedAt: number, expiresAt: number): Promise<void>;
  deleteSession(tokenId: number): Promise<void>;
  deleteExpiredSessions(now: number): Promise<number>;

  // presence
  setChosenPresence(userId: number, state: PresenceState): Promise<void>;
  /** Users whose last announced presence is not offline (e.g. before a restart). */
  usersAnnouncedOnline(): Promise<UserRecord[]>;

  // contacts and groups
  listContacts(userId: number): Promise<ContactRecord[]>;
  subscriptions(userId: number): Promise<Subscriptions>;
  /** StoreError 'unique' if the name is taken. */
  createGroup(name: string, displayName: string): Promise<GroupRecord>;
  listGroups(): Promise<GroupRecord[]>;

  // chats
  chatById(chatId: string): Promise<ChatRecord | undefined>;
  /** With each chat's `unread`, `lastMessage` and members' `readUpTo`. */
  chatsOf(userId: number): Promise<Chat[]>;
  /** The user's chat mutes that have not run out: chat id -> until (ms) or null (until unmuted). */
  chatMutes(userId: number, now: number): Promise<Map<string, number | null>>;
  /** Reactions included. */
  messages(chatId: string, before: number | undefined, limit: number, readerId?: number): Promise<Message[]>;
  /** Messages of the chats the user takes part in (accepted) that match, newest first (held ones only to their author). */
  searchMessages(userId: number, search: MessageSearch): Promise<Message[]>;
  /**
   * A file of a chat; with `readerId`, only if that member may read it: they read the whole
   * history, they uploaded it, or a message carrying it is one they read (a chat's history
   * 'since_added' hides earlier ones from those added later).
   */
  chatFile(fileId: string, readerId?: number): Promise<ChatFileRecord | undefined>;
  /**
   * Deletes the chat files no message refers to that were made before `unattachedBefore`;
   * answers how many, and the contents (SHA-256s, thumbnails too) that the remaining files need.
   */
  sweepChatFiles(unattachedBefore: number): Promise<{ deleted: number; keep: Set<string> }>;

  // event log
  /**
   * Events of these topics after `after`, only those already published to this store's listeners
   * (on disk; another process's or node's once this store has taken them in: syncExternal).
   */
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
