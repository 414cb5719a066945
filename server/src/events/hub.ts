/**
 * The event hub: wakes held polls from memory. A committed event is matched against the waiters
 * of its topic and handed to them directly, so waking 10,000 polls costs no database work; the
 * wake-ups run in slices of at most WAKE_SLICE_MS with a yield between them, so other requests
 * are never held up longer than that.
 */
import { topicOf } from '../../../shared/index.js';
import { AfterTurn } from '../after-turn.js';
import type { StoredEvent } from '../store/store.js';

export interface Waiter {
  readonly userId: number;
  readonly tokenId: number;
  readonly topics: readonly string[];
  /** The cursor the poll was made with: only later events are for it. */
  readonly after: number;
  /** Events for this waiter, in order, since it was added. */
  readonly pending: StoredEvent[];
  /** Called once, when the waiter is woken or dropped. */
  readonly wake: (events: StoredEvent[]) => void;
}

/**
 * Longest run of wake-ups before other requests get their turn. Every yield lets the woken
 * clients' re-polls in before the rest are answered, so the last receiver of a fan-out waits for
 * all the re-polls of the slices before it: in slices of 1,000 wake-ups, a fan-out to 10,000 took
 * 1.5x its answering time (916 ms against the raw floor's 599, which answers all at once), and in
 * slices of 200 ms still 510 ms against 330 in one slice (answering 10,000 takes ~240 ms here).
 * A slice is a bound on how long a chat message can wait behind a fan-out; Socket.IO and the raw
 * floor answer a fan-out in one go, unbounded.
 */
const WAKE_SLICE_MS = 1000;
/** Wake-ups between looks at the clock. */
const WAKE_CLOCK_EVERY = 64;
const MIN_COMPACT_AT = 10_000;
/** Topics whose newest sequence is remembered; past this the older half is forgotten. */
const MAX_TOPICS = 100_000;

export class EventHub {
  private readonly byTopic = new Map<string, Set<Waiter>>();
  private readonly byToken = new Map<number, Waiter>();
  private readonly due = new Set<Waiter>();
  private wakeScheduled = false;
  /**
   * Answered waiters still in their topics' sets: taken out after the wake-ups, not between the
   * answers of a fan-out. A waiter is live while it is its session's entry in byToken; the loops
   * over a topic's set skip the others.
   */
  private readonly retired = new AfterTurn<Waiter>((waiters) => {
    for (const waiter of waiters) this.leaveTopics(waiter);
    if (this.byTopic.size > this.compactAt) this.compact();
  });
  /** Sets kept in byTopic (some empty) past which the empty ones are dropped. */
  private compactAt = MIN_COMPACT_AT;
  /** Highest sequence of each topic published since this hub began to listen. */
  private readonly lastOfTopic = new Map<string, number>();
  /**
   * Everything after this sequence has been published to the hub, and every topic with events
   * after it is in lastOfTopic (unknown before the first commit).
   */
  private since: number | undefined;
  /** Highest sequence published to the hub so far. */
  private last = 0;

  /** Number of held polls. */
  get size() {
    return this.byToken.size;
  }

  /** Holds a poll. A newer poll by the same session replaces the older, which is answered at once. */
  add(waiter: Waiter) {
    const previous = this.byToken.get(waiter.tokenId);
    if (previous) this.finish(previous);
    this.byToken.set(waiter.tokenId, waiter);
    for (const topic of waiter.topics) {
      let set = this.byTopic.get(topic);
      if (!set) this.byTopic.set(topic, (set = new Set()));
      set.add(waiter);
    }
  }

  /**
   * Forgets a waiter without waking it (its request ended otherwise). Emptied sets are kept: the
   * same user re-polls at once and would need them again (a fan-out re-created thousands of
   * them); `compact` drops them once they clearly outnumber the waiters.
   */
  remove(waiter: Waiter) {
    if (this.byToken.get(waiter.tokenId) === waiter) this.byToken.delete(waiter.tokenId);
    this.leaveTopics(waiter);
    this.due.delete(waiter);
    if (this.byTopic.size > this.compactAt) this.compact();
  }

  private leaveTopics(waiter: Waiter) {
    for (const topic of waiter.topics) this.byTopic.get(topic)?.delete(waiter);
  }

  private isLive(waiter: Waiter) {
    return this.byToken.get(waiter.tokenId) === waiter;
  }

  /** Drops the empty sets; the next compaction comes when the maps have doubled again (amortized O(1)). */
  private compact() {
    for (const [topic, set] of this.byTopic) if (set.size === 0) this.byTopic.delete(topic);
    this.compactAt = Math.max(MIN_COMPACT_AT, 2 * this.byTopic.size);
  }

  /**
   * Which of these topics may have events in the log after `after`, answered from memory: the
   * store publishes every committed event once, in order, without gaps, so once the hub has seen
   * all events after `after` it knows each topic's newest. Usually none (the poll skips the log
   * query) or one (the query is a plain index range). All of them when the hub cannot tell.
   */
  topicsWithEvents(topics: readonly string[], after: number): readonly string[] {
    if (this.since === undefined || after < this.since) return topics;
    return topics.filter((topic) => (this.lastOfTopic.get(topic) ?? 0) > after);
  }

  /** Whether `after` is at or below the newest published sequence (so it is no future cursor). */
  isKnown(after: number): boolean {
    return this.since !== undefined && after <= this.last;
  }

