/**
 * The rules of chats, written against the store's write transaction (StoreTx): who may send,
 * the chat's state machine, and the events each change announces. Each runs inside one write,
 * so the check and the change it allows commit together.
 */
import { chatStateOf, LIMITS, mentionsIn, topicOf, type Chat, type ChatHistory, type EventDraft, type Message } from '../../../shared/index.js';
import { AppError, conflict, forbidden, notFound } from '../errors.js';
import type { MemberStatus, StoreTx } from '../store/store.js';
import { checkAttachable, sameFiles } from './file-rules.js';

type Members = Array<[userId: number, status: MemberStatus]>;

/**
 * A chat request: a 1:1 request to someone the creator already has an active 1:1 chat with
 * answers that chat (`created` false) instead of a second one; otherwise a new chat.
 */
export async function requestChat(tx: StoreTx, creatorId: number, inviteeIds: number[]): Promise<{ chat: Chat; created: boolean }> {
  const existing = inviteeIds.length === 1 ? await tx.activeOneToOne(creatorId, inviteeIds[0]!) : undefined;
  if (existing) return { chat: (await tx.chat(existing))!.chat, created: false };
  return { chat: await createChat(tx, creatorId, inviteeIds), created: true };
}

/** A new chat: the creator takes part, the invitees are asked (chat.request on their own topic). */
export async function createChat(tx: StoreTx, creatorId: number, inviteeIds: number[]): Promise<Chat> {
  const creator = await tx.user(creatorId);
  if (!creator) throw notFound('user');
  const now = Date.now();
  const id = await tx.insertChat(creator.username, now, [[creatorId, 'accepted'], ...inviteeIds.map((u): [number, MemberStatus] => [u, 'invited'])]);
  const chat = (await tx.chat(id))!.chat;
  for (const userId of inviteeIds) await tx.append(topicOf.user(userId), { type: 'chat.request', from: creator.username, chat }, now);
  return chat;
}

/**
 * Moves a member from one of `from` to `to` and announces it (chat.accepted / chat.declined /
 * chat.left); announces chat.closed to members still invited when the chat closes.
 */
export async function moveMember(tx: StoreTx, chatId: string, userId: number, from: MemberStatus[], to: 'accepted' | 'declined' | 'left'): Promise<Chat> {
  const before = await tx.chat(chatId);
  if (!before) throw notFound('chat');
  const status = before.memberStatus.get(userId);
  if (status === undefined) throw new AppError(403, 'forbidden', 'you are not a member of this chat');
  // Leaving stays possible in a closed chat: it is how a member puts it away.
  if (before.chat.state === 'closed' && to !== 'left') throw conflict('chat_closed', 'this chat has ended');
  if (!from.includes(status)) throw conflict('conflict', `you cannot go from ${status} to ${to} in this chat`);
  await tx.setMemberStatus(chatId, userId, to);
  const after = (await tx.chat(chatId))!;
  const username = (await tx.user(userId))!.username;
  const now = Date.now();
  const type = to === 'accepted' ? 'chat.accepted' : to === 'declined' ? 'chat.declined' : 'chat.left';
  await tx.append(topicOf.chat(chatId), { type, username, chat: after.chat }, now);
  if (after.chat.state === 'closed') {
    // Those still invited do not listen on the chat's topic: tell them it is over.
    for (const [memberId, s] of after.memberStatus) {
      if (s === 'invited') await tx.append(topicOf.user(memberId), { type: 'chat.closed', chat: after.chat }, now);
    }
  }
  return after.chat;
}

/** The user leaves every chat they are invited to or take part in (before their removal). */
export async function leaveAllChats(tx: StoreTx, userId: number) {
  for (const chatId of await tx.chatIdsOf(userId, ['invited', 'accepted'])) await moveMember(tx, chatId, userId, ['invited', 'accepted'], 'left');
}

/**
 * Announces a change to a chat's messages: on the chat's topic, and on the own topic of each
 * member still invited (they listen to the chat only once they accept, yet see its messages
 * with the request). `origin`: the session whose answer already says it (StoredEvent.origin).
 * A change to a message that some member may not read (under history 'since_added', one sent
 * before they were added: `messageId`) goes only to the own topics of those who may, so an edit's
 * text or a reaction does not reach the others through the chat's topic.
 */
