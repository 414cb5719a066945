/**
 * The state of a call beyond ringing and hanging up (issue 18): joining or rejoining a call that
 * runs in a chat, hold and resume, transfer. docs/calls.md tells the rules.
 *
 * This file imports only zod, limits and calls.ts: shared/schemas.ts imports it (Event union).
 */
import { z } from 'zod';
import { LIMITS } from './limits.js';
import { Call, CALL_LIMITS, CallUsername } from './calls.js';

export const CALL_STATE_LIMITS = {
  /** Longest reason a transferor gives (shown on the colleague's ring). */
  transferReasonChars: 200,
} as const;

/** POST /api/v1/calls/:id/transfer: the colleague who takes the call over, and why (shown on their ring). */
export const TransferCallRequest = z.strictObject({
  to: CallUsername,
  reason: z.string().trim().max(CALL_STATE_LIMITS.transferReasonChars).optional(),
  /** Warm transfer: talk to the colleague first (the other party waits on hold), then hang up to hand over. */
  warm: z.boolean().optional(),
});
export type TransferCallRequest = z.input<typeof TransferCallRequest>;

/** POST /api/v1/calls/:id/ring: members of the call's chat to ring into the running call. */
export const RingCallRequest = z.strictObject({
  usernames: z.array(CallUsername).min(1).max(CALL_LIMITS.members - 1),
});
export type RingCallRequest = z.infer<typeof RingCallRequest>;

/** POST /api/v1/chats/:id/members: people to invite into a chat (each gets a chat request). */
export const AddMembersRequest = z.strictObject({
  usernames: z.array(CallUsername).min(1).max(LIMITS.invitees),
});
export type AddMembersRequest = z.infer<typeof AddMembersRequest>;

/** As Cursor and Timestamp in schemas.ts (the import cycle again). */
const base = { cursor: z.string().regex(/^\d{1,15}$/, 'an event cursor as returned by the server'), at: z.string().describe('ISO 8601 time') };
/** A call of two was put on hold (`by`: who); to both members' own topics. Media pauses both ways. */
export const CallHeldEvent = z.strictObject({ ...base, type: z.literal('call.held'), call: Call, by: z.string() });
/** The call on hold goes on again (`by`: who resumed, or who settled a transfer); to both members. */
export const CallResumedEvent = z.strictObject({ ...base, type: z.literal('call.resumed'), call: Call, by: z.string() });
/**
 * A call in a chat started, changed or ended: on the chat's topic, so every member taking part
 * (in the call or not) sees "Call in progress — Join" and who is in it.
 */
export const ChatCallEvent = z.strictObject({ ...base, type: z.literal('chat.call'), chatId: z.string(), call: Call });

export const CALL_STATE_EVENTS = [CallHeldEvent, CallResumedEvent, ChatCallEvent] as const;
