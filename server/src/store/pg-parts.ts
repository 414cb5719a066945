/**
 * The calls, meetings, portal and terminals parts of the PostgreSQL store (issue 15). Each class
 * serves both faces of its part: on a write's client it is the row operations (StoreTx.calls,
 * .meetings, .portal), on the pool the reads; the writes a part makes on its own (no rule, no
 * event) run through `transact`, the store's write transaction. Row mappers are the embedded
 * store's (booleans as 0/1: `PgDb`).
 */
import DataLoader from 'dataloader';
import pg from 'pg';
import { randomUUID } from 'node:crypto';
import type { CallEndReason, CallMemberState, ChartSeries, ClientInfo, Notice, TickerItem } from '../../../shared/index.js';
import type { CallRecord, CallRows, CallStore, CallTransferRecord } from './calls.js';
import { StoreError } from './errors.js';
import type { DocumentRecord, GuestStatus, MeetingRows, MeetingStore } from './meetings.js';
import type { ChannelRecord, ItemKind, MediaKind, MediaUsage, PortalRows, PortalStore, ProviderRecord, StoredMedia } from './portal.js';
import { toCallRecord, toChannel, toMeetingDocument, toGuest, toMeeting, toMessage, toTerminal, type Row } from './rows.js';
import type { TerminalRecord, TerminalStore } from './terminals.js';

export type Queryable = Pick<pg.ClientBase, 'query'>;

/**
 * Reads of one kind gathered into one query: those asked for while such a query is in flight go
 * in the next one (the first waits only for the rest of its turn of the event loop). Never
 * cached: each read's query starts after it was asked for, so it sees every commit made before
 * (a token revoked on another node is refused at once). A storm of polls (thousands connecting or
 * woken together) then costs a query per round trip to PostgreSQL, not one per poll.
 */
export function gatheredReads<K, V>(read: (keys: readonly K[]) => Promise<V[]>, maxPerQuery = 500): DataLoader<K, V> {
  let inFlight: Promise<unknown> | undefined;
  return new DataLoader<K, V>(
    async (keys) => {
      const answers = read(keys);
      inFlight = answers;
      try {
        return await answers;
      } finally {
        if (inFlight === answers) inFlight = undefined;
      }
    },
    {
      cache: false,
      maxBatchSize: maxPerQuery,
      batchScheduleFn: (dispatch) => {
        if (inFlight) void inFlight.then(dispatch, dispatch);
        else setImmediate(dispatch);
      },
    },
  );
}

/** PostgreSQL booleans as SQLite's 0/1, so the embedded store's row mappers serve both. */
export function asSqliteRow(r: Row): Row {
  for (const k in r) if (typeof r[k] === 'boolean') r[k] = r[k] ? 1 : 0;
  return r;
}

/** A unique violation as the store's StoreError, like `unique` (errors.ts) on SQLite. */
export async function unique<T>(what: string, insert: () => Promise<T>): Promise<T> {
  try {
    return await insert();
  } catch (error) {
    if ((error as { code?: string }).code === '23505') throw new StoreError('unique', what);
    throw error;
  }
}

/** Statement names by query text (bounded: texts built from input, such as a search's terms, may vary). */
const statementNames = new Map<string, string>();
const MAX_NAMED = 2000;

/**
 * Parameterized queries named by their text, so each connection parses and plans one once
 * (node-postgres keeps the prepared statement per connection) rather than at every call: a write
 * is several queries one after the other on the group commit's critical path (measured: about a
 * quarter more writes a second, docs/benchmarks.md). Queries without parameters stay as they are
 * (the simple protocol: several statements in one round trip).
 */
export function preparing(db: Queryable): Queryable {
  return {
    query: ((text: unknown, values?: unknown[]) => {
      if (typeof text !== 'string' || values === undefined) return (db.query as (...a: unknown[]) => unknown)(text, values);
      let name = statementNames.get(text);
      if (name === undefined && statementNames.size < MAX_NAMED) statementNames.set(text, (name = `p${statementNames.size + 1}`));
      return db.query(name === undefined ? { text, values } : { name, text, values });
    }) as Queryable['query'],
  };
}

/** Queries on a client or the pool, rows mapped as SQLite's. */
export class PgDb {
  constructor(readonly db: Queryable) {}

