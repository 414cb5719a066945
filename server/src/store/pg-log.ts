/**
 * The event log on PostgreSQL (issue 15), shared by every node of a cluster.
 *
 * One order, nothing skipped. A poller asks for `seq > cursor`. PostgreSQL hands out sequence
 * values when a row is inserted, not when its transaction commits, so two transactions can commit
 * in the other order than their sequence numbers; a poller reading between the two commits sees
 * the higher number, moves its cursor past it, and never sees the lower one (measured here with
 * three writers and no lock: 9.5–16 % of events never seen). So a write transaction takes the
 * cluster-wide order lock (an advisory transaction lock) before it appends its first event, and
 * holds it to COMMIT: whoever takes it next allocates only after the previous holder committed.
 * PgStore's group commit appends all of a batch's events at its end (BatchEvents), taking the lock
 * there, outside the savepoints of its writes (a lock taken inside a savepoint that is rolled back
 * would be released with it), in the same round trip as its COMMIT: the lock is held for that
 * insert and the COMMIT only, and never while the node's answer travels.
 *
 * Cross-node wake-up. The committing transaction notifies `portico_events` with its last
 * sequence (pg_notify), which PostgreSQL delivers at COMMIT, and with its events when they fit in
 * the payload. A notification is only a hint: the listener hands on the events it carried when
 * they follow on from the last sequence it published, and otherwise reads the log from there, so
 * a lost notification or a cut connection loses nothing. Commit order is sequence order (the order
 * lock), so each node's notifications arrive in sequence order; a node is also told its own
 * batch's events once its COMMIT is answered. Either way a delivery costs no read of the log.
 */
import pg from 'pg';
import type { StoredEvent } from './store.js';
import { PG_LOCKS } from './pg-schema.js';

const { escapeLiteral } = pg;

export const EVENTS_CHANNEL = 'portico_events';

/** Events a follower reads at once. */
const READ_LIMIT = 1000;
/**
 * A batch's events ride along in its NOTIFY up to this many bytes of JSON (PostgreSQL's payload
 * limit is 8000 bytes, the sequence and a space included); a larger batch only announces itself.
 */
const CARRY_BYTES = 7800;
/** Told events kept at most (far more than are ever waiting: a bound, not a setting). */
const MAX_TOLD = 100_000;

/**
 * Why a follower reads: its batch was answered ('release': hand on what was held back for it),
 * a notification ('notified': read if it announces more than was read), anything else ('read':
 * the timer, a reconnect).
 */
const FOLLOW = ['release', 'notified', 'read'] as const;
type Follow = (typeof FOLLOW)[number];

type Queryable = Pick<pg.ClientBase, 'query'>;

const toStored = (r: { seq: string; topic: string; body: string; origin?: string | null }): StoredEvent => {
  const event: StoredEvent = { seq: Number(r.seq), topic: r.topic, json: `{"cursor":"${r.seq}",${r.body.slice(1)}` };
  if (r.origin != null) event.origin = Number(r.origin);
  return event;
};

/**
 * The events of one group commit (pg-store.ts): its writes append them here, in memory; at the
 * end they go into the log together, in the order appended, in the round trip that takes the
 * order lock and commits (closing). So a message costs no round trip of its own for its events.
 * A write rolled back drops what it appended.
 */
export class BatchEvents {
  private readonly topics: string[] = [];
  private readonly bodies: string[] = [];
  private readonly ats: number[] = [];
  private readonly origins: Array<number | null> = [];

  get length() {
    return this.topics.length;
  }

  /** `origin`: the session whose request made it (StoredEvent.origin). */
  append(topic: string, body: string, at: number, origin?: number) {
    this.topics.push(topic);
    this.bodies.push(body);
    this.ats.push(at);
    this.origins.push(origin ?? null);
  }

  /** Appends another's events, in their order. */
  appendAll(other: BatchEvents) {
    for (let i = 0; i < other.length; i++) this.append(other.topics[i]!, other.bodies[i]!, other.ats[i]!, other.origins[i] ?? undefined);
  }

  /** Forgets what was appended after the first `length` (a write rolled back to its savepoint). */
  truncate(length: number) {
    this.topics.length = this.bodies.length = this.ats.length = this.origins.length = length;
  }

