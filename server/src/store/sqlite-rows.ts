/**
 * The row operations of a write (StoreTx) on SQLite. One instance serves every write: they run
 * one at a time inside the group commit. The main store's reads use the same operations.
 */
import type Database from 'better-sqlite3';
import { chatStateOf, type EventDraft, type MessageCall, type PresenceState } from '../../../shared/index.js';
import { randomUUID } from 'node:crypto';
import { unique } from './errors.js';
import type { SessionCache } from './session-cache.js';
import type { SqliteCallStore } from './sqlite-calls.js';
import type { SqliteMeetingStore } from './sqlite-meetings.js';
import { iso, toMessage, toUser, type Engine, type Row } from './sqlite-engine.js';
import type { ChatRecord, MemberStatus, StoreTx } from './store.js';

export class SqliteRows implements StoreTx {
  /** Statements the main store's reads share (their modes are set once). */
  readonly q;

  constructor(
    db: Database.Database,
    private readonly e: Pick<Engine, 'prepare' | 'append'>,
    private readonly sessionCache: SessionCache,
    readonly calls: SqliteCallStore,
    readonly meetings: SqliteMeetingStore,
  ) {
    const p = (sql: string) => db.prepare(sql);
    this.q = {
      userByName: p('SELECT * FROM users WHERE username = ?'),
      userById: p('SELECT * FROM users WHERE id = ?'),
      // Prepared once: every first poll of a user announces them (a compile per call showed in profiles).
      setAnnounced: p('UPDATE users SET announced_presence = ? WHERE id = ?'),
      chat: p('SELECT * FROM chats WHERE id = ?'),
      chatMembers: p(
        'SELECT m.user_id, m.status, u.username, u.display_name FROM chat_members m JOIN users u ON u.id = m.user_id WHERE m.chat_id = ? ORDER BY m.position',
      ),
      // A message needs only the members' statuses (who may send, whether the chat is active).
      memberStatuses: p('SELECT user_id, status FROM chat_members WHERE chat_id = ?').raw(),
      setMemberStatus: p('UPDATE chat_members SET status = ? WHERE chat_id = ? AND user_id = ?'),
      messageByClientId: p('SELECT * FROM messages WHERE chat_id = ? AND from_user_id = ? AND client_id = ?'),
      insertMessage: p(
        'INSERT INTO messages (chat_id, from_user_id, from_username, client_id, text, sent_at, call) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *',
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

  userByName(username: string) {
    const row = this.q.userByName.get(username) as Row | undefined;
    return row && toUser(row);
  }

  setAnnouncedPresence(userId: number, state: PresenceState) {
    this.q.setAnnounced.run(state, userId);
    this.sessionCache.forgetUser(userId);
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

  // ---------------------------------------------------------------- chats
  chat(chatId: string): ChatRecord | undefined {
    const chat = this.q.chat.get(chatId) as Row | undefined;
    if (!chat) return undefined;
    const members = this.q.chatMembers.all(chatId) as Row[];
    return {
      chat: {
        id: chat.id,
        state: chatStateOf(members.map((m) => m.status)),
        createdBy: chat.created_by,
        createdAt: iso(chat.created_at),
        members: members.map((m) => ({ username: m.username, displayName: m.display_name, status: m.status })),
      },
      memberStatus: new Map(members.map((m) => [m.user_id as number, m.status as MemberStatus])),
    };
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

  chatIdsOf(userId: number, statuses: MemberStatus[]) {
    return this.e.prepare('SELECT chat_id FROM chat_members WHERE user_id = ? AND status IN (SELECT value FROM json_each(?))')
      .pluck()
      .all(userId, JSON.stringify(statuses)) as string[];
  }

  messageByClientId(chatId: string, fromUserId: number, clientId: string) {
    const row = this.q.messageByClientId.get(chatId, fromUserId, clientId) as Row | undefined;
    return row && toMessage(row);
  }

  insertMessage(m: { chatId: string; fromUserId: number | null; fromUsername: string; clientId: string; text: string; sentAt: number; call?: MessageCall }) {
    const row = unique('this message', () =>
      this.q.insertMessage.get(m.chatId, m.fromUserId, m.fromUsername, m.clientId, m.text, m.sentAt, m.call ? JSON.stringify(m.call) : null),
    ) as Row;
    return toMessage(row);
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

  insertGroupMember(groupId: number, userId: number) {
    return this.e.prepare('INSERT INTO group_members (group_id, user_id) VALUES (?, ?) ON CONFLICT DO NOTHING').run(groupId, userId).changes > 0;
  }

  deleteGroupMember(groupId: number, userId: number) {
    return this.e.prepare('DELETE FROM group_members WHERE group_id = ? AND user_id = ?').run(groupId, userId).changes > 0;
  }
}
