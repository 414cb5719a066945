import { z } from 'zod';
import {
  AddMembersRequest,
  ChatMessageParams,
  ChatParams,
  ChatResponse,
  ChatsResponse,
  CreateChatRequest,
  EditMessageRequest,
  HistoryQuery,
  LIMITS,
  HistoryResponse,
  MessageParams,
  MessageResponse,
  ReactionQuery,
  ReactionRequest,
  ReadRequest,
  ReadResponse,
  SendMessageRequest,
  UpdateChatRequest,
} from '../../../shared/index.js';
import type { Services } from '../context.js';
import { AppError, forbidden } from '../errors.js';
import { route } from '../http/route.js';
import { guestMayRead, putGuestMessage } from '../meetings/rules.js';
import { ChatService } from './service.js';
import { addMembers, setHistory } from './rules.js';

/** Sending a message: a lane route (the event lane, events/lane.ts, answers well-formed sends itself). */
export const MESSAGE_ROUTE = '/api/v1/chats/:id/messages/:clientId';

/** A message by the server's id: its reactions. */
const REACTIONS_ROUTE = '/api/v1/chats/:id/messages/:messageId/reactions';

export function chatRoutes({ store, subscriptions, hub, secret }: Services) {
  /** The call running in each chat (members may join it): GET /chats and /chats/:id show it. */
  const withCalls = async <C extends { id: string }>(list: C[]) => {
    const live = new Map((await store.calls.liveInChats(list.map((c) => c.id))).map((call) => [call.chatId, call]));
    return list.map((c) => (live.has(c.id) ? { ...c, call: live.get(c.id)! } : c));
  };
  const chats = new ChatService(store, subscriptions, hub, secret);
  const membership = (verb: 'accept' | 'decline' | 'leave', summary: string) =>
    route({
      method: 'post',
      path: `/api/v1/chats/:id/${verb}`,
      tag: 'chat',
      summary,
      access: 'user',
      params: ChatParams,
      response: ChatResponse,
      async handler({ params, session: { user } }) {
        return { chat: await chats[verb](user, params.id) };
      },
    });

  /** Adding (PUT, emoji in the body) and taking back (DELETE, emoji in the query) a reaction. */
  const reaction = <B extends typeof ReactionRequest | undefined, Q extends typeof ReactionQuery | undefined>(
    method: 'put' | 'delete',
    summary: string,
    body: B,
    query: Q,
  ) =>
    route({
      method,
      path: REACTIONS_ROUTE,
      tag: 'chat',
      summary,
      access: 'user',
      params: ChatMessageParams,
      body,
      query,
      response: MessageResponse,
      errors: [403, 409],
      async handler(input) {
        const { emoji } = (input.body ?? input.query) as { emoji: string };
        return { message: await chats.react(input.session, input.params.id, input.params.messageId, emoji, method === 'put') };
      },
    });

  return [
    route({
      method: 'post',
      path: '/api/v1/chats',
      tag: 'chat',
      summary:
        'Send a chat request to one or more people (a group chat when several); 200 with the existing chat when asking one person you already have an active 1:1 chat with',
      access: 'user',
      body: CreateChatRequest,
      response: ChatResponse,
      status: 201,
      otherStatuses: [200],
      async handler({ body, session: { user } }, ctx) {
        const { chat, created } = await chats.request(user, body.invitees);
        if (!created) ctx.state.status = 200;
        return { chat };
      },
    }),
    route({
      method: 'get',
      path: '/api/v1/chats',
      tag: 'chat',
      summary: 'Chats I take part in or am invited to, newest first, with my unread count, the last message and every member\'s read mark',
      access: 'user',
      response: ChatsResponse,
      async handler({ session: { user } }) {
        const now = Date.now();
        const [list, mutes] = await Promise.all([store.chatsOf(user.id), store.chatMutes(user.id, now)]);
        // Whether I muted each one (issue 17): for me only, so not part of the stored chat.
        return {
          chats: (await withCalls(list)).map((stored) => {
            // The preview's files get signed paths like any message answered (an <img> loads them);
            // a message held during a call's hold is no one's preview but its author's.
            const { lastMessage, ...rest } = stored;
            const shown = lastMessage && (lastMessage.state !== 'held' || lastMessage.from === user.username) ? lastMessage : undefined;
            const chat = shown ? { ...rest, lastMessage: chats.present(shown) } : rest;
            if (!mutes.has(chat.id)) return { ...chat, muted: false };
            const until = mutes.get(chat.id);
            return { ...chat, muted: true, ...(until ? { mutedUntil: new Date(until).toISOString() } : {}) };
          }),
        };
      },
    }),
    route({
      method: 'get',
      path: '/api/v1/chats/:id',
      tag: 'chat',
      summary: 'One chat and its members',
      access: 'user',
      params: ChatParams,
      response: ChatResponse,
      async handler({ params, session: { user } }) {
        return { chat: (await withCalls([(await chats.view(user, params.id)).chat]))[0]! };
      },
    }),
    route({
      method: 'post',
      path: '/api/v1/chats/:id/members',
      tag: 'chat',
      summary:
        'Invite people into a chat you take part in: each gets a chat request and, on accepting, reads its history and may join its call (409 when the chat has ended or would pass the member limit)',
      access: 'user',
      params: ChatParams,
      body: AddMembersRequest,
      response: ChatResponse,
      errors: [403, 409],
      async handler({ params, body, session: { user } }) {
        const ids: number[] = [];
        for (const name of new Map(body.usernames.map((n) => [n.toLowerCase(), n])).values()) {
          const found = await store.userByName(name);
          if (!found) {
            await chats.view(user, params.id); // a stranger learns nothing of the chat: 403/404 first
            throw new AppError(400, 'invalid_request', `usernames: there is no user ${name}`);
          }
          if (found.id !== user.id) ids.push(found.id);
        }
        return { chat: await store.write((tx) => addMembers(tx, params.id, user.id, ids, LIMITS.invitees + 1)) };
      },
    }),
    route({
      method: 'patch',
      path: '/api/v1/chats/:id',
      tag: 'chat',
      summary:
        "A group chat's settings: `history`, what people added later read ('all', the default, or 'since_added'); any member taking part may set it, the members get chat.updated (409 for a 1:1 chat or one that has ended)",
      access: 'user',
      params: ChatParams,
      body: UpdateChatRequest,
      response: ChatResponse,
      errors: [403, 409],
      async handler({ params, body, session: { user } }) {
        return { chat: (await withCalls([await store.write((tx) => setHistory(tx, params.id, user.id, body.history))]))[0]! };
      },
    }),
    membership('accept', 'Accept a chat request'),
    membership('decline', 'Decline a chat request'),
    membership('leave', 'Leave a chat (or withdraw a request)'),
    route({
      method: 'put',
      path: MESSAGE_ROUTE,
      tag: 'chat',
      summary:
        'Send a message: text, files (ids of files uploaded to this chat) or both; the client-made id makes retries safe (201 when stored, 200 when it already was; 409 when it was used for another text or other files)',
      access: 'user',
      // A meeting guest sends in its meeting's chat only (meetings/rules.ts).
      guests: true,
      params: MessageParams,
      body: SendMessageRequest,
      response: MessageResponse,
      status: 201,
      otherStatuses: [200],
      // Each message is one such request: the event lane serves it outside Koa.
      async lane({ params, body, session }, _res, answer) {
        if (session.guest && body.files?.length) throw forbidden('guests send text only');
        const { message, created } = session.guest
          ? await store.write((tx) => putGuestMessage(tx, { ...session, guest: session.guest! }, { chatId: params.id, clientId: params.clientId, text: body.text ?? '' }))
          : await chats.send(session, params.id, params.clientId, body);
        answer(JSON.stringify({ message }), created ? 201 : 200);
      },
    }),
    route({
      method: 'get',
      path: '/api/v1/chats/:id/messages',
      tag: 'chat',
      summary: 'History (also for those invited), a page at a time, oldest first within a page; pass `before` to go back',
      access: 'user',
      // A meeting guest reads its meeting's chat only (meetings/rules.ts).
      guests: true,
      params: ChatParams,
      query: HistoryQuery,
      response: HistoryResponse,
      async handler({ params, query, session }) {
        const { guest } = session;
        if (guest) await store.write((tx) => guestMayRead(tx, guest, params.id));
        // One more than asked tells whether an older page exists.
        const messages = guest
          ? await store.messages(params.id, query.before, query.limit + 1)
          : await chats.history(session.user, params.id, query.before, query.limit + 1);
        if (messages.length <= query.limit) return { messages };
        const page = messages.slice(1);
        return { messages: page, before: page[0]!.id };
      },
    }),
    route({
      method: 'patch',
      path: MESSAGE_ROUTE,
      tag: 'chat',
      summary:
        'Edit your own message (by your client id): new text, mentions recomputed, `editedAt` set; 403 when the message with this client id is another member\'s',
      access: 'user',
      params: MessageParams,
      body: EditMessageRequest,
      response: MessageResponse,
      errors: [403, 409],
      async handler({ params, body, session }) {
        return { message: await chats.edit(session, params.id, params.clientId, body.text) };
      },
    }),
    route({
      method: 'delete',
      path: MESSAGE_ROUTE,
      tag: 'chat',
      summary: 'Delete your own message (by your client id): history keeps its place with `deleted: true`, no text; a repeat changes nothing',
      access: 'user',
      params: MessageParams,
      response: MessageResponse,
      errors: [403, 409],
      async handler({ params, session }) {
        return { message: await chats.delete(session, params.id, params.clientId) };
      },
    }),
    reaction('put', 'React to a message (by its server id) with an emoji; a repeat changes nothing', ReactionRequest, undefined),
    reaction('delete', 'Take back your reaction `emoji` from a message; taking back one you have not made changes nothing', undefined, ReactionQuery),
    route({
      method: 'put',
      path: '/api/v1/chats/:id/read',
      tag: 'chat',
      summary: 'Mark the chat read up to a message of it (the mark never moves back); the others get chat.read',
      access: 'user',
      params: ChatParams,
      body: ReadRequest,
      response: ReadResponse,
      errors: [403],
      async handler({ params, body, session }) {
        return await chats.read(session, params.id, body.upTo);
      },
    }),
    route({
      method: 'post',
      path: '/api/v1/chats/:id/typing',
      tag: 'chat',
      summary: 'Say you are typing: the others\' held polls get chat.typing (not stored; at most one relayed per 2 s per user and chat)',
      access: 'user',
      params: ChatParams,
      response: z.null(),
      status: 204,
      errors: [403, 409],
      async handler({ params, session: { user } }) {
        await chats.typing(user, params.id);
        return undefined;
      },
    }),
  ];
}
