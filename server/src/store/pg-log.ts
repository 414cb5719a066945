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
 * PgStore's group commit takes it at BEGIN, right after the write lock, outside the savepoints of
 * its writes (a lock taken inside a savepoint that is rolled back would be released with it).
 *
 * Cross-node wake-up. The committing transaction sends `NOTIFY portico_events, '<last seq>'`,
 * which PostgreSQL delivers at COMMIT. A notification is only a hint: the listener reads the log
 * from the last sequence it published, so a lost notification or a cut connection loses nothing.
 */
import type pg from 'pg';
import type { StoredEvent } from './store.js';
import { PG_LOCKS } from './pg-schema.js';

export const EVENTS_CHANNEL = 'portico_events';

type Queryable = Pick<pg.ClientBase, 'query'>;

const toStored = (r: { seq: string; topic: string; body: string }): StoredEvent => ({
  seq: Number(r.seq),
  topic: r.topic,
  json: `{"cursor":"${r.seq}",${r.body.slice(1)}`,
});

/** The events one write transaction appends: ordered by the lock, announced at commit. */
export class PgEventAppender {
  private last = 0;

  /** `ordered`: the transaction holds the order lock already (a group commit takes it at BEGIN). */
  constructor(
    private readonly client: Queryable,
    private ordered = false,
  ) {}

  /** Appends an event (`body`: the protocol event as JSON without its cursor); answers its sequence. */
  async append(topic: string, body: string, at: number): Promise<number> {
    if (!this.ordered) {
      await this.client.query('SELECT pg_advisory_xact_lock($1)', [PG_LOCKS.eventOrder.toString()]);
      this.ordered = true;
    }
    const { rows } = await this.client.query<{ seq: string }>('INSERT INTO events (topic, body, at) VALUES ($1, $2, $3) RETURNING seq', [topic, body, at]);
    this.last = Number(rows[0]!.seq);
    return this.last;
  }

  /** Call right before COMMIT: tells the listening nodes (delivered only if the commit happens). */
  async beforeCommit() {
    if (this.last > 0) await this.client.query('SELECT pg_notify($1, $2)', [EVENTS_CHANNEL, String(this.last)]);
  }
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
  const { rows } = await db.query<{ seq: string; topic: string; body: string }>('SELECT seq, topic, body FROM events WHERE seq > $1 ORDER BY seq LIMIT $2', [after, limit]);
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
  private again = false;
  private stopped = false;
  private readonly timer: NodeJS.Timeout;
  /** The last sequence handed on. */
  published: number;

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
    client.on('notification', () => this.wake());
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

  /** Reads what is new (one read at a time; a wake during a read reads again after it). */
  wake() {
    if (this.stopped) return;
    if (this.reading) {
      this.again = true;
      return;
    }
    this.reading = this.readNew()
      .catch(this.options.onError)
      .finally(() => {
        this.reading = undefined;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  private async readNew() {
    for (;;) {
      // On the LISTEN connection while it is up (its own: the read that acknowledges every write
      // never queues behind the node's reads for a pooled client), else on the pool.
      const events = await readPgLog(this.client ?? this.options.db, this.published, 1000);
      if (events.length === 0) return;
      const hold = this.options.holdFrom?.() ?? Number.MAX_SAFE_INTEGER;
      const ready = events[events.length - 1]!.seq < hold ? events : events.filter((e) => e.seq < hold);
      // The rest is read again when the store wakes this follower after its COMMIT.
      if (ready.length === 0) return;
      this.published = ready[ready.length - 1]!.seq;
      this.options.publish(ready);
      if (ready.length < events.length) return;
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
