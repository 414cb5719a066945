/**
 * A call's state beyond ringing and hanging up (issue 18; docs/calls.md), over the store's write
 * transaction like transitions.ts: joining (or rejoining) a call running in one's chat, hold and
 * resume of a call of two, and transfer of a call of two to a colleague.
 */
import { topicOf } from '../../../shared/index.js';
import { AppError, conflict, forbidden, notFound } from '../errors.js';
import { releaseHeld } from '../chat/rules.js';
import type { CallRecord } from '../store/calls.js';
import type { StoreTx, UserRecord } from '../store/store.js';
import { announce, change, memberTopic, onCall, type CallChange } from './transitions.js';

const joinedOf = (record: CallRecord) => [...record.members].filter(([, s]) => s === 'joined').map(([id]) => id);

/**
 * The call, for one of its members or (`chatMembers`) a member taking part in its chat; 404 for
 * anyone else (no hint that it exists).
 */
async function callFor(tx: StoreTx, callId: string, userId: number, chatMembers = false): Promise<CallRecord> {
  const record = await tx.calls.get(callId);
  if (record && record.members.has(userId)) return record;
  if (record && chatMembers && (await tx.chat(record.call.chatId))?.memberStatus.get(userId) === 'accepted') return record;
  throw notFound('call');
}

/**
 * Joins a live call of a chat one takes part in: a member who missed, declined or left it
 * rejoins, another member of the chat comes in late; one being rung answers. Refused (409) once
 * the call has ended, while it is on hold or being transferred, when CALL_LIMITS.members are in
 * it, and while the user is in another call. Everyone in the call hears call.updated and, in the
 * mesh, the newcomer's partners negotiate with them.
 */
export async function joinCall(tx: StoreTx, callId: string, user: UserRecord, maxMembers: number): Promise<CallChange> {
  const record = await callFor(tx, callId, user.id, true);
  const state = record.members.get(user.id);
  if (record.call.state === 'ended') throw conflict('conflict', 'this call has ended');
  if (state === 'joined') return { call: record.call, onCall: await onCall(tx, [user.id]) };
  if (state !== 'ringing' && (await tx.chat(record.call.chatId))?.memberStatus.get(user.id) !== 'accepted') {
    throw forbidden('you no longer take part in this chat');
  }
  if (record.transfer && record.transfer.toId !== user.id) throw conflict('conflict', 'this call is being transferred: join when it is done');
  if (record.heldById !== undefined) throw conflict('conflict', 'this call is on hold: join when it is resumed');
  if (joinedOf(record).length >= maxMembers) throw conflict('conflict', `this call is full: at most ${maxMembers} people take part in a call`);
  if ((await tx.calls.liveCallOf(user.id, callId)) !== undefined) throw conflict('conflict', 'you are on another call: hang up first');
  let before = record;
  if (state === undefined) {
    await tx.calls.addMember(callId, user.id, 'left');
    before = (await tx.calls.get(callId))!;
  }
  return await change(tx, before, [[user.id, 'joined']], 'accept');
}

/** A joined member of a live call of exactly two (nobody else being rung): the two. */
async function callOfTwo(tx: StoreTx, callId: string, userId: number, what: string): Promise<{ record: CallRecord; other: number }> {
  const record = await callFor(tx, callId, userId);
  if (record.call.state === 'ended') throw conflict('conflict', 'this call has ended');
  if (record.members.get(userId) !== 'joined') throw conflict('conflict', `only a member in the call can ${what}`);
  const joined = joinedOf(record);
  const ringing = [...record.members.values()].filter((s) => s === 'ringing').length;
  if (joined.length !== 2 || (ringing > 0 && !record.transfer)) throw conflict('conflict', `only a call between two people can ${what}`);
  return { record, other: joined.find((id) => id !== userId)! };
}

/**
 * Either member of a call of two puts it on hold (call.held to both: media pauses both ways;
 * messages sent in its chat meanwhile are held); only the one who held it resumes it
 * (call.resumed; the held messages are delivered). Repeats change nothing.
 */
