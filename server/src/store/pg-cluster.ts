/**
 * The PostgreSQL side of cluster.ts: presence leases (table `presence_leases`, PostgreSQL
 * migration 3), the leader lock and the subscription hints, for one node.
 *
 * The leader lock is a session advisory lock (`pg_try_advisory_lock`) on a connection this node
 * keeps for it alone (the same connection LISTENs for the hints). The lock lives exactly as long
 * as that session: a node that dies, is killed or loses its connection loses the lead, and the
 * others try every `retryMs`, so one of them leads within about that time.
 */
import pg from 'pg';
import { randomUUID } from 'node:crypto';
import type { ChangedWho, ClusterLink, PresenceLeaseReads, PresenceLeases, SessionsEnded } from './cluster.js';
import type { Queryable } from './pg-parts.js';
import { PG_LOCKS } from './pg-schema.js';

export const SUBSCRIPTIONS_CHANNEL = 'portico_subscriptions';
/** A hint names at most this many users; more become 'all' (NOTIFY payloads stop at 8000 bytes). */
const HINT_USERS = 400;

/** The lease reads a write transaction makes (on its own client) or anyone makes on the pool. */
export class PgLeaseReads implements PresenceLeaseReads {
  constructor(protected readonly db: Queryable) {}

  async connectedElsewhere(node: string, userIds: readonly number[], now: number) {
    if (userIds.length === 0) return new Set<number>();
    const { rows } = await this.db.query<{ user_id: string | number }>('SELECT DISTINCT user_id FROM presence_leases WHERE user_id = ANY($1) AND node <> $2 AND until > $3', [
      userIds,
      node,
      now,
    ]);
    return new Set(rows.map((r) => Number(r.user_id)));
  }

  async onCall(userIds: readonly number[]) {
    if (userIds.length === 0) return new Set<number>();
    const { rows } = await this.db.query<{ user_id: string | number }>(
      "SELECT DISTINCT m.user_id FROM call_members m JOIN calls c ON c.id = m.call_id WHERE m.user_id = ANY($1) AND c.state != 'ended' AND m.state = 'joined'",
      [userIds],
    );
    return new Set(rows.map((r) => Number(r.user_id)));
  }
}

export class PgLeases extends PgLeaseReads implements PresenceLeases {
  async write(node: string, leases: ReadonlyArray<readonly [number, number]>) {
    // In user order, so two batches never wait on each other's rows in opposite orders.
    const sorted = [...leases].sort((a, b) => a[0] - b[0]);
    const set = sorted.filter(([, until]) => until > 0);
    const gone = sorted.filter(([, until]) => until <= 0).map(([id]) => id);
    if (set.length > 0) {
      await this.db.query(
        `INSERT INTO presence_leases (user_id, node, until) SELECT u, $1, t FROM unnest($2::bigint[], $3::bigint[]) AS x(u, t)
         ON CONFLICT (user_id, node) DO UPDATE SET until = excluded.until`,
        [node, set.map(([id]) => id), set.map(([, until]) => until)],
      );
    }
    if (gone.length > 0) await this.db.query('DELETE FROM presence_leases WHERE node = $1 AND user_id = ANY($2)', [node, gone]);
  }

  async announcedWithoutLease(now: number) {
    const { rows } = await this.db.query<{ id: string | number }>(
      "SELECT u.id FROM users u WHERE u.announced_presence != 'offline' AND NOT EXISTS (SELECT 1 FROM presence_leases l WHERE l.user_id = u.id AND l.until > $1)",
      [now],
    );
    return rows.map((r) => Number(r.id));
  }

  async prune(before: number) {
    return (await this.db.query('DELETE FROM presence_leases WHERE until < $1', [before])).rowCount ?? 0;
  }
}

