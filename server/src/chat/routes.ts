import {
  ChatParams,
  ChatResponse,
  ChatsResponse,
  CreateChatRequest,
  HistoryQuery,
  HistoryResponse,
  MessageParams,
  MessageResponse,
  SendMessageRequest,
} from '../../../shared/index.js';
import type { Services } from '../context.js';
import { route } from '../http/route.js';
import { guestMayRead, putGuestMessage } from '../meetings/rules.js';
import { ChatService } from './service.js';

/** Sending a message: a lane route (the event lane, events/lane.ts, answers well-formed sends itself). */
export const MESSAGE_ROUTE = '/api/v1/chats/:id/messages/:clientId';

export function chatRoutes({ store, subscriptions }: Services) {
  const chats = new ChatService(store, subscriptions);
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

  return [
    route({
      method: 'post',
      path: '/api/v1/chats',
      tag: 'chat',
      summary: 'Send a chat request to one or more people (a group chat when several)',
      access: 'user',
      body: CreateChatRequest,
      response: ChatResponse,
      status: 201,
      async handler({ body, session: { user } }) {
        return { chat: await chats.request(user, body.invitees) };
      },
    }),
    route({
      method: 'get',
      path: '/api/v1/chats',
      tag: 'chat',
      summary: 'Chats I take part in or am invited to, newest first',
      access: 'user',
      response: ChatsResponse,
      async handler({ session: { user } }) {
        return { chats: await store.chatsOf(user.id) };
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
        return { chat: (await chats.view(user, params.id)).chat };
      },
    }),
    membership('accept', 'Accept a chat request'),
    membership('decline', 'Decline a chat request'),
    membership('leave', 'Leave a chat (or withdraw a request)'),
    route({
      method: 'put',
      path: MESSAGE_ROUTE,
      tag: 'chat',
      summary: 'Send a message; the client-made id makes retries safe (201 when stored, 200 when it already was)',
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
        const input = { chatId: params.id, clientId: params.clientId, text: body.text };
        const { message, created } = session.guest
          ? await store.write((tx) => putGuestMessage(tx, { ...session, guest: session.guest! }, input))
          : await chats.send(session, params.id, params.clientId, body.text);
        answer(JSON.stringify({ message }), created ? 201 : 200);
      },
    }),
    route({
      method: 'get',
      path: '/api/v1/chats/:id/messages',
      tag: 'chat',
      summary: 'History, a page at a time, oldest first within a page; pass `before` to go back',
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
  ];
}
