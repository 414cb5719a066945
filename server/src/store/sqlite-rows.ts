/**
 * The row operations of a write (StoreTx) on SQLite, synchronous (the store hands writes their
 * async face, `promising`). One instance serves every write: they run one at a time inside the
 * group commit. The main store's reads use the same operations.
 */
import type Database from 'better-sqlite3';
import { type ChatHistory, type EventDraft, type Message, type MessageCall, type PresenceState, type Reaction } from '../../../shared/index.js';
import { randomUUID } from 'node:crypto';
import { unique } from './errors.js';
import type { SessionCache } from './session-cache.js';
import type { SqliteCallStore } from './sqlite-calls.js';
import type { SqliteMeetingStore } from './sqlite-meetings.js';
import type { SqlitePortalRows } from './sqlite-portal.js';
import { toChatFile, toChatRecord, toMessage, toUser, visibleAfterSql, type Row } from './rows.js';
import { MESSAGE_FILES, type Engine, type Synchronous } from './sqlite-engine.js';
import type { ChatFileRecord, ChatRecord, GroupRecord, MemberStatus, NewMessage, NewUser, ProfileChange, StoreTx } from './store.js';

export class SqliteRows implements Synchronous<StoreTx> {
  /** Statements the main store's reads share (their modes are set once). */
  readonly q;

  constructor(
    db: Database.Database,
    private readonly e: Pick<Engine, 'prepare' | 'append'>,
    private readonly sessionCache: SessionCache,
    readonly calls: SqliteCallStore,
    readonly meetings: SqliteMeetingStore,
    readonly portal: SqlitePortalRows,
  ) {
    const p = (sql: string) => db.prepare(sql);
    this.q = {
      userByName: p('SELECT * FROM users WHERE username = ?'),
      userById: p('SELECT * FROM users WHERE id = ?'),
      usersById: p('SELECT * FROM users WHERE id IN (SELECT value FROM json_each(?))'),
      // Prepared once: every first poll of a user announces them (a compile per call showed in profiles).
      setAnnouncedOf: p('UPDATE users SET announced_presence = ? WHERE id IN (SELECT value FROM json_each(?))'),
      chat: p('SELECT * FROM chats WHERE id = ?'),
      chatMembers: p(
        'SELECT m.user_id, m.status, u.username, u.display_name, u.avatar FROM chat_members m JOIN users u ON u.id = m.user_id WHERE m.chat_id = ? ORDER BY m.position',
      ),
      // A message needs only the members' statuses (who may send, whether the chat is active).
      memberStatuses: p('SELECT user_id, status FROM chat_members WHERE chat_id = ?').raw(),
      setMemberStatus: p('UPDATE chat_members SET status = ? WHERE chat_id = ? AND user_id = ?'),
      messageByClientId: p(`SELECT m.*, ${MESSAGE_FILES} AS files FROM messages m WHERE chat_id = ? AND from_user_id = ? AND client_id = ?`),
      messageById: p(`SELECT m.*, ${MESSAGE_FILES} AS files FROM messages m WHERE id = ?`),
      insertMessage: p(
        'INSERT INTO messages (chat_id, from_user_id, from_username, client_id, text, sent_at, call, mentions, held) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *',
      ),
      message: p(`SELECT m.*, ${MESSAGE_FILES} AS files FROM messages m WHERE id = ? AND chat_id = ?`),
      // Reactions of many messages at once (a history page): emoji in order of first use, users in order.
      reactions: p(
        `SELECT r.message_id, r.emoji, json_group_array(u.username ORDER BY r.at, r.user_id) AS users
         FROM message_reactions r JOIN users u ON u.id = r.user_id
         WHERE r.message_id IN (SELECT value FROM json_each(?))
         GROUP BY r.message_id, r.emoji ORDER BY r.message_id, min(r.at), r.emoji`,
      ),
      contactIds: p(`
        SELECT contact_id AS id FROM contacts WHERE user_id = @me
        UNION
        SELECT other.user_id FROM group_members mine JOIN group_members other ON other.group_id = mine.group_id
        WHERE mine.user_id = @me AND other.user_id != @me`).pluck(),
      acceptedChatIds: p("SELECT chat_id FROM chat_members WHERE user_id = ? AND status = 'accepted'").pluck(),
    };
  }