async function announce(tx: StoreTx, chatId: string, members: Members, draft: EventDraft, now: number, origin?: number, messageId?: number) {
  if (messageId !== undefined) {
    const current = members.filter(([, status]) => status === 'invited' || status === 'accepted');
    const readers: number[] = [];
    for (const [userId] of current) if (messageId > (await tx.visibleAfter(chatId, userId))) readers.push(userId);
    if (readers.length < current.length) {
      for (const userId of readers) await tx.append(topicOf.user(userId), draft, now, origin);
      return;
    }
  }
  await tx.append(topicOf.chat(chatId), draft, now, origin);
  for (const [userId, status] of members) if (status === 'invited') await tx.append(topicOf.user(userId), draft, now);
}

/** The chat's members (`known`: read already); 404 for an unknown chat, 403 unless the user has one of `allowed`. */
async function membersFor(tx: StoreTx, chatId: string, userId: number, allowed: MemberStatus[] = ['accepted'], known?: Members): Promise<Members> {
  const members = known ?? (await tx.memberStatuses(chatId));
  if (members.length === 0 && !(await tx.chatExists(chatId))) throw notFound('chat');
  const status = members.find(([id]) => id === userId)?.[1];
  if (status === undefined || !allowed.includes(status)) throw forbidden('you are not a member of this chat');
  return members;
}

/** A message of the chat this member may read (404 otherwise: one before they were added, under history 'since_added'). */
async function visibleMessage(tx: StoreTx, chatId: string, userId: number, messageId: number): Promise<Message> {
  const message = await tx.message(chatId, messageId);
  if (!message || messageId <= (await tx.visibleAfter(chatId, userId))) throw notFound('message');
  return message;
}

/** Messages stay refused in a chat that has ended. */
function refuseClosed(members: Members) {
  if (chatStateOf(members.map(([, status]) => status)) === 'closed') throw conflict('chat_not_active', 'this chat has ended');
}

/** The members (invited or taking part) a text names as `@username`. */
async function mentionsOf(tx: StoreTx, chatId: string, text: string): Promise<string[]> {
  if (!text.includes('@')) return []; // the usual message: no member lookup
  const members = (await tx.chat(chatId))!.chat.members.filter((m) => m.status === 'invited' || m.status === 'accepted');
  return mentionsIn(text, members.map((m) => m.username));
}

/**
 * Stores a message once per (chat, sender, clientId); a repeat returns the stored one (also once
 * it was edited or deleted since: that repeat is a late retry). Only members taking part may
 * send; while the chat is pending (nobody else has accepted yet) the message is kept and the
 * invitees see it; once the chat has ended, nothing more. `fromTokenId`: the sending session,
 * whose own poll is not woken for it (StoredEvent.origin).
 * `files` must be files of this chat (a retry names the same ones); `present`: the message as
 * answered and announced (signed file paths).
 */
export async function putMessage(
  tx: StoreTx,
  input: { chatId: string; fromUserId: number; fromUsername: string; fromTokenId?: number; clientId: string; text: string; files?: string[] },
  present: (message: Message) => Message = (m) => m,
): Promise<{ message: Message; created: boolean }> {
  const checks = await tx.sendChecks(input.chatId, input.fromUserId, input.clientId);
  const existing = checks.existing;
  if (existing) {
    const sameMessage = existing.text === input.text && sameFiles(existing.files?.map((f) => f.id), input.files);
    if (!sameMessage && !existing.editedAt && !existing.deleted) {
      throw conflict('idempotency_conflict', 'this client id was already used for a different message');
    }
    return { message: present(existing), created: false };
  }
  const members = await membersFor(tx, input.chatId, input.fromUserId, ['accepted'], checks.members);
  // A meeting's chat has its host as only member: it stays open while the meeting lasts (meetings/).
  if (chatStateOf(members.map(([, status]) => status)) === 'closed' && !(await tx.meetings.liveMeetingOfChat(input.chatId))) refuseClosed(members);
  if (input.files?.length) await checkAttachable(tx, input.chatId, input.files);
  const now = Date.now();
  const mentions = await mentionsOf(tx, input.chatId, input.text);
  // While a call in this chat is on hold the message is stored but kept (state 'held') until the
  // call is resumed or ends (calls/call-state.ts releases it): only its author has it meanwhile.
  const held = checks.held;
  const message = present(
    await tx.insertMessage({ chatId: input.chatId, fromUserId: input.fromUserId, fromUsername: input.fromUsername, clientId: input.clientId, text: input.text, sentAt: now, mentions, files: input.files, held }),
  );
  if (!held) await announce(tx, input.chatId, members, { type: 'chat.message', message }, now, input.fromTokenId);
  return { message, created: true };
}

