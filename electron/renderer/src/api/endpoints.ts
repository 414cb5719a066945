/**
 * The API calls the client makes, one row each: method, path (from the call's arguments), body,
 * and the answer's schema in shared/ (as a type: the server validates, the bundle carries no zod),
 * with the part of the answer the client hands back. Adding a call: a row here, a method in
 * client.ts (and the route in server/src/<feature>/).
 */
import type { z } from 'zod';
import type * as C from '../../../../shared/calls.js';
import type * as CS from '../../../../shared/call-state.js';
import type * as H from '../../../../shared/chat-history.js';
import type * as M from '../../../../shared/people.js';
import type * as L from '../../../../shared/chat-lifecycle.js';
import type * as P from '../../../../shared/portal.js';
import type * as S from '../../../../shared/schemas.js';
import type * as Q from '../../../../shared/search.js';
import type * as O from '../../../../shared/sso.js';
import type * as G from '../../../../shared/meetings.js';
import { ApiError } from './errors.js';
import type { CallSignal, LoginClientInfo, MeChange, PresenceState } from './types.js';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** `path` and `body` both take the call's arguments (`_name` where one of them needs not all). */
export interface Endpoint<Args extends unknown[], Answer, Result> {
  method: Method;
  path: (...args: Args) => string;
  /** The JSON body; none when absent. */
  body?: (...args: Args) => unknown;
  /** What the caller gets from the answer (typed by the answer's schema). */
  pick: (answer: Answer) => Result;
}

type Answer<T extends z.ZodType> = z.infer<T>;
/** For calls whose answer the client does not hand on. */
type Ignored = unknown;

const enc = encodeURIComponent;
const nothing = (): void => undefined;

/** `path?a=1&b=2` with the given parameters in order, leaving out the undefined ones; `path` alone when none is left. */
function withQuery(path: string, params: Array<[string, string | number | undefined]>): string {
  const query = new URLSearchParams();
  for (const [name, value] of params) if (value !== undefined) query.set(name, String(value));
  const qs = query.toString();
  return qs ? `${path}?${qs}` : path;
}

export type EventsBody = Answer<typeof S.EventsResponse>;

/** The one answer checked at run time: the event loop reads its fields (an answer of another shape is an error, not a crash). */
function checkEvents(data: unknown): EventsBody {
  const body = data as { events?: unknown; cursor?: unknown; reset?: unknown } | null;
  if (body && typeof body === 'object' && typeof body.cursor === 'string' && (body.reset === true || Array.isArray(body.events))) {
    return body as EventsBody;
  }
  throw new ApiError(200, 'bad_response', 'the events answer has an unexpected shape');
}

/** Checks each row against Endpoint while keeping its own argument and answer types. */
const table = <T extends { [name: string]: Endpoint<any, any, any> }>(rows: T): T => rows;

