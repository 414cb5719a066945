/**
 * The PostgreSQL Store (issue 15): selected by PORTICO_DATABASE_URL (server.ts), for several
 * nodes on one database.
 *
 * Writes are group-committed, as on SQLite: `write(fn, scope?)` queues; the writes queued on this
 * node meanwhile (at most MAX_BATCH) run in one transaction on a write connection of the store:
 * BEGIN and the locks (below), then each write in turn in its own SAVEPOINT (chat-scoped writes:
 * each chat's in turn, the chats side by side, savepoints only when needed, below; a write's row
 * operations, `PgRows`, StoreTx, and calls, meetings and portal rows in pg-parts.ts, are queries
 * on that connection, pipelined), then, in one round trip, the batch's events in one insert under the event order
 * lock with one NOTIFY, and COMMIT (one fsync, with synchronous_commit on; pg-log.ts
 * BatchEvents). A write whose rules throw is rolled back to its savepoint alone, with its
 * events, and rejects with its own error; the others go on. While batches commit, the next writes gather. Nothing settles
 * before its batch's COMMIT, and a write settles once the events of its batch are published here
 * (the log follower, pg-log.ts, feeds the listeners in order, this node's own commits included).
 * Connection loss during a batch rolls it back whole: every write of it rejects with StoreError
 * 'unavailable'. The writes that append no event (sessions, passwords, the parts' own writes:
 * `run`) join the unscoped batches. Commits of other nodes and of the admin CLI reach the
 * listeners through the follower (`syncExternal` has nothing to do). Measured:
 * docs/benchmarks.md, "Issue 15: group commit on PostgreSQL".
 *
 * Connections: reads on a pool (`max`, 10 by default); the group commits on connections of their
 * own (one per lane), so a batch never waits behind reads for a client; the follower's LISTEN
 * connection, on which it also reads the log. Parameterized queries are prepared once per
 * connection (pg-parts.ts `preparing`).
 *
 * Sessions are looked up in PostgreSQL for every request (a token-hash index lookup): no per-node
 * cache, since no invalidation crosses nodes through the log yet; a cache would let a token
 * revoked on one node live on at another. The lookups asked for while one is in flight share the
 * next query (sessionByTokenHash), so a storm of polls is not a storm of queries.
 *
 * Connection loss: a read or write while PostgreSQL is unreachable rejects with StoreError
 * 'unavailable' (the HTTP layer answers 503); the pools open new connections once it is back and
 * the follower reconnects and catches up from the log.
 *
 * Isolation: SQLite runs one write at a time; here every batch holds the cluster-wide write lock
 * (an advisory transaction lock) from BEGIN to COMMIT and runs the writes of a chat one after the
 * other, so the rules' check-then-write stays atomic across nodes without retrying serialization
 * failures.
 * A batch of unscoped writes holds it exclusively: nothing else writes in the cluster meanwhile.
 * A batch of chat-scoped writes (WriteScope: they change only their chat's own rows) holds it
 * shared, and each of its chats' locks exclusively: batches of other chats run beside it, on this
 * node (up to WRITE_LANES) and on others; a batch of the same chat, or of unscoped writes, waits.
 * A chat-scoped batch runs without savepoints first, its chats side by side (runWrites), again
 * with savepoints, one write after the other, only if one of its writes failed after changing
 * rows. Side by side, a batch's round trips do not grow with its chats: a chat message is two (its
 * checks, StoreTx.sendChecks, and its insert), and a batch of messages of ten chats is two plus
 * BEGIN and the closing one (docs/benchmarks.md, "ninth session").
 */
import pg from 'pg';
import { randomUUID } from 'node:crypto';
import type { Chat, ChatHistory, EventDraft, Message, PresenceState, Reaction } from '../../../shared/index.js';
import { StoreError } from './errors.js';
import { BatchEvents, PgLogFollower, pgHeadSeq, readPgEvents } from './pg-log.js';
import { PgCluster, PgLeaseReads } from './pg-cluster.js';
import { PgCalls, PgDb, PgMeetings, PgPortal, PgPortalRows, PgTerminals, asSqliteRow, gatheredReads, preparing, unique, type Queryable, type Transact } from './pg-parts.js';
import { migratePostgres, PG_LOCKS } from './pg-schema.js';
import { iso, toChatFile, toChatRecord, toMessage, toUser, visibleAfterSql, type Row } from './rows.js';
import type {
  ChatFileRecord,
  ChatRecord,
  ContactRecord,
  GroupRecord,
  MemberStatus,
  MessageSearch,
  NewMessage,
  NewUser,
  ProfileChange,
  SessionRecord,
  Store,
  StoredEvent,
  StoreTx,
  Subscriptions,
  UserRecord,
  WriteScope,
} from './store.js';

/** BIGINT (ids, sequences, times in ms) as numbers: all stay below 2^53. */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

/** A message row with its files as JSON text (NULL when it has none), as MESSAGE_FILES on SQLite. */
const MESSAGE_FILES = `(SELECT json_agg(json_build_object('id', f.id, 'name', f.name, 'size', f.size, 'contentType', f.content_type, 'thumb', f.thumb_sha256 IS NOT NULL) ORDER BY mf.position)::text
   FROM message_files mf JOIN chat_files f ON f.id = mf.file_id WHERE mf.message_id = m.id)`;

/** The row operations of one write transaction (StoreTx), each a round trip on its client. */
export class PgRows extends PgDb implements StoreTx {
  readonly calls: PgCalls;
  readonly meetings: PgMeetings;
  readonly portal: PgPortalRows;
  readonly cluster: PgLeaseReads;

  constructor(
    db: Queryable,
    /** The events of the group commit this write runs in (none for reads). */
    private readonly events: BatchEvents | undefined,
  ) {
    super(db);
    this.cluster = new PgLeaseReads(db);
    this.calls = new PgCalls(db);
    this.meetings = new PgMeetings(db);
    this.portal = new PgPortalRows(db);
  }

  private count(sql: string, params: unknown[] = []) {
    return this.run(sql, params);
  }

  async append(topic: string, draft: EventDraft, now = Date.now(), origin?: number) {
    if (!this.events) throw new Error('a read appends no event');
    const { type, ...data } = draft;
    this.events.append(topic, JSON.stringify({ type, at: iso(now), ...data }), now, origin);
  }

  // ---------------------------------------------------------------- users
  async user(userId: number) {
    const r = await this.one('SELECT * FROM users WHERE id = $1', [userId]);
    return r && toUser(r);
  }

  async users(userIds: number[]) {
    return (await this.all('SELECT * FROM users WHERE id = ANY($1::bigint[])', [userIds])).map(toUser);
  }

  async userByName(username: string) {
    // Case-insensitive, as SQLite's COLLATE NOCASE column.
    const r = await this.one('SELECT * FROM users WHERE lower(username) = lower($1)', [username]);
    return r && toUser(r);
  }

  async setAnnouncedPresenceOf(userIds: number[], state: PresenceState) {
    await this.db.query('UPDATE users SET announced_presence = $1 WHERE id = ANY($2::bigint[])', [state, userIds]);
  }

  async presenceWatchers(userId: number) {
    const rows = await this.all(
      `SELECT user_id FROM contacts WHERE contact_id = $1
       UNION
       SELECT other.user_id FROM group_members mine JOIN group_members other ON other.group_id = mine.group_id
       WHERE mine.user_id = $1 AND other.user_id != $1`,
      [userId],
    );
    return rows.map((r) => r.user_id as number);
  }

  async deleteUser(userId: number) {
    await this.db.query('DELETE FROM users WHERE id = $1', [userId]);
  }