/**
 * The caller's own message with this client id, in a chat they take part in that has not ended.
 * 404: no such chat, or nobody's message has this client id in it; 403: the caller is not
 * taking part, or the message with this client id is someone else's (only its author may
 * change it; another author's message is never touched).
 */
async function ownMessage(tx: StoreTx, chatId: string, userId: number, clientId: string) {
  const members = await membersFor(tx, chatId, userId);
  const message = await tx.messageByClientId(chatId, userId, clientId);
  if (!message) {
    if (await tx.clientIdUsed(chatId, clientId)) throw forbidden('only its author can change a message');
    throw notFound('message');
  }
  refuseClosed(members);
  return { members, message };
}

/** New text for the caller's own message (mentions recomputed); chat.message.edited when it changed. */
export async function editMessage(tx: StoreTx, input: { chatId: string; userId: number; tokenId?: number; clientId: string; text: string }): Promise<Message> {
  const { members, message } = await ownMessage(tx, input.chatId, input.userId, input.clientId);
  if (message.deleted) throw conflict('conflict', 'this message was deleted');
  if (message.text === input.text) return (await tx.message(input.chatId, message.id))!;
  const now = Date.now();
  const edited = await tx.editMessage(message.id, input.text, await mentionsOf(tx, input.chatId, input.text), now);
  await announce(tx, input.chatId, members, { type: 'chat.message.edited', message: edited }, now, input.tokenId, message.id);
  return edited;
}

/** Deletes the caller's own message, keeping its place; chat.message.deleted once (a repeat changes nothing). */
export async function deleteMessage(tx: StoreTx, input: { chatId: string; userId: number; tokenId?: number; clientId: string }): Promise<Message> {
  const { members, message } = await ownMessage(tx, input.chatId, input.userId, input.clientId);
  if (message.deleted) return message;
  const deleted = await tx.markMessageDeleted(message.id);
  await announce(tx, input.chatId, members, { type: 'chat.message.deleted', chatId: input.chatId, id: message.id }, Date.now(), input.tokenId, message.id);
  return deleted;
}

/** Adds or takes back the caller's reaction; chat.reaction when that changed anything (a repeat does not). */
export async function react(tx: StoreTx, input: { chatId: string; userId: number; tokenId?: number; messageId: number; emoji: string; add: boolean }): Promise<Message> {
  const members = await membersFor(tx, input.chatId, input.userId);
  refuseClosed(members);
  const message = await visibleMessage(tx, input.chatId, input.userId, input.messageId);
  if (input.add && message.deleted) throw conflict('conflict', 'this message was deleted');
  const username = (await tx.user(input.userId))!.username;
  const already = message.reactions?.some((r) => r.emoji === input.emoji && r.users.includes(username)) ?? false;
  if (input.add && !already && (await tx.reactionCount(message.id, input.userId)) >= LIMITS.reactionsPerUser) {
    throw conflict('conflict', `at most ${LIMITS.reactionsPerUser} different reactions of yours on one message`);
  }
  const now = Date.now();
  const changed = input.add ? await tx.addReaction(message.id, input.userId, input.emoji, now) : await tx.removeReaction(message.id, input.userId, input.emoji);
  if (!changed) return message;
  const after = (await tx.message(input.chatId, input.messageId))!;
  await announce(
    tx,
    input.chatId,
    members,
    { type: 'chat.reaction', chatId: input.chatId, messageId: message.id, username, emoji: input.emoji, added: input.add, reactions: after.reactions ?? [] },
    now,
    input.tokenId,
    message.id,
  );
  return after;
}

/**
 * Moves the caller's read mark up to a message of this chat (never back); chat.read to the
 * chat's members when it moved. Invitees may mark too (they can read a pending chat).
 */
export async function markRead(tx: StoreTx, input: { chatId: string; userId: number; tokenId?: number; upTo: number }) {
  await membersFor(tx, input.chatId, input.userId, ['accepted', 'invited']);
  await visibleMessage(tx, input.chatId, input.userId, input.upTo);
  const before = await tx.readUpTo(input.chatId, input.userId);
  const upTo = Math.max(before, input.upTo);
  if (upTo > before) {
    await tx.setReadUpTo(input.chatId, input.userId, upTo);
    const username = (await tx.user(input.userId))!.username;
    await tx.append(topicOf.chat(input.chatId), { type: 'chat.read', chatId: input.chatId, username, upTo }, Date.now(), input.tokenId);
  }
  return { chatId: input.chatId, upTo, unread: await tx.unreadCount(input.chatId, input.userId, upTo) };
}