  async all(sql: string, params: unknown[] = []): Promise<Row[]> {
    try {
      return (await this.db.query(sql, params)).rows.map(asSqliteRow);
    } catch (error) {
      // A text with NUL (or not UTF-8) cannot be stored in PostgreSQL, so no row holds it: a
      // lookup by it finds nothing, as on SQLite. A write of it still fails.
      if (/^SELECT/i.test(sql.trimStart()) && ['22021', '22P05'].includes((error as { code?: string }).code ?? '')) return [];
      throw error;
    }
  }

  async one(sql: string, params: unknown[] = []): Promise<Row | undefined> {
    return (await this.all(sql, params))[0];
  }

  /** Rows changed. */
  async run(sql: string, params: unknown[] = []): Promise<number> {
    return (await this.db.query(sql, params)).rowCount ?? 0;
  }
}

/** Runs `fn` in one write transaction of the store (its lock taken). */
export type Transact = <T>(fn: (db: PgDb) => Promise<T>) => Promise<T>;

// ---------------------------------------------------------------- calls
const CALL_MEMBERS = `SELECT m.user_id, m.state, m.position, u.username, u.display_name, (SELECT r.username FROM users r WHERE r.id = m.rung_by) AS rung_by
   FROM call_members m JOIN users u ON u.id = m.user_id WHERE m.call_id = $1
   UNION ALL
   SELECT -g.guest_id, g.state, g.position, 'guest-' || g.guest_id, mg.name || ' (guest)', NULL FROM call_guests g
   JOIN meeting_guests mg ON mg.id = g.guest_id WHERE g.call_id = $1
   ORDER BY position`;

const RINGING_SINCE = `SELECT c.id AS "callId", m.user_id AS "userId" FROM calls c JOIN call_members m ON m.call_id = c.id
   WHERE c.state != 'ended' AND COALESCE(m.rung_at, c.transfer_at, c.created_at) <= $1 AND m.state = 'ringing'
   UNION ALL
   SELECT c.id, -g.guest_id FROM calls c JOIN call_guests g ON g.call_id = c.id
   WHERE c.state != 'ended' AND c.created_at <= $1 AND g.state = 'ringing'`;

export class PgCalls extends PgDb implements CallRows, CallStore {
  async get(callId: string): Promise<CallRecord | undefined> {
    const r = await this.one('SELECT * FROM calls WHERE id = $1', [callId]);
    return r && toCallRecord(r, await this.all(CALL_MEMBERS, [callId]));
  }

  async engaged(userId: number) {
    return (await this.engagedIn(userId)) !== undefined;
  }

  async engagedIn(userId: number) {
    const r =
      userId < 0
        ? await this.one(
            `SELECT c.id FROM call_guests m JOIN calls c ON c.id = m.call_id WHERE m.guest_id = $1 AND m.state IN ('joined', 'ringing') AND c.state != 'ended' LIMIT 1`,
            [-userId],
          )
        : await this.one(
            `SELECT c.id FROM call_members m JOIN calls c ON c.id = m.call_id WHERE m.user_id = $1 AND m.state IN ('joined', 'ringing') AND c.state != 'ended' LIMIT 1`,
            [userId],
          );
    return r?.id as string | undefined;
  }

  async liveCallOf(userId: number, except = '') {
    const [table, column] = userId < 0 ? ['call_guests', 'guest_id'] : ['call_members', 'user_id'];
    const r = await this.one(
      `SELECT c.id FROM ${table} m JOIN calls c ON c.id = m.call_id WHERE m.${column} = $1 AND m.state = 'joined' AND c.state != 'ended' AND c.id != $2 LIMIT 1`,
      [Math.abs(userId), except],
    );
    return r?.id as string | undefined;
  }

  async insert(input: { chatId: string; createdBy: string; createdAt: number; video: boolean; members: Array<[number, CallMemberState]> }) {
    const id = randomUUID();
    await this.run('INSERT INTO calls (id, chat_id, created_by, created_at, video, state) VALUES ($1, $2, $3, $4, $5, $6)', [id, input.chatId, input.createdBy, input.createdAt, input.video, 'ringing']);
    for (const [i, [userId, state]] of input.members.entries()) await this.addAt(id, userId, state, i);
    return id;
  }

