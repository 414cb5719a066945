/**
 * A call's set-up and changes, written against the store's write transaction (StoreTx): each
 * check and the change it allows, and the events it causes, commit together. Call events go to
 * each member's own user topic (they are per person, like chat requests).
 */
import { topicOf, type Call, type CallEndReason, type CallMemberState, type CallSignal } from '../../../shared/index.js';
import { AppError, conflict, notFound } from '../errors.js';
import { guestStandIn } from '../auth/sessions.js';
import type { CallRecord } from '../store/calls.js';
import type { StoreTx, UserRecord } from '../store/store.js';
import { releaseHeld, takePart } from '../chat/rules.js';
import { callRecord, endReasonAfter, type CallAction, type Trigger } from './rules.js';

/** A call after a change, and for each of its members whether they are now on a live call (any). */
export interface CallChange {
  call: Call;
  onCall: Map<number, boolean>;
  /** Users who now take part in the call's chat (a transfer's target): their topics changed. */
  tookPart?: number[];
}

/**
 * Starts a call in a chat: the caller must be an accepted member of the active chat and on no
 * other call; of the other accepted members those `online` are callees (409 callee_offline when
 * none is), and of those the ones on no other call are rung, at most `maxMembers - 1` of them
 * (409 callee_busy when none is left). Announces call.ring to each.
 */
export async function startCall(
  tx: StoreTx,
  input: { chatId: string; caller: UserRecord; video: boolean; maxMembers: number; online: (user: UserRecord) => boolean },
): Promise<CallChange> {
  const { chatId, caller } = input;
  const chat = await tx.chat(chatId);
  // A live meeting's chat: its admitted guests take part too (as their stand-in users), and it is
  // open while the meeting lasts although the host is its only member.
  const guests = await meetingGuests(tx, chatId);
  const takesPart = (id: number) => chat?.memberStatus.get(id) === 'accepted' || guests?.some((g) => g.id === id);
  if (!chat || !takesPart(caller.id)) throw notFound('chat');
  if (chat.chat.state !== 'active' && !guests) throw conflict('chat_not_active', 'this chat is not active: nobody else takes part in it');
  const others: UserRecord[] = [];
  for (const [userId, status] of chat.memberStatus) {
    if (status !== 'accepted' || userId === caller.id) continue;
    const user = await tx.user(userId);
    if (user) others.push(user);
  }
  for (const guest of guests ?? []) if (guest.id !== caller.id) others.push(guest);
  if (others.length === 0) throw conflict('callee_offline', 'nobody else is in this meeting yet');
  const online = others.filter(input.online);
  if (online.length === 0) {
    throw conflict(
      'callee_offline',
      others.length === 1 ? `${others[0]!.displayName} is offline: call again when they are online` : 'everyone in this chat is offline',
    );
  }
  if (await tx.calls.engaged(caller.id)) throw conflict('conflict', 'you are already on a call (or being called): hang up or decline first');
  // One call per chat: its members join the one that runs (call-state.ts).
  if ((await tx.calls.liveInChat(chatId)) !== undefined) throw conflict('conflict', 'a call is running in this chat: join it instead');
  const free: typeof online = [];
  for (const u of online) if (!(await tx.calls.engaged(u.id))) free.push(u);
  const rung = free.slice(0, input.maxMembers - 1);
  if (rung.length === 0) throw conflict('callee_busy', 'everyone you are calling is on another call');
  const now = Date.now();
  const id = await tx.calls.insert({
    chatId,
    createdBy: caller.username,
    createdAt: now,
    video: input.video,
    members: [[caller.id, 'joined'], ...rung.map((u): [number, CallMemberState] => [u.id, 'ringing'])],
  });
  const record = (await tx.calls.get(id))!;
  await announce(tx, record, 'call.ring', now, rung.map((u) => u.id));
  return { call: record.call, onCall: new Map([[caller.id, true]]) };
}

