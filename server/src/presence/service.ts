/**
 * Effective presence = what the user chose, if they are connected; offline otherwise. Every
 * change of it is recorded and announced to the user's watchers through the event log.
 *
 * Several nodes (PostgreSQL, `store.cluster`): a user is connected if a poll of theirs is held on
 * any node or ended there within the grace. Each node keeps its own connections in its tracker and
 * tells the others through presence leases (written in batches, outside the write lock, before the
 * announcement of a user who came online here). Each change of presence is decided inside the
 * cluster-wide write lock from this node's tracker and the other nodes' leases, and announced only
 * if it differs from what is recorded as announced: whichever node decides first announces, the
 * others find nothing to say, so a stop gives exactly one offline event and polls moving between
 * nodes none. Being on a call (busy) is read from the calls themselves, whichever node applied it.
 */
import type { PresenceState } from '../../../shared/index.js';
import { AfterTurn } from '../after-turn.js';
import type { ClusterLink } from '../store/cluster.js';
import type { Store, StoreTx, UserRecord } from '../store/store.js';
import { refreshPresence, refreshPresenceOf } from './rules.js';
import type { ConnectionTracker } from './tracker.js';

/**
 * Announcements that need no answer (a panel came back, polls stopped) are written one gathered
 * write at a time: whoever comes while one is on its way to disk goes into the next. Alone, an
 * announcement is written at once; in a connect storm, where every first poll announced on its
 * own (one transaction and fsync per few connections: in a profile of 5,000 panels connecting the
 * fsyncs were 17 % of the server's time), the writes grow with the load instead of their number.
 * A write takes well under a millisecond, so back-to-back writes still carried one or two users
 * each (15,000 panels connecting: ~11,000 fsyncs, 10 % of the server's time): the next write
 * starts no sooner than GATHER_EVERY_MS after the one before began.
 */
const GATHER_EVERY_MS = 5;

/** A lease shortened by less than this is left as it is (ms): it runs out soon anyway. */
const LEASE_SLACK_MS = 250;

export class PresenceService {
  constructor(
    private readonly store: Store,
    readonly tracker: ConnectionTracker,
    private readonly onError: (error: unknown) => void,
  ) {
    this.cluster = store.cluster;
  }

  /** Several nodes: the leases and the node's id; undefined on one node (SQLite). */
  private readonly cluster: ClusterLink | undefined;
  /** Users whose lease may need writing (their polls started or ended here since the last flush). */
  private readonly dirty = new Set<number>();
  /** The lease last written for each user (until, ms). */
  private readonly written = new Map<number, number>();
  /** Users whose presence this node is re-deriving and announcing now (refresh), with how many times. */
  private readonly changing = new Map<number, number>();
  /** The lease flush on its way, if any (one at a time). */
  private flushing: Promise<void> | undefined;

  /** Users on a call: they show busy while it lasts (unless they chose to appear offline). */
  private readonly onCall = new Set<number>();
  /** Users whose presence is re-derived with the next gathered write. */
  private readonly gathered = new Set<number>();
  /** The gathered write on its way to disk (or waiting for its turn), if any. */
  private writing: Promise<void> | undefined;
  /** When the last gathered write began (performance.now()). */
  private lastWriteAt = -Infinity;
  /** Polls that ended, recorded in the tracker after the current run of wake-ups. */
  private readonly ended = new AfterTurn<{ userId: number; tokenId: number; intervalMs: number }>((polls) => {
    for (const { userId, tokenId, intervalMs } of polls) {
      this.tracker.pollEnded(userId, tokenId, intervalMs);
      if (this.cluster) this.dirty.add(userId);
    }
  });

  /**
   * What the user shows now. With several nodes, what was last announced: it was decided with the
   * whole cluster's connections and calls, which this node alone does not see.
   */
  effective(user: Pick<UserRecord, 'id' | 'chosenPresence' | 'announcedPresence'>): PresenceState {
    // Several nodes, except while this node is announcing a change of its own making for a user
    // it holds (a call it applied ended): then what it is about to announce, as on one node.
    if (this.cluster && !(this.changing.has(user.id) && this.tracker.isConnected(user.id))) return user.announcedPresence;
    if (!this.tracker.isConnected(user.id)) return 'offline';
    return this.onCall.has(user.id) && user.chosenPresence !== 'offline' ? 'busy' : user.chosenPresence;
  }