  append(topic: string, draft: EventDraft, now?: number, origin?: number) {
    this.e.append(topic, draft, now, origin);
  }

  // ---------------------------------------------------------------- users
  user(userId: number) {
    const row = this.q.userById.get(userId) as Row | undefined;
    return row && toUser(row);
  }

  users(userIds: number[]) {
    return (this.q.usersById.all(JSON.stringify(userIds)) as Row[]).map(toUser);
  }

  userByName(username: string) {
    const row = this.q.userByName.get(username) as Row | undefined;
    return row && toUser(row);
  }

  setAnnouncedPresenceOf(userIds: number[], state: PresenceState) {
    this.q.setAnnouncedOf.run(state, JSON.stringify(userIds));
    for (const userId of userIds) this.sessionCache.forgetUser(userId);
  }

  presenceWatchers(userId: number) {
    return this.e
      .prepare(
        `SELECT user_id FROM contacts WHERE contact_id = @id
         UNION
         SELECT other.user_id FROM group_members mine JOIN group_members other ON other.group_id = mine.group_id
         WHERE mine.user_id = @id AND other.user_id != @id`,
      )
      .pluck()
      .all({ id: userId }) as number[];
  }

  deleteUser(userId: number) {
    this.e.prepare('DELETE FROM users WHERE id = ?').run(userId);
    this.sessionCache.forgetUserAndSessions(userId);
  }

  insertUser(input: NewUser) {
    const row = unique(`the user ${input.username}`, () =>
      this.e
        .prepare('INSERT INTO users (username, display_name, password_hash, is_admin, source, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING *')
        .get(input.username, input.displayName, input.passwordHash, input.isAdmin ? 1 : 0, input.source ?? 'local', Date.now()),
    ) as Row;
    return toUser(row);
  }

  setDisabled(userId: number, disabled: boolean) {
    this.e.prepare('UPDATE users SET disabled = ? WHERE id = ?').run(disabled ? 1 : 0, userId);
    if (disabled) this.e.prepare('DELETE FROM sessions WHERE user_id = ?').run(userId);
    this.sessionCache.forgetUserAndSessions(userId);
  }

  updateProfile(userId: number, change: ProfileChange) {
    const columns: Record<keyof ProfileChange, [string, (v: any) => unknown]> = {
      displayName: ['display_name', (v: string) => v],
      avatar: ['avatar', (v: string | null) => v],
      status: ['status', (v: object | null) => (v === null ? null : JSON.stringify(v))],
      dndUntil: ['dnd_until', (v: number | null) => v],
      notifyMentionsWhenBusy: ['notify_mentions_when_busy', (v: boolean) => (v ? 1 : 0)],
    };
    const set = (Object.keys(change) as Array<keyof ProfileChange>).filter((k) => change[k] !== undefined);
    if (set.length === 0) return;
    this.e
      .prepare(`UPDATE users SET ${set.map((k) => `${columns[k][0]} = ?`).join(', ')} WHERE id = ?`)
      .run(...set.map((k) => columns[k][1](change[k])), userId);
    this.sessionCache.forgetUser(userId);
  }

  avatarUsers(key: string) {
    return this.e.prepare('SELECT count(*) FROM users WHERE avatar = ?').pluck().get(key) as number;
  }

  profileAudience(userId: number) {
    const sharing = this.e
      .prepare(
        `SELECT DISTINCT other.user_id FROM chat_members mine JOIN chat_members other ON other.chat_id = mine.chat_id
         WHERE mine.user_id = ? AND mine.status IN ('invited', 'accepted') AND other.status IN ('invited', 'accepted') AND other.user_id != mine.user_id`,
      )
      .pluck()
      .all(userId) as number[];
    return [...new Set([...this.presenceWatchers(userId), ...sharing])];
  }

