/**
 * Several nodes on one database (issue 15): what the nodes share besides the rows and the log.
 * Only the PostgreSQL store has it (`Store.cluster`); on SQLite there is one node and it is
 * undefined, so whatever uses it keeps the single-node behaviour.
 *
 * - Presence leases: each node writes, for the users whose polls it holds or held within the
 *   grace, until when they count as connected there (`presence_leases`, one row per user and
 *   node). Written in batches outside the cluster-wide write lock; a node that dies leaves rows
 *   that simply run out.
 * - Leadership: one node holds a session advisory lock on a connection of its own; it runs the
 *   duties that must run once per cluster. When it dies, its connection ends, PostgreSQL releases
 *   the lock and another node takes it at its next try.
 * - Subscription hints: "these users' subscriptions changed" told to the other nodes (NOTIFY), so
 *   their cached topics go and their held polls re-poll at once. A hint lost with the connection
 *   is made up by telling the listener 'all' when the connection is back (every held poll
 *   answers, so a session ended meanwhile meets its 401 at the next poll).
 * - Session hints: "these sessions ended", so a poll of one held on another node answers at once
 *   (its next poll is 401) instead of carrying on to its timeout.
 */
export type ChangedWho = number[] | 'all';
/** Sessions that ended: by token, or every session of these users. */
export interface SessionsEnded {
  tokenIds?: readonly number[];
  userIds?: readonly number[];
}

export interface PresenceLeaseReads {
  /** Of these users, those with a lease of another node than `node` running past `now`. */
  connectedElsewhere(node: string, userIds: readonly number[], now: number): Promise<Set<number>>;
  /** Of these users, those joined in a live call (what shows them busy), whichever node applied it. */
  onCall(userIds: readonly number[]): Promise<Set<number>>;
}

export interface PresenceLeases extends PresenceLeaseReads {
  /** Sets this node's leases (until in ms; 0 removes the row), in one round trip per kind. */
  write(node: string, leases: ReadonlyArray<readonly [userId: number, until: number]>): Promise<void>;
  /** Users announced online (not offline) with no lease of any node running past `now`. */
  announcedWithoutLease(now: number): Promise<number[]>;
  /** Removes leases that ran out before `before` (those of nodes that died). */
  prune(before: number): Promise<number>;
}

export interface ClusterLink {
  /** This node's id (random per start). */
  readonly node: string;
  readonly leases: PresenceLeases;
  /** Connects the link and contends for the lead (a serving node; not the admin CLI). */
  start(): Promise<void>;
  /** Whether this node holds the leader lock now (never before `start`). */
  leads(): boolean;
  /** Tells the other nodes (a hint, not awaited by anyone who must not wait). */
  tellSubscriptionsChanged(who: ChangedWho, onlyFewer: boolean): Promise<void>;
  /** Another node said so (or the hint connection came back: 'all'). */
  onSubscriptionsChanged(listener: (who: ChangedWho, onlyFewer: boolean) => void): void;
  /** Tells the other nodes that sessions ended (logout, password change; all of a user's: removed, reset): their held polls answer now. */
  tellSessionsEnded(ended: SessionsEnded): Promise<void>;
  /** Another node ended these sessions. */
  onSessionsEnded(listener: (ended: SessionsEnded) => void): void;
}