  /** Hands committed events (in sequence order) to the waiters of their topics. */
  publish(events: readonly StoredEvent[]) {
    if (events.length > 0 && this.since === undefined) this.since = events[0]!.seq - 1;
    for (const event of events) {
      this.lastOfTopic.delete(event.topic); // re-inserted last: the map stays in publishing order
      this.lastOfTopic.set(event.topic, event.seq);
      this.last = event.seq;
      const set = this.byTopic.get(event.topic);
      if (!set) continue;
      for (const waiter of set) {
        if (event.seq <= waiter.after || !this.isLive(waiter)) continue;
        waiter.pending.push(event);
        // The session that sent it has it in its answer: no wake-up (and re-poll) for that alone.
        if (event.origin !== waiter.tokenId) this.due.add(waiter);
      }
    }
    if (this.lastOfTopic.size > MAX_TOPICS) this.forgetOldTopics();
    this.scheduleWake();
  }

  /**
   * An event for the polls held on `topic` right now, kept nowhere (a presenter's pointer: many
   * a second, only the latest matters): a poll not held at this moment never sees it. It carries
   * the cursor the waiter already has, so the next poll neither skips nor repeats logged events.
   * `json(cursor)` makes its text; `except`: the sending session, which needs no echo.
   */
  notify(topic: string, json: (cursor: number) => string, except?: number) {
    const set = this.byTopic.get(topic);
    if (!set) return;
    for (const waiter of set) {
      if (waiter.tokenId === except || !this.isLive(waiter)) continue;
      const seq = waiter.pending.length > 0 ? waiter.pending[waiter.pending.length - 1]!.seq : waiter.after;
      waiter.pending.push({ seq, topic, json: json(seq) });
      this.due.add(waiter);
    }
    this.scheduleWake();
  }

  /** Forgets the topics quiet for longest; cursors from before then are looked up in the log again. */
  private forgetOldTopics() {
    let drop = this.lastOfTopic.size - MAX_TOPICS / 2;
    for (const [topic, seq] of this.lastOfTopic) {
      if (drop-- <= 0) break;
      this.lastOfTopic.delete(topic);
      this.since = Math.max(this.since!, seq);
    }
  }

  /**
   * Hands an event that is never stored (typing) to the polls held on this topic right now,
   * except those of `exceptUserId`. It carries the cursor its answer carries anyway (that of
   * the last event before it, or the poll's own), so it moves no cursor and leaves the log's
   * bookkeeping (lastOfTopic) alone. `body`: the event's JSON without its cursor.
   */
  signal(topic: string, body: string, exceptUserId: number) {
    const set = this.byTopic.get(topic);
    if (!set) return;
    for (const waiter of set) {
      if (waiter.userId === exceptUserId || !this.isLive(waiter)) continue;
      const seq = waiter.pending.length > 0 ? waiter.pending[waiter.pending.length - 1]!.seq : waiter.after;
      waiter.pending.push({ seq, topic, json: `{"cursor":"${seq}",${body.slice(1)}` });
      this.due.add(waiter);
    }
    this.scheduleWake();
  }

  /**
   * Answers the user's held polls now (their topics changed: they re-poll with the new ones).
   * Found through the user's own topic, which every poll of theirs listens to and nobody else's
   * does (a meeting guest's: its guest topic), so no index by user is kept.
   */
  wakeUser(userId: number) {
    const mine = this.byTopic.get(userId > 0 ? topicOf.user(userId) : topicOf.guest(-userId));
    if (!mine) return;
    for (const waiter of mine) if (this.isLive(waiter)) this.dueWithOwnCursor(waiter);
    this.scheduleWake();
  }

  /** Answers every held poll soon, in chunks (everyone's topics may have changed: they re-poll with the new ones). */
  wakeEveryUser() {
    for (const waiter of this.byToken.values()) this.dueWithOwnCursor(waiter);
    this.scheduleWake();
  }

  private dueWithOwnCursor(waiter: Waiter) {
    // Answer with the cursor it came with: events of the new topics may lie below those it
    // holds (same commit), and the next poll reads them all from the log with the new topics.
    // It stops listening now, not at the wake-up: an event published in between would put a
    // cursor past the new topics' events back into its answer.
    this.leaveTopics(waiter);
    waiter.pending.length = 0;
    this.due.add(waiter);
  }

  /** Answers this waiter now with what it has (its wait is over). */
  wakeWaiter(waiter: Waiter) {
    if (this.byToken.get(waiter.tokenId) === waiter) this.finish(waiter);
  }

  /** Answers the session's held poll now (logout). */
  wakeSession(tokenId: number) {
    const waiter = this.byToken.get(tokenId);
    if (waiter) this.finish(waiter);
  }

  /** Answers every held poll (shutdown). */
  wakeAll() {
    for (const waiter of [...this.byToken.values()]) this.finish(waiter);
  }

  private scheduleWake() {
    if (this.wakeScheduled || this.due.size === 0) return;
    this.wakeScheduled = true;
    setImmediate(() => this.wakeDue());
  }

  private wakeDue() {
    this.wakeScheduled = false;
    const until = performance.now() + WAKE_SLICE_MS;
    let n = 0;
    for (const waiter of this.due) {
      if (++n % WAKE_CLOCK_EVERY === 0 && performance.now() > until) break;
      this.finish(waiter);
    }
    this.scheduleWake();
  }

  private finish(waiter: Waiter) {
    if (this.isLive(waiter)) this.byToken.delete(waiter.tokenId);
    this.due.delete(waiter);
    this.retired.add(waiter);
    waiter.wake(waiter.pending);
  }
}
