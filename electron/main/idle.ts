/**
 * Presence from the user's activity: a pure state machine fed by powerMonitor (idle time ticks,
 * screen lock, sleep) and by the user's own choices; it answers the presence to send when it
 * changes, and whether polling should resume at once.
 *
 * Rules:
 * - The user's choice is the base. A chosen busy, away or "appear offline" is never changed by
 *   activity or inactivity: only "available" turns into an automatic away.
 * - Automatic away while idle for idleMinutes or more, while the screen is locked, or while the
 *   machine sleeps; each cause clears on its own (activity, unlock, resume), and the user is back
 *   to available only when no cause remains.
 * - After resume from sleep, unlock, or the network coming back, polling resumes at once (the
 *   held poll is most likely dead).
 */
import type { PresenceState } from '../preload/bridge.js';

export type AwayCause = 'idle' | 'lock' | 'suspend';

export interface IdleState {
  /** What the user chose last (tray menu or renderer). */
  chosen: PresenceState;
  /** Causes of an automatic away in force. */
  causes: ReadonlySet<AwayCause>;
  idleMinutes: number;
  /** The presence last announced. */
  presence: PresenceState;
}

export type IdleInput =
  | { type: 'idle-time'; seconds: number }
  | { type: 'lock' }
  | { type: 'unlock' }
  | { type: 'suspend' }
  | { type: 'resume' }
  | { type: 'network'; online: boolean }
  | { type: 'choose'; state: PresenceState }
  | { type: 'idle-minutes'; minutes: number };

export interface IdleOutput {
  /** The presence to send, when it changed; null when nothing is to be sent. */
  presence: PresenceState | null;
  /** What made it change (for the renderer's suggestion). */
  reason: AwayCause | 'activity' | 'choice' | null;
  /** Poll the server now instead of waiting for the current poll or its backoff. */
  pollNow: boolean;
}

export function initialIdleState(idleMinutes = 5, chosen: PresenceState = 'available'): IdleState {
  return { chosen, causes: new Set(), idleMinutes, presence: chosen };
}

/** The presence the state calls for. */
export function effectivePresence(state: Pick<IdleState, 'chosen' | 'causes'>): PresenceState {
  return state.chosen === 'available' && state.causes.size > 0 ? 'away' : state.chosen;
}

/** One transition. Pure: returns the next state and what to do. */
export function stepIdle(state: IdleState, input: IdleInput): { state: IdleState; output: IdleOutput } {
  const causes = new Set(state.causes);
  let { chosen, idleMinutes } = state;
  let pollNow = false;
  let reason: IdleOutput['reason'] = null;

  switch (input.type) {
    case 'idle-time':
      if (Number.isFinite(input.seconds) && input.seconds >= idleMinutes * 60) {
        causes.add('idle');
        reason = 'idle';
      } else if (causes.delete('idle')) {
        reason = 'activity';
      }
      break;
    case 'lock':
      causes.add('lock');
      reason = 'lock';
      break;
    case 'unlock':
      causes.delete('lock');
      causes.delete('idle'); // unlocking is activity
      reason = 'activity';
      pollNow = true;
      break;
    case 'suspend':
      causes.add('suspend');
      reason = 'suspend';
      break;
    case 'resume':
      causes.delete('suspend');
      reason = 'activity';
      pollNow = true;
      break;
    case 'network':
      pollNow = input.online;
      break;
    case 'choose':
      chosen = input.state;
      // Choosing is activity; a locked screen or sleep still counts if somehow still in force.
      causes.delete('idle');
      reason = 'choice';
      break;
    case 'idle-minutes':
      if (Number.isInteger(input.minutes) && input.minutes >= 1) idleMinutes = input.minutes;
      break;
  }

  const next: IdleState = { chosen, causes, idleMinutes, presence: state.presence };
  const presence = effectivePresence(next);
  const changed = presence !== state.presence || input.type === 'choose';
  next.presence = presence;
  return { state: next, output: { presence: changed ? presence : null, reason: changed ? reason : null, pollNow } };
}

/** A small holder around stepIdle for the main process. */
export class IdleTracker {
  #state: IdleState;

  constructor(idleMinutes = 5, chosen: PresenceState = 'available') {
    this.#state = initialIdleState(idleMinutes, chosen);
  }

  get state(): IdleState {
    return this.#state;
  }

  handle(input: IdleInput): IdleOutput {
    const { state, output } = stepIdle(this.#state, input);
    this.#state = state;
    return output;
  }
}