  /**
   * The statements that end the group commit, sent in one round trip: the order lock, one
   * sequence per event (consecutive: nobody else allocates while the lock is held), the insert and
   * the NOTIFY (delivered at COMMIT), then COMMIT. So the lock is held from there to the end of
   * COMMIT inside PostgreSQL, never across a round trip to the node (a node waiting for its core
   * would hold every node's commits back). Several statements in one query need the simple
   * protocol, which takes no parameters: the values go in as literals, the texts escaped by pg's
   * own escapeLiteral. The first statement's row is `last` (see sequences).
   */
  closing(): string[] {
    const n = this.topics.length;
    if (n === 0) return ['COMMIT'];
    const texts = (values: string[]) => `ARRAY[${values.map((v) => escapeLiteral(v)).join(',')}]::text[]`;
    // The events themselves ride along when they fit: the followers then need not read them back.
    // (JSON only grows the texts: a batch whose texts alone pass the bound is not serialised.)
    let size = 0;
    for (let i = 0; i < n && size <= CARRY_BYTES; i++) size += this.topics[i]!.length + this.bodies[i]!.length;
    const rows = size <= CARRY_BYTES ? JSON.stringify(this.topics.map((topic, i) => [topic, this.bodies[i], this.origins[i]])) : undefined;
    const carried = rows !== undefined && Buffer.byteLength(rows) <= CARRY_BYTES ? ` || ${escapeLiteral(` ${rows}`)}` : '';
    const integers = (values: Array<number | null>) => `ARRAY[${values.map((v) => (v === null ? 'NULL' : integer(v))).join(',')}]::bigint[]`;
    return [
      `WITH ordered AS (SELECT pg_advisory_xact_lock(${PG_LOCKS.eventOrder})),
            allocated AS (SELECT setval(pg_get_serial_sequence('events', 'seq'), nextval(pg_get_serial_sequence('events', 'seq')) + ${n} - 1) AS last FROM ordered),
            inserted AS (INSERT INTO events (seq, topic, body, at, origin)
              SELECT allocated.last - ${n} + e.n, e.topic, e.body, e.at, e.origin FROM allocated, unnest(${texts(this.topics)}, ${texts(this.bodies)}, ${integers(this.ats)}, ${integers(this.origins)}) WITH ORDINALITY AS e(topic, body, at, origin, n)
              RETURNING seq)
       SELECT last, pg_notify('${EVENTS_CHANNEL}', last::text${carried}) FROM (SELECT max(seq) AS last FROM inserted) AS m`,
      'COMMIT',
    ];
  }

  /** The batch's events as the log holds them, given their sequences (sequences()). */
  stored(seqs: readonly number[]): StoredEvent[] {
    return seqs.map((seq, i) => toStored({ seq: String(seq), topic: this.topics[i]!, body: this.bodies[i]!, origin: this.origins[i] === null ? null : String(this.origins[i]) }));
  }

  /** The sequences allocated, in the order appended, from the answer to closing()'s first statement (none without events). */
  sequences(closed: pg.QueryResult): number[] {
    const n = this.topics.length;
    if (n === 0) return [];
    return endingAt(Number(closed.rows[0]!.last), n);
  }
}

/** The `n` consecutive sequences of a batch whose last is `last`. */
const endingAt = (last: number, n: number) => Array.from({ length: n }, (_, i) => last - n + 1 + i);

/**
 * What a notification on EVENTS_CHANNEL announces: the last sequence its batch committed, and the
 * batch's events when they rode along (BatchEvents.closing); none when the payload holds only the
 * sequence (a batch too large, an older node) or cannot be read.
 */
export function announcement(payload: string | undefined): { last: number; events: StoredEvent[] } {
  const text = payload ?? '';
  const space = text.indexOf(' ');
  const last = Number(space < 0 ? text : text.slice(0, space));
  if (space < 0 || !Number.isSafeInteger(last)) return { last, events: [] };
  try {
    const rows = JSON.parse(text.slice(space + 1)) as Array<[string, string, number | null]>;
    const batch = new BatchEvents();
    for (const [topic, body, origin] of rows) batch.append(topic, body, 0, origin ?? undefined);
    return { last, events: batch.stored(endingAt(last, rows.length)) };
  } catch {
    return { last, events: [] };
  }
}