  setChatMute(userId: number, chatId: string, muted: boolean, until: number | null) {
    if (!muted) this.e.prepare('DELETE FROM chat_mutes WHERE user_id = ? AND chat_id = ?').run(userId, chatId);
    else this.e.prepare('INSERT INTO chat_mutes (user_id, chat_id, until) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET until = excluded.until').run(userId, chatId, until);
  }

  // ---------------------------------------------------------------- chats
  chat(chatId: string): ChatRecord | undefined {
    const chat = this.q.chat.get(chatId) as Row | undefined;
    if (!chat) return undefined;
    return toChatRecord(chat, this.q.chatMembers.all(chatId) as Row[]);
  }

  chatExists(chatId: string) {
    return this.q.chat.get(chatId) !== undefined;
  }

  insertChat(createdBy: string, createdAt: number, members: Array<[number, MemberStatus]>) {
    const id = randomUUID();
    this.e.prepare('INSERT INTO chats (id, created_by, created_at) VALUES (?, ?, ?)').run(id, createdBy, createdAt);
    const addMember = this.e.prepare('INSERT INTO chat_members (chat_id, user_id, status, position) VALUES (?, ?, ?, ?)');
    members.forEach(([userId, status], i) => addMember.run(id, userId, status, i));
    return id;
  }

  memberStatuses(chatId: string) {
    return this.q.memberStatuses.all(chatId) as Array<[number, MemberStatus]>;
  }

  setMemberStatus(chatId: string, userId: number, status: MemberStatus) {
    this.q.setMemberStatus.run(status, chatId, userId);
  }

  addChatMember(chatId: string, userId: number, status: MemberStatus) {
    this.e
      .prepare('INSERT INTO chat_members (chat_id, user_id, status, position) VALUES (?, ?, ?, (SELECT 1 + coalesce(max(position), -1) FROM chat_members WHERE chat_id = ?))')
      .run(chatId, userId, status, chatId);
  }

  visibleAfter(chatId: string, userId: number) {
    return (
      this.e.prepare(`SELECT ${visibleAfterSql('@user', '@chat')}`).pluck().get({ user: userId, chat: chatId }) as number
    );
  }

  lastMessageId(chatId: string) {
    return this.e.prepare('SELECT coalesce(max(id), 0) FROM messages WHERE chat_id = ?').pluck().get(chatId) as number;
  }

  setChatHistory(chatId: string, history: ChatHistory) {
    this.e.prepare('UPDATE chats SET history = ? WHERE id = ?').run(history, chatId);
  }

  chatMemberAdded(chatId: string, userId: number) {
    const row = this.e.prepare('SELECT added_by AS by, visible_from AS visibleFrom FROM chat_members WHERE chat_id = ? AND user_id = ?').get(chatId, userId) as
      | { by: number | null; visibleFrom: number | null }
      | undefined;
    return row ?? { by: null, visibleFrom: null };
  }

  setChatMemberAdded(chatId: string, userId: number, by: number | null, visibleFrom: number | null) {
    this.e.prepare('UPDATE chat_members SET added_by = ?, visible_from = ? WHERE chat_id = ? AND user_id = ?').run(by, visibleFrom, chatId, userId);
  }

  releaseHeldMessages(chatId: string) {
    const ids = this.e.prepare('UPDATE messages SET held = 0 WHERE chat_id = ? AND held = 1 RETURNING id').pluck().all(chatId) as number[];
    return ids.sort((a, b) => a - b).map((id) => this.message(chatId, id)!);
  }

  chatIdsOf(userId: number, statuses: MemberStatus[]) {
    return this.e.prepare('SELECT chat_id FROM chat_members WHERE user_id = ? AND status IN (SELECT value FROM json_each(?))')
      .pluck()
      .all(userId, JSON.stringify(statuses)) as string[];
  }