export async function holdCall(tx: StoreTx, callId: string, userId: number, hold: boolean): Promise<CallChange> {
  const { record } = await callOfTwo(tx, callId, userId, hold ? 'be put on hold' : 'be resumed');
  const unchanged = { call: record.call, onCall: await onCall(tx, [userId]) };
  const now = Date.now();
  if (hold) {
    if (record.heldById === userId) return unchanged;
    if (record.heldById !== undefined) throw conflict('conflict', `${record.call.heldBy} has put this call on hold`);
    await tx.calls.setHold(callId, userId);
  } else {
    if (record.heldById === undefined) return unchanged;
    if (record.transfer) throw conflict('conflict', 'this call is being transferred: it resumes when the transfer is answered or declined');
    if (record.heldById !== userId) throw conflict('conflict', `only ${record.call.heldBy}, who put the call on hold, can resume it`);
    await tx.calls.setHold(callId, null);
    await releaseHeld(tx, record.call.chatId, now);
  }
  const after = (await tx.calls.get(callId))!;
  const by = (await tx.user(userId))!.username;
  for (const id of joinedOf(after)) await tx.append(memberTopic(id), { type: hold ? 'call.held' : 'call.resumed', call: after.call, by }, now);
  await tx.append(topicOf.chat(after.call.chatId), { type: 'chat.call', chatId: after.call.chatId, call: after.call }, now);
  return { call: after.call, onCall: await onCall(tx, after.members.keys()) };
}

/**
 * A member of a call of two transfers it to a colleague (blind transfer): the call goes on hold
 * and the colleague is rung (call.ring with `call.transfer`: who transfers, to whom, why). When
 * they answer, the transferor leaves, the colleague takes part in the chat (its whole history)
 * and the call goes on between them and the other party; when they decline or the ring times
 * out, the call comes back to the transferor, off hold (transitions.ts `change`).
 */
export async function transferCall(
  tx: StoreTx,
  callId: string,
  user: UserRecord,
  target: UserRecord,
  reason: string | undefined,
  online: (user: UserRecord) => boolean,
  warm = false,
): Promise<CallChange> {
  const { record, other } = await callOfTwo(tx, callId, user.id, 'be transferred');
  if (record.transfer) throw conflict('conflict', 'this call is being transferred already');
  if (target.id === user.id || target.id === other) throw conflict('conflict', `${target.username} is in this call already`);
  if (!online(target)) throw conflict('callee_offline', `${target.displayName} is offline`);
  if (await tx.calls.engaged(target.id)) throw conflict('callee_busy', `${target.displayName} is on another call`);
  const now = Date.now();
  await tx.calls.ring(callId, target.id, now, user.id);
  await tx.calls.setTransfer(callId, { fromId: user.id, toId: target.id, at: now, ...(reason ? { reason } : {}), ...(warm ? { warm } : {}) });
  const wasHeld = record.heldById !== undefined;
  if (!wasHeld) await tx.calls.setHold(callId, user.id);
  const after = (await tx.calls.get(callId))!;
  await announce(tx, after, 'call.updated', now, joinedOf(after));
  await tx.append(memberTopic(target.id), { type: 'call.ring', call: after.call }, now);
  if (!wasHeld) for (const id of joinedOf(after)) await tx.append(memberTopic(id), { type: 'call.held', call: after.call, by: user.username }, now);
  return { call: after.call, onCall: await onCall(tx, [user.id]) };
}

const inCallCount = (record: CallRecord) => [...record.members.values()].filter((s) => s === 'joined' || s === 'ringing').length;

/** Rings these users into the running call from now: call.ring to them (their member shows `rungBy`), call.updated to the others. */
async function ringInto(tx: StoreTx, record: CallRecord, userIds: number[], byId: number, now: number): Promise<CallChange> {
  const callId = record.call.id;
  for (const id of userIds) await tx.calls.ring(callId, id, now, byId);
  const after = (await tx.calls.get(callId))!;
  await announce(tx, after, 'call.updated', now, [...after.members.keys()].filter((id) => !userIds.includes(id)));
  for (const id of userIds) await tx.append(memberTopic(id), { type: 'call.ring', call: after.call }, now);
  return { call: after.call, onCall: await onCall(tx, [byId]) };
}