/** A number written into SQL: only a safe integer (an id, a time in ms) passes. */
function integer(value: number): string {
  if (!Number.isSafeInteger(value)) throw new Error(`not an integer: ${value}`);
  return String(value);
}

/**
 * Events of these topics after `after`, in order; with `upTo`, none past it (a node reads only
 * what its follower has published to its hub: a poll must not answer with a cursor past an event
 * its hub has not seen, as on SQLite: tests/integration/accept-race).
 */
export async function readPgEvents(db: Queryable, topics: readonly string[], after: number, limit: number, upTo = Number.MAX_SAFE_INTEGER): Promise<StoredEvent[]> {
  const { rows } = await db.query<{ seq: string; topic: string; body: string }>(
    'SELECT seq, topic, body FROM events WHERE topic = ANY($1) AND seq > $2 AND seq <= $3 ORDER BY seq LIMIT $4',
    [topics, after, upTo, limit],
  );
  return rows.map(toStored);
}

/** All events after `after` (any topic), in order: what a node publishes to its hub. */
export async function readPgLog(db: Queryable, after: number, limit: number): Promise<StoredEvent[]> {
  const { rows } = await db.query<{ seq: string; topic: string; body: string; origin: string | null }>(
    'SELECT seq, topic, body, origin FROM events WHERE seq > $1 ORDER BY seq LIMIT $2',
    [after, limit],
  );
  return rows.map(toStored);
}

/** The highest sequence committed (0 when the log is empty; what pruning removed counts: its mark stays). */
export async function pgHeadSeq(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ seq: string | null }>(
    "SELECT greatest(coalesce((SELECT max(seq) FROM events), 0), coalesce((SELECT value::bigint FROM meta WHERE key = 'events_pruned_through'), 0)) AS seq",
  );
  return Number(rows[0]?.seq ?? 0);
}

/**
 * Follows the log for one node: on every notification (and on a timer, as a safety net), reads
 * the events after the last one it published and hands them on in order. Its LISTEN connection
 * is its own; when it breaks, it connects again and catches up from the log.
 */
export class PgLogFollower {
  private client: pg.Client | undefined;
  private reading: Promise<void> | undefined;
  /** Asked for while reading: done after it (each of FOLLOW includes those before it). */
  private pending: Follow | undefined;
  /** The highest sequence a notification announced. */
  private notified = 0;
  private stopped = false;
  private readonly timer: NodeJS.Timeout;
  /** The last sequence handed on. */
  published: number;
  /** Read after `published`, not handed on yet: at or past the store's `holdFrom` when read. */
  private heldBack: StoredEvent[] = [];
  /** Committed events this follower was told of (tell), by sequence, past what it has read. */
  private readonly told = new Map<number, StoredEvent>();

  /** The last sequence read from the log (handed on or held back). */
  get lastRead() {
    return this.heldBack.length > 0 ? this.heldBack[this.heldBack.length - 1]!.seq : this.published;
  }

  constructor(
    private readonly options: {
      /** A new client for the LISTEN connection (not from the pool: it stays checked out). */
      connect: () => Promise<pg.Client>;
      /** Reads the log while the LISTEN connection is down (a pool). */
      db: Queryable;
      /** Published through this sequence already. */
      from: number;
      publish: (events: StoredEvent[]) => void;
      onError: (error: unknown) => void;
      /** Catch-up without a notification, in case one was lost (ms). */
      safetyMs?: number;
      /**
       * The first sequence not to hand on yet: this node's group commit whose COMMIT has not been
       * answered (the store publishes its own batch's events in the turn its writes settle).
       */
      holdFrom?: () => number;
    },
  ) {
    this.published = options.from;
    this.timer = setInterval(() => this.wake(), options.safetyMs ?? 1000);
    this.timer.unref();
  }

  async start() {
    await this.listen();
    this.wake();
  }

