/**
 * The rules of chats, written against the store's write transaction (StoreTx): who may send,
 * the chat's state machine, and the events each change announces. Each runs inside one write,
 * so the check and the change it allows commit together.
 */
import { chatStateOf, topicOf, type Chat, type Message } from '../../../shared/index.js';
import { AppError, conflict, notFound } from '../errors.js';
import type { MemberStatus, StoreTx } from '../store/store.js';

/** A new chat: the creator takes part, the invitees are asked (chat.request on their own topic). */
export function createChat(tx: StoreTx, creatorId: number, inviteeIds: number[]): Chat {
  const creator = tx.user(creatorId);
  if (!creator) throw notFound('user');
  const now = Date.now();
  const id = tx.insertChat(creator.username, now, [[creatorId, 'accepted'], ...inviteeIds.map((u): [number, MemberStatus] => [u, 'invited'])]);
  const chat = tx.chat(id)!.chat;
  for (const userId of inviteeIds) tx.append(topicOf.user(userId), { type: 'chat.request', from: creator.username, chat }, now);
  return chat;
}

/**
 * Moves a member from one of `from` to `to` and announces it (chat.accepted / chat.declined /
 * chat.left); announces chat.closed to members still invited when the chat closes.
 */
export function moveMember(tx: StoreTx, chatId: string, userId: number, from: MemberStatus[], to: 'accepted' | 'declined' | 'left'): Chat {
  const before = tx.chat(chatId);
  if (!before) throw notFound('chat');
  const status = before.memberStatus.get(userId);
  if (status === undefined) throw new AppError(403, 'forbidden', 'you are not a member of this chat');
  // Leaving stays possible in a closed chat: it is how a member puts it away.
  if (before.chat.state === 'closed' && to !== 'left') throw conflict('chat_closed', 'this chat has ended');
  if (!from.includes(status)) throw conflict('conflict', `you cannot go from ${status} to ${to} in this chat`);
  tx.setMemberStatus(chatId, userId, to);
  const after = tx.chat(chatId)!;
  const username = tx.user(userId)!.username;
  const now = Date.now();
  const type = to === 'accepted' ? 'chat.accepted' : to === 'declined' ? 'chat.declined' : 'chat.left';
  tx.append(topicOf.chat(chatId), { type, username, chat: after.chat }, now);
  if (after.chat.state === 'closed') {
    // Those still invited do not listen on the chat's topic: tell them it is over.
    for (const [memberId, s] of after.memberStatus) {
      if (s === 'invited') tx.append(topicOf.user(memberId), { type: 'chat.closed', chat: after.chat }, now);
    }
  }
  return after.chat;
}

/** The user leaves every chat they are invited to or take part in (before their removal). */
export function leaveAllChats(tx: StoreTx, userId: number) {
  for (const chatId of tx.chatIdsOf(userId, ['invited', 'accepted'])) moveMember(tx, chatId, userId, ['invited', 'accepted'], 'left');
}

/**
 * Stores a message once per (chat, sender, clientId); a repeat returns the stored one. Only
 * members taking part may send, and only while the chat is active. `fromTokenId`: the sending
 * session, whose own poll is not woken for it (StoredEvent.origin).
 */
export function putMessage(
  tx: StoreTx,
  input: { chatId: string; fromUserId: number; fromTokenId?: number; clientId: string; text: string },
): { message: Message; created: boolean } {
  const existing = tx.messageByClientId(input.chatId, input.fromUserId, input.clientId);
  if (existing) {
    if (existing.text !== input.text) throw conflict('idempotency_conflict', 'this client id was already used for a different message');
    return { message: existing, created: false };
  }
  const members = tx.memberStatuses(input.chatId);
  if (members.length === 0 && !tx.chatExists(input.chatId)) throw notFound('chat');
  if (members.find(([id]) => id === input.fromUserId)?.[1] !== 'accepted') throw new AppError(403, 'forbidden', 'you are not a member of this chat');
  const state = chatStateOf(members.map(([, status]) => status));
  // A meeting's chat has its host as only member: it stays open while the meeting lasts (meetings/).
  if (state !== 'active' && !tx.meetings.liveMeetingOfChat(input.chatId)) throw conflict('chat_not_active', state === 'closed' ? 'this chat has ended' : 'nobody has accepted this chat yet');
  const sender = tx.user(input.fromUserId)!;
  const now = Date.now();
  const message = tx.insertMessage({ chatId: input.chatId, fromUserId: input.fromUserId, fromUsername: sender.username, clientId: input.clientId, text: input.text, sentAt: now });
  tx.append(topicOf.chat(input.chatId), { type: 'chat.message', message }, now, input.fromTokenId);
  return { message, created: true };
}