  async insertUser(input: NewUser): Promise<UserRecord> {
    const r = await unique(`the user ${input.username}`, () =>
      this.one('INSERT INTO users (username, display_name, password_hash, is_admin, source, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *', [
        input.username,
        input.displayName,
        input.passwordHash,
        input.isAdmin,
        input.source ?? 'local',
        Date.now(),
      ]),
    );
    return toUser(r!);
  }

  async setDisabled(userId: number, disabled: boolean) {
    await this.db.query('UPDATE users SET disabled = $1 WHERE id = $2', [disabled, userId]);
    if (disabled) await this.db.query('DELETE FROM sessions WHERE user_id = $1', [userId]);
  }

  async updateProfile(userId: number, change: ProfileChange) {
    const columns: Record<keyof ProfileChange, [string, (v: any) => unknown]> = {
      displayName: ['display_name', (v: string) => v],
      avatar: ['avatar', (v: string | null) => v],
      status: ['status', (v: object | null) => (v === null ? null : JSON.stringify(v))],
      dndUntil: ['dnd_until', (v: number | null) => v],
      notifyMentionsWhenBusy: ['notify_mentions_when_busy', (v: boolean) => v],
    };
    const set = (Object.keys(change) as Array<keyof ProfileChange>).filter((k) => change[k] !== undefined);
    if (set.length === 0) return;
    await this.db.query(`UPDATE users SET ${set.map((k, i) => `${columns[k][0]} = $${i + 1}`).join(', ')} WHERE id = $${set.length + 1}`, [
      ...set.map((k) => columns[k][1](change[k])),
      userId,
    ]);
  }

  async avatarUsers(key: string) {
    return Number((await this.one('SELECT count(*) AS n FROM users WHERE avatar = $1', [key]))!.n);
  }

  async profileAudience(userId: number) {
    const sharing = await this.all(
      `SELECT DISTINCT other.user_id FROM chat_members mine JOIN chat_members other ON other.chat_id = mine.chat_id
       WHERE mine.user_id = $1 AND mine.status IN ('invited', 'accepted') AND other.status IN ('invited', 'accepted') AND other.user_id != mine.user_id`,
      [userId],
    );
    return [...new Set([...(await this.presenceWatchers(userId)), ...sharing.map((r) => r.user_id as number)])];
  }

  async setChatMute(userId: number, chatId: string, muted: boolean, until: number | null) {
    if (!muted) await this.db.query('DELETE FROM chat_mutes WHERE user_id = $1 AND chat_id = $2', [userId, chatId]);
    else await this.db.query('INSERT INTO chat_mutes (user_id, chat_id, until) VALUES ($1, $2, $3) ON CONFLICT (user_id, chat_id) DO UPDATE SET until = excluded.until', [userId, chatId, until]);
  }

  // ---------------------------------------------------------------- chats
  async chat(chatId: string): Promise<ChatRecord | undefined> {
    const chat = await this.one('SELECT * FROM chats WHERE id = $1', [chatId]);
    if (!chat) return undefined;
    const members = await this.all(
      'SELECT m.user_id, m.status, u.username, u.display_name, u.avatar FROM chat_members m JOIN users u ON u.id = m.user_id WHERE m.chat_id = $1 ORDER BY m.position',
      [chatId],
    );
    return toChatRecord(chat, members);
  }

  async chatExists(chatId: string) {
    return (await this.one('SELECT 1 FROM chats WHERE id = $1', [chatId])) !== undefined;
  }

  async insertChat(createdBy: string, createdAt: number, members: Array<[number, MemberStatus]>) {
    const id = randomUUID();
    await this.db.query('INSERT INTO chats (id, created_by, created_at) VALUES ($1, $2, $3)', [id, createdBy, createdAt]);
    await this.db.query(
      'INSERT INTO chat_members (chat_id, user_id, status, position) SELECT $1, m.user_id, m.status, m.position - 1 FROM unnest($2::bigint[], $3::text[]) WITH ORDINALITY AS m(user_id, status, position)',
      [id, members.map(([u]) => u), members.map(([, s]) => s)],
    );
    return id;
  }

  async memberStatuses(chatId: string) {
    return (await this.all('SELECT user_id, status FROM chat_members WHERE chat_id = $1', [chatId])).map((r): [number, MemberStatus] => [r.user_id, r.status]);
  }

  async setMemberStatus(chatId: string, userId: number, status: MemberStatus) {
    await this.db.query('UPDATE chat_members SET status = $1 WHERE chat_id = $2 AND user_id = $3', [status, chatId, userId]);
  }

  async visibleAfter(chatId: string, userId: number) {
    const r = await this.one(
      `SELECT CASE WHEN c.history = 'since_added' THEN coalesce(vm.visible_from, 0) ELSE 0 END AS after
         FROM chat_members vm JOIN chats c ON c.id = vm.chat_id WHERE vm.chat_id = $1 AND vm.user_id = $2`,
      [chatId, userId],
    );
    return Number(r?.after ?? 0);
  }

  async lastMessageId(chatId: string) {
    return Number((await this.one('SELECT coalesce(max(id), 0) AS id FROM messages WHERE chat_id = $1', [chatId]))!.id);
  }

  async setChatHistory(chatId: string, history: ChatHistory) {
    await this.db.query('UPDATE chats SET history = $1 WHERE id = $2', [history, chatId]);
  }

  async chatMemberAdded(chatId: string, userId: number) {
    const r = await this.one('SELECT added_by, visible_from FROM chat_members WHERE chat_id = $1 AND user_id = $2', [chatId, userId]);
    return { by: r?.added_by ?? null, visibleFrom: r?.visible_from ?? null } as { by: number | null; visibleFrom: number | null };
  }

  async setChatMemberAdded(chatId: string, userId: number, by: number | null, visibleFrom: number | null) {
    await this.db.query('UPDATE chat_members SET added_by = $1, visible_from = $2 WHERE chat_id = $3 AND user_id = $4', [by, visibleFrom, chatId, userId]);
  }

  async addChatMember(chatId: string, userId: number, status: MemberStatus) {
    await this.db.query(
      'INSERT INTO chat_members (chat_id, user_id, status, position) VALUES ($1, $2, $3, (SELECT 1 + coalesce(max(position), -1) FROM chat_members WHERE chat_id = $1))',
      [chatId, userId, status],
    );
  }

  async releaseHeldMessages(chatId: string) {
    const ids = (await this.all('UPDATE messages SET held = false WHERE chat_id = $1 AND held RETURNING id', [chatId])).map((r) => r.id as number);
    const released: Message[] = [];
    for (const id of ids.sort((a, b) => a - b)) released.push((await this.message(chatId, id))!);
    return released;
  }

  async chatIdsOf(userId: number, statuses: MemberStatus[]) {
    return (await this.all('SELECT chat_id FROM chat_members WHERE user_id = $1 AND status = ANY($2)', [userId, statuses])).map((r) => r.chat_id as string);
  }

  async messageByClientId(chatId: string, fromUserId: number, clientId: string) {
    const r = await this.one(`SELECT m.*, ${MESSAGE_FILES} AS files FROM messages m WHERE chat_id = $1 AND from_user_id = $2 AND client_id = $3`, [chatId, fromUserId, clientId]);
    return r && toMessage(r);
  }

