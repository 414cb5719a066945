/** The calls part of the Store: calls between chat members, their members' states. The rules are calls/'. */
import type { Call, CallEndReason, CallMemberState } from '../../../shared/index.js';

/**
 * A call as stored; `members` maps user id to state (in position order: the caller first). A
 * meeting guest in its meeting's call is there by minus its guest id (its session's stand-in id).
 */
export interface CallRecord {
  call: Call;
  members: Map<number, CallMemberState>;
  /** The member (user id) who put the call on hold. */
  heldById?: number;
  /** A transfer ringing its target (user ids). */
  transfer?: CallTransferRecord;
}

export interface CallTransferRecord {
  fromId: number;
  toId: number;
  reason?: string;
  at: number;
  /** Warm transfer: the target joins, talks with the transferor, and the handover is when the transferor leaves. */
  warm?: boolean;
}

/** Reads outside a write. */
export interface CallStore {
  byId(callId: string): Promise<CallRecord | undefined>;
  /** Whether a live call started at or before this time still rings someone (a cheap check before a write). */
  ringsDue(startedBefore: number): Promise<boolean>;
  /** Users joined in a live call (for presence after a restart). */
  usersOnCall(): Promise<number[]>;
  /** Who is joined in which live call (to hang up for those whose client went away). */
  joinedMembers(): Promise<Array<{ callId: string; userId: number }>>;
  /** The live calls of these chats (for the chat list's "call in progress"). */
  liveInChats(chatIds: string[]): Promise<Call[]>;
}

/** Row operations on calls inside a write (StoreTx.calls). */
export interface CallRows {
  get(callId: string): Promise<CallRecord | undefined>;
  /** Joined in, or being rung for, a live call. */
  engaged(userId: number): Promise<boolean>;
  /** The live call the user is joined in or being rung for, if any. */
  engagedIn(userId: number): Promise<string | undefined>;
  /** The live call (other than `except`) the user is joined in, if any. */
  liveCallOf(userId: number, except?: string): Promise<string | undefined>;
  /** A new call with its members in this order; answers its id. */
  insert(input: { chatId: string; createdBy: string; createdAt: number; video: boolean; members: Array<[userId: number, state: CallMemberState]> }): Promise<string>;
  setMember(callId: string, userId: number, state: CallMemberState): Promise<void>;
  answered(callId: string, at: number): Promise<void>;
  ended(callId: string, at: number, reason: CallEndReason): Promise<void>;
  /** Members of live calls still ringing whose ring started (the call, a transfer, or a ring into the running call) at or before this time. */
  ringingSince(startedBefore: number): Promise<Array<{ callId: string; userId: number }>>;
  /** Rings a user in this call from now (a member already, or one more after the others): into a running call, or a transfer's target. */
  ring(callId: string, userId: number, at: number, byId: number): Promise<void>;
  /** A member who was not in the call (joining late, or a transfer's target), after the others. */
  addMember(callId: string, userId: number, state: CallMemberState): Promise<void>;
  /** Puts the call on hold by this member, or (null) takes it off hold. */
  setHold(callId: string, userId: number | null): Promise<void>;
  /** Starts (or, null, clears) a transfer. */
  setTransfer(callId: string, transfer: CallTransferRecord | null): Promise<void>;
  /** The live call of a chat, if one runs. */
  liveInChat(chatId: string): Promise<string | undefined>;
  /** Whether a live call of this chat is on hold (messages sent now are held). */
  heldInChat(chatId: string): Promise<boolean>;
}
