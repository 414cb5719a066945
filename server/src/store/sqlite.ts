/**
 * The embedded default Store: SQLite through better-sqlite3, WAL, durable commits.
 *
 * Writes are group-committed: every write asked for in the same turn of the event loop runs in
 * one transaction (each in its own savepoint, so one failing write does not undo the others),
 * and their promises settle after the commit is on disk. One fsync then covers many requests,
 * which is what lets a durable store keep up with thousands of messages a second.
 *
 * Durable ('FULL', the default) is SQLite's synchronous=FULL guarantee, with the fsync moved off
 * the event loop: SQLite runs with synchronous=NORMAL (in WAL mode: no sync at COMMIT), and the
 * store fsyncs the WAL file itself on libuv's thread pool after each COMMIT. A batch's promises
 * settle and its events are published only once an fsync issued after its COMMIT has completed,
 * so nothing is acknowledged or delivered before it is on disk, as with FULL; meanwhile the event
 * loop serves requests (a synchronous fsync took ~0.5 ms per commit on this project's test
 * machines, all of it blocking every poll). One fsync is in flight at a time: the writes asked
 * for during it wait and go in the next batch, the group commit of a database's own log.
 *
 * Writes may be async (StoreTx answers promises, for PostgreSQL's sake): the batch awaits each
 * write in turn inside its savepoint, so no other write interleaves with it and it sees its own
 * rows. While a batch's transaction is open, reads from outside it (the Store's own methods, the
 * parts' reads) must not see its uncommitted rows: they wait and run right after its COMMIT.
 * Those are rare (a batch whose writes await only the store runs within one turn of the event
 * loop: only the continuations of promises it settles can ask), and waiting costs the others
 * one flag test, where a second (read) connection would cost its own statements and page cache
 * and cannot serve ':memory:' (measured: docs/benchmarks.md, issue 15).
 */
import Database from 'better-sqlite3';
import { closeSync, fsync, openSync } from 'node:fs';
import { privateFileSync, tightenIfExists } from '../private-fs.js';
import { type EventDraft, type PresenceState } from '../../../shared/index.js';
import { StoreError, unique } from './errors.js';
import { Checkpointer } from './checkpointer.js';
import { MIGRATIONS } from './migrations.js';
import { SearchIndexer } from './search-indexer.js';
import { SqliteCallStore } from './sqlite-calls.js';
import { SqliteMeetingStore } from './sqlite-meetings.js';
import { SessionCache } from './session-cache.js';
import { statementCache, type Prepare } from './statements.js';
import { SqlitePortalRows, SqlitePortalStore } from './sqlite-portal.js';
import { SqliteTerminalStore } from './sqlite-terminals.js';
import { MESSAGE_FILES, promising, type Engine } from './sqlite-engine.js';
import { SqliteRows } from './sqlite-rows.js';
import { iso, toChatFile, toMessage, toUser, visibleAfterSql, type Row } from './rows.js';
import type { ContactRecord, GroupRecord, MessageSearch, NewUser, SessionRecord, StoredEvent, Store, StoreTx, Subscriptions, WriteScope } from './store.js';

interface QueuedWrite {
  run: () => unknown;
  resolve: (value: any) => void;
  reject: (error: unknown) => void;
}

/** A committed batch whose promises settle (and events publish) once it is on disk. */
interface CommittedBatch {
  batch: QueuedWrite[];
  outcomes: Array<{ ok: boolean; value: unknown }>;
  appended: StoredEvent[];
}

/** How often stored messages are added to the search index (search finds them before too). */
const SEARCH_INDEX_MS = 100;