export const ENDPOINTS = table({
  // ---------- session ----------
  login: {
    method: 'POST',
    path: (_username: string, _password: string, _client?: LoginClientInfo) => '/api/v1/login',
    body: (username: string, password: string, client?: LoginClientInfo) => (client ? { username, password, client } : { username, password }),
    pick: (a: Answer<typeof S.LoginResponse>) => a,
  },
  ssoInfo: { method: 'GET', path: () => '/api/v1/sso', pick: (a: Answer<typeof O.SsoInfo>) => a },
  ssoExchange: {
    method: 'POST',
    path: (_code: string, _client?: LoginClientInfo, _verifier?: string) => '/api/v1/sso/exchange',
    body: (code: string, client?: LoginClientInfo, verifier?: string) => ({ code, ...(client ? { client } : {}), ...(verifier ? { verifier } : {}) }),
    pick: (a: Answer<typeof S.LoginResponse>) => a,
  },
  logout: { method: 'POST', path: () => '/api/v1/logout', body: () => ({}), pick: nothing as (a: Ignored) => void },
  me: { method: 'GET', path: () => '/api/v1/me', pick: (a: Answer<typeof S.MeResponse>) => a.user },

  // ---------- me (issue 17) ----------
  /** Name, status message (null clears it), do-not-disturb (dndUntil null: off), mentions while busy. */
  updateMe: { method: 'PATCH', path: (_change: MeChange) => '/api/v1/me', body: (change: MeChange) => change, pick: (a: Answer<typeof S.MeResponse>) => a.user },
  changePassword: {
    method: 'POST',
    path: (_oldPassword: string, _newPassword: string) => '/api/v1/me/password',
    body: (oldPassword: string, newPassword: string) => ({ oldPassword, newPassword }),
    pick: nothing as (a: Ignored) => void,
  },
  removeAvatar: { method: 'DELETE', path: () => '/api/v1/me/avatar', pick: (a: Answer<typeof S.MeResponse>) => a.user },
  /** Mute a chat for me (until a time, or until unmuted when `until` is absent), or unmute it. */
  muteChat: {
    method: 'PUT',
    path: (id: string, _muted: boolean, _until?: string) => `/api/v1/chats/${enc(id)}/mute`,
    body: (_id: string, muted: boolean, until?: string) => (until === undefined ? { muted } : { muted, until }),
    pick: (a: Answer<typeof M.ChatMuteResponse>) => a.mute,
  },

  // ---------- events and messages ----------
  /** The poll: `after`, `wait`, `interval` (see poll.ts). */
  events: { method: 'GET', path: (query: URLSearchParams) => `/api/v1/events?${query}`, pick: checkEvents as (a: unknown) => EventsBody },
  /** Text, files (ids from uploadFile) or both. */
  putMessage: {
    method: 'PUT',
    path: (chatId: string, clientId: string, _text: string, _files?: string[]) => `/api/v1/chats/${enc(chatId)}/messages/${enc(clientId)}`,
    body: (_chatId: string, _clientId: string, text: string, files?: string[]) => (files?.length ? (text ? { text, files } : { files }) : { text }),
    pick: (a: Answer<typeof S.MessageResponse>) => a.message,
  },
  /** Messages of my chats that hold every term of `q`, newest first, with the ranges to mark; `before` pages back. */
  searchMessages: {
    method: 'GET',
    path: (q: string, chat?: string, before?: number, limit?: number) =>
      withQuery('/api/v1/search', [['q', q], ['chat', chat], ['before', before], ['limit', limit]]),
    pick: (a: Answer<typeof Q.SearchResponse>) => a,
  },
  history: {
    method: 'GET',
    path: (chatId: string, before?: number, limit?: number) => withQuery(`/api/v1/chats/${enc(chatId)}/messages`, [['before', before], ['limit', limit]]),
    pick: (a: Answer<typeof S.HistoryResponse>) => a,
  },

  // ---------- contacts and presence ----------
  contacts: { method: 'GET', path: () => '/api/v1/contacts', pick: (a: Answer<typeof S.ContactsResponse>) => a.contacts },
  searchUsers: { method: 'GET', path: (q: string) => `/api/v1/users?${new URLSearchParams({ q })}`, pick: (a: Answer<typeof S.UsersResponse>) => a.users },
  addContact: { method: 'PUT', path: (username: string) => `/api/v1/contacts/${enc(username)}`, pick: (a: Answer<typeof S.ContactResponse>) => a.contact },
  removeContact: { method: 'DELETE', path: (username: string) => `/api/v1/contacts/${enc(username)}`, pick: nothing as (a: Ignored) => void },
  setPresence: { method: 'PUT', path: (_state: PresenceState) => '/api/v1/presence', body: (state: PresenceState) => ({ state }), pick: (a: Answer<typeof S.PresenceResponse>) => a },

  // ---------- chats ----------
  chats: { method: 'GET', path: () => '/api/v1/chats', pick: (a: Answer<typeof S.ChatsResponse>) => a.chats },
  chat: { method: 'GET', path: (id: string) => `/api/v1/chats/${enc(id)}`, pick: (a: Answer<typeof S.ChatResponse>) => a.chat },
  createChat: { method: 'POST', path: (_invitees: string[]) => '/api/v1/chats', body: (invitees: string[]) => ({ invitees }), pick: (a: Answer<typeof S.ChatResponse>) => a.chat },
  accept: { method: 'POST', path: (id: string) => `/api/v1/chats/${enc(id)}/accept`, body: () => ({}), pick: (a: Answer<typeof S.ChatResponse>) => a.chat },
  decline: { method: 'POST', path: (id: string) => `/api/v1/chats/${enc(id)}/decline`, body: () => ({}), pick: (a: Answer<typeof S.ChatResponse>) => a.chat },
  leave: { method: 'POST', path: (id: string) => `/api/v1/chats/${enc(id)}/leave`, body: () => ({}), pick: (a: Answer<typeof S.ChatResponse>) => a.chat },

  // ---------- the message lifecycle (issue 16) ----------
  editMessage: {
    method: 'PATCH',
    path: (chatId: string, clientId: string, _text: string) => `/api/v1/chats/${enc(chatId)}/messages/${enc(clientId)}`,
    body: (_chatId: string, _clientId: string, text: string) => ({ text }),
    pick: (a: Answer<typeof S.MessageResponse>) => a.message,
  },
  deleteMessage: {
    method: 'DELETE',
    path: (chatId: string, clientId: string) => `/api/v1/chats/${enc(chatId)}/messages/${enc(clientId)}`,
    pick: (a: Answer<typeof L.DeleteMessageResponse>) => a.message,
  },
  react: {
    method: 'PUT',
    path: (chatId: string, messageId: number, _emoji: string) => `/api/v1/chats/${enc(chatId)}/messages/${messageId}/reactions`,
    body: (_chatId: string, _messageId: number, emoji: string) => ({ emoji }),
    pick: (a: Answer<typeof S.MessageResponse>) => a.message,
  },
  unreact: {
    method: 'DELETE',
    path: (chatId: string, messageId: number, emoji: string) => withQuery(`/api/v1/chats/${enc(chatId)}/messages/${messageId}/reactions`, [['emoji', emoji]]),
    pick: (a: Answer<typeof S.MessageResponse>) => a.message,
  },
  markRead: {
    method: 'PUT',
    path: (chatId: string, _upTo: number) => `/api/v1/chats/${enc(chatId)}/read`,
    body: (_chatId: string, upTo: number) => ({ upTo }),
    pick: (a: Answer<typeof L.ReadResponse>) => a,
  },
  typing: { method: 'POST', path: (chatId: string) => `/api/v1/chats/${enc(chatId)}/typing`, body: () => ({}), pick: nothing as (a: Ignored) => void },

  // ---------- the portal ----------
  ticker: { method: 'GET', path: () => '/api/v1/ticker', pick: (a: Answer<typeof P.TickerResponse>) => a },
  media: { method: 'GET', path: () => '/api/v1/media', pick: (a: Answer<typeof P.MediaResponse>) => a.items },
  notices: { method: 'GET', path: () => '/api/v1/notices', pick: (a: Answer<typeof P.NoticesResponse>) => a.notices },
  charts: {
    method: 'GET',
    path: (channel?: string, series?: string) => withQuery('/api/v1/charts', [['channel', channel], ['series', series]]),
    pick: (a: Answer<typeof P.ChartsResponse>) => a.series,
  },
  links: { method: 'GET', path: () => '/api/v1/links', pick: (a: Answer<typeof P.LinksResponse>) => a },
  channels: { method: 'GET', path: () => '/api/v1/channels', pick: (a: Answer<typeof P.ChannelsResponse>) => a },
  setMyChannels: { method: 'PUT', path: (_names: string[]) => '/api/v1/channels/mine', body: (names: string[]) => ({ channels: names }), pick: (a: Answer<typeof P.ChannelsResponse>) => a },

  // ---------- calls ----------
  startCall: { method: 'POST', path: (_chatId: string, _video: boolean) => '/api/v1/calls', body: (chatId: string, video: boolean) => ({ chatId, video }), pick: (a: Answer<typeof C.CallResponse>) => a.call },
  getCall: { method: 'GET', path: (id: string) => `/api/v1/calls/${enc(id)}`, pick: (a: Answer<typeof C.CallResponse>) => a.call },
  acceptCall: { method: 'POST', path: (id: string) => `/api/v1/calls/${enc(id)}/accept`, body: () => ({}), pick: (a: Answer<typeof C.CallResponse>) => a.call },
  declineCall: { method: 'POST', path: (id: string) => `/api/v1/calls/${enc(id)}/decline`, body: () => ({}), pick: (a: Answer<typeof C.CallResponse>) => a.call },
  hangUp: { method: 'POST', path: (id: string) => `/api/v1/calls/${enc(id)}/hangup`, body: () => ({}), pick: (a: Answer<typeof C.CallResponse>) => a.call },
  sendSignal: {
    method: 'POST',
    path: (id: string, _to: string, _signal: CallSignal) => `/api/v1/calls/${enc(id)}/signal`,
    body: (_id: string, to: string, signal: CallSignal) => ({ to, signal }),
    pick: nothing as (a: Ignored) => void,
  },
  iceServers: { method: 'GET', path: () => '/api/v1/calls/ice-servers', pick: (a: Answer<typeof C.IceServersResponse>) => a },
  // call state (issue 18): join, hold, resume, transfer; people into a chat
  joinCall: { method: 'POST', path: (id: string) => `/api/v1/calls/${enc(id)}/join`, body: () => ({}), pick: (a: Answer<typeof C.CallResponse>) => a.call },
  holdCall: { method: 'POST', path: (id: string) => `/api/v1/calls/${enc(id)}/hold`, body: () => ({}), pick: (a: Answer<typeof C.CallResponse>) => a.call },
  resumeCall: { method: 'POST', path: (id: string) => `/api/v1/calls/${enc(id)}/resume`, body: () => ({}), pick: (a: Answer<typeof C.CallResponse>) => a.call },
  transferCall: {
    method: 'POST',
    path: (id: string, _to: string, _reason?: string, _warm?: boolean) => `/api/v1/calls/${enc(id)}/transfer`,
    body: (_id: string, to: string, reason?: string, warm?: boolean): CS.TransferCallRequest => ({ to, ...(reason ? { reason } : {}), ...(warm ? { warm } : {}) }),
    pick: (a: Answer<typeof C.CallResponse>) => a.call,
  },
  updateChat: {
    method: 'PATCH',
    path: (id: string, _history: H.ChatHistory) => `/api/v1/chats/${enc(id)}`,
    body: (_id: string, history: H.ChatHistory): H.UpdateChatRequest => ({ history }),
    pick: (a: Answer<typeof S.ChatResponse>) => a.chat,
  },
  ringCall: {
    method: 'POST',
    path: (id: string, _usernames: string[]) => `/api/v1/calls/${enc(id)}/ring`,
    body: (_id: string, usernames: string[]): CS.RingCallRequest => ({ usernames }),
    pick: (a: Answer<typeof C.CallResponse>) => a.call,
  },
  addChatMembers: {
    method: 'POST',
    path: (id: string, _usernames: string[]) => `/api/v1/chats/${enc(id)}/members`,
    body: (_id: string, usernames: string[]): CS.AddMembersRequest => ({ usernames }),
    pick: (a: Answer<typeof S.ChatResponse>) => a.chat,
  },

  // ---------- meetings with guests (issue 19) ----------
  createMeeting: {
    method: 'POST',
    path: (_title?: string, _fixed?: boolean) => '/api/v1/meetings',
    body: (title?: string, fixed?: boolean) => ({ ...(title ? { title } : {}), ...(fixed ? { fixed } : {}) }),
    pick: (a: Answer<typeof G.MeetingResponse>) => a.meeting,
  },
  meetings: { method: 'GET', path: () => '/api/v1/meetings', pick: (a: Answer<typeof G.MeetingsResponse>) => a.meetings },
  endMeeting: { method: 'DELETE', path: (id: string) => `/api/v1/meetings/${enc(id)}`, pick: nothing as (a: Ignored) => void },
  /** No account: the answer's token is the guest's session (knockAs in client.ts). */
  knock: {
    method: 'POST',
    path: (_number: string, _name: string) => '/api/v1/guest/knock',
    body: (number: string, name: string) => ({ number, name }),
    pick: (a: Answer<typeof G.KnockResponse>) => a,
  },
  admitGuest: {
    method: 'POST',
    path: (id: string, guestId: number) => `/api/v1/meetings/${enc(id)}/guests/${guestId}/admit`,
    body: () => ({}),
    pick: (a: Answer<typeof G.GuestActionResponse>) => a.guest,
  },
  rejectGuest: {
    method: 'POST',
    path: (id: string, guestId: number) => `/api/v1/meetings/${enc(id)}/guests/${guestId}/reject`,
    body: () => ({}),
    pick: (a: Answer<typeof G.GuestActionResponse>) => a.guest,
  },
  meetingDocuments: { method: 'GET', path: (id: string) => `/api/v1/meetings/${enc(id)}/documents`, pick: (a: Answer<typeof G.MeetingDocumentsResponse>) => a.documents },
  present: {
    method: 'PUT',
    path: (id: string, _documentId: string, _page: number) => `/api/v1/meetings/${enc(id)}/presentation`,
    body: (_id: string, documentId: string, page: number) => ({ documentId, page }),
    pick: (a: Answer<typeof G.PresentationResponse>) => a,
  },
  pointer: {
    method: 'POST',
    path: (id: string, _x: number, _y: number) => `/api/v1/meetings/${enc(id)}/pointer`,
    body: (_id: string, x: number, y: number) => ({ x, y }),
    pick: nothing as (a: Ignored) => void,
  },
});


export type Endpoints = typeof ENDPOINTS;

/** Where a chat file is uploaded (a binary body, sent by Transport.upload, not through the table). */
export const chatFileUploadPath = (chatId: string, name: string) => withQuery(`/api/v1/chats/${enc(chatId)}/files`, [['name', name]]);

/** Where a meeting document is uploaded (PDF, PNG or JPEG as the body). */
export const meetingDocumentPath = (meetingId: string, name?: string) => withQuery(`/api/v1/meetings/${enc(meetingId)}/documents`, [['name', name]]);