  async sendChecks(chatId: string, fromUserId: number, clientId: string) {
    // Rows inside JSON: numbers stay numbers (all below 2^53), booleans become 0/1 as elsewhere.
    const r = (await this.one(
      `SELECT (SELECT coalesce(json_agg(json_build_array(user_id, status)), '[]'::json) FROM chat_members WHERE chat_id = $1) AS members,
              EXISTS (SELECT 1 FROM calls WHERE chat_id = $1 AND state != 'ended' AND held_by IS NOT NULL) AS held,
              (SELECT row_to_json(x) FROM (SELECT m.*, ${MESSAGE_FILES} AS files FROM messages m WHERE chat_id = $1 AND from_user_id = $2 AND client_id = $3) x) AS existing`,
      [chatId, fromUserId, clientId],
    ));
    // A client id PostgreSQL cannot hold (a NUL): no message has it; the rest read one by one.
    if (!r) return { members: await this.memberStatuses(chatId), held: await this.calls.heldInChat(chatId), existing: undefined };
    return {
      members: r.members as Array<[number, MemberStatus]>,
      held: r.held === 1,
      existing: r.existing ? toMessage(asSqliteRow(r.existing)) : undefined,
    };
  }

  async insertMessage(m: NewMessage) {
    const r = await unique('this message', () =>
      this.one(
        'INSERT INTO messages (chat_id, from_user_id, from_username, client_id, text, sent_at, call, mentions, held) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *',
        [m.chatId, m.fromUserId, m.fromUsername, m.clientId, m.text, m.sentAt, m.call ? JSON.stringify(m.call) : null, m.mentions?.length ? JSON.stringify(m.mentions) : null, m.held ?? false],
      ),
    );
    if (!m.files?.length) return toMessage(r!);
    await this.db.query('INSERT INTO message_files (message_id, position, file_id) SELECT $1, f.position - 1, f.id FROM unnest($2::text[]) WITH ORDINALITY AS f(id, position)', [
      r!.id,
      m.files,
    ]);
    return toMessage((await this.one(`SELECT m.*, ${MESSAGE_FILES} AS files FROM messages m WHERE id = $1`, [r!.id]))!);
  }

  async message(chatId: string, messageId: number) {
    const r = await this.one(`SELECT m.*, ${MESSAGE_FILES} AS files FROM messages m WHERE id = $1 AND chat_id = $2`, [messageId, chatId]);
    return r && (await this.withReactions([r]))[0]!;
  }

  /** A page of a chat's history, oldest first (Store.messages). */
  async page(chatId: string, before: number | undefined, limit: number) {
    const rows = await this.all(`SELECT m.*, ${MESSAGE_FILES} AS files FROM messages m WHERE chat_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3`, [
      chatId,
      before ?? Number.MAX_SAFE_INTEGER,
      limit,
    ]);
    return this.withReactions(rows.reverse());
  }

  /** Rows to messages with their reactions (one query for the lot). */
  async withReactions(rows: Row[]): Promise<Message[]> {
    const messages = rows.map(toMessage);
    if (messages.length === 0) return messages;
    const byId = new Map(messages.map((m) => [m.id, m]));
    const reactions = await this.all(
      `SELECT r.message_id, r.emoji, json_agg(u.username ORDER BY r.at, r.user_id)::text AS users
       FROM message_reactions r JOIN users u ON u.id = r.user_id
       WHERE r.message_id = ANY($1)
       GROUP BY r.message_id, r.emoji ORDER BY r.message_id, min(r.at), r.emoji`,
      [messages.map((m) => m.id)],
    );
    for (const r of reactions) (byId.get(r.message_id)!.reactions ??= []).push({ emoji: r.emoji, users: JSON.parse(r.users) });
    return messages;
  }

  async clientIdUsed(chatId: string, clientId: string) {
    return (await this.one('SELECT 1 FROM messages WHERE chat_id = $1 AND client_id = $2 LIMIT 1', [chatId, clientId])) !== undefined;
  }

  async editMessage(messageId: number, text: string, mentions: string[], editedAt: number) {
    await this.db.query('UPDATE messages SET text = $1, mentions = $2, edited_at = $3 WHERE id = $4', [text, mentions.length ? JSON.stringify(mentions) : null, editedAt, messageId]);
    return (await this.withReactions([(await this.one(`SELECT m.*, ${MESSAGE_FILES} AS files FROM messages m WHERE id = $1`, [messageId]))!]))[0]!;
  }

  async markMessageDeleted(messageId: number) {
    await this.db.query('DELETE FROM message_reactions WHERE message_id = $1', [messageId]);
    await this.db.query('DELETE FROM message_files WHERE message_id = $1', [messageId]);
    return toMessage((await this.one("UPDATE messages SET deleted = true, text = '', mentions = NULL WHERE id = $1 RETURNING *", [messageId]))!);
  }

  async addReaction(messageId: number, userId: number, emoji: string, at: number) {
    return (await this.count('INSERT INTO message_reactions (message_id, user_id, emoji, at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING', [messageId, userId, emoji, at])) > 0;
  }

  async removeReaction(messageId: number, userId: number, emoji: string) {
    return (await this.count('DELETE FROM message_reactions WHERE message_id = $1 AND user_id = $2 AND emoji = $3', [messageId, userId, emoji])) > 0;
  }

  async reactionCount(messageId: number, userId: number) {
    return Number((await this.one('SELECT count(*) AS n FROM message_reactions WHERE message_id = $1 AND user_id = $2', [messageId, userId]))!.n);
  }

  async reactions(messageId: number): Promise<Reaction[]> {
    const rows = await this.all(
      `SELECT r.emoji, json_agg(u.username ORDER BY r.at, r.user_id)::text AS users FROM message_reactions r JOIN users u ON u.id = r.user_id
       WHERE r.message_id = $1 GROUP BY r.emoji ORDER BY min(r.at), r.emoji`,
      [messageId],
    );
    return rows.map((r) => ({ emoji: r.emoji, users: JSON.parse(r.users) }));
  }

  async readUpTo(chatId: string, userId: number) {
    return ((await this.one('SELECT read_up_to FROM chat_members WHERE chat_id = $1 AND user_id = $2', [chatId, userId]))?.read_up_to as number | undefined) ?? 0;
  }

  async setReadUpTo(chatId: string, userId: number, upTo: number) {
    await this.db.query('UPDATE chat_members SET read_up_to = greatest(read_up_to, $1) WHERE chat_id = $2 AND user_id = $3', [upTo, chatId, userId]);
  }

  async unreadCount(chatId: string, userId: number, after: number) {
    const r = await this.one('SELECT count(*) AS n FROM messages WHERE chat_id = $1 AND id > $2 AND NOT deleted AND NOT held AND from_user_id IS DISTINCT FROM $3', [chatId, after, userId]);
    return Number(r!.n);
  }

  async activeOneToOne(userId: number, otherId: number) {
    const r = await this.one(
      `SELECT a.chat_id FROM chat_members a JOIN chat_members b ON b.chat_id = a.chat_id
       WHERE a.user_id = $1 AND b.user_id = $2 AND a.status = 'accepted' AND b.status = 'accepted'
         AND (SELECT count(*) FROM chat_members m WHERE m.chat_id = a.chat_id) = 2
       ORDER BY a.chat_id LIMIT 1`,
      [userId, otherId],
    );
    return r?.chat_id as string | undefined;
  }

  async insertChatFile(f: ChatFileRecord) {
    await unique('this file', () =>
      this.db.query('INSERT INTO chat_files (id, chat_id, uploader_id, name, size, content_type, sha256, thumb_sha256, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)', [
        f.id,
        f.chatId,
        f.uploaderId,
        f.name,
        f.size,
        f.contentType,
        f.sha256,
        f.thumbSha256 ?? null,
        f.createdAt,
      ]),
    );
  }