  private async addAt(callId: string, userId: number, state: CallMemberState, position: number) {
    if (userId < 0) await this.run('INSERT INTO call_guests (call_id, guest_id, state, position) VALUES ($1, $2, $3, $4)', [callId, -userId, state, position]);
    else await this.run('INSERT INTO call_members (call_id, user_id, state, position) VALUES ($1, $2, $3, $4)', [callId, userId, state, position]);
  }

  async setMember(callId: string, userId: number, state: CallMemberState) {
    if (userId < 0) await this.run('UPDATE call_guests SET state = $1 WHERE call_id = $2 AND guest_id = $3', [state, callId, -userId]);
    else await this.run('UPDATE call_members SET state = $1 WHERE call_id = $2 AND user_id = $3', [state, callId, userId]);
  }

  async answered(callId: string, at: number) {
    await this.run("UPDATE calls SET state = 'active', answered_at = $1 WHERE id = $2", [at, callId]);
  }

  async ended(callId: string, at: number, reason: CallEndReason) {
    await this.run("UPDATE calls SET state = 'ended', ended_at = $1, end_reason = $2 WHERE id = $3", [at, reason, callId]);
  }

  async ringingSince(startedBefore: number) {
    return (await this.all(RINGING_SINCE, [startedBefore])) as Array<{ callId: string; userId: number }>;
  }

  async ring(callId: string, userId: number, at: number, byId: number) {
    if (!(await this.one('SELECT 1 FROM call_members WHERE call_id = $1 AND user_id = $2', [callId, userId]))) await this.addMember(callId, userId, 'ringing');
    await this.run("UPDATE call_members SET state = 'ringing', rung_at = $1, rung_by = $2 WHERE call_id = $3 AND user_id = $4", [at, byId, callId, userId]);
  }

  async addMember(callId: string, userId: number, state: CallMemberState) {
    const r = await this.one(
      'SELECT 1 + max(position) AS p FROM (SELECT position FROM call_members WHERE call_id = $1 UNION ALL SELECT position FROM call_guests WHERE call_id = $1) AS a',
      [callId],
    );
    await this.addAt(callId, userId, state, (r?.p as number | null) ?? 0);
  }

  async setHold(callId: string, userId: number | null) {
    await this.run('UPDATE calls SET held_by = $1 WHERE id = $2', [userId, callId]);
  }

  async setTransfer(callId: string, t: CallTransferRecord | null) {
    await this.run('UPDATE calls SET transfer_from = $1, transfer_to = $2, transfer_reason = $3, transfer_at = $4, transfer_warm = $5 WHERE id = $6', [
      t?.fromId ?? null,
      t?.toId ?? null,
      t?.reason ?? null,
      t?.at ?? null,
      t?.warm ?? false,
      callId,
    ]);
  }

  async liveInChat(chatId: string) {
    return (await this.one("SELECT id FROM calls WHERE chat_id = $1 AND state != 'ended' ORDER BY created_at DESC LIMIT 1", [chatId]))?.id as string | undefined;
  }

  async heldInChat(chatId: string) {
    return (await this.one("SELECT 1 FROM calls WHERE chat_id = $1 AND state != 'ended' AND held_by IS NOT NULL LIMIT 1", [chatId])) !== undefined;
  }

  // ---------------------------------------------------------------- reads
  async liveInChats(chatIds: string[]) {
    if (chatIds.length === 0) return [];
    const ids = (await this.all("SELECT id FROM calls WHERE state != 'ended' AND chat_id = ANY($1)", [chatIds])).map((r) => r.id as string);
    const calls = [];
    for (const id of ids) {
      const record = await this.get(id);
      if (record) calls.push(record.call);
    }
    return calls;
  }

  byId(callId: string) {
    return this.get(callId);
  }

  async ringsDue(startedBefore: number) {
    return (await this.one(`${RINGING_SINCE} LIMIT 1`, [startedBefore])) !== undefined;
  }

  async joinedMembers() {
    return (await this.all(
      `SELECT m.call_id AS "callId", m.user_id AS "userId" FROM calls c JOIN call_members m ON m.call_id = c.id WHERE c.state != 'ended' AND m.state = 'joined'`,
    )) as Array<{ callId: string; userId: number }>;
  }

