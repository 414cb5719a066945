/**
 * The life of a call, as pure functions over its members' states (the store applies them inside
 * its write transaction, so every change and its events commit together).
 */
import type { CallEndReason, CallMemberState, MessageCall } from '../../../shared/index.js';

export type CallAction = 'accept' | 'decline' | 'hangup';
/** What made the call re-evaluate: a member's action, or the ring timeout. */
export type Trigger = CallAction | 'timeout';

/**
 * Whether the call ends now, and why. It goes on while two or more are joined, or while someone
 * joined still waits for someone ringing; otherwise it is over (a caller who hangs up before
 * anyone answered cancels it for everyone).
 */
export function endReasonAfter(
  states: { caller: boolean; state: CallMemberState }[],
  answered: boolean,
  trigger: Trigger,
): CallEndReason | undefined {
  const joined = states.filter((m) => m.state === 'joined').length;
  const ringing = states.filter((m) => m.state === 'ringing').length;
  if (joined >= 2 || (joined === 1 && ringing > 0)) return undefined;
  if (!answered && trigger === 'timeout') return 'missed';
  if (!answered && states.every((m) => m.caller || m.state === 'declined')) return 'declined';
  return 'hangup';
}

/** What the chat's history records about a call that ended. */
export function callRecord(
  callId: string,
  video: boolean,
  answeredAt: number | undefined,
  endedAt: number,
  reason: CallEndReason,
): { call: MessageCall; text: string } {
  const kind = video ? 'video call' : 'call';
  if (answeredAt === undefined) {
    const outcome = reason === 'declined' ? 'declined' : 'missed';
    return { call: { id: callId, outcome }, text: `${outcome === 'declined' ? 'Declined' : 'Missed'} ${kind}` };
  }
  const durationSeconds = Math.max(0, Math.round((endedAt - answeredAt) / 1000));
  return {
    call: { id: callId, outcome: 'completed', durationSeconds },
    text: `${video ? 'Video call' : 'Call'}, ${formatDuration(durationSeconds)}`,
  };
}

export function formatDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h > 0) return `${h} h ${m} min`;
  if (m > 0) return `${m} min ${s} s`;
  return `${s} s`;
}
