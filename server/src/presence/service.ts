/**
 * Effective presence = what the user chose, if they are connected; offline otherwise. Every
 * change of it is recorded and announced to the user's watchers through the event log.
 */
import type { PresenceState } from '../../../shared/index.js';
import type { Store, UserRecord } from '../store/store.js';
import { refreshPresence } from './rules.js';
import type { ConnectionTracker } from './tracker.js';

/**
 * Announcements that need no answer (a panel came back, polls stopped) are written one gathered
 * write at a time: whoever comes while one is on its way to disk goes into the next. Alone, an
 * announcement is written at once; in a connect storm, where every first poll announced on its
 * own (one transaction and fsync per few connections: in a profile of 5,000 panels connecting the
 * fsyncs were 17 % of the server's time), the writes grow with the load instead of their number.
 */

export class PresenceService {
  constructor(
    private readonly store: Store,
    readonly tracker: ConnectionTracker,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Users on a call: they show busy while it lasts (unless they chose to appear offline). */
  private readonly onCall = new Set<number>();
  /** Users whose presence is re-derived with the next gathered write. */
  private readonly gathered = new Set<number>();
  /** The gathered write on its way to disk, if any. */
  private writing: Promise<void> | undefined;

  effective(user: Pick<UserRecord, 'id' | 'chosenPresence'>): PresenceState {
    if (!this.tracker.isConnected(user.id)) return 'offline';
    return this.onCall.has(user.id) && user.chosenPresence !== 'offline' ? 'busy' : user.chosenPresence;
  }

  /** A user joined or left a call: busy while on it, their own choice again after. */
  async setOnCall(userId: number, onCall: boolean) {
    if (onCall === this.onCall.has(userId)) return;
    if (onCall) this.onCall.add(userId);
    else this.onCall.delete(userId);
    await this.refresh(userId);
  }

  /** Re-derives the user's effective presence and announces it if it changed. */
  async refresh(userId: number): Promise<PresenceState | undefined> {
    await this.writeGatheredOf(userId);
    let state: PresenceState | undefined;
    await this.store.write((tx) => refreshPresence(tx, userId, (user) => (state = this.effective(user))));
    return state;
  }

  /**
   * A poll started. When it brings the user online, answers a promise that settles once that is
   * announced (the first poll's answer waits for it: a panel that has its answer is known to be
   * online); otherwise undefined.
   */
  pollStarted(userId: number, tokenId: number): Promise<void> | undefined {
    return this.tracker.pollStarted(userId, tokenId) ? this.refreshInBackground(userId) : undefined;
  }

  pollEnded(userId: number, tokenId: number, intervalMs: number) {
    this.tracker.pollEnded(userId, tokenId, intervalMs);
  }

  async choose(userId: number, state: PresenceState) {
    await this.writeGatheredOf(userId); // "online" is announced before the choice that follows it
    await this.store.setChosenPresence(userId, state);
    return this.refresh(userId);
  }

  async sessionEnded(userId: number, tokenId: number) {
    if (this.tracker.dropSession(userId, tokenId)) await this.refresh(userId);
  }

  /** Marks offline everyone whose polls stopped coming; runs on a timer. */
  sweep() {
    for (const userId of this.tracker.expire()) void this.refreshInBackground(userId);
  }

  /**
   * After a restart, those who were online keep that state for `holdMs` without flapping, so
   * their clients can come back; whoever does not is swept to offline then.
   */
  async restore(holdMs: number) {
    const until = Date.now() + holdMs;
    for (const user of await this.store.usersAnnouncedOnline()) this.tracker.holdOpen(user.id, until);
  }

  /** Gathers the user's announcement into the next write; settles once it is written (never rejects). */
  private refreshInBackground(userId: number): Promise<void> {
    this.gathered.add(userId);
    if (!this.writing) this.writeGathered();
    return this.writeGatheredOf(userId);
  }

  /** One write re-derives and announces the presence of everyone gathered; the next follows it. */
  private writeGathered() {
    const userIds = [...this.gathered];
    this.gathered.clear();
    const effective = (user: UserRecord) => this.effective(user);
    this.writing = this.store
      .write(async (tx) => {
        for (const userId of userIds) await refreshPresence(tx, userId, effective);
      })
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
  }

}