  private async listen() {
    if (this.stopped) return;
    const client = await this.options.connect();
    // The payload is the notifying batch's last sequence, and its events when they fit: read the
    // log only for what was announced and not told.
    client.on('notification', (message) => {
      const { last, events } = announcement(message.payload);
      this.notified = Number.isFinite(last) ? Math.max(this.notified, last) : Number.MAX_SAFE_INTEGER;
      this.tell(events);
      this.follow('notified');
    });
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client));
    await client.query(`LISTEN ${EVENTS_CHANNEL}`);
    this.client = client;
  }

  private lost(client: pg.Client, error?: unknown) {
    if (this.client !== client || this.stopped) return;
    this.client = undefined;
    if (error) this.options.onError(error);
    void client.end().catch(() => {});
    // Reconnect; until then the timer keeps reading the log.
    const retry = () => {
      if (this.stopped) return;
      this.listen().then(
        () => this.wake(),
        (e) => {
          this.options.onError(e);
          setTimeout(retry, 500).unref();
        },
      );
    };
    retry();
  }

  /**
   * Committed events, as the log holds them (a notification's, or this node's own batch once its
   * COMMIT is answered): what follows on from what was read is handed on without reading the log.
   */
  tell(events: readonly StoredEvent[]) {
    if (this.told.size + events.length > MAX_TOLD) this.told.clear(); // only a bound: the log has them all
    for (const e of events) if (e.seq > this.lastRead) this.told.set(e.seq, e);
  }

  /** The told events that follow on from `after` without a gap, if they reach every sequence announced. */
  private toldAfter(after: number): StoredEvent[] | undefined {
    const run: StoredEvent[] = [];
    for (let seq = after + 1; run.length < READ_LIMIT; seq++) {
      const event = this.told.get(seq);
      if (!event) break;
      run.push(event);
    }
    return run.length > 0 && run[run.length - 1]!.seq >= this.notified ? run : undefined;
  }

  /** Reads what is new (one read at a time; a wake during a read reads again after it). */
  wake() {
    this.follow('read');
  }

  /**
   * The store's batch was committed and answered: hands on what was held back for it. Reads the
   * log only if that batch's events were not read yet (their notification comes later).
   */
  release() {
    this.follow('release');
  }

  private follow(what: Follow) {
    if (this.stopped) return;
    if (this.reading) {
      if (this.pending === undefined || FOLLOW.indexOf(what) > FOLLOW.indexOf(this.pending)) this.pending = what;
      return;
    }
    if (what === 'notified' && this.notified <= this.lastRead) return;
    this.reading = this.readNew(what !== 'release' || this.heldBack.length === 0)
      .catch(this.options.onError)
      .finally(() => {
        this.reading = undefined;
        const next = this.pending;
        this.pending = undefined;
        if (next) this.follow(next);
      });
  }

  private async readNew(readLog: boolean) {
    for (;;) {
      // Events read but held back last time (this node's batch, committed, its COMMIT not yet
      // answered) are handed on from here; the log is read from after them.
      const after = this.lastRead;
      // On the LISTEN connection while it is up (its own: the read that acknowledges every write
      // never queues behind the node's reads for a pooled client), else on the pool.
      const read = readLog ? (this.toldAfter(after) ?? (await readPgLog(this.client ?? this.options.db, after, READ_LIMIT))) : [];
      const events = this.heldBack.length > 0 ? [...this.heldBack, ...read] : read;
      if (events.length === 0) return;
      const hold = this.options.holdFrom?.() ?? Number.MAX_SAFE_INTEGER;
      const ready = events[events.length - 1]!.seq < hold ? events : events.filter((e) => e.seq < hold);
      // The rest is handed on when the store releases it after its COMMIT.
      this.heldBack = events.slice(ready.length);
      if (ready.length > 0) {
        this.published = ready[ready.length - 1]!.seq;
        this.options.publish(ready);
      }
      for (const seq of this.told.keys()) if (seq <= this.lastRead) this.told.delete(seq);
      if (!readLog) {
        // Handed on without reading: read on only if a notification announced more.
        if (this.notified <= this.lastRead) return;
        readLog = true;
        continue;
      }
      // A short read reached the end of the log: no need to ask again until woken.
      if (this.heldBack.length > 0 || read.length < READ_LIMIT) return;
    }
  }

  /** Whether the LISTEN connection is up (for tests and health). */
  get listening() {
    return this.client !== undefined;
  }

  async stop() {
    this.stopped = true;
    clearInterval(this.timer);
    await this.reading;
    await this.client?.end().catch(() => {});
    this.client = undefined;
  }
}
