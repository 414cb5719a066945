/**
 * Which topics a user's poll listens to: their own (chat requests), each chat they take part in,
 * the presence of each contact, the ticker channels they see, and the portal's content. Kept in memory per user and dropped whenever a membership
 * changes, so a poll costs no extra query in the steady state.
 */
import type { Store } from '../store/store.js';
import { topicOf } from '../../../shared/index.js';

/** Topic names of the event log (in the protocol layer: the store appends to them too). */
export { topicOf };

export class TopicCache {
  private readonly cache = new Map<number, string[]>();
  /** Bumped on every change, so a lookup that raced with one is not cached. */
  private generation = 0;

  constructor(private readonly store: Store) {}

  async of(userId: number): Promise<string[]> {
    const cached = this.cache.get(userId);
    if (cached) return cached;
    const generation = this.generation;
    const subs = await this.store.subscriptions(userId);
    const ticker = await this.store.portal.tickerChannelsFor(userId);
    const topics = [
      topicOf.user(userId),
      topicOf.portal,
      ...subs.chatIds.map(topicOf.chat),
      ...subs.contactIds.map(topicOf.presence),
      ...ticker.map((c) => topicOf.ticker(c.id)),
    ];
    if (generation === this.generation) this.cache.set(userId, topics);
    return topics;
  }

  /** Bumped by every forget: a caller that saw it move while it looked may hold stale topics. */
  get changes(): number {
    return this.generation;
  }

  forget(userId: number) {
    this.generation++;
    this.cache.delete(userId);
  }

  forgetAll() {
    this.generation++;
    this.cache.clear();
  }
}