  async usersOnCall() {
    return (await this.all("SELECT DISTINCT m.user_id FROM call_members m JOIN calls c ON c.id = m.call_id WHERE c.state != 'ended' AND m.state = 'joined'")).map(
      (r) => r.user_id as number,
    );
  }
}

// ---------------------------------------------------------------- meetings
const MEETING = `SELECT m.*, u.username AS host_username, u.display_name AS host_display_name FROM meetings m JOIN users u ON u.id = m.host_id`;

export class PgMeetings extends PgDb implements MeetingRows, MeetingStore {
  private async meeting(where: string, params: unknown[]) {
    const r = await this.one(`${MEETING} WHERE ${where}`, params);
    return r && toMeeting(r);
  }

  get(meetingId: string) {
    return this.meeting('m.id = $1', [meetingId]);
  }

  liveByNumber(number: string) {
    return this.meeting('m.number = $1 AND m.ended_at IS NULL', [number]);
  }

  async numberTaken(number: string) {
    return (
      (await this.one('SELECT 1 FROM meetings WHERE number = $1 AND ended_at IS NULL UNION ALL SELECT 1 FROM meeting_numbers WHERE number = $1 LIMIT 1', [number])) !== undefined
    );
  }

  async liveMeetingOfChat(chatId: string) {
    return (await this.one('SELECT 1 FROM meetings WHERE chat_id = $1 AND ended_at IS NULL LIMIT 1', [chatId])) !== undefined;
  }

  liveMeetingByChat(chatId: string) {
    return this.meeting('m.chat_id = $1 AND m.ended_at IS NULL', [chatId]);
  }

  async fixedNumberOf(userId: number) {
    return (await this.one('SELECT number FROM meeting_numbers WHERE user_id = $1', [userId]))?.number as string | undefined;
  }

  async setFixedNumber(userId: number, number: string) {
    await this.run('INSERT INTO meeting_numbers (user_id, number) VALUES ($1, $2)', [userId, number]);
  }

  async insert(input: { number: string; title: string; hostId: number; chatId: string; fixed: boolean; createdAt: number }) {
    const id = randomUUID();
    await this.run('INSERT INTO meetings (id, number, title, host_id, chat_id, fixed, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)', [
      id,
      input.number,
      input.title,
      input.hostId,
      input.chatId,
      input.fixed,
      input.createdAt,
    ]);
    return id;
  }

  async end(meetingId: string, at: number) {
    await this.run('UPDATE meetings SET ended_at = $1 WHERE id = $2 AND ended_at IS NULL', [at, meetingId]);
  }

  async setPresentation(meetingId: string, presentation: { documentId: string; page: number }) {
    await this.run('UPDATE meetings SET presentation = $1 WHERE id = $2', [JSON.stringify(presentation), meetingId]);
  }

  async insertGuest(input: { meetingId: string; name: string; address: string; tokenHash: Buffer; createdAt: number }) {
    const r = await this.one('INSERT INTO meeting_guests (meeting_id, name, address, token_hash, status, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id', [
      input.meetingId,
      input.name,
      input.address,
      input.tokenHash,
      'knocking',
      input.createdAt,
    ]);
    return r!.id as number;
  }

  async guest(guestId: number) {
    const r = await this.one('SELECT * FROM meeting_guests WHERE id = $1', [guestId]);
    return r && toGuest(r);
  }

  async guests(meetingId: string, statuses: GuestStatus[]) {
    return (await this.all('SELECT * FROM meeting_guests WHERE meeting_id = $1 AND status = ANY($2) ORDER BY id', [meetingId, statuses])).map(toGuest);
  }

  async setGuestStatus(guestId: number, status: GuestStatus) {
    await this.run('UPDATE meeting_guests SET status = $1 WHERE id = $2', [status, guestId]);
  }

  async setPresenter(guestId: number, presenter: boolean) {
    await this.run('UPDATE meeting_guests SET presenter = $1 WHERE id = $2', [presenter, guestId]);
  }

  async guestMessage(guestId: number, clientId: string) {
    const r = await this.one('SELECT m.* FROM meeting_guest_messages g JOIN messages m ON m.id = g.message_id WHERE g.guest_id = $1 AND g.client_id = $2', [guestId, clientId]);
    return r && toMessage(r);
  }

