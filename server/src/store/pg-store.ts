/**
 * The PostgreSQL Store (issue 15), begun: NOT selectable yet, and not a whole `Store`.
 *
 * Done: `write(fn)`, one transaction per write on a pooled client, its row operations
 * (`PgRows`, StoreTx) as round trips; events appended through PgEventAppender, so commit order
 * equals sequence order across nodes; listeners fed in order by the log follower (pg-log.ts),
 * this node's own commits included, a write settling once its events are published, as on
 * SQLite. The user, chat, message, contact and group rows of StoreTx, and the few reads the
 * store tests use. Still to do: StoreTx.calls and .meetings (they throw), the rest of the Store's
 * reads and writes, its portal, terminals, calls and meetings parts, sessions and their cache,
 * group commit (optional), and the wiring that selects it.
 *
 * Isolation: SQLite runs one write at a time; here every write transaction first takes the
 * cluster-wide write lock (an advisory transaction lock), so the rules' check-then-write stays
 * atomic across nodes without retrying serialization failures. It costs concurrency between
 * writes; a later step may trade it for SERIALIZABLE with retries, or for group commit.
 */
import pg from 'pg';
import { randomUUID } from 'node:crypto';
import type { ChatHistory, EventDraft, Message, PresenceState, Reaction } from '../../../shared/index.js';
import type { CallRows } from './calls.js';
import { StoreError } from './errors.js';
import type { MeetingRows } from './meetings.js';
import type { PortalRows } from './portal.js';
import { PgEventAppender, PgLogFollower, pgHeadSeq, readPgEvents } from './pg-log.js';
import { migratePostgres, PG_LOCKS } from './pg-schema.js';
import { iso, toChatRecord, toMessage, toUser, type Row } from './sqlite-engine.js';
import { toChatFile } from './sqlite-rows.js';
import type { ChatFileRecord, ChatRecord, GroupRecord, MemberStatus, NewMessage, NewUser, ProfileChange, StoredEvent, StoreTx, UserRecord } from './store.js';

type Queryable = Pick<pg.ClientBase, 'query'>;

/** PostgreSQL booleans as SQLite's 0/1, so the embedded store's row mappers serve both. */
function asSqliteRow(r: Row): Row {
  for (const k in r) if (typeof r[k] === 'boolean') r[k] = r[k] ? 1 : 0;
  return r;
}

/** BIGINT (ids, sequences, times in ms) as numbers: all stay below 2^53. */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

/** A unique violation as the store's StoreError, like `unique` (errors.ts) on SQLite. */
async function unique<T>(what: string, insert: () => Promise<T>): Promise<T> {
  try {
    return await insert();
  } catch (error) {
    if ((error as { code?: string }).code === '23505') throw new StoreError('unique', what);
    throw error;
  }
}

/** A message row with its files as JSON text (NULL when it has none), as MESSAGE_FILES on SQLite. */
const MESSAGE_FILES = `(SELECT json_agg(json_build_object('id', f.id, 'name', f.name, 'size', f.size, 'contentType', f.content_type, 'thumb', f.thumb_sha256 IS NOT NULL) ORDER BY mf.position)::text
   FROM message_files mf JOIN chat_files f ON f.id = mf.file_id WHERE mf.message_id = m.id)`;

/** Row operations on calls and meetings: those given, the others not on PostgreSQL yet (they reject). */
function partly<T extends object>(part: string, done: Partial<T>): T {
  return new Proxy(done as T, {
    get: (target, name) =>
      (target as Record<string | symbol, unknown>)[name] ?? (() => Promise.reject(new Error(`${part}.${String(name)} is not on PostgreSQL yet (issue 15)`))),
  });
}

/** The row operations of one write transaction (StoreTx), each a round trip on its client. */
export class PgRows implements StoreTx {
  /** What a message needs of calls and meetings (putMessage); the rest is to do. */
  readonly calls = partly<CallRows>('calls', {
    heldInChat: async (chatId) => (await this.one("SELECT 1 FROM calls WHERE chat_id = $1 AND state != 'ended' AND held_by IS NOT NULL LIMIT 1", [chatId])) !== undefined,
    liveInChat: async (chatId) => (await this.one("SELECT id FROM calls WHERE chat_id = $1 AND state != 'ended' ORDER BY created_at DESC LIMIT 1", [chatId]))?.id,
  });
  readonly portal = partly<PortalRows>('portal', {});
  readonly meetings = partly<MeetingRows>('meetings', {
    liveMeetingOfChat: async (chatId) => (await this.one('SELECT 1 FROM meetings WHERE chat_id = $1 AND ended_at IS NULL LIMIT 1', [chatId])) !== undefined,
  });

  constructor(
    private readonly db: Queryable,
    private readonly appender: PgEventAppender,
    private readonly appended: (seq: number) => void,
  ) {}

  private async all(sql: string, params: unknown[] = []): Promise<Row[]> {
    return (await this.db.query(sql, params)).rows.map(asSqliteRow);
  }

