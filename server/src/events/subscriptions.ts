/**
 * What each user's poll listens to, and the one way to say it changed. Whoever changes a user's
 * chats, contacts, groups or ticker channels calls `changed`: the cached topics are dropped and
 * the user's held polls answered (with their own cursor), so they re-poll with the new topics at
 * once and read whatever the new topics hold since that cursor.
 *
 * Several nodes: a change is also told to the other nodes (a hint through the store's cluster
 * link), whose held polls of those users may listen to the old topics; a ticker channel choice,
 * for one, leaves nothing in the event log that the other nodes would notice.
 */
import type { SessionsEnded } from '../store/cluster.js';
import type { Store } from '../store/store.js';
import type { EventHub } from './hub.js';
import { TopicCache } from './topics.js';

export class Subscriptions {
  private readonly topics: TopicCache;

  constructor(
    private readonly store: Store,
    private readonly hub: EventHub,
  ) {
    this.topics = new TopicCache(store);
    store.cluster?.onSubscriptionsChanged((who, onlyFewer) => this.changedHere(who, { onlyFewer }));
    store.cluster?.onSessionsEnded((ended) => this.endPollsHere(ended));
  }

  /**
   * Sessions ended (logout, password change; all of a user's: removed or reset): a poll of theirs
   * held here answers now, one held on another node once the hint reaches it (sent before this
   * resolves, so before anything the caller does next); their next poll is 401.
   */
  async sessionsEnded(ended: SessionsEnded) {
    this.endPollsHere(ended);
    if ((ended.tokenIds?.length ?? 0) + (ended.userIds?.length ?? 0) > 0) await this.store.cluster?.tellSessionsEnded(ended).catch(() => {});
  }

  private endPollsHere({ tokenIds = [], userIds = [] }: SessionsEnded) {
    for (const tokenId of tokenIds) this.hub.wakeSession(tokenId);
    for (const userId of userIds) this.hub.wakeUser(userId);
  }

  /** The topics the user's poll listens to (from memory in the steady state). */
  of(userId: number): Promise<string[]> {
    return this.topics.of(userId);
  }

  /**
   * The topics, looked up again if any change was announced while they were being looked up (the
   * answer could predate it). The caller adds its waiter to the hub right after, with no await
   * between: a change announced from then on finds the waiter and answers it.
   */
  async settled(userId: number): Promise<string[]> {
    for (;;) {
      const before = this.topics.changes;
      const topics = await this.topics.of(userId);
      if (before === this.topics.changes) return topics; // changes come with writes: this settles
    }
  }

  /**
   * What these users (or, with 'all', anyone: a channel changed, another process wrote) listen
   * to changed. `onlyFewer`: topics can only have gone (a user removed), so held polls are left
   * alone: a topic nobody writes to any more needs no re-poll, and their answer keeps what it holds.
   */
  changed(who: number | readonly number[] | 'all', { onlyFewer = false } = {}) {
    this.changedHere(who, { onlyFewer });
    // A hint: a node that misses it (its connection down) is told 'all' when it is back.
    this.store.cluster?.tellSubscriptionsChanged(who === 'all' ? 'all' : typeof who === 'number' ? [who] : [...who], onlyFewer).catch(() => {});
  }

  /** As `changed`, on this node only: the change was told by another node or found in the log. */
  changedHere(who: number | readonly number[] | 'all', { onlyFewer = false } = {}) {
    if (who === 'all') {
      this.topics.forgetAll();
      if (!onlyFewer) this.hub.wakeEveryUser();
      return;
    }
    for (const userId of typeof who === 'number' ? [who] : who) {
      this.topics.forget(userId);
      if (!onlyFewer) this.hub.wakeUser(userId);
    }
  }
}
