/**
 * Effective presence = what the user chose, if they are connected; offline otherwise. Every
 * change of it is recorded and announced to the user's watchers through the event log.
 */
import type { PresenceState } from '../../../shared/index.js';
import type { Store, UserRecord } from '../store/store.js';
import { announcePresence } from './rules.js';
import type { ConnectionTracker } from './tracker.js';

export class PresenceService {
  constructor(
    private readonly store: Store,
    readonly tracker: ConnectionTracker,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Users on a call: they show busy while it lasts (unless they chose to appear offline). */
  private readonly onCall = new Set<number>();

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
    const user = await this.store.userById(userId);
    if (!user) return undefined;
    const state = this.effective(user);
    await this.store.write((tx) => announcePresence(tx, userId, state));
    return state;
  }

  pollStarted(userId: number, tokenId: number) {
    if (this.tracker.pollStarted(userId, tokenId)) this.refreshInBackground(userId);
  }

  pollEnded(userId: number, tokenId: number, intervalMs: number) {
    this.tracker.pollEnded(userId, tokenId, intervalMs);
  }

  async choose(userId: number, state: PresenceState) {
    await this.store.setChosenPresence(userId, state);
    return this.refresh(userId);
  }

  async sessionEnded(userId: number, tokenId: number) {
    if (this.tracker.dropSession(userId, tokenId)) await this.refresh(userId);
  }

  /** Marks offline everyone whose polls stopped coming; runs on a timer. */
  sweep() {
    for (const userId of this.tracker.expire()) this.refreshInBackground(userId);
  }

  /**
   * After a restart, those who were online keep that state for `holdMs` without flapping, so
   * their clients can come back; whoever does not is swept to offline then.
   */
  async restore(holdMs: number) {
    const until = Date.now() + holdMs;
    for (const user of await this.store.usersAnnouncedOnline()) this.tracker.holdOpen(user.id, until);
  }

  private refreshInBackground(userId: number) {
    this.refresh(userId).catch(this.onError);
  }
}