  private async one(sql: string, params: unknown[] = []): Promise<Row | undefined> {
    return (await this.all(sql, params))[0];
  }

  private async count(sql: string, params: unknown[] = []): Promise<number> {
    return (await this.db.query(sql, params)).rowCount ?? 0;
  }

  async append(topic: string, draft: EventDraft, now = Date.now(), _origin?: number) {
    // `origin` stays unused: events reach the listeners through the log, where it is not kept.
    const { type, ...data } = draft;
    this.appended(await this.appender.append(topic, JSON.stringify({ type, at: iso(now), ...data }), now));
  }

  // ---------------------------------------------------------------- users
  async user(userId: number) {
    const r = await this.one('SELECT * FROM users WHERE id = $1', [userId]);
    return r && toUser(r);
  }

  async userByName(username: string) {
    // Case-insensitive, as SQLite's COLLATE NOCASE column.
    const r = await this.one('SELECT * FROM users WHERE lower(username) = lower($1)', [username]);
    return r && toUser(r);
  }

  async setAnnouncedPresence(userId: number, state: PresenceState) {
    await this.db.query('UPDATE users SET announced_presence = $1 WHERE id = $2', [state, userId]);
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
  private async withReactions(rows: Row[]): Promise<Message[]> {
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

/** Cluster-wide lock every write transaction takes first (see the top of this file). */
const WRITE_LOCK = PG_LOCKS.write.toString();

export class PgStore {
  private readonly listeners: Array<(events: StoredEvent[]) => void> = [];
  /** Writes waiting for the follower to publish through their last event: seq -> resolvers. */
  private waiting: Array<{ seq: number; done: () => void }> = [];

  private constructor(
    private readonly pool: pg.Pool,
    private readonly follower: PgLogFollower,
  ) {}

  /** Connects, migrates (once across nodes) and follows the log from its head. */
  static async open(url: string, options: { max?: number } = {}): Promise<PgStore> {
    const pool = new pg.Pool({ connectionString: url, max: options.max ?? 10, types });
    // An idle pooled client the server ends is reported here; the pool replaces it.
    pool.on('error', () => {});
    await migratePostgres(pool);
    const head = await pgHeadSeq(pool);
    let store: PgStore | undefined;
    const follower = new PgLogFollower({
      connect: async () => {
        const client = new pg.Client({ connectionString: url, types });
        await client.connect();
        return client;
      },
      db: pool,
      from: head,
      publish: (events) => store!.publish(events),
      onError: (error) => process.emitWarning(`PostgreSQL event log: ${String(error)}`),
    });
    store = new PgStore(pool, follower);
    await follower.start();
    return store;
  }

  onCommit(listener: (events: StoredEvent[]) => void) {
    this.listeners.push(listener);
  }

  private publish(events: StoredEvent[]) {
    for (const listener of this.listeners) listener(events);
    const through = events[events.length - 1]!.seq;
    const done = this.waiting.filter((w) => w.seq <= through);
    this.waiting = this.waiting.filter((w) => w.seq > through);
    for (const w of done) w.done();
  }

  /**
   * One write: its own transaction on a pooled client, after the write lock; COMMIT (the
   * append's NOTIFY with it); settles once the events it appended are published here.
   */
  async write<T>(fn: (tx: StoreTx) => Promise<T> | T): Promise<T> {
    const client = await this.pool.connect();
    let last = 0;
    let value: T;
    try {
      await client.query('BEGIN');
      try {
        await client.query('SELECT pg_advisory_xact_lock($1)', [WRITE_LOCK]);
        const appender = new PgEventAppender(client);
        value = await fn(new PgRows(client, appender, (seq) => (last = seq)));
        await appender.beforeCommit();
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      }
    } finally {
      client.release();
    }
    if (last > this.follower.published) {
      await new Promise<void>((done) => {
        this.waiting.push({ seq: last, done });
        this.follower.wake();
      });
    }
    return value;
  }

  // ---------------------------------------------------------------- the reads the store tests use (more to come)
  async createUser(input: NewUser) {
    return this.write((tx) => tx.insertUser(input));
  }

  async userById(id: number) {
    return this.read((tx) => tx.user(id));
  }

  async userByName(username: string) {
    return this.read((tx) => tx.userByName(username));
  }

  async chatById(chatId: string) {
    return this.read((tx) => tx.chat(chatId));
  }

  async messages(chatId: string, before: number | undefined, limit: number) {
    return this.read((rows) => rows.page(chatId, before, limit));
  }

  readEvents(topics: string[], after: number, limit: number) {
    return readPgEvents(this.pool, topics, after, limit);
  }

  headSeq() {
    return pgHeadSeq(this.pool);
  }

  /** A read through the row operations, on the pool (no transaction, no lock). */
  private read<T>(fn: (rows: PgRows) => Promise<T>): Promise<T> {
    return fn(
      new PgRows(this.pool, new PgEventAppender(this.pool), () => {
        throw new Error('a read appends no event');
      }),
    );
  }

  async close() {
    await this.follower.stop();
    await this.pool.end();
  }
}