  messageByClientId(chatId: string, fromUserId: number, clientId: string) {
    const row = this.q.messageByClientId.get(chatId, fromUserId, clientId) as Row | undefined;
    return row && toMessage(row);
  }

  sendChecks(chatId: string, fromUserId: number, clientId: string) {
    return { members: this.memberStatuses(chatId), held: this.calls.heldInChat(chatId), existing: this.messageByClientId(chatId, fromUserId, clientId) };
  }

  insertMessage(m: NewMessage) {
    const row = unique('this message', () =>
      this.q.insertMessage.get(
        m.chatId,
        m.fromUserId,
        m.fromUsername,
        m.clientId,
        m.text,
        m.sentAt,
        m.call ? JSON.stringify(m.call) : null,
        m.mentions?.length ? JSON.stringify(m.mentions) : null,
        m.held ? 1 : 0,
      ),
    ) as Row;
    if (!m.files?.length) return toMessage(row);
    const attach = this.e.prepare('INSERT INTO message_files (message_id, position, file_id) VALUES (?, ?, ?)');
    m.files.forEach((fileId, i) => attach.run(row.id, i, fileId));
    return toMessage(this.q.messageById.get(row.id) as Row);
  }

  insertChatFile(f: ChatFileRecord) {
    unique('this file', () =>
      this.e
        .prepare('INSERT INTO chat_files (id, chat_id, uploader_id, name, size, content_type, sha256, thumb_sha256, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
        .run(f.id, f.chatId, f.uploaderId, f.name, f.size, f.contentType, f.sha256, f.thumbSha256 ?? null, f.createdAt),
    );
  }

  chatFiles(ids: string[]) {
    return (this.e.prepare('SELECT * FROM chat_files WHERE id IN (SELECT value FROM json_each(?))').all(JSON.stringify(ids)) as Row[]).map(toChatFile);
  }

  /** Rows to messages with their reactions (one query for the lot). */
  withReactions(rows: Row[]): Message[] {
    const messages = rows.map(toMessage);
    if (messages.length === 0) return messages;
    const byId = new Map(messages.map((m) => [m.id, m]));
    for (const r of this.q.reactions.all(JSON.stringify(messages.map((m) => m.id))) as Row[]) {
      (byId.get(r.message_id)!.reactions ??= []).push({ emoji: r.emoji, users: JSON.parse(r.users) });
    }
    return messages;
  }

  message(chatId: string, messageId: number) {
    const row = this.q.message.get(messageId, chatId) as Row | undefined;
    return row && this.withReactions([row])[0]!;
  }

  clientIdUsed(chatId: string, clientId: string) {
    return this.e.prepare('SELECT 1 FROM messages WHERE chat_id = ? AND client_id = ? LIMIT 1').get(chatId, clientId) !== undefined;
  }

  editMessage(messageId: number, text: string, mentions: string[], editedAt: number) {
    this.e.prepare('UPDATE messages SET text = ?, mentions = ?, edited_at = ? WHERE id = ?').run(text, mentions.length ? JSON.stringify(mentions) : null, editedAt, messageId);
    return this.withReactions([this.q.messageById.get(messageId) as Row])[0]!; // files included
  }

  markMessageDeleted(messageId: number) {
    this.e.prepare('DELETE FROM message_reactions WHERE message_id = ?').run(messageId);
    // Its files go with it (their bytes are swept once no message carries them).
    this.e.prepare('DELETE FROM message_files WHERE message_id = ?').run(messageId);
    return toMessage(this.e.prepare("UPDATE messages SET deleted = 1, text = '', mentions = NULL WHERE id = ? RETURNING *").get(messageId) as Row);
  }

  addReaction(messageId: number, userId: number, emoji: string, at: number) {
    return this.e.prepare('INSERT INTO message_reactions (message_id, user_id, emoji, at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING').run(messageId, userId, emoji, at).changes > 0;
  }

  removeReaction(messageId: number, userId: number, emoji: string) {
    return this.e.prepare('DELETE FROM message_reactions WHERE message_id = ? AND user_id = ? AND emoji = ?').run(messageId, userId, emoji).changes > 0;
  }

  reactionCount(messageId: number, userId: number) {
    return this.e.prepare('SELECT count(*) FROM message_reactions WHERE message_id = ? AND user_id = ?').pluck().get(messageId, userId) as number;
  }

  reactions(messageId: number): Reaction[] {
    return (this.q.reactions.all(JSON.stringify([messageId])) as Row[]).map((r) => ({ emoji: r.emoji, users: JSON.parse(r.users) }));
  }

  readUpTo(chatId: string, userId: number) {
    return (this.e.prepare('SELECT read_up_to FROM chat_members WHERE chat_id = ? AND user_id = ?').pluck().get(chatId, userId) as number | undefined) ?? 0;
  }

  setReadUpTo(chatId: string, userId: number, upTo: number) {
    this.e.prepare('UPDATE chat_members SET read_up_to = max(read_up_to, ?) WHERE chat_id = ? AND user_id = ?').run(upTo, chatId, userId);
  }

  unreadCount(chatId: string, userId: number, after: number) {
    return this.e
      .prepare('SELECT count(*) FROM messages WHERE chat_id = ? AND id > ? AND deleted = 0 AND held = 0 AND from_user_id IS NOT ?')
      .pluck()
      .get(chatId, after, userId) as number;
  }

  activeOneToOne(userId: number, otherId: number) {
    return this.e
      .prepare(
        `SELECT a.chat_id FROM chat_members a JOIN chat_members b ON b.chat_id = a.chat_id
         WHERE a.user_id = ? AND b.user_id = ? AND a.status = 'accepted' AND b.status = 'accepted'
           AND (SELECT count(*) FROM chat_members m WHERE m.chat_id = a.chat_id) = 2
         ORDER BY a.chat_id LIMIT 1`,
      )
      .pluck()
      .get(userId, otherId) as string | undefined;
  }

  // ---------------------------------------------------------------- contacts and groups
  insertContact(userId: number, contactId: number) {
    return this.e.prepare('INSERT INTO contacts (user_id, contact_id, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING').run(userId, contactId, Date.now()).changes > 0;
  }

  deleteContact(userId: number, contactId: number) {
    return this.e.prepare('DELETE FROM contacts WHERE user_id = ? AND contact_id = ?').run(userId, contactId).changes > 0;
  }

  groupId(name: string) {
    return this.e.prepare('SELECT id FROM groups WHERE name = ?').pluck().get(name) as number | undefined;
  }

  groupMemberIds(groupId: number) {
    return this.e.prepare('SELECT user_id FROM group_members WHERE group_id = ?').pluck().all(groupId) as number[];
  }

  deleteGroup(groupId: number) {
    this.e.prepare('DELETE FROM groups WHERE id = ?').run(groupId);
  }

  insertGroup(name: string, displayName: string, source: GroupRecord['source']) {
    return Number(
      unique(`the group ${name}`, () => this.e.prepare('INSERT INTO groups (name, display_name, source, created_at) VALUES (?, ?, ?, ?)').run(name, displayName, source, Date.now()))
        .lastInsertRowid,
    );
  }

  setGroupDisplayName(groupId: number, displayName: string) {
    this.e.prepare('UPDATE groups SET display_name = ? WHERE id = ?').run(displayName, groupId);
  }

  insertGroupMember(groupId: number, userId: number) {
    return this.e.prepare('INSERT INTO group_members (group_id, user_id) VALUES (?, ?) ON CONFLICT DO NOTHING').run(groupId, userId).changes > 0;
  }

  deleteGroupMember(groupId: number, userId: number) {
    return this.e.prepare('DELETE FROM group_members WHERE group_id = ? AND user_id = ?').run(groupId, userId).changes > 0;
  }
}