  /** A user joined or left a call: busy while on it, their own choice again after. */
  async setOnCall(userId: number, onCall: boolean) {
    // Several nodes: the call may have been applied elsewhere; the write reads it from the calls.
    if (onCall === this.onCall.has(userId) && !this.cluster) return;
    if (onCall) this.onCall.add(userId);
    else this.onCall.delete(userId);
    await this.refresh(userId);
  }

  /** Re-derives the user's effective presence and announces it if it changed. */
  async refresh(userId: number): Promise<PresenceState | undefined> {
    this.changing.set(userId, (this.changing.get(userId) ?? 0) + 1);
    try {
      await this.writeGatheredOf(userId);
      let state: PresenceState | undefined;
      await this.store.write(async (tx) => {
        const effective = await this.deciding(tx, [userId]);
        return refreshPresence(tx, userId, (user) => (state = effective(user)));
      });
      return state;
    } finally {
      const left = this.changing.get(userId)! - 1;
      if (left > 0) this.changing.set(userId, left);
      else this.changing.delete(userId);
    }
  }

  /**
   * How presence is derived inside a write. One node: from the tracker and the calls it applied
   * (`effective`). Several: connected here, or by another node's lease; busy if joined in a live
   * call; both read inside the write lock, so two nodes deciding one after the other agree.
   */
  private async deciding(tx: StoreTx, userIds: number[]): Promise<(user: UserRecord) => PresenceState> {
    if (!this.cluster || !tx.cluster) return (user) => this.effective(user);
    const connected = new Set(userIds.filter((id) => this.tracker.isConnected(id)));
    const away = userIds.filter((id) => !connected.has(id));
    for (const id of await tx.cluster.connectedElsewhere(this.cluster.node, away, Date.now())) connected.add(id);
    const onCall = await tx.cluster.onCall([...connected]);
    return (user) => (!connected.has(user.id) ? 'offline' : onCall.has(user.id) && user.chosenPresence !== 'offline' ? 'busy' : user.chosenPresence);
  }

  /** Of these users, those connected here or (several nodes) on another node. */
  async connected(userIds: number[]): Promise<Set<number>> {
    const connected = new Set(userIds.filter((id) => this.tracker.isConnected(id)));
    if (!this.cluster) return connected;
    const away = userIds.filter((id) => !connected.has(id));
    for (const id of await this.cluster.leases.connectedElsewhere(this.cluster.node, away, Date.now())) connected.add(id);
    return connected;
  }

  /** Keeps a user connected here until `until` without a poll (after a restart). */
  holdOpen(userId: number, until: number) {
    this.tracker.holdOpen(userId, until);
    if (this.cluster) this.dirty.add(userId);
  }

  /** Forgets the user's connections here (removed, or password reset). */
  dropUser(userId: number) {
    this.tracker.dropUser(userId);
    if (this.cluster) this.dirty.add(userId);
  }

  /**
   * Several nodes: writes the leases of the users whose connections here changed, in one batch
   * (on a timer, and before an announcement of someone who came online). Nothing on one node.
   */
  flushLeases(): Promise<void> {
    if (!this.cluster) return Promise.resolve();
    const cluster = this.cluster;
    // One flush at a time, in order: each waits for the one before (which may have failed).
    const flush = (this.flushing ?? Promise.resolve()).then(() => this.writeLeases(cluster));
    const tail: Promise<void> = flush.then(
      () => {},
      () => {},
    );
    this.flushing = tail;
    void tail.then(() => {
      if (this.flushing === tail) this.flushing = undefined;
    });
    return flush;
  }

  private async writeLeases(cluster: ClusterLink) {
    const leases: Array<[number, number]> = [];
    for (const userId of this.dirty) {
      const until = this.tracker.connectedUntil(userId);
      const was = this.written.get(userId) ?? 0;
      // Shortened by a little: left as it is, it runs out soon anyway.
      if (until === was || (until > 0 && until < was && was - until < LEASE_SLACK_MS)) continue;
      leases.push([userId, until]);
    }
    this.dirty.clear();
    if (leases.length === 0) return;
    try {
      await cluster.leases.write(cluster.node, leases);
    } catch (error) {
      for (const [userId] of leases) this.dirty.add(userId); // the next flush tries again
      throw error;
    }
    for (const [userId, until] of leases) {
      if (until > 0) this.written.set(userId, until);
      else this.written.delete(userId);
    }
  }