/** The promise's answer, or a rejection after `ms`. */
function within<T>(ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, fail) => {
    timer = setTimeout(() => fail(new Error(`PostgreSQL did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

export class PgCluster implements ClusterLink {
  readonly node = randomUUID();
  readonly leases: PgLeases;
  private client: pg.Client | undefined;
  private leader = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly listeners: Array<(who: ChangedWho, onlyFewer: boolean) => void> = [];
  private readonly sessionListeners: Array<(ended: SessionsEnded) => void> = [];

  constructor(
    private readonly options: {
      /** A new client of its own (not from the pool: it holds the lock for as long as it lives). */
      connect: () => Promise<pg.Client>;
      db: Queryable;
      onError: (error: unknown) => void;
      /** How often a node that does not lead tries to (ms). */
      retryMs?: number;
    },
  ) {
    this.leases = new PgLeases(options.db);
  }

  /**
   * Connects the link and contends for the lead (a serving node: server.ts). The admin CLI's
   * store never starts it: it leads nothing and listens to no hint.
   */
  async start() {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => void this.tick(), this.options.retryMs ?? 500);
    this.timer.unref();
    await this.tick();
  }

  leads() {
    return this.leader && this.client !== undefined;
  }

  async tellSubscriptionsChanged(who: ChangedWho, onlyFewer: boolean) {
    const payload = JSON.stringify({ from: this.node, who: who === 'all' || who.length > HINT_USERS ? 'all' : who, onlyFewer });
    await this.options.db.query('SELECT pg_notify($1, $2)', [SUBSCRIPTIONS_CHANNEL, payload]);
  }

  onSubscriptionsChanged(listener: (who: ChangedWho, onlyFewer: boolean) => void) {
    this.listeners.push(listener);
  }

  async tellSessionsEnded(ended: SessionsEnded) {
    // Sent before the logout is answered: it is on its way before anything the client does next.
    const all = [...(ended.tokenIds ?? []).map((id) => ['t', id] as const), ...(ended.userIds ?? []).map((id) => ['u', id] as const)];
    for (let i = 0; i < all.length; i += HINT_USERS) {
      const part = all.slice(i, i + HINT_USERS);
      const sessions = { tokenIds: part.filter(([k]) => k === 't').map(([, id]) => id), userIds: part.filter(([k]) => k === 'u').map(([, id]) => id) };
      await this.options.db.query('SELECT pg_notify($1, $2)', [SUBSCRIPTIONS_CHANNEL, JSON.stringify({ from: this.node, sessions })]);
    }
  }

  onSessionsEnded(listener: (ended: SessionsEnded) => void) {
    this.sessionListeners.push(listener);
  }

  private tell(who: ChangedWho, onlyFewer: boolean) {
    for (const listener of this.listeners) listener(who, onlyFewer);
  }

  /** Connects if need be, then tries to lead (one at a time: a slow try is not overlapped). */
  private trying: Promise<void> | undefined;
  private tick(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return (this.trying ??= this.tryOnce()
      .catch((error: unknown) => this.options.onError(error))
      .finally(() => (this.trying = undefined)));
  }

  private async tryOnce() {
    if (!this.client) {
      const client = await this.options.connect();
      client.on('notification', (n) => {
        if (n.channel !== SUBSCRIPTIONS_CHANNEL || !n.payload) return;
        try {
          const hint = JSON.parse(n.payload) as { from: string; who?: ChangedWho; onlyFewer?: boolean; sessions?: SessionsEnded };
          if (hint.from === this.node) return;
          if (hint.sessions) for (const listener of this.sessionListeners) listener(hint.sessions);
          else if (hint.who) this.tell(hint.who, hint.onlyFewer === true);
        } catch {
          // not ours
        }
      });
      client.on('error', (error) => this.lost(client, error));
      client.on('end', () => this.lost(client));
      // A node whose machine vanishes sends no FIN: PostgreSQL ends its session (and so frees the
      // lock) once keepalives go unanswered, here within about 25 s instead of the system's hours.
      await client.query('SET tcp_keepalives_idle = 10; SET tcp_keepalives_interval = 5; SET tcp_keepalives_count = 3').catch(() => {});
      try {
        await client.query(`LISTEN ${SUBSCRIPTIONS_CHANNEL}`);
      } catch (error) {
        await client.end().catch(() => {});
        throw error;
      }
      if (this.stopped) {
        await client.end().catch(() => {});
        return;
      }
      const reconnected = this.client === undefined && this.everConnected;
      this.client = client;
      this.everConnected = true;
      // Hints sent while this node was not listening are lost: everyone's topics are looked up again.
      if (reconnected) this.tell('all', false);
    }
    const client = this.client;
    if (!this.leader) {
      const { rows } = await within(this.pingMs, client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [PG_LOCKS.leader.toString()]));
      this.leader = rows[0]?.ok === true;
      return;
    }
    // The leader checks its session is alive: a connection that stopped answering is given up
    // (and the lead with it) rather than trusted while another node may have taken the lock.
    try {
      await within(this.pingMs, client.query('SELECT 1'));
    } catch (error) {
      this.lost(client, error);
    }
  }
  private readonly pingMs = 5000;
  private everConnected = false;

  private lost(client: pg.Client, error?: unknown) {
    if (this.client !== client) return;
    this.client = undefined;
    this.leader = false; // the lock went with the session
    if (error && !this.stopped) this.options.onError(error);
    void client.end().catch(() => {});
  }

  async stop() {
    this.stopped = true;
    clearInterval(this.timer);
    await this.trying;
    const client = this.client;
    this.client = undefined;
    this.leader = false;
    await client?.end().catch(() => {}); // ends the session: the lock goes to another node
  }
}