  async chatFiles(ids: string[]) {
    return (await this.all('SELECT * FROM chat_files WHERE id = ANY($1)', [ids])).map(toChatFile);
  }

  // ---------------------------------------------------------------- contacts and groups
  async insertContact(userId: number, contactId: number) {
    return (await this.count('INSERT INTO contacts (user_id, contact_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [userId, contactId, Date.now()])) > 0;
  }

  async deleteContact(userId: number, contactId: number) {
    return (await this.count('DELETE FROM contacts WHERE user_id = $1 AND contact_id = $2', [userId, contactId])) > 0;
  }

  async groupId(name: string) {
    return (await this.one('SELECT id FROM groups WHERE lower(name) = lower($1)', [name]))?.id as number | undefined;
  }

  async groupMemberIds(groupId: number) {
    return (await this.all('SELECT user_id FROM group_members WHERE group_id = $1', [groupId])).map((r) => r.user_id as number);
  }

  async deleteGroup(groupId: number) {
    await this.db.query('DELETE FROM groups WHERE id = $1', [groupId]);
  }

  async insertGroup(name: string, displayName: string, source: GroupRecord['source']) {
    const r = await unique(`the group ${name}`, () =>
      this.one('INSERT INTO groups (name, display_name, source, created_at) VALUES ($1, $2, $3, $4) RETURNING id', [name, displayName, source, Date.now()]),
    );
    return r!.id as number;
  }

  async setGroupDisplayName(groupId: number, displayName: string) {
    await this.db.query('UPDATE groups SET display_name = $1 WHERE id = $2', [displayName, groupId]);
  }

  async insertGroupMember(groupId: number, userId: number) {
    return (await this.count('INSERT INTO group_members (group_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [groupId, userId])) > 0;
  }

  async deleteGroupMember(groupId: number, userId: number) {
    return (await this.count('DELETE FROM group_members WHERE group_id = $1 AND user_id = $2', [groupId, userId])) > 0;
  }
}

/** A chat's lock key (the second half of PG_LOCKS.chat's two-int key): FNV-1a of its id, as a signed 32-bit number. */
function chatLockKey(chatId: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < chatId.length; i++) hash = Math.imul(hash ^ chatId.charCodeAt(i), 0x01000193);
  return hash | 0;
}

/**
 * How a group commit begins, in one round trip: the cluster-wide write lock (see the top of this
 * file), exclusive for unscoped writes; shared for chat-scoped ones, followed by their chats'
 * locks in ascending key order (every batch takes them in that order: no deadlock); then the
 * first write's savepoint. The locks are held to COMMIT. (Statements of our own numbers only: the
 * keys are computed here, never taken from input.)
 */
function beginBatch(chatKeys: ReadonlyArray<number | undefined>, savepoint: boolean): string {
  const first = savepoint ? '; SAVEPOINT w' : '';
  if (chatKeys.some((key) => key === undefined)) return `BEGIN; SELECT pg_advisory_xact_lock(${PG_LOCKS.write})${first}`;
  const keys = [...new Set(chatKeys as number[])].sort((a, b) => a - b);
  return `BEGIN; SELECT pg_advisory_xact_lock_shared(${PG_LOCKS.write})${keys.map((key) => `; SELECT pg_advisory_xact_lock(${PG_LOCKS.chat}, ${key})`).join('')}${first}`;
}

/** What a write of a batch came to: its value, or (ok false) the error it rejects with. */
interface Outcome {
  ok: boolean;
  value: unknown;
}

/**
 * Queries that note whether any changed rows (anything but a SELECT counts) or failed: what a
 * write run without a savepoint must not have done if it throws.
 */
function watched(db: Queryable, watch: { changed: boolean; failed: boolean }): Queryable {
  return {
    query: ((text: unknown, ...rest: unknown[]) => {
      const sql = typeof text === 'string' ? text : String((text as { text?: string }).text ?? '');
      if (!/^\s*SELECT\b/i.test(sql)) watch.changed = true;
      return Promise.resolve((db.query as (...a: unknown[]) => Promise<unknown>)(text, ...rest)).catch((error: unknown) => {
        watch.failed = true;
        throw error;
      });
    }) as Queryable['query'],
  };
}

/**
 * Writes in one group commit at most: a batch holds the cluster's write lock from its BEGIN to
 * its COMMIT, so a bound keeps one node's burst from holding the other nodes' writes back for
 * long (a message is about ten round trips; the throughput gain of larger batches is small once
 * the commit's fsync is shared by a few dozen writes).
 */
export const MAX_BATCH = 100;

/**
 * Group commits of chat-scoped writes a node runs at once, each on its own connection, their
 * chats apart. A batch waits mostly on round trips (a chat message is two), so batches side by
 * side multiply what a node writes per second (docs/benchmarks.md, issue 15).
 */
export const WRITE_LANES = 4;

/** A group commit running: its chats' lock keys (none: a batch of unscoped writes). */
type RunningBatch = Set<number>;

const ignore = () => {};

/** A write waiting for the next group commit; it runs on the batch's client, in its own savepoint. */
interface QueuedWrite {
  run: (client: Queryable, events: BatchEvents) => Promise<unknown>;
  /** Its chat's lock key (chatLockKey) when the write is chat-scoped; undefined: unscoped. */
  chatKey: number | undefined;
  resolve: (value: any) => void;
  reject: (error: unknown) => void;
}

/**
 * Whether an error means PostgreSQL is out of reach (refused, cut, shutting down, starting up)
 * rather than a fault of the query: connection errors without an SQLSTATE, and classes 08
 * (connection exception) and 57P (operator intervention: admin shutdown, cannot connect now).
 */
export function isConnectionLoss(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (code.startsWith('08') || code.startsWith('57P'))) return true;
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return true; // ECONNREFUSED, ECONNRESET, EPIPE...
  const message = error instanceof Error ? error.message : '';
  return /Connection terminated|connection timeout|Client has encountered a connection error|not queryable/i.test(message);
}

const unavailable = (error: unknown) => (isConnectionLoss(error) ? new StoreError('unavailable', 'the database cannot be reached') : error);

/** Queries on the pool whose connection failures reject as StoreError 'unavailable'. */
function guarded(pool: pg.Pool): Queryable {
  const queries = preparing(pool);
  return {
    query: ((...args: Parameters<pg.Pool['query']>) =>
      (queries.query as (...a: unknown[]) => Promise<unknown>)(...args).catch((error: unknown) => {
        throw unavailable(error);
      })) as Queryable['query'],
  };
}

export class PgStore implements Store {
  private readonly listeners: Array<(events: StoredEvent[]) => void> = [];
  /** Writes waiting for the follower to publish through their last event: seq -> resolvers. */
  private waiting: Array<{ seq: number; done: () => void }> = [];
  /** Reads on the pool (no transaction, no lock), connection loss as StoreError. */
  private readonly db: Queryable;
  private readonly reads: PgRows;
  readonly calls: PgCalls;
  readonly meetings: PgMeetings;
  readonly portal: PgPortal;
  readonly terminals: PgTerminals;
  /** Presence leases, the leader lock and subscription hints (pg-cluster.ts). */
  readonly cluster: PgCluster;
  private prunedThroughSeq: number | undefined;
  /** Token lookups, gathered (see sessionByTokenHash). */
  private readonly sessionLookups = gatheredReads<Buffer, SessionRecord | undefined>(async (hashes) => {
    this.stats.sessionQueries++;
    this.stats.sessionLookups += hashes.length;
    const rows = await this.reads.all(
      'SELECT s.token_hash, s.id AS token_id, s.expires_at, s.last_used_at, u.* FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ANY($1::bytea[])',
      [hashes],
    );
    const byHash = new Map(rows.map((row) => [(row.token_hash as Buffer).toString('hex'), row]));
    return hashes.map((hash) => {
      const row = byHash.get(hash.toString('hex'));
      return row && { tokenId: row.token_id, expiresAt: row.expires_at, lastUsedAt: row.last_used_at, user: toUser(row) };
    });
  });
  /** The log's head, read by polls that come with a cursor this node does not know (every first poll after a start): gathered. */
  private readonly heads = gatheredReads<0, number>(async (asked) => {
    const head = await pgHeadSeq(this.db);
    return asked.map(() => head);
  });
  /** What each user's first poll listens to: gathered, two queries for all the users asked for. */
  private readonly subscriptionsOf = gatheredReads<number, Subscriptions>(async (userIds) => {
    const contacts = await this.reads.all(CONTACT_IDS_OF, [userIds]);
    const chats = await this.reads.all("SELECT user_id, chat_id FROM chat_members WHERE user_id = ANY($1::bigint[]) AND status = 'accepted'", [userIds]);
    const of = new Map(userIds.map((id) => [id, { contactIds: [] as number[], chatIds: [] as string[] }]));
    for (const r of contacts) of.get(Number(r.owner))?.contactIds.push(Number(r.id));
    for (const r of chats) of.get(Number(r.user_id))?.chatIds.push(r.chat_id as string);
    return userIds.map((id) => of.get(id)!);
  });
  /** Sequences this node appended and the follower has not published yet. */
  private readonly own = new Set<number>();
  /** An event of another process that may change subscriptions was published since syncExternal last asked. */
  private externalChange = false;
  /**
   * For each batch committing, until its COMMIT is answered, the first sequence it may have (one
   * past the last the follower had read when the batch sent its closing statements): the follower
   * hands nothing from the lowest on before then. Otherwise it could publish a batch's events
   * (NOTIFY races the COMMIT's answer) a turn of the event loop before the batch's writes settle,
   * and what a write's caller does at once when it settles (a subscription change answering a
   * held poll with its own cursor: events/hub.ts) would come after the hub answered polls past
   * those events. Other nodes' events committed meanwhile wait with them, one round trip at most.
   */
  private readonly committing: number[] = [];
  /** Writes waiting for the next group commit. */
  private queue: QueuedWrite[] = [];
  private flushScheduled = false;
  /** The group commits running, until their COMMIT or ROLLBACK: several of chat-scoped writes (their chats apart), or one of unscoped writes. */
  private readonly running = new Set<RunningBatch>();
  private readonly lanes: number;
  /** Committed batches settle in commit order, each once its events are published here. */
  private settling: Promise<void> = Promise.resolve();
  private readonly maxBatch: number;
  /**
   * Group commits done, those of chat-scoped writes, those run a second time with savepoints (a
   * scoped write failed midway), and the writes they carried (committed or rolled back alone),
   * for tests and measurements; the queries that looked tokens up, and the lookups they answered.
   */
  readonly stats = { batches: 0, scopedBatches: 0, reruns: 0, writes: 0, sessionQueries: 0, sessionLookups: 0 };

  private constructor(
    private readonly pool: pg.Pool,
    /** The group commits' own connections (one per lane): a batch never queues behind reads for a client. */
    private readonly writePool: pg.Pool,
    private readonly follower: PgLogFollower,
    connect: () => Promise<pg.Client>,
    maxBatch: number,
    lanes: number,
  ) {
    this.maxBatch = maxBatch;
    this.lanes = lanes;
    this.db = guarded(pool);
    this.cluster = new PgCluster({ connect, db: this.db, onError: (error) => process.emitWarning(`PostgreSQL cluster link: ${String(error)}`) });
    this.reads = new PgRows(this.db, undefined);
    const transact: Transact = (fn) => this.run(fn);
    this.calls = new PgCalls(this.db);
    this.meetings = new PgMeetings(this.db);
    this.portal = new PgPortal(this.db, transact);
    this.terminals = new PgTerminals(this.db, transact);
  }

  /** Connects, migrates (once across nodes, under the migrate lock) and follows the log from its head. */
  static async open(url: string, options: { max?: number; maxBatch?: number; lanes?: number } = {}): Promise<PgStore> {
    const lanes = options.lanes ?? WRITE_LANES;
    // No acquire timeout: under load reads queue for a pooled client longer than any connect
    // takes; a server that is down refuses the connection at once.
    const pool = new pg.Pool({ connectionString: url, max: options.max ?? 10, types });
    // Group commits run on connections of their own, one per lane.
    // Pipelined (pg's `pipeline`): queries asked for while others are in flight go at once, so the
    // writes of a batch's chats share round trips (runWrites).
    const writePool = new pg.Pool({ connectionString: url, max: lanes, types, pipeline: true } as pg.PoolConfig);
    // An idle pooled client the server ends is reported here; the pool replaces it.
    pool.on('error', () => {});
    writePool.on('error', () => {});
    let store: PgStore | undefined;
    try {
      await migratePostgres(pool);
      const head = await pgHeadSeq(pool);
      // Named, so an operator (and the fault tests) can tell them in pg_stat_activity.
      const connect = (name: string) => async () => {
        const client = new pg.Client({ connectionString: url, types, connectionTimeoutMillis: 5000, application_name: name });
        client.on('error', () => {}); // reported through the follower's (or the cluster link's) own handler
        await client.connect();
        return client;
      };
      const follower = new PgLogFollower({
        connect: connect('portico-follower'),
        db: pool,
        from: head,
        publish: (events) => store!.publish(events),
        holdFrom: () => (store && store.committing.length > 0 ? Math.min(...store.committing) : Number.MAX_SAFE_INTEGER),
        onError: (error) => process.emitWarning(`PostgreSQL event log: ${String(error)}`),
      });
      store = new PgStore(pool, writePool, follower, connect('portico-cluster-link'), options.maxBatch ?? MAX_BATCH, lanes);
      await follower.start();
      return store;
    } catch (error) {
      await store?.close().catch(() => {});
      await pool.end().catch(() => {});
      await writePool.end().catch(() => {});
      throw error;
    }
  }

  onCommit(listener: (events: StoredEvent[]) => void) {
    this.listeners.push(listener);
  }

  private publish(events: StoredEvent[]) {
    for (const e of events) {
      if (this.own.delete(e.seq)) continue;
      // Another node's (or the CLI's) change of who listens to what: this node's cached subscriptions go (syncExternal).
      if (!this.externalChange && SUBSCRIPTION_EVENTS.test(e.json)) this.externalChange = true;
    }
    for (const listener of this.listeners) listener(events);
    const through = events[events.length - 1]!.seq;
    const done = this.waiting.filter((w) => w.seq <= through);
    this.waiting = this.waiting.filter((w) => w.seq > through);
    for (const w of done) w.done();
  }

  /**
   * A write: queued for the next group commit, run there in its own savepoint on the batch's
   * client; settles after the batch's COMMIT, once the events of the batch are published here.
   */
  write<T>(fn: (tx: StoreTx) => Promise<T> | T, scope?: WriteScope): Promise<T> {
    return this.enqueue(async (client, events) => fn(new PgRows(client, events)), scope);
  }

  /** A write that appends no event (sessions, passwords, the parts' own writes): it joins the group commit too. */
  private run<T>(fn: (db: PgDb) => Promise<T>): Promise<T> {
    return this.enqueue(async (client) => fn(new PgDb(client)));
  }

  private enqueue<T>(run: QueuedWrite['run'], scope?: WriteScope): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ run, chatKey: scope && chatLockKey(scope.chatId), resolve, reject });
      this.schedule();
    });
  }

  /** Starts batches on the next turn of the event loop (so the writes asked for meanwhile gather); a batch ending schedules the next. */
  private schedule() {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  /**
   * Starts what may run now, in the order queued. Unscoped writes run alone: their batch starts
   * once nothing else runs, and nothing starts beside it. Chat-scoped writes run in up to `lanes`
   * batches at once, each taking the queued writes (up to the first unscoped one) of chats no
   * running batch has; a chat's writes wait behind its running batch, so they commit in order.
   */
  private flush() {
    this.flushScheduled = false;
    while (this.queue.length > 0 && this.running.size < this.lanes) {
      if ([...this.running].some((keys) => keys.size === 0)) return;
      if (this.queue[0]!.chatKey === undefined) {
        if (this.running.size > 0) return;
        let size = 1;
        while (size < this.maxBatch && size < this.queue.length && this.queue[size]!.chatKey === undefined) size++;
        this.start(this.queue.splice(0, size), new Set());
        return;
      }
      const busy = new Set([...this.running].flatMap((keys) => [...keys]));
      // The queue shared among the free lanes: a batch waits on round trips, so several smaller
      // batches side by side commit sooner than one large one. Past its share a batch still takes
      // the writes of its own chats (no other batch could run them meanwhile).
      const share = Math.ceil(this.queue.length / (this.lanes - this.running.size));
      const taken: QueuedWrite[] = [];
      const keys = new Set<number>();
      const left: QueuedWrite[] = [];
      let i = 0;
      for (; i < this.queue.length && this.queue[i]!.chatKey !== undefined && taken.length < this.maxBatch; i++) {
        const item = this.queue[i]!;
        const key = item.chatKey!;
        if (busy.has(key) || (taken.length >= share && !keys.has(key))) left.push(item);
        else {
          taken.push(item);
          keys.add(key);
        }
      }
      if (taken.length === 0) return;
      this.queue = [...left, ...this.queue.slice(i)];
      this.start(taken, keys);
    }
  }

  private start(batch: QueuedWrite[], running: RunningBatch) {
    this.running.add(running);
    void this.runBatch(batch).finally(() => {
      this.running.delete(running);
      this.schedule();
    });
  }

  /**
   * One group commit (never rejects: it settles its writes). BEGIN and the write lock (and the
   * chats' locks of scoped writes); each write in turn in its savepoint: one that throws is
   * rolled back to it alone, drops the events it appended and rejects with its own error; then
   * the batch's events in one insert under the order lock; NOTIFY and COMMIT once. A connection
   * lost (or any failure outside a write's own rules) rolls the whole batch back: every write of
   * it rejects, 'unavailable' on connection loss.
   */
  private async runBatch(batch: QueuedWrite[]) {
    let outcomes: Outcome[] = [];
    let client: pg.PoolClient | undefined;
    let broken = false;
    let seqs: number[] = [];
    let hold: number | undefined;
    try {
      client = await this.writePool.connect();
      // A connection cut while the batch waits on a write (between queries) is reported here, not
      // thrown out of the process; the client's next query then fails as a connection loss.
      client.on('error', ignore);
      const scoped = batch[0]!.chatKey !== undefined;
      // Chat-scoped writes first without savepoints: a round trip less each. One that fails after
      // changing rows (or a query's failure) needs its own undo: then the batch again, with them.
      let ran = scoped ? await this.runWrites(client, batch, false) : undefined;
      if (!ran) {
        if (scoped) {
          await client.query('ROLLBACK');
          this.stats.reruns++;
        }
        ran = (await this.runWrites(client, batch, true))!;
      }
      outcomes = ran.outcomes;
      // The batch's sequences are allocated in the closing round trip, after every one the
      // follower has read: it holds back from there until the answer (see committing).
      if (ran.events.length > 0) this.committing.push((hold = this.follower.lastRead + 1));
      const results = (await client.query(ran.events.closing().join('; '))) as unknown as pg.QueryResult | pg.QueryResult[];
      const answers = Array.isArray(results) ? results : [results];
      const commit = answers[answers.length - 1]!;
      // COMMIT of a transaction left aborted answers ROLLBACK, not an error.
      if (commit.command !== 'COMMIT') throw new Error(`the group commit ended in ${commit.command}`);
      seqs = ran.events.sequences(answers[0]!);
      // The follower is told them: it hands them on without reading them back (unless others' came between).
      this.follower.tell(ran.events.stored(seqs));
      // Marked before the hold ends: the follower hands them on only after, so they never count as another process's.
      for (const seq of seqs) this.own.add(seq);
    } catch (error) {
      broken = client === undefined || isConnectionLoss(error);
      if (!broken) await client!.query('ROLLBACK').catch(() => (broken = true));
      const failure = unavailable(error);
      for (const item of batch) item.reject(failure);
      return;
    } finally {
      if (hold !== undefined) this.committing.splice(this.committing.indexOf(hold), 1);
      // A client whose connection failed is discarded, not handed out again.
      client?.removeListener('error', ignore);
      client?.release(broken || undefined);
    }
    this.stats.batches++;
    if (batch[0]!.chatKey !== undefined) this.stats.scopedBatches++;
    this.stats.writes += batch.length;
    const settle = () => batch.forEach((item, i) => (outcomes[i]!.ok ? item.resolve(outcomes[i]!.value) : item.reject(outcomes[i]!.value)));
    this.settling = this.settling.then(() => this.publishedThrough(seqs[seqs.length - 1] ?? 0)).then(settle);
  }

  /**
   * BEGIN and the locks, then the batch's writes. With savepoints: each write in turn, one that
   * throws rolled back to its savepoint alone, with its events. Without (a chat-scoped batch's
   * first attempt): each chat's writes in turn and the chats side by side, so the queries of
   * different chats share round trips (the write connections pipeline them: ten chats' messages
   * take a round trip for their checks and one for their inserts, not twenty). A write that
   * throws having changed nothing (and with every query answered) needs no undo; one that changed
   * rows or saw a query fail (the transaction may be aborted) makes the attempt fail: undefined,
   * the batch to be rolled back and run again with savepoints (scoped writes may run twice:
   * WriteScope). Writes of different chats touch different rows (WriteScope), so side by side
   * they do what they would do one after the other, as batches of other lanes and nodes do.
   * Answers each write's outcome and the events of those that stand, in the batch's order.
   */
  private async runWrites(client: pg.PoolClient, batch: QueuedWrite[], savepoints: boolean): Promise<{ outcomes: Outcome[]; events: BatchEvents } | undefined> {
    await client.query(beginBatch(batch.map((item) => item.chatKey), savepoints));
    if (!savepoints) return this.runChatsSideBySide(client, batch);
    const events = new BatchEvents();
    const outcomes: Outcome[] = [];
    for (const item of batch) {
      const before = events.length;
      try {
        const value = await item.run(preparing(client), events);
        // The write's savepoint becomes part of the batch (this fails if the write left it aborted); the next write's begins.
        await client.query('RELEASE w; SAVEPOINT w');
        outcomes.push({ ok: true, value });
      } catch (error) {
        if (isConnectionLoss(error)) throw error;
        events.truncate(before);
        await client.query('ROLLBACK TO w'); // w stays, as it was: the next write's savepoint
        outcomes.push({ ok: false, value: error });
      }
    }
    return { outcomes, events };
  }

  private async runChatsSideBySide(client: pg.PoolClient, batch: QueuedWrite[]): Promise<{ outcomes: Outcome[]; events: BatchEvents } | undefined> {
    const byChat = new Map<number, number[]>();
    batch.forEach((item, i) => {
      const writes = byChat.get(item.chatKey!);
      if (writes) writes.push(i);
      else byChat.set(item.chatKey!, [i]);
    });
    const outcomes: Outcome[] = new Array(batch.length);
    const appended = batch.map(() => new BatchEvents());
    let again = false;
    let lost: unknown;
    await Promise.all(
      [...byChat.values()].map(async (writes) => {
        for (const i of writes) {
          if (again || lost) return;
          const watch = { changed: false, failed: false };
          try {
            outcomes[i] = { ok: true, value: await batch[i]!.run(watched(preparing(client), watch), appended[i]!) };
            if (watch.failed) again = true;
          } catch (error) {
            if (isConnectionLoss(error)) lost ??= error;
            else if (watch.changed || watch.failed) again = true;
            appended[i]!.truncate(0);
            outcomes[i] = { ok: false, value: error };
          }
        }
      }),
    );
    // Every write of the attempt has stopped here: none of its queries is still in flight.
    if (lost) throw lost;
    if (again) return undefined;
    const events = new BatchEvents();
    for (const written of appended) events.appendAll(written);
    return { outcomes, events };
  }

  /** Resolves once the follower has handed this node's listeners every event through `seq`. */
  private publishedThrough(seq: number): Promise<void> | void {
    if (seq <= this.follower.published) return;
    return new Promise<void>((done) => {
      this.waiting.push({ seq, done });
      this.follower.release();
    });
  }

  // ---------------------------------------------------------------- users
  createUser(input: NewUser) {
    return this.write((tx) => tx.insertUser(input));
  }

  userById(id: number) {
    return this.reads.user(id);
  }

  userByName(username: string) {
    return this.reads.userByName(username);
  }

  async listUsers() {
    return (await this.reads.all('SELECT * FROM users ORDER BY lower(username)')).map(toUser);
  }

  async searchUsers(query: string, limit: number) {
    const like = `%${query.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    return (await this.reads.all('SELECT * FROM users WHERE username ILIKE $1 OR display_name ILIKE $1 ORDER BY lower(display_name) LIMIT $2', [like, limit])).map(toUser);
  }

  async countUsers() {
    return Number((await this.reads.one('SELECT count(*) AS n FROM users'))!.n);
  }

  setPassword(userId: number, passwordHash: string, keepTokenId?: number) {
    return this.run(async (db) => {
      if ((await db.run('UPDATE users SET password_hash = $1 WHERE id = $2', [passwordHash, userId])) === 0) throw new StoreError('not_found', 'user');
      return (await db.all('DELETE FROM sessions WHERE user_id = $1 AND id != $2 RETURNING id', [userId, keepTokenId ?? -1])).map((r) => r.id as number);
    });
  }

  deleteUser(userId: number) {
    return this.run(async (db) => {
      if ((await db.run('DELETE FROM users WHERE id = $1', [userId])) === 0) throw new StoreError('not_found', 'user');
    });
  }

  // ---------------------------------------------------------------- sessions (no cache: see the top of this file)
  createSession(userId: number, tokenHash: Buffer, expiresAt: number) {
    return this.run(async (db) => {
      const now = Date.now();
      const r = await db.one('INSERT INTO sessions (user_id, token_hash, created_at, last_used_at, expires_at) VALUES ($1, $2, $3, $3, $4) RETURNING id', [userId, tokenHash, now, expiresAt]);
      return r!.id as number;
    });
  }

  /**
   * Read from PostgreSQL for every request, never cached (a token revoked on another node must end
   * here at once), but not one query each: the lookups asked for while one query is in flight go
   * in the next, so a storm of polls (30,000 panels renewing, or woken together) costs a query per
   * round trip instead of one per poll. Each lookup's query starts after it was asked for, so it
   * sees every commit made before the request arrived.
   */
  sessionByTokenHash(tokenHash: Buffer): Promise<SessionRecord | undefined> {
    return this.sessionLookups.load(tokenHash);
  }

  async touchSession(tokenId: number, lastUsedAt: number, expiresAt: number) {
    // A single-row update needs no write lock: it is atomic by itself.
    await this.db.query('UPDATE sessions SET last_used_at = $1, expires_at = $2 WHERE id = $3', [lastUsedAt, expiresAt, tokenId]);
  }

  async deleteSession(tokenId: number) {
    await this.db.query('DELETE FROM sessions WHERE id = $1', [tokenId]);
  }

  async deleteExpiredSessions(now: number) {
    return this.reads.run('DELETE FROM sessions WHERE expires_at <= $1', [now]);
  }

  // ---------------------------------------------------------------- presence
  async setChosenPresence(userId: number, state: PresenceState) {
    await this.db.query('UPDATE users SET chosen_presence = $1 WHERE id = $2', [state, userId]);
  }

  async usersAnnouncedOnline() {
    return (await this.reads.all("SELECT * FROM users WHERE announced_presence != 'offline'")).map(toUser);
  }

  // ---------------------------------------------------------------- contacts and groups
  private async contactIds(userId: number) {
    return (await this.reads.all(CONTACT_IDS_OF, [[userId]])).map((r) => r.id as number);
  }

  async listContacts(userId: number): Promise<ContactRecord[]> {
    const ids = await this.contactIds(userId);
    if (ids.length === 0) return [];
    const rows = await this.reads.all(
      `SELECT u.*,
         EXISTS (SELECT 1 FROM contacts c WHERE c.user_id = $1 AND c.contact_id = u.id) AS personal,
         (SELECT coalesce(json_agg(g.name), '[]')::text FROM group_members mine
            JOIN group_members theirs ON theirs.group_id = mine.group_id
            JOIN groups g ON g.id = mine.group_id
          WHERE mine.user_id = $1 AND theirs.user_id = u.id) AS groups
       FROM users u WHERE u.id = ANY($2)
       ORDER BY lower(u.display_name), u.username`,
      [userId, ids],
    );
    return rows.map((r) => ({ user: toUser(r), personal: r.personal === 1, groups: (JSON.parse(r.groups) as string[]).sort() }));
  }

  async subscriptions(userId: number): Promise<Subscriptions> {
    const { contactIds, chatIds } = await this.subscriptionsOf.load(userId);
    return { contactIds: [...contactIds], chatIds: [...chatIds] }; // the caller's own arrays
  }

  createGroup(name: string, displayName: string) {
    return this.write(async (tx): Promise<GroupRecord> => {
      await tx.insertGroup(name, displayName, 'local');
      return { name, displayName, members: [], source: 'local' };
    });
  }

  async listGroups() {
    const rows = await this.reads.all(
      `SELECT g.name, g.display_name, g.source,
         (SELECT coalesce(json_agg(u.username ORDER BY u.username), '[]')::text FROM group_members m JOIN users u ON u.id = m.user_id WHERE m.group_id = g.id) AS members
       FROM groups g ORDER BY g.name`,
    );
    return rows.map((r): GroupRecord => ({ name: r.name, displayName: r.display_name, members: JSON.parse(r.members), source: r.source }));
  }

  // ---------------------------------------------------------------- chats
  chatById(chatId: string) {
    return this.reads.chat(chatId);
  }

  async chatsOf(userId: number): Promise<Chat[]> {
    const ids = (
      await this.reads.all(
        `SELECT m.chat_id FROM chat_members m JOIN chats c ON c.id = m.chat_id
         WHERE m.user_id = $1 AND m.status IN ('invited', 'accepted') ORDER BY c.created_at DESC, c.id DESC`,
        [userId],
      )
    ).map((r) => r.chat_id as string);
    const chats: Chat[] = [];
    for (const id of ids) {
      const record = await this.reads.chat(id);
      if (!record) continue;
      const marks = new Map(
        (await this.reads.all('SELECT u.username, m.read_up_to FROM chat_members m JOIN users u ON u.id = m.user_id WHERE m.chat_id = $1', [id])).map((r) => [
          r.username as string,
          r.read_up_to as number,
        ]),
      );
      // A member added later to a chat sharing history 'since_added' reads (and counts) only what came after.
      const after = await this.reads.visibleAfter(id, userId);
      const lastRow = await this.reads.one(`SELECT m.*, ${MESSAGE_FILES} AS files FROM messages m WHERE chat_id = $1 AND id > $2 ORDER BY id DESC LIMIT 1`, [id, after]);
      const mine = Math.max(await this.reads.readUpTo(id, userId), after);
      chats.push({
        ...record.chat,
        members: record.chat.members.map((m) => ({ ...m, readUpTo: marks.get(m.username) ?? 0 })),
        unread: await this.reads.unreadCount(id, userId, mine),
        ...(lastRow ? { lastMessage: (await this.reads.withReactions([lastRow]))[0]! } : {}),
      });
    }
    return chats;
  }

  async chatMutes(userId: number, now: number) {
    const rows = await this.reads.all('SELECT chat_id, until FROM chat_mutes WHERE user_id = $1 AND (until IS NULL OR until > $2)', [userId, now]);
    return new Map(rows.map((r) => [r.chat_id as string, (r.until as number | null) ?? null]));
  }

  /** `readerId`: a member, who reads only what they may (a chat's history 'since_added'). */
  async messages(chatId: string, before: number | undefined, limit: number, readerId?: number) {
    const after = readerId === undefined ? 0 : await this.reads.visibleAfter(chatId, readerId);
    const rows = await this.reads.all(`SELECT m.*, ${MESSAGE_FILES} AS files FROM messages m WHERE chat_id = $1 AND id < $2 AND id > $3 ORDER BY id DESC LIMIT $4`, [
      chatId,
      before ?? Number.MAX_SAFE_INTEGER,
      after,
      limit,
    ]);
    return this.reads.withReactions(rows.reverse());
  }

  /**
   * Every term must occur (case-insensitive substring): ILIKE, which the trigram GIN index
   * (pg_trgm) serves for terms of 3+ characters; shorter ones are matched over the rows the
   * other conditions leave, as on SQLite.
   */
  async searchMessages(userId: number, { terms, chatId, before, limit }: MessageSearch) {
    const params: unknown[] = [userId, chatId ?? null, before ?? Number.MAX_SAFE_INTEGER, limit];
    let sql = `SELECT m.*, ${MESSAGE_FILES} AS files FROM messages m
      WHERE m.chat_id IN (SELECT chat_id FROM chat_members WHERE user_id = $1 AND status = 'accepted')
        AND ($2::text IS NULL OR m.chat_id = $2) AND m.id < $3
        AND (NOT m.held OR m.from_user_id = $1)
        AND m.id > ${visibleAfterSql('$1', 'm.chat_id')}`;
    for (const term of terms) {
      params.push(`%${term.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
      sql += ` AND m.text ILIKE $${params.length}`;
    }
    sql += ' ORDER BY m.id DESC LIMIT $4';
    return (await this.reads.all(sql, params)).map(toMessage);
  }

  async chatFile(fileId: string, readerId?: number) {
    const readable = `AND (f.uploader_id = $2 OR ${visibleAfterSql('$2', 'f.chat_id')} = 0 OR EXISTS (SELECT 1 FROM message_files mf WHERE mf.file_id = f.id AND mf.message_id > ${visibleAfterSql('$2', 'f.chat_id')}))`;
    const row = await this.reads.one(`SELECT f.* FROM chat_files f WHERE f.id = $1 ${readerId === undefined ? '' : readable}`, readerId === undefined ? [fileId] : [fileId, readerId]);
    return row && toChatFile(row);
  }

  sweepChatFiles(unattachedBefore: number) {
    return this.run(async (db) => {
      const deleted = await db.run('DELETE FROM chat_files WHERE created_at < $1 AND NOT EXISTS (SELECT 1 FROM message_files mf WHERE mf.file_id = chat_files.id)', [unattachedBefore]);
      const keep = new Set((await db.all('SELECT sha256 AS s FROM chat_files UNION SELECT thumb_sha256 FROM chat_files WHERE thumb_sha256 IS NOT NULL')).map((r) => r.s as string));
      return { deleted, keep };
    });
  }

  // ---------------------------------------------------------------- event log
  readEvents(topics: string[], after: number, limit: number) {
    return readPgEvents(this.db, topics, after, limit, this.follower.published);
  }

  headSeq() {
    return this.heads.load(0);
  }

  /** Asked on every poll that reads the log: kept in memory, read again after this node prunes (another node's pruning shows within a poll's answer as `reset` anyway). */
  async prunedThrough() {
    return (this.prunedThroughSeq ??= Number((await this.reads.one("SELECT value FROM meta WHERE key = 'events_pruned_through'"))?.value ?? 0));
  }

  pruneEvents(olderThan: number) {
    return this.run(async (db) => {
      const last = (await db.one('SELECT max(seq) AS seq FROM events WHERE at < $1', [olderThan]))?.seq as number | null;
      this.prunedThroughSeq = undefined;
      if (last === null || last === undefined) return 0;
      const removed = await db.run('DELETE FROM events WHERE seq <= $1', [last]);
      await db.run("INSERT INTO meta (key, value) VALUES ('events_pruned_through', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value", [String(last)]);
      return removed;
    });
  }

  /**
   * Other nodes' and the CLI's events reach the listeners through the log follower; this answers
   * whether one of them may have changed who listens to what (a chat, contacts), so the caller
   * drops its cached subscriptions. Sessions need nothing: they are not cached here.
   */
  async syncExternal() {
    const changed = this.externalChange;
    this.externalChange = false;
    return changed;
  }

  async close() {
    // The writes asked for are committed (or rejected) first.
    while (this.running.size > 0 || this.queue.length > 0) {
      this.flush();
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await this.cluster.stop();
    await this.follower.stop();
    // Committed, but the stopped follower will not publish them: settle them anyway.
    for (const w of this.waiting.splice(0)) w.done();
    await this.settling;
    await this.pool.end();
    await this.writePool.end();
  }
}

/** Event types (in an event's JSON) that change someone's subscriptions. */
const SUBSCRIPTION_EVENTS = /^\{"cursor":"\d+","type":"(chat\.request|chat\.added|chat\.accepted|chat\.declined|chat\.left|chat\.closed|chat\.updated|contacts\.changed|meeting\.[a-z]+|user\.updated|me\.updated)"/;

/** The contacts of each of these users ($1, an array: their own, and those in a group with them): one row per (owner, id). */
const CONTACT_IDS_OF = `SELECT user_id AS owner, contact_id AS id FROM contacts WHERE user_id = ANY($1::bigint[])
  UNION
  SELECT mine.user_id, other.user_id FROM group_members mine JOIN group_members other ON other.group_id = mine.group_id
  WHERE mine.user_id = ANY($1::bigint[]) AND other.user_id != mine.user_id`;