  /**
   * Several nodes, once per cluster (the leader): those announced online whom no node counts as
   * connected any more (their node died, or stopped before it could announce them offline).
   */
  async sweepCluster() {
    if (!this.cluster) return;
    const now = Date.now();
    for (const userId of await this.cluster.leases.announcedWithoutLease(now)) {
      if (!this.tracker.isConnected(userId)) void this.refreshInBackground(userId);
    }
  }

  /**
   * A poll started. When it brings the user online, answers a promise that settles once that is
   * announced (the first poll's answer waits for it: a panel that has its answer is known to be
   * online); otherwise undefined.
   */
  pollStarted(userId: number, tokenId: number, waitMs = 0): Promise<void> | undefined {
    const came = this.tracker.pollStarted(userId, tokenId, waitMs);
    if (this.cluster) this.dirty.add(userId);
    return came ? this.refreshInBackground(userId) : undefined;
  }

  /**
   * A poll ended. Recorded after the current wake-ups rather than between them: a fan-out answers
   * thousands of polls in one run, and this bookkeeping is not part of any answer. Their re-polls
   * count in the meantime (started before the end is recorded, the session just shows two held).
   */
  pollEnded(userId: number, tokenId: number, intervalMs: number) {
    this.ended.add({ userId, tokenId, intervalMs });
  }

  async choose(userId: number, state: PresenceState) {
    await this.writeGatheredOf(userId); // "online" is announced before the choice that follows it
    await this.store.setChosenPresence(userId, state);
    return this.refresh(userId);
  }

  async sessionEnded(userId: number, tokenId: number) {
    const gone = this.tracker.dropSession(userId, tokenId);
    if (this.cluster) this.dirty.add(userId);
    if (gone) await this.refresh(userId);
  }

  /** Marks offline everyone whose polls stopped coming (here); runs on a timer. */
  sweep() {
    for (const userId of this.tracker.expire()) {
      if (this.cluster) this.dirty.add(userId);
      void this.refreshInBackground(userId);
    }
  }

  /**
   * After a restart, those who were online keep that state for `holdMs` without flapping, so
   * their clients can come back; whoever does not is swept to offline then.
   */
  async restore(holdMs: number) {
    const until = Date.now() + holdMs;
    for (const user of await this.store.usersAnnouncedOnline()) this.holdOpen(user.id, until);
  }

  /** Gathers the user's announcement into the next write; settles once it is written (never rejects). */
  private refreshInBackground(userId: number): Promise<void> {
    this.gathered.add(userId);
    if (!this.writing) this.writeGathered();
    return this.writeGatheredOf(userId);
  }

  /**
   * One write re-derives and announces the presence of everyone gathered (by the time it begins:
   * at once, or GATHER_EVERY_MS after the one before began); the next follows it.
   */
  private writeGathered() {
    const write = () => {
      this.lastWriteAt = performance.now();
      const userIds = [...this.gathered];
      this.gathered.clear();
      return this.store.write(async (tx) => {
        const effective = await this.deciding(tx, userIds);
        await refreshPresenceOf(tx, userIds, effective);
      });
    };
    const wait = this.lastWriteAt + GATHER_EVERY_MS - performance.now();
    const turn = wait > 0 ? new Promise<void>((resolve) => setTimeout(resolve, wait)) : undefined;
    // Several nodes: leases first, so another node deciding after this write sees who came online here.
    const leased = () => (this.cluster ? this.flushLeases().catch(this.onError).then(write) : write());
    this.writing = (turn ? turn.then(leased) : leased())
      .catch(this.onError)
      .finally(() => {
        this.writing = undefined;
        if (this.gathered.size > 0) this.writeGathered();
      });
  }

  /** Waits until this user's gathered announcement is written: announcements keep their order. */
  private async writeGatheredOf(userId: number) {
    while (this.writing && this.gathered.has(userId)) await this.writing;
    await this.writing;
  }

  /** Settles once everything gathered is written (the server stops). */
  async idle() {
    while (this.writing) await this.writing;
    while (this.flushing) await this.flushing;
  }

}