  async rememberGuestMessage(guestId: number, clientId: string, messageId: number) {
    await this.run('INSERT INTO meeting_guest_messages (guest_id, client_id, message_id) VALUES ($1, $2, $3)', [guestId, clientId, messageId]);
  }

  async insertDocument(input: DocumentRecord) {
    await this.run('INSERT INTO meeting_documents (id, meeting_id, name, pages, created_at) VALUES ($1, $2, $3, $4, $5)', [
      input.id,
      input.meetingId,
      input.name,
      JSON.stringify(input.pages),
      input.createdAt,
    ]);
  }

  async document(documentId: string) {
    const r = await this.one('SELECT * FROM meeting_documents WHERE id = $1', [documentId]);
    return r && toMeetingDocument(r);
  }

  // ---------------------------------------------------------------- reads
  byId(meetingId: string) {
    return this.get(meetingId);
  }

  async liveOfHost(hostId: number) {
    return (await this.all(`${MEETING} WHERE m.host_id = $1 AND m.ended_at IS NULL ORDER BY m.created_at DESC`, [hostId])).map(toMeeting);
  }

  async guestByTokenHash(tokenHash: Buffer) {
    const r = await this.one('SELECT * FROM meeting_guests WHERE token_hash = $1', [tokenHash]);
    if (!r) return undefined;
    const guest = toGuest(r);
    const meeting = await this.get(guest.meetingId);
    return meeting && { guest, meeting };
  }

  guestById(guestId: number) {
    return this.guest(guestId);
  }

  async documents(meetingId: string) {
    return (await this.all('SELECT * FROM meeting_documents WHERE meeting_id = $1 ORDER BY created_at, id', [meetingId])).map(toMeetingDocument);
  }
}

// ---------------------------------------------------------------- portal
/** Drops undefined fields, so optional protocol fields are absent rather than null. */
const defined = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

/** The sha256 of live media items of a provider ($1), at $2. */
const LIVE_MEDIA = "SELECT body::json->>'sha256' FROM items WHERE kind = 'media' AND provider_id = $1 AND (expires_at IS NULL OR expires_at > $2)";

/** The portal's row operations (on a write's client); `PgPortal` adds the reads and its own writes. */
export class PgPortalRows extends PgDb implements PortalRows {
  async channel(name: string) {
    const r = await this.one('SELECT id, name FROM channels WHERE lower(name) = lower($1)', [name]);
    if (!r) throw new StoreError('not_found', `channel ${name}`);
    return r as { id: number; name: string };
  }

  async insertItem(kind: ItemKind, at: { channelId: number; providerId: number; priority: number; startsAt?: number; expiresAt?: number; createdAt: number }) {
    const r = await this.one(
      "INSERT INTO items (kind, channel_id, provider_id, body, priority, starts_at, expires_at, created_at) VALUES ($1, $2, $3, '{}', $4, $5, $6, $7) RETURNING id",
      [kind, at.channelId, at.providerId, at.priority, at.startsAt ?? null, at.expiresAt ?? null, at.createdAt],
    );
    return r!.id as number;
  }

  async setItemBody(itemId: number, body: object) {
    await this.run('UPDATE items SET body = $1 WHERE id = $2', [JSON.stringify(body), itemId]);
  }

  async mediaUsage(providerId: number, sha256: string, now: number): Promise<MediaUsage> {
    const r = await this.one(
      `SELECT (SELECT coalesce(sum(size + unpacked_size), 0) FROM media_files WHERE sha256 IN (${LIVE_MEDIA})) AS used,
              EXISTS (${LIVE_MEDIA} AND body::json->>'sha256' = $3) AS holds`,
      [providerId, now, sha256],
    );
    return { used: Number(r!.used), holds: r!.holds === 1 };
  }