/** Delivers the chat's messages held during a call's hold, in order, as chat.message events (docs/calls.md). */
export async function releaseHeld(tx: StoreTx, chatId: string, now = Date.now()) {
  const released = await tx.releaseHeldMessages(chatId);
  if (released.length === 0) return;
  const members = await tx.memberStatuses(chatId);
  for (const message of released) await announce(tx, chatId, members, { type: 'chat.message', message }, now, undefined, message.id);
}

/**
 * Invites people into a chat (POST /chats/:id/members): only a member taking part may, and not
 * into a chat that has ended. Each one not already invited or taking part gets a chat.request
 * (those who declined or left are asked again); the chat's topic hears chat.added. Each one's
 * "visible from" is the chat's newest message now: under history 'since_added' they read only
 * what comes after (docs/calls.md), under 'all' (the default) everything, like any invitee.
 */
export async function addMembers(tx: StoreTx, chatId: string, byId: number, userIds: number[], maxMembers: number): Promise<Chat> {
  const members = await membersFor(tx, chatId, byId);
  if (chatStateOf(members.map(([, status]) => status)) === 'closed') throw conflict('chat_closed', 'this chat has ended');
  const statusOf = new Map(members);
  const added = userIds.filter((id) => statusOf.get(id) !== 'accepted' && statusOf.get(id) !== 'invited');
  const present = members.filter(([, st]) => st === 'accepted' || st === 'invited').length;
  if (present + added.length > maxMembers) throw conflict('conflict', `a chat has at most ${maxMembers} members: this would make ${present + added.length}`);
  if (added.length === 0) return (await tx.chat(chatId))!.chat;
  const newest = await tx.lastMessageId(chatId);
  for (const id of added) {
    if (statusOf.has(id)) await tx.setMemberStatus(chatId, id, 'invited');
    else await tx.addChatMember(chatId, id, 'invited');
    // Who added them rings them into the chat's call when they accept (calls/call-state.ts ringOnAccept).
    await tx.setChatMemberAdded(chatId, id, byId, newest);
  }
  const chat = (await tx.chat(chatId))!.chat;
  const by = (await tx.user(byId))!.username;
  const now = Date.now();
  for (const id of added) await tx.append(topicOf.user(id), { type: 'chat.request', from: by, chat }, now);
  const usernames: string[] = [];
  for (const id of added) usernames.push((await tx.user(id))!.username);
  await tx.append(topicOf.chat(chatId), { type: 'chat.added', by, usernames, chat }, now);
  return chat;
}

/**
 * A user takes part in the chat from now (a call transferred to them): accepted at once, the
 * chat's topic hears chat.accepted. Answers whether anything changed (their topics did).
 */
export async function takePart(tx: StoreTx, chatId: string, userId: number, now = Date.now()): Promise<boolean> {
  const status = (await tx.memberStatuses(chatId)).find(([id]) => id === userId)?.[1];
  if (status === 'accepted') return false;
  if (status === undefined) await tx.addChatMember(chatId, userId, 'accepted');
  else await tx.setMemberStatus(chatId, userId, 'accepted');
  // A transfer shares the whole history with the colleague, whatever the chat's setting.
  await tx.setChatMemberAdded(chatId, userId, null, null);
  const chat = (await tx.chat(chatId))!.chat;
  await tx.append(topicOf.chat(chatId), { type: 'chat.accepted', username: (await tx.user(userId))!.username, chat }, now);
  return true;
}

/**
 * What members added later read (PATCH /chats/:id {history}): 'all' or 'since_added'. Any member
 * taking part in a group chat (one that has had more than two members) sets it; not in a chat that
 * has ended. chat.updated on the chat's topic and to each invitee; a repeat announces nothing.
 */
export async function setHistory(tx: StoreTx, chatId: string, userId: number, history: ChatHistory): Promise<Chat> {
  const members = await membersFor(tx, chatId, userId);
  if (chatStateOf(members.map(([, status]) => status)) === 'closed') throw conflict('chat_closed', 'this chat has ended');
  if (members.length <= 2) throw conflict('conflict', 'only a group chat shares its history with people added later: add people first');
  const before = (await tx.chat(chatId))!.chat;
  if (before.history === history) return before;
  await tx.setChatHistory(chatId, history);
  const chat = (await tx.chat(chatId))!.chat;
  await announce(tx, chatId, members, { type: 'chat.updated', by: (await tx.user(userId))!.username, chat }, Date.now());
  return chat;
}
