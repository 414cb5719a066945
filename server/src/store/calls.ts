/** The calls part of the Store: calls between chat members, their members' states, signalling. */
import type { Call, CallMemberState, CallSignal } from '../../../shared/index.js';
import type { CallAction } from '../calls/rules.js';

/** A call as stored; `members` maps user id to state, for authorization without name lookups. */
export interface CallRecord {
  call: Call;
  members: Map<number, CallMemberState>;
}

/** A call after a change, and for each of its members whether they are now on a live call (any). */
export interface CallChange {
  call: Call;
  onCall: Map<number, boolean>;
}

export interface CallStore {
  /**
   * Starts a call in a chat: the caller must be an accepted member of the active chat and on no
   * other call; of `calleeIds` (online, in order) those on no other call are rung, at most
   * `maxMembers - 1` of them (409 callee_busy when none is left). Announces call.ring to each.
   */
  create(input: { chatId: string; callerId: number; calleeIds: number[]; video: boolean; maxMembers: number }): Promise<CallChange>;
  byId(callId: string): Promise<CallRecord | undefined>;
  /** A member accepts, declines or hangs up (404 for non-members); announces call.updated or call.ended. */
  act(callId: string, userId: number, action: CallAction): Promise<CallChange>;
  /** Relays a signal from a joined member to another member of a live call (event call.signal on their topic). */
  signal(callId: string, fromId: number, to: string, signal: CallSignal): Promise<void>;
  /** Rings started before `startedBefore` time out: ringing members miss it, calls nobody answered end. */
  expire(startedBefore: number): Promise<CallChange[]>;
  /** Users joined in a live call (for presence after a restart). */
  usersOnCall(): Promise<number[]>;
  /** Who is joined in which live call (to hang up for those whose client went away). */
  joinedMembers(): Promise<Array<{ callId: string; userId: number }>>;
}