/** A member accepts, declines or hangs up (404 for non-members); announces call.updated or call.ended. */
export async function actOnCall(tx: StoreTx, callId: string, userId: number, action: CallAction): Promise<CallChange> {
  const before = await tx.calls.get(callId);
  const state = before?.members.get(userId);
  if (!before || state === undefined) throw notFound('call');
  const ended = before.call.state === 'ended';
  // Repeats and late answers after the end are harmless: the call as it is.
  const unchanged = async () => ({ call: before.call, onCall: await onCall(tx, [userId]) });
  if (action === 'accept') {
    if (state === 'joined' && !ended) return unchanged();
    if (ended || state !== 'ringing') throw conflict('conflict', ended ? 'this call has ended' : `you cannot accept from ${state}`);
    if ((await tx.calls.liveCallOf(userId, callId)) !== undefined) throw conflict('conflict', 'you are on another call: hang up first');
    return await change(tx, before, [[userId, 'joined']], action);
  }
  if (action === 'decline') {
    if (ended || state === 'declined') return unchanged();
    if (state !== 'ringing') throw conflict('conflict', `you cannot decline from ${state}: hang up instead`);
    return await change(tx, before, [[userId, 'declined']], action);
  }
  // hangup: leaves a joined call; while ringing it is a decline
  if (ended || (state !== 'joined' && state !== 'ringing')) return unchanged();
  return await change(tx, before, [[userId, state === 'ringing' ? 'declined' : 'left']], action);
}

/** Relays a signal from a joined member to another member of a live call (event call.signal on their topic). */
export async function signalCall(tx: StoreTx, callId: string, fromId: number, to: string, signal: CallSignal) {
  const record = await tx.calls.get(callId);
  const state = record?.members.get(fromId);
  if (!record || state === undefined) throw notFound('call');
  if (record.call.state === 'ended') throw conflict('conflict', 'this call has ended');
  if (state !== 'joined') throw conflict('conflict', 'only members who joined the call can signal');
  const ids = [...record.members.keys()];
  const index = record.call.members.findIndex((m) => m.username.toLowerCase() === to.toLowerCase());
  const toId = index < 0 ? undefined : ids[index];
  if (toId === undefined) throw notFound(`${to} in this call`);
  if (toId === fromId) throw new AppError(400, 'invalid_request', 'to: you cannot signal yourself');
  const toState = record.members.get(toId);
  if (toState !== 'joined' && toState !== 'ringing') throw conflict('conflict', `${to} is not in the call any more`);
  const from = record.call.members[ids.indexOf(fromId)]!.username;
  await tx.append(memberTopic(toId), { type: 'call.signal', callId, from, signal });
}

/**
 * Rings started before `startedBefore` time out: those members miss it (each ring counts from
 * when it started: the call, a transfer, a ring into the running call), calls nobody answered end.
 */
export async function expireRings(tx: StoreTx, startedBefore: number): Promise<CallChange[]> {
  const due = new Map<string, number[]>();
  for (const { callId, userId } of await tx.calls.ringingSince(startedBefore)) due.set(callId, [...(due.get(callId) ?? []), userId]);
  const changes: CallChange[] = [];
  for (const [id, users] of due) {
    changes.push(await change(tx, (await tx.calls.get(id))!, users.map((u): [number, CallMemberState] => [u, 'missed']), 'timeout'));
  }
  return changes;
}

/** A member's own topic: a user's, or a meeting guest's (negative id). */
export const memberTopic = (id: number) => (id < 0 ? topicOf.guest(-id) : topicOf.user(id));

/** The admitted guests (as stand-in users) when the chat is a live meeting's; undefined for any other chat. */
async function meetingGuests(tx: StoreTx, chatId: string): Promise<UserRecord[] | undefined> {
  const meeting = await tx.meetings.liveMeetingByChat(chatId);
  return meeting && (await tx.meetings.guests(meeting.id, ['admitted'])).map(guestStandIn);
}

/** For each user: joined in any live call (what presence shows as busy). */
export async function onCall(tx: StoreTx, members: Iterable<number>): Promise<Map<number, boolean>> {
  const busy = new Map<number, boolean>();
  for (const id of members) busy.set(id, (await tx.calls.liveCallOf(id)) !== undefined);
  return busy;
}

/**
 * Tells every member (ringing ones too) on their own topic; and the chat's topic (chat.call), so
 * its members who are not in the call see it running and may join.
 */
export async function announce(tx: StoreTx, record: CallRecord, type: 'call.updated' | 'call.ended' | 'call.ring', now: number, only?: number[]) {
  for (const userId of only ?? record.members.keys()) await tx.append(memberTopic(userId), { type, call: record.call }, now);
  await tx.append(topicOf.chat(record.call.chatId), { type: 'chat.call', chatId: record.call.chatId, call: record.call }, now);
}

/**
 * Applies member changes, settles a transfer that was ringing (its target joined: the transferor
 * leaves and the target takes part in the chat; else the call comes back to the transferor),
 * takes the call off hold when it is no longer a call of two, settles the call (end or not),
 * announces.
 */