  async putChartPoints(channelId: number, series: string, unit: string | undefined, points: Array<[number, number]>, keep: number) {
    await this.run(
      'INSERT INTO chart_series (channel_id, series, unit) VALUES ($1, $2, $3) ON CONFLICT (channel_id, series) DO UPDATE SET unit = coalesce(excluded.unit, chart_series.unit)',
      [channelId, series, unit ?? null],
    );
    // Later points of the same time replace earlier ones (as INSERT OR REPLACE, one statement: no duplicate keys in it).
    const latest = new Map(points.map(([t, v]) => [t, v]));
    await this.run(
      'INSERT INTO chart_points (channel_id, series, t, value) SELECT $1, $2, p.t, p.v FROM unnest($3::bigint[], $4::float8[]) AS p(t, v) ON CONFLICT (channel_id, series, t) DO UPDATE SET value = excluded.value',
      [channelId, series, [...latest.keys()], [...latest.values()]],
    );
    await this.run(
      `DELETE FROM chart_points WHERE channel_id = $1 AND series = $2 AND t < (
         SELECT t FROM chart_points WHERE channel_id = $1 AND series = $2 ORDER BY t DESC LIMIT 1 OFFSET $3)`,
      [channelId, series, keep - 1],
    );
    return ((await this.one('SELECT unit FROM chart_series WHERE channel_id = $1 AND series = $2', [channelId, series]))?.unit as string | null) ?? undefined;
  }

  async setLinks(html: string, updatedAt: string) {
    await this.run("INSERT INTO meta (key, value) VALUES ('links_html', $1), ('links_updated_at', $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value", [html, updatedAt]);
  }
}

export class PgPortal extends PgPortalRows implements PortalStore {
  /** Every first poll reads its user's channels: gathered (see gatheredReads). */
  private readonly channelsOf = gatheredReads<number, ChannelRecord[]>(async (userIds) => {
    const chosen = await this.all('SELECT uc.user_id AS chooser, c.* FROM user_channels uc JOIN channels c ON c.id = uc.channel_id WHERE uc.user_id = ANY($1::bigint[]) ORDER BY uc.position', [userIds]);
    const byUser = new Map<number, ChannelRecord[]>();
    for (const row of chosen) {
      const list = byUser.get(Number(row.chooser)) ?? [];
      if (list.length === 0) byUser.set(Number(row.chooser), list);
      list.push(toChannel(row));
    }
    const defaults = byUser.size < new Set(userIds).size ? (await this.all('SELECT * FROM channels WHERE is_default ORDER BY name')).map(toChannel) : [];
    return userIds.map((id) => [...(byUser.get(id) ?? defaults)]);
  });

  constructor(
    db: Queryable,
    private readonly transact: Transact,
  ) {
    super(db);
  }

  private async provider(db: PgDb, where: 'key_hash' | 'name' | 'id', value: unknown): Promise<ProviderRecord | undefined> {
    const r = await db.one(`SELECT * FROM providers WHERE ${where === 'name' ? 'lower(name) = lower($1)' : `${where} = $1`}`, [value]);
    if (!r) return undefined;
    const channels = (
      await db.all('SELECT c.name FROM provider_channels pc JOIN channels c ON c.id = pc.channel_id WHERE pc.provider_id = $1 ORDER BY c.name', [r.id])
    ).map((c) => c.name as string);
    return { id: r.id, name: r.name, channels, requireSignature: r.require_signature === 1, keySealed: r.key_sealed, createdAt: r.created_at };
  }