export class SqliteStore implements Store {
  private readonly db: Database.Database;
  private readonly listeners: Array<(events: StoredEvent[]) => void> = [];
  private queue: QueuedWrite[] = [];
  private flushScheduled = false;
  /** A batch's transaction is open (from BEGIN to its COMMIT or ROLLBACK). */
  private batchOpen = false;
  /** Reads asked for while a batch's transaction was open: run right after it ends. */
  private readsAfterBatch: Array<() => void> = [];
  /** Events appended by the batch being written; published after its COMMIT. */
  private appended: StoredEvent[] = [];
  /** Highest sequence handed to listeners: they get every event once, in order, without gaps. */
  private published = 0;
  private dataVersion = 0;
  /** Tokens resolved before: a poll authenticates without a query (revocations drop entries). */
  private readonly sessionCache = new SessionCache();
  /** data_version when the session cache was last known current: other processes' writes change it. */
  private sessionCacheVersion = -1;
  /** The version was checked in this turn of the event loop. */
  private sessionCacheChecked = false;
  /** Kept in memory: read on every poll, changed only by pruning (or another process). */
  private prunedThroughSeq: number | undefined;
  private readonly q;
  private readonly prepare: Prepare;
  /** Transaction control, prepared once (exec parsed these every time: ~7 % of a chat run's CPU). */
  private readonly tx;
  /** The WAL to fsync after each commit (durable mode), and its descriptor once it exists. */
  private readonly walFile: string | undefined;
  private walFd: number | undefined;
  /** The committed batch whose fsync is in flight (one at a time: see flush). */
  private syncing: CommittedBatch | undefined;
  private whenSynced: Array<() => void> = [];
  /** Runs the WAL checkpoints on its own thread (file databases). */
  private readonly checkpointer: Checkpointer | undefined;
  readonly portal: SqlitePortalStore;
  readonly terminals: SqliteTerminalStore;
  readonly calls: SqliteCallStore;
  readonly meetings: SqliteMeetingStore;
  /** The row operations, synchronous: the store's reads use them. */
  private readonly rows: SqliteRows;
  /** Their async face, which every write is handed (StoreTx). */
  private readonly txFace: StoreTx;
  private readonly indexer: SearchIndexer;

  /** fsync(2) of the WAL, on libuv's thread pool (a test holds it to see what waits for it). */
  private readonly syncWal: typeof fsync;