export async function change(tx: StoreTx, before: CallRecord, moves: Array<[number, CallMemberState]>, trigger: Trigger, now = Date.now()): Promise<CallChange> {
  const id = before.call.id;
  const stateAfter = (userId: number) => moves.find(([u]) => u === userId)?.[1] ?? before.members.get(userId);
  let tookPart: number[] | undefined;
  let settled = false;
  const transfer = before.transfer;
  // The party being transferred (the other one joined before the transfer).
  const other = transfer && [...before.members.keys()].find((u) => u !== transfer.fromId && u !== transfer.toId && before.members.get(u) === 'joined');
  const otherGone = other !== undefined && stateAfter(other) !== 'joined';
  // They hung up while the target rings: nothing is left to hand over, the ring stops.
  if (transfer && otherGone && stateAfter(transfer.toId) === 'ringing') moves = [...moves, [transfer.toId, 'missed']];
  // A warm transfer whose target joined: they talk with the transferor while the other party
  // waits; the transferor hanging up hands over, the target hanging up calls it off.
  const consulting = transfer?.warm === true && before.members.get(transfer.toId) === 'joined';
  const handedOver = consulting && stateAfter(transfer.fromId) !== 'joined' && stateAfter(transfer.toId) === 'joined';
  const waiting = transfer?.warm === true && stateAfter(transfer.toId) === 'joined' && !handedOver && !otherGone;
  if (transfer && stateAfter(transfer.toId) !== 'ringing' && !waiting) {
    settled = true;
    await tx.calls.setTransfer(id, null);
    if (stateAfter(transfer.toId) === 'joined' && !otherGone) {
      if (stateAfter(transfer.fromId) === 'joined') moves = [...moves, [transfer.fromId, 'left']];
      if (await takePart(tx, before.call.chatId, transfer.toId, now)) tookPart = [transfer.toId];
    }
  }
  for (const [userId, state] of moves) await tx.calls.setMember(id, userId, state);
  const joinedNow = [...before.members.keys()].filter((u) => stateAfter(u) === 'joined').length;
  const resumed = before.heldById !== undefined && !waiting && (settled || joinedNow !== 2);
  if (resumed) {
    await tx.calls.setHold(id, null);
    await releaseHeld(tx, before.call.chatId, now);
  }
  // Members come in position order: the caller first.
  const states = [...before.members].map(([userId, state], i) => ({
    userId,
    caller: i === 0,
    state: moves.find(([u]) => u === userId)?.[1] ?? state,
  }));
  let answeredAt = before.call.answeredAt === undefined ? null : Date.parse(before.call.answeredAt);
  if (answeredAt === null && states.filter((m) => m.state === 'joined').length >= 2) {
    answeredAt = now;
    await tx.calls.answered(id, now);
  }
  const reason = endReasonAfter(states, answeredAt !== null, trigger);
  if (reason) await end(tx, before.call, states, answeredAt, reason, now);
  const after = (await tx.calls.get(id))!;
  await announce(tx, after, reason ? 'call.ended' : 'call.updated', now);
  if (resumed && !reason) {
    const by = (await tx.user(before.heldById!))?.username ?? '';
    for (const [userId, state] of after.members) if (state === 'joined') await tx.append(memberTopic(userId), { type: 'call.resumed', call: after.call, by }, now);
  }
  return { call: after.call, onCall: await onCall(tx, after.members.keys()), ...(tookPart ? { tookPart } : {}) };
}

/** Ends the call: ringing members missed it, joined ones left; the chat's history records it. */
async function end(tx: StoreTx, call: Call, states: Array<{ userId: number; state: CallMemberState }>, answeredAt: number | null, reason: CallEndReason, now: number) {
  for (const m of states) {
    if (m.state === 'ringing') await tx.calls.setMember(call.id, m.userId, 'missed');
    else if (m.state === 'joined') await tx.calls.setMember(call.id, m.userId, 'left');
  }
  await tx.calls.ended(call.id, now, reason);
  // Messages held while the call was on hold are delivered now (the hold ends with the call).
  await tx.calls.setHold(call.id, null);
  await tx.calls.setTransfer(call.id, null);
  await releaseHeld(tx, call.chatId, now);
  const { call: recorded, text } = callRecord(call.id, call.video, answeredAt ?? undefined, now, reason);
  // The caller "sends" the record line; its client id ("call:" is outside what clients may use) makes it one per call.
  // The caller is the first member; a meeting guest (negative id) is no user.
  const callerId = states[0]?.userId ?? 0;
  const message = await tx.insertMessage({
    chatId: call.chatId,
    fromUserId: callerId > 0 ? callerId : null,
    fromUsername: call.createdBy,
    clientId: `call:${call.id}`,
    text,
    sentAt: now,
    call: recorded,
  });
  await tx.append(topicOf.chat(call.chatId), { type: 'chat.message', message }, now);
}