  private async grantChannels(db: PgDb, providerId: number, channels: string[], now: number) {
    for (const name of channels) {
      await db.run('INSERT INTO channels (name, title, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [name.toLowerCase(), name, now]);
      const { id } = await new PgPortalRows(db.db).channel(name);
      await db.run('INSERT INTO provider_channels (provider_id, channel_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [providerId, id]);
    }
  }

  createProvider(input: { name: string; channels: string[]; keyHash: Buffer; keySealed: string; requireSignature: boolean }) {
    return this.transact(async (db) => {
      if (await this.provider(db, 'name', input.name)) throw new StoreError('unique', `the provider ${input.name}`);
      const now = Date.now();
      const r = await unique(`the provider ${input.name}`, () =>
        db.one('INSERT INTO providers (name, key_hash, key_sealed, require_signature, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id', [
          input.name,
          input.keyHash,
          input.keySealed,
          input.requireSignature,
          now,
        ]),
      );
      await this.grantChannels(db, r!.id, input.channels, now);
      return (await this.provider(db, 'id', r!.id))!;
    });
  }

  setProviderChannels(name: string, channels: string[]) {
    return this.transact(async (db) => {
      const provider = await this.provider(db, 'name', name);
      if (!provider) throw new StoreError('not_found', `provider ${name}`);
      await db.run('DELETE FROM provider_channels WHERE provider_id = $1', [provider.id]);
      await this.grantChannels(db, provider.id, channels, Date.now());
      return (await this.provider(db, 'id', provider.id))!;
    });
  }

  providerByKeyHash(keyHash: Buffer) {
    return this.provider(this, 'key_hash', keyHash);
  }

  providerByName(name: string) {
    return this.provider(this, 'name', name);
  }

  async listProviders() {
    const providers: ProviderRecord[] = [];
    for (const r of await this.all('SELECT id FROM providers ORDER BY name')) providers.push((await this.provider(this, 'id', r.id))!);
    return providers.filter(Boolean);
  }

  rotateProviderKey(name: string, keyHash: Buffer, keySealed: string) {
    return this.transact(async (db) => {
      if ((await db.run('UPDATE providers SET key_hash = $1, key_sealed = $2 WHERE lower(name) = lower($3)', [keyHash, keySealed, name])) === 0) {
        throw new StoreError('not_found', `provider ${name}`);
      }
      return (await this.provider(db, 'name', name))!;
    });
  }

  deleteProvider(name: string) {
    return this.transact(async (db) => (await db.run('DELETE FROM providers WHERE lower(name) = lower($1)', [name])) > 0);
  }

  async listChannels() {
    return (await this.all('SELECT * FROM channels ORDER BY name')).map(toChannel);
  }

  updateChannel(name: string, change: { title?: string; isDefault?: boolean }) {
    return this.transact(async (db) => {
      const { id } = await new PgPortalRows(db.db).channel(name);
      if (change.title !== undefined) await db.run('UPDATE channels SET title = $1 WHERE id = $2', [change.title, id]);
      if (change.isDefault !== undefined) await db.run('UPDATE channels SET is_default = $1 WHERE id = $2', [change.isDefault, id]);
      return toChannel((await db.one('SELECT * FROM channels WHERE id = $1', [id]))!);
    });
  }

  async channelsOfUser(userId: number) {
    return (await this.all('SELECT c.name FROM user_channels uc JOIN channels c ON c.id = uc.channel_id WHERE uc.user_id = $1 ORDER BY uc.position', [userId])).map(
      (r) => r.name as string,
    );
  }

  setChannelsOfUser(userId: number, names: string[]) {
    return this.transact(async (db) => {
      const rows = new PgPortalRows(db.db);
      const ids: number[] = [];
      for (const n of names) ids.push((await rows.channel(n)).id);
      await db.run('DELETE FROM user_channels WHERE user_id = $1', [userId]);
      for (const [position, id] of ids.entries()) {
        await db.run('INSERT INTO user_channels (user_id, channel_id, position) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [userId, id, position]);
      }
    });
  }

  /** The user's chosen channels in their order, or the default ones (by name) if they chose none. */
  tickerChannelsFor(userId: number): Promise<ChannelRecord[]> {
    return this.channelsOf.load(userId);
  }

  private async liveItems<T>(kind: string, now: number, channelId?: number, limit = 200): Promise<T[]> {
    const rows = await this.all(
      `SELECT body FROM items WHERE kind = $1 AND (expires_at IS NULL OR expires_at > $2) AND ($3::bigint IS NULL OR channel_id = $3) ORDER BY priority DESC, id DESC LIMIT $4`,
      [kind, now, channelId ?? null, limit],
    );
    return rows.map((r) => JSON.parse(r.body) as T);
  }

  async liveTicker(channelIds: number[], now: number, perChannel: number) {
    const items: TickerItem[] = [];
    for (const id of channelIds) items.push(...(await this.liveItems<TickerItem>('ticker', now, id, perChannel)));
    return items;
  }

  liveNotices(now: number) {
    return this.liveItems<Notice>('notice', now);
  }

  async chartSeries(channel: string | undefined, series: string | undefined) {
    const rows = await this.all(
      `SELECT s.channel_id, c.name AS channel, s.series, s.unit FROM chart_series s JOIN channels c ON c.id = s.channel_id
       WHERE ($1::text IS NULL OR lower(c.name) = lower($1)) AND ($2::text IS NULL OR s.series = $2) ORDER BY c.name, s.series`,
      [channel ?? null, series ?? null],
    );
    const result: ChartSeries[] = [];
    for (const r of rows) {
      const points = await this.all('SELECT t, value FROM chart_points WHERE channel_id = $1 AND series = $2 ORDER BY t', [r.channel_id, r.series]);
      result.push(defined<ChartSeries>({ channel: r.channel, series: r.series, unit: r.unit ?? undefined, points: points.map((p): [number, number] => [p.t, p.value]) }));
    }
    return result;
  }

  putMediaFile(file: { sha256: string; size: number; contentType: string; kind: MediaKind; unpackedSize?: number }) {
    return this.transact(async (db) => {
      await db.run('INSERT INTO media_files (sha256, size, content_type, kind, created_at, unpacked_size) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING', [
        file.sha256,
        file.size,
        file.contentType,
        file.kind,
        Date.now(),
        file.unpackedSize ?? 0,
      ]);
    });
  }

  async mediaFile(sha256: string) {
    const r = await this.one('SELECT size, content_type, kind, unpacked_size FROM media_files WHERE sha256 = $1', [sha256]);
    return r && { size: r.size as number, contentType: r.content_type as string, kind: r.kind as MediaKind, unpackedSize: r.unpacked_size as number };
  }

  liveMedia(now: number) {
    return this.liveItems<StoredMedia>('media', now);
  }

  deleteExpiredMedia(now: number) {
    return this.transact(async (db) => {
      const items = await db.run("DELETE FROM items WHERE kind = 'media' AND expires_at IS NOT NULL AND expires_at <= $1", [now]);
      await db.run(
        "DELETE FROM media_files WHERE sha256 NOT IN (SELECT body::json->>'sha256' FROM items WHERE kind = 'media' AND body::json->>'sha256' IS NOT NULL)",
      );
      const keep = new Set((await db.all('SELECT sha256 FROM media_files')).map((r) => r.sha256 as string));
      return { items, keep };
    });
  }

  async links() {
    const rows = new Map((await this.all("SELECT key, value FROM meta WHERE key IN ('links_html', 'links_updated_at')")).map((r) => [r.key as string, r.value as string]));
    const html = rows.get('links_html') ?? '';
    const updatedAt = rows.get('links_updated_at');
    return updatedAt ? { html, updatedAt } : { html };
  }
}

// ---------------------------------------------------------------- terminals
const TERMINAL = 'SELECT t.*, u.username FROM terminals t LEFT JOIN users u ON u.id = t.user_id';

export class PgTerminals extends PgDb implements TerminalStore {
  constructor(
    db: Queryable,
    private readonly transact: Transact,
  ) {
    super(db);
  }

  register({ client, userId, seats, now = Date.now() }: { client: ClientInfo; userId: number; seats?: number; now?: number }) {
    return this.transact(async (db): Promise<TerminalRecord | 'seat_limit' | 'taken'> => {
      const installId = client.installId.toLowerCase();
      const known = await db.one('SELECT user_id FROM terminals WHERE install_id = $1', [installId]);
      if (known) {
        // Another user's terminal is theirs: never overwritten (one whose user was removed is free).
        if (known.user_id !== null && known.user_id !== userId) return 'taken';
        await db.run('UPDATE terminals SET user_id = $1, version = $2, platform = $3, last_seen = $4 WHERE install_id = $5', [userId, client.version, client.platform, now, installId]);
      } else {
        const used = Number((await db.one('SELECT count(*) AS n FROM terminals'))!.n);
        if (seats !== undefined && used >= seats) return 'seat_limit';
        await db.run('INSERT INTO terminals (install_id, user_id, version, platform, first_seen, last_seen) VALUES ($1, $2, $3, $4, $5, $6)', [
          installId,
          userId,
          client.version,
          client.platform,
          now,
          now,
        ]);
      }
      return toTerminal((await db.one(`${TERMINAL} WHERE t.install_id = $1`, [installId]))!);
    });
  }

  async list() {
    return (await this.all(`${TERMINAL} ORDER BY t.last_seen DESC, t.install_id`)).map(toTerminal);
  }

  async count() {
    return Number((await this.one('SELECT count(*) AS n FROM terminals'))!.n);
  }

  remove(installId: string) {
    return this.transact(async (db) => (await db.run('DELETE FROM terminals WHERE install_id = $1', [installId.toLowerCase()])) > 0);
  }
}