/**
 * A member in the call rings people taking part in its chat into it (POST /calls/:id/ring): each
 * gets the usual ring, showing who rang them, and answers to join or declines (they stay in the
 * chat). 404 for anyone outside the chat, 403 for a member of the chat who is not in the call; 400
 * for a name that does not take part in the chat (add them to it first: they are rung when they
 * accept); 409 once the call has ended, while it is on hold or being transferred, and past
 * `maxMembers` joined or rung. Those in the call already (joined or rung) stay as they are; those
 * offline or on another call are not rung (409 callee_offline / callee_busy when nobody is).
 */
export async function ringIntoCall(
  tx: StoreTx,
  callId: string,
  by: UserRecord,
  targets: UserRecord[],
  maxMembers: number,
  online: (user: UserRecord) => boolean,
): Promise<CallChange> {
  const record = await callFor(tx, callId, by.id, true);
  if (record.call.state === 'ended') throw conflict('conflict', 'this call has ended');
  if (record.members.get(by.id) !== 'joined') throw forbidden('only members in the call can ring others into it');
  if (record.transfer) throw conflict('conflict', 'this call is being transferred: ring others when it is done');
  if (record.heldById !== undefined) throw conflict('conflict', 'this call is on hold: ring others when it is resumed');
  const chat = (await tx.chat(record.call.chatId))!;
  for (const t of targets) {
    if (chat.memberStatus.get(t.id) !== 'accepted') {
      throw new AppError(400, 'invalid_request', `usernames: ${t.username} does not take part in this chat: add them to it first`);
    }
  }
  const fresh = targets.filter((t) => {
    const state = record.members.get(t.id);
    return state !== 'joined' && state !== 'ringing';
  });
  const offline = fresh.filter((t) => !online(t));
  const busy: UserRecord[] = [];
  const rung: UserRecord[] = [];
  for (const t of fresh) if (online(t)) ((await tx.calls.engaged(t.id)) ? busy : rung).push(t);
  if (rung.length === 0) {
    if (offline.length > 0) throw conflict('callee_offline', `${offline.map((u) => u.displayName).join(', ')}: offline`);
    if (busy.length > 0) throw conflict('callee_busy', `${busy.map((u) => u.displayName).join(', ')}: on another call`);
    return { call: record.call, onCall: await onCall(tx, [by.id]) };
  }
  if (inCallCount(record) + rung.length > maxMembers) throw conflict('conflict', `this call is full: at most ${maxMembers} people take part in a call`);
  return ringInto(tx, record, rung.map((u) => u.id), by.id, Date.now());
}

/**
 * Someone accepted a chat request (chat/service.ts): if a call runs in the chat and can take them
 * (not on hold nor being transferred, not full) and they are on no other call, they are rung into
 * it, as by the member who added them (or, if that one is not in the call, its first member in
 * it). Otherwise nothing: they see the call running and may join it.
 */
export async function ringOnAccept(tx: StoreTx, chatId: string, userId: number, maxMembers: number): Promise<CallChange | undefined> {
  const callId = await tx.calls.liveInChat(chatId);
  const record = callId === undefined ? undefined : await tx.calls.get(callId);
  if (!record || record.call.state === 'ended' || record.transfer || record.heldById !== undefined) return undefined;
  const state = record.members.get(userId);
  if (state === 'joined' || state === 'ringing' || (await tx.calls.engaged(userId)) || inCallCount(record) >= maxMembers) return undefined;
  const joined = joinedOf(record);
  const adder = (await tx.chatMemberAdded(chatId, userId)).by;
  const by = adder !== null && joined.includes(adder) ? adder : joined.find((id) => id > 0);
  if (by === undefined) return undefined;
  return ringInto(tx, record, [userId], by, Date.now());
}