  constructor(file: string, options: { synchronous?: 'FULL' | 'NORMAL'; syncWal?: typeof fsync } = {}) {
    this.syncWal = options.syncWal ?? fsync;
    if (file !== ':memory:' && file !== '' && !file.startsWith('file:')) {
      // SQLite makes the database 0644 (less the umask), and its -wal and -shm with the database's
      // mode: an empty file made 0600 first is what it opens as a new database.
      privateFileSync(file);
      tightenIfExists(`${file}-wal`);
      tightenIfExists(`${file}-shm`);
    }
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    // FULL is kept by syncing the WAL ourselves, off the event loop (see the top of this file).
    this.walFile = (options.synchronous ?? 'FULL') === 'FULL' && !this.db.memory ? `${this.db.name}-wal` : undefined;
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    this.migrate();
    if (!this.db.memory) {
      this.db.pragma('wal_autocheckpoint = 0');
      this.checkpointer = new Checkpointer(this.db.name, 200, (error) => {
        process.emitWarning(`WAL checkpoints went back to the event loop: ${error.message}`);
        if (this.db.open) this.db.pragma('wal_autocheckpoint = 1000');
      });
    }
    this.dataVersion = this.db.pragma('data_version', { simple: true }) as number;
    this.prepare = statementCache(this.db);
    const p = (sql: string) => this.db.prepare(sql); // q owns these (their modes are set once)
    this.q = {
      insertEvent: p('INSERT INTO events (topic, body, at) VALUES (?, ?, ?)'),
      readEvents: p(
        'SELECT seq, topic, body FROM events WHERE seq > ? AND seq <= ? AND topic IN (SELECT value FROM json_each(?)) ORDER BY seq LIMIT ?',
      ),
      // The usual poll that reads the log needs one topic (the hub knows which): a plain index range.
      readTopic: p('SELECT seq, topic, body FROM events WHERE topic = ? AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?'),
      eventsBetween: p('SELECT seq, topic, body FROM events WHERE seq > ? AND seq <= ? ORDER BY seq'),
      dataVersion: p('PRAGMA data_version').pluck(),
      headSeq: p("SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0) AS seq").pluck(),
      meta: p('SELECT value FROM meta WHERE key = ?').pluck(),
      setMeta: p('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
      session: p(
        'SELECT s.id AS token_id, s.expires_at, s.last_used_at, u.* FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?',
      ),
    };
    this.tx = {
      begin: p('BEGIN IMMEDIATE'),
      savepoint: p('SAVEPOINT w'),
      release: p('RELEASE w'),
      rollbackTo: p('ROLLBACK TO w'),
      commit: p('COMMIT'),
      rollback: p('ROLLBACK'),
    };
    this.published = this.q.headSeq.get() as number;
    const engine: Engine = {
      db: this.db,
      prepare: this.prepare,
      read: (fn) => this.read(fn),
      write: (fn) => this.enqueue(fn),
      append: (topic, draft, now, origin) => this.append(topic, draft, now, origin),
    };
    this.portal = new SqlitePortalStore(engine);
    this.terminals = new SqliteTerminalStore(engine);
    this.calls = new SqliteCallStore(engine);
    this.meetings = new SqliteMeetingStore(engine);
    const portalRows = new SqlitePortalRows(engine);
    this.rows = new SqliteRows(this.db, engine, this.sessionCache, this.calls, this.meetings, portalRows);
    this.txFace = promising<StoreTx>(this.rows, { calls: this.calls, meetings: this.meetings, portal: portalRows });
    this.indexer = new SearchIndexer(this.db, engine.write, SEARCH_INDEX_MS, (error) => process.emitWarning(`search indexing failed (retried): ${error.message}`));
  }

  // ---------------------------------------------------------------- plumbing
  private migrate() {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version > MIGRATIONS.length) {
      throw new Error(`the data directory holds a newer database (schema ${version}) than this Portico knows (${MIGRATIONS.length})`);
    }
    for (let v = version; v < MIGRATIONS.length; v++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[v]!);
        this.db.pragma(`user_version = ${v + 1}`);
      })();
    }
  }

  onCommit(listener: (events: StoredEvent[]) => void) {
    this.listeners.push(listener);
  }

  /** Adds every stored message to the search index now (it also happens every SEARCH_INDEX_MS). */
  indexSearch(): Promise<void> {
    return this.indexer.run();
  }

  async close() {
    this.indexer.stop();
    while (this.batchOpen || this.queue.length > 0 || this.syncing) {
      if (this.batchOpen) await new Promise<void>((ended) => this.readsAfterBatch.push(ended));
      else if (this.syncing) await new Promise<void>((done) => this.whenSynced.push(done));
      else this.flush();
    }
    await this.checkpointer?.stop();
    if (this.walFd !== undefined) closeSync(this.walFd);
    this.db.close();
  }

  private read<T>(fn: () => T): Promise<T> {
    if (this.batchOpen) {
      // The connection is inside an open batch: its uncommitted rows are not for this read.
      return new Promise<T>((resolve, reject) => this.readsAfterBatch.push(() => void this.runRead(fn).then(resolve, reject)));
    }
    return this.runRead(fn);
  }

  private runRead<T>(fn: () => T): Promise<T> {
    try {
      return Promise.resolve(fn());
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** The scope is PostgreSQL's concern (parallel commits across nodes): here writes run one at a time. */
  write<T>(fn: (tx: StoreTx) => Promise<T> | T, _scope?: WriteScope): Promise<T> {
    return this.enqueue(() => fn(this.txFace));
  }

  /** Queues a write for the next group commit. */
  private enqueue<T>(run: () => T | Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ run, resolve, reject });
      this.scheduleFlush();
    });
  }

  private scheduleFlush() {
    if (this.queue.length === 0 || this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private flush() {
    this.flushScheduled = false;
    // The open batch, or the fsync in flight, flushes again when it ends: writes asked for
    // meanwhile go in one batch and one fsync (their own fsync would have waited for the one in
    // flight in the kernel anyway, so waiting here costs them little, and each fsync saved is CPU).
    if (this.batchOpen || this.syncing) return;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    void this.runBatch(batch);
  }

  /** One group commit: the writes in turn, each awaited in its own savepoint; one COMMIT. */
  private async runBatch(batch: QueuedWrite[]) {
    const outcomes: Array<{ ok: boolean; value: unknown }> = [];
    this.appended = [];
    const tx = this.tx;
    let failed: { error: unknown } | undefined;
    this.batchOpen = true;
    try {
      tx.begin.run();
      for (const item of batch) {
        const mark = this.appended.length;
        tx.savepoint.run();
        try {
          let value = item.run();
          // A synchronous write (the parts', the indexer's) costs no turn of the microtask queue.
          if (value instanceof Promise) value = await value;
          tx.release.run();
          outcomes.push({ ok: true, value });
        } catch (error) {
          tx.rollbackTo.run();
          tx.release.run();
          this.appended.length = mark;
          outcomes.push({ ok: false, value: error });
        }
      }
      tx.commit.run();
    } catch (error) {
      if (this.db.inTransaction) tx.rollback.run();
      this.appended = [];
      failed = { error };
    }
    this.batchOpen = false;
    for (const read of this.readsAfterBatch.splice(0)) read();
    if (failed) {
      this.scheduleFlush();
      for (const item of batch) item.reject(failed.error);
      return;
    }
    const committed: CommittedBatch = { batch, outcomes, appended: this.appended };
    this.appended = [];
    if (this.walFile === undefined) {
      this.scheduleFlush();
      return this.settle(committed);
    }
    this.syncing = committed;
    try {
      this.walFd ??= openSync(this.walFile, 'r');
    } catch (error) {
      // No WAL yet: nothing was written to it (a batch of failed writes), nothing to sync.
      return this.synced((error as NodeJS.ErrnoException).code === 'ENOENT' ? undefined : error);
    }
    this.syncWal(this.walFd, (error) => this.synced(error));
  }

  /** The fsync issued after the `syncing` batch's COMMIT completed: the batch is on disk (or not); the next one may go. */
  private synced(error: unknown) {
    const committed = this.syncing!;
    this.syncing = undefined;
    if (!error) {
      this.settle(committed);
    } else {
      // Not known to be on disk: not acknowledged, not published (the events reach the hub
      // with the next batch that is: see settle).
      for (const item of committed.batch) item.reject(new Error(`could not sync the database to disk: ${String(error)}`));
    }
    for (const done of this.whenSynced.splice(0)) done();
    this.scheduleFlush();
  }

  private settle({ batch, outcomes, appended }: CommittedBatch) {
    // Events not published yet below ours (another process's, or a batch whose sync failed):
    // publish those first, in order.
    const events = appended.length > 0 && appended[0]!.seq !== this.published + 1 ? this.unpublished(appended[appended.length - 1]!.seq) : appended;
    this.publish(events);
    batch.forEach((item, i) => (outcomes[i]!.ok ? item.resolve(outcomes[i]!.value) : item.reject(outcomes[i]!.value)));
  }

  /** Committed events after the last published one, up to `through`. */
  private unpublished(through: number): StoredEvent[] {
    return (this.q.eventsBetween.all(this.published, through) as Row[]).map(this.toStored);
  }

  private publish(events: StoredEvent[]) {
    if (events.length === 0) return;
    this.published = events[events.length - 1]!.seq;
    for (const listener of this.listeners) listener(events);
  }

  /** Appends an event inside the current write; it is published after the commit. */
  private append(topic: string, draft: EventDraft, now = Date.now(), origin?: number) {
    const { type, ...data } = draft;
    const body = JSON.stringify({ type, at: iso(now), ...data });
    const seq = Number(this.q.insertEvent.run(topic, body, now).lastInsertRowid);
    const event: StoredEvent = { seq, topic, json: `{"cursor":"${seq}",${body.slice(1)}` };
    if (origin !== undefined) event.origin = origin;
    this.appended.push(event);
  }

  // ---------------------------------------------------------------- users
  createUser(input: NewUser) {
    return this.enqueue(() => this.rows.insertUser(input));
  }

  userByName(username: string) {
    return this.read(() => this.rows.userByName(username));
  }

  userById(id: number) {
    return this.read(() => this.rows.user(id));
  }

  listUsers() {
    return this.read(() => (this.prepare('SELECT * FROM users ORDER BY username').all() as Row[]).map(toUser));
  }

  searchUsers(query: string, limit: number) {
    return this.read(() => {
      const like = `%${query.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      const rows = this.prepare(
        "SELECT * FROM users WHERE username LIKE ? ESCAPE '\\' OR display_name LIKE ? ESCAPE '\\' ORDER BY display_name COLLATE NOCASE LIMIT ?",
      ).all(like, like, limit) as Row[];
      return rows.map(toUser);
    });
  }

  countUsers() {
    return this.read(() => this.prepare('SELECT count(*) FROM users').pluck().get() as number);
  }

  setPassword(userId: number, passwordHash: string, keepTokenId?: number) {
    return this.enqueue(() => {
      if (this.prepare('UPDATE users SET password_hash = ? WHERE id = ?').run(passwordHash, userId).changes === 0) throw new StoreError('not_found', 'user');
      const ended = this.prepare('DELETE FROM sessions WHERE user_id = ? AND id != ? RETURNING id').pluck().all(userId, keepTokenId ?? -1) as number[];
      this.sessionCache.forgetUserAndSessions(userId);
      return ended;
    });
  }

  deleteUser(userId: number) {
    return this.enqueue(() => {
      if (!this.rows.user(userId)) throw new StoreError('not_found', 'user');
      this.rows.deleteUser(userId);
    });
  }

  // ---------------------------------------------------------------- sessions
  createSession(userId: number, tokenHash: Buffer, expiresAt: number) {
    return this.enqueue(() => {
      const now = Date.now();
      return Number(
        this.prepare('INSERT INTO sessions (user_id, token_hash, created_at, last_used_at, expires_at) VALUES (?, ?, ?, ?, ?)')
          .run(userId, tokenHash, now, now, expiresAt).lastInsertRowid,
      );
    });
  }

  sessionByTokenHash(tokenHash: Buffer) {
    return this.read((): SessionRecord | undefined => {
      // A write by another process (the admin CLI removing a user) may have revoked any token:
      // one cheap pragma per turn of the event loop (not per request: a fan-out re-authenticates
      // thousands of polls in one turn) tells, so such a revocation takes effect at once.
      if (!this.sessionCacheChecked) {
        this.sessionCacheChecked = true;
        setImmediate(() => (this.sessionCacheChecked = false));
        const version = this.q.dataVersion.get() as number;
        if (version !== this.sessionCacheVersion) {
          this.sessionCache.clear();
          this.sessionCacheVersion = version;
        }
      }
      const cached = this.sessionCache.get(tokenHash, (id) => {
        return this.rows.user(id);
      });
      if (cached) return cached;
      const row = this.q.session.get(tokenHash) as Row | undefined;
      if (!row) return undefined;
      const record = { tokenId: row.token_id, expiresAt: row.expires_at, lastUsedAt: row.last_used_at, user: toUser(row) };
      this.sessionCache.put(tokenHash, record);
      return { ...record };
    });
  }

  touchSession(tokenId: number, lastUsedAt: number, expiresAt: number) {
    return this.enqueue(() => {
      this.prepare('UPDATE sessions SET last_used_at = ?, expires_at = ? WHERE id = ?').run(lastUsedAt, expiresAt, tokenId);
      this.sessionCache.touched(tokenId, lastUsedAt, expiresAt);
    });
  }

  deleteSession(tokenId: number) {
    return this.enqueue(() => {
      this.prepare('DELETE FROM sessions WHERE id = ?').run(tokenId);
      this.sessionCache.forgetSession(tokenId);
    });
  }

  deleteExpiredSessions(now: number) {
    return this.enqueue(() => {
      this.sessionCache.clear();
      return this.prepare('DELETE FROM sessions WHERE expires_at <= ?').run(now).changes;
    });
  }

  // ---------------------------------------------------------------- presence
  setChosenPresence(userId: number, state: PresenceState) {
    return this.enqueue(() => {
      this.prepare('UPDATE users SET chosen_presence = ? WHERE id = ?').run(state, userId);
      this.sessionCache.forgetUser(userId);
    });
  }

  usersAnnouncedOnline() {
    return this.read(() => (this.prepare("SELECT * FROM users WHERE announced_presence != 'offline'").all() as Row[]).map(toUser));
  }

  // ---------------------------------------------------------------- contacts and groups
  listContacts(userId: number) {
    return this.read((): ContactRecord[] => {
      const ids = this.rows.q.contactIds.all({ me: userId }) as number[];
      if (ids.length === 0) return [];
      const rows = this.prepare(
        `SELECT u.*,
           EXISTS (SELECT 1 FROM contacts c WHERE c.user_id = @me AND c.contact_id = u.id) AS personal,
           (SELECT json_group_array(g.name) FROM group_members mine
              JOIN group_members theirs ON theirs.group_id = mine.group_id
              JOIN groups g ON g.id = mine.group_id
            WHERE mine.user_id = @me AND theirs.user_id = u.id) AS groups
         FROM users u WHERE u.id IN (SELECT value FROM json_each(@ids))
         ORDER BY u.display_name COLLATE NOCASE, u.username`,
      ).all({ me: userId, ids: JSON.stringify(ids) }) as Row[];
      return rows.map((r) => ({ user: toUser(r), personal: r.personal === 1, groups: (JSON.parse(r.groups) as string[]).sort() }));
    });
  }

  subscriptions(userId: number) {
    return this.read(
      (): Subscriptions => ({
        contactIds: this.rows.q.contactIds.all({ me: userId }) as number[],
        chatIds: this.rows.q.acceptedChatIds.all(userId) as string[],
      }),
    );
  }

  createGroup(name: string, displayName: string) {
    return this.enqueue((): GroupRecord => {
      unique(`the group ${name}`, () => this.prepare('INSERT INTO groups (name, display_name, created_at) VALUES (?, ?, ?)').run(name, displayName, Date.now()));
      return { name, displayName, members: [], source: 'local' as const };
    });
  }

  listGroups() {
    return this.read(() => {
      const rows = this.prepare(
        `SELECT g.name, g.display_name, g.source,
           (SELECT json_group_array(username) FROM (SELECT u.username FROM group_members m JOIN users u ON u.id = m.user_id
             WHERE m.group_id = g.id ORDER BY u.username)) AS members
         FROM groups g ORDER BY g.name`,
      ).all() as Row[];
      return rows.map((r): GroupRecord => ({ name: r.name, displayName: r.display_name, members: JSON.parse(r.members), source: r.source }));
    });
  }

  // ---------------------------------------------------------------- chats
  chatById(chatId: string) {
    return this.read(() => this.rows.chat(chatId));
  }

  chatsOf(userId: number) {
    return this.read(() => {
      const ids = this.prepare(
        `SELECT m.chat_id FROM chat_members m JOIN chats c ON c.id = m.chat_id
         WHERE m.user_id = ? AND m.status IN ('invited', 'accepted') ORDER BY c.created_at DESC, c.rowid DESC`,
      ).pluck().all(userId) as string[];
      const members = this.prepare('SELECT u.username, m.read_up_to FROM chat_members m JOIN users u ON u.id = m.user_id WHERE m.chat_id = ?');
      // A member added later to a chat sharing history 'since_added' reads (and counts) only what came after.
      const last = this.prepare(`SELECT m.*, ${MESSAGE_FILES} AS files FROM messages m WHERE chat_id = ? AND id > ? ORDER BY id DESC LIMIT 1`);
      return ids.map((id) => {
        const { chat } = this.rows.chat(id)!;
        const marks = new Map((members.all(id) as Row[]).map((r) => [r.username as string, r.read_up_to as number]));
        const after = this.rows.visibleAfter(id, userId);
        const lastRow = last.get(id, after) as Row | undefined;
        const mine = Math.max(this.rows.readUpTo(id, userId), after);
        return {
          ...chat,
          members: chat.members.map((m) => ({ ...m, readUpTo: marks.get(m.username) ?? 0 })),
          unread: this.rows.unreadCount(id, userId, mine),
          ...(lastRow ? { lastMessage: this.rows.withReactions([lastRow])[0]! } : {}),
        };
      });
    });
  }

  chatMutes(userId: number, now: number) {
    return this.read(() => {
      const rows = this.prepare('SELECT chat_id, until FROM chat_mutes WHERE user_id = ? AND (until IS NULL OR until > ?)').all(userId, now) as Row[];
      return new Map(rows.map((r) => [r.chat_id as string, (r.until as number | null) ?? null]));
    });
  }

  /** `readerId`: a member, who reads only what they may (a chat's history 'since_added'). */
  messages(chatId: string, before: number | undefined, limit: number, readerId?: number) {
    return this.read(() => {
      const after = readerId === undefined ? 0 : this.rows.visibleAfter(chatId, readerId);
      const rows = this.prepare(`SELECT m.*, ${MESSAGE_FILES} AS files FROM messages m WHERE chat_id = ? AND id < ? AND id > ? ORDER BY id DESC LIMIT ?`)
        .all(chatId, before ?? Number.MAX_SAFE_INTEGER, after, limit) as Row[];
      return this.rows.withReactions(rows.reverse());
    });
  }

  /**
   * Terms of three characters or more go through the trigram index (FTS5 matches any substring of
   * 3+ characters, in any script); shorter ones (a two-character Japanese word such as 会議) cannot,
   * so they are matched with LIKE over the messages the other conditions leave.
   */
  searchMessages(userId: number, { terms, chatId, before, limit }: MessageSearch) {
    return this.read(() => {
      const long = terms.filter((t) => [...t].length >= 3);
      const short = terms.filter((t) => [...t].length < 3);
      const params: Record<string, unknown> = { user: userId, chat: chatId ?? null, before: before ?? Number.MAX_SAFE_INTEGER, limit };
      let sql = `SELECT m.*, ${MESSAGE_FILES} AS files FROM messages m
        WHERE m.chat_id IN (SELECT chat_id FROM chat_members WHERE user_id = @user AND status = 'accepted')
          AND (@chat IS NULL OR m.chat_id = @chat) AND m.id < @before
          AND (m.held = 0 OR m.from_user_id = @user) -- a message held during a call's hold is its author's alone until released
          AND m.id > ${visibleAfterSql('@user', 'm.chat_id')}`; // a chat's history 'since_added' (migration 13)
      const like = (t: string) => `%${t.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      if (long.length > 0) {
        // Indexed messages through the index; the few stored since its last round (search-indexer.ts) directly.
        const unindexed = long.map((_, i) => ` AND m.text LIKE @long${i} ESCAPE '\\'`).join('');
        sql += ` AND (m.id IN (SELECT rowid FROM messages_fts WHERE messages_fts MATCH @match)
          OR (m.id > (SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'fts_indexed_through')${unindexed}))`;
        params.match = long.map((t) => `"${t.replaceAll('"', '""')}"`).join(' ');
        long.forEach((t, i) => (params[`long${i}`] = like(t)));
      }
      short.forEach((t, i) => {
        sql += ` AND m.text LIKE @like${i} ESCAPE '\\'`;
        params[`like${i}`] = like(t);
      });
      sql += ' ORDER BY m.id DESC LIMIT @limit';
      return (this.prepare(sql).all(params) as Row[]).map(toMessage);
    });
  }

  chatFile(fileId: string, readerId?: number) {
    return this.read(() => {
      const readable = `AND (f.uploader_id = @reader OR ${visibleAfterSql('@reader', 'f.chat_id')} = 0 OR EXISTS (SELECT 1 FROM message_files mf WHERE mf.file_id = f.id AND mf.message_id > ${visibleAfterSql('@reader', 'f.chat_id')}))`;
      const row = this.prepare(`SELECT f.* FROM chat_files f WHERE f.id = @id ${readerId === undefined ? '' : readable}`).get({ id: fileId, reader: readerId ?? null }) as Row | undefined;
      return row && toChatFile(row);
    });
  }

  sweepChatFiles(unattachedBefore: number) {
    return this.enqueue(() => {
      const deleted = this.prepare(
        'DELETE FROM chat_files WHERE created_at < ? AND NOT EXISTS (SELECT 1 FROM message_files mf WHERE mf.file_id = chat_files.id)',
      ).run(unattachedBefore).changes;
      const keep = new Set(this.prepare('SELECT sha256 FROM chat_files UNION SELECT thumb_sha256 FROM chat_files WHERE thumb_sha256 IS NOT NULL').pluck().all() as string[]);
      return { deleted, keep };
    });
  }

  // ---------------------------------------------------------------- event log
  private readonly toStored = (r: Row): StoredEvent => ({ seq: r.seq, topic: r.topic, json: `{"cursor":"${r.seq}",${(r.body as string).slice(1)}` });

  /**
   * Only events already published: one committed but not yet on disk is neither delivered nor
   * allowed to carry a poll's cursor past an event of a topic the poll is about to listen to (a
   * chat accepted in the same batch: its first message was lost that way, tests/integration/accept-race).
   */
  readEvents(topics: string[], after: number, limit: number) {
    return this.read(() => {
      const upTo = this.published;
      const rows = topics.length === 1 ? this.q.readTopic.all(topics[0], after, upTo, limit) : this.q.readEvents.all(after, upTo, JSON.stringify(topics), limit);
      return (rows as Row[]).map(this.toStored);
    });
  }

  headSeq() {
    return this.read(() => this.q.headSeq.get() as number);
  }

  prunedThrough() {
    return this.read(() => (this.prunedThroughSeq ??= Number(this.q.meta.get('events_pruned_through') ?? 0)));
  }

  pruneEvents(olderThan: number) {
    return this.enqueue(() => {
      const last = this.prepare('SELECT max(seq) FROM events WHERE at < ?').pluck().get(olderThan) as number | null;
      if (last === null) return 0;
      const removed = this.prepare('DELETE FROM events WHERE seq <= ?').run(last).changes;
      this.q.setMeta.run('events_pruned_through', String(last));
      this.prunedThroughSeq = undefined;
      return removed;
    });
  }

  syncExternal() {
    return this.read(() => {
      const version = this.db.pragma('data_version', { simple: true }) as number;
      if (version === this.dataVersion) return false;
      this.dataVersion = version;
      // Another process (the admin CLI) wrote: what is kept in memory may be stale.
      this.sessionCache.clear();
      this.prunedThroughSeq = undefined;
      // Up to our own batch still waiting for its fsync: that one publishes itself.
      const waiting = this.syncing?.appended[0]?.seq;
      this.publish(this.unpublished(waiting === undefined ? Number.MAX_SAFE_INTEGER : waiting - 1));
      return true;
    });
  }
}
