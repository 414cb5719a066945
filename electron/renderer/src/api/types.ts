/** The types the client hands to views: the protocol's (shared/, types only: no zod in the bundle) and its own events. */
import type { z } from 'zod';
import type * as C from '../../../../shared/calls.js';
import type * as M from '../../../../shared/people.js';
import type * as L from '../../../../shared/chat-lifecycle.js';
import type * as P from '../../../../shared/portal.js';
import type * as S from '../../../../shared/schemas.js';
import type * as F from '../../../../shared/chat-files.js';
import type * as Q from '../../../../shared/search.js';
import type * as G from '../../../../shared/meetings.js';
import type { OutboxEntry } from './outbox.js';
import type { ModeSetting, PollMode } from './policy.js';
import type { StorageLike } from './storage.js';

export type User = S.User;
export type Me = S.Me;
/** What others see of a user: name, picture (avatarUrl, a path: use resolveUrl), status message. */
export type PublicUser = S.PublicUser;
/** A directory search hit: a public user and whether they are on my list already. */
export type FoundUser = S.FoundUser;
export type UserStatus = M.UserStatus;
/** The body of PATCH /api/v1/me. */
export type MeChange = z.input<typeof M.PatchMeRequest>;
export type ChatMute = M.ChatMute;
export type Contact = S.Contact;
export type Chat = S.Chat;
export type Message = S.Message;
/** One emoji on a message and who chose it. */
export type Reaction = S.Reaction;
/** A chat's read mark after PUT /read, and what is still unread. */
export type ReadState = z.infer<typeof L.ReadResponse>;
/** A file uploaded to a chat (uploadFile's answer), to send with a message by its id. */
export type ChatFile = F.ChatFile;
/** A file as a message carries it: `url`, `thumbnailUrl` are signed paths (resolveUrl) an <img> or <video> loads for some hours. */
export type MessageFile = F.MessageFile;
/** Search hits, newest first, each with `highlights` (UTF-16 ranges to mark, as text); `before` for the next page. */
export type SearchResults = z.infer<typeof Q.SearchResponse>;
export type Highlight = Q.Highlight;
export type PresenceState = S.PresenceState;
/** What an installed client reports with its login: install id, version, platform. */
export type LoginClientInfo = S.ClientInfo;
export type ServerEvent = S.Event;
export type ServerEventType = S.EventType;
export type TickerItem = P.TickerItem;
export type MediaItem = P.MediaItem;
export type Notice = P.Notice;
export type ChartSeries = P.ChartSeries;
export type Channel = z.infer<typeof P.Channel>;
export type History = z.infer<typeof S.HistoryResponse>;
export type TickerView = z.infer<typeof P.TickerResponse>;
export type ChannelsView = z.infer<typeof P.ChannelsResponse>;
export type LinksView = z.infer<typeof P.LinksResponse>;
export type PresenceView = z.infer<typeof S.PresenceResponse>;
export type Call = C.Call;
export type CallSignal = C.CallSignal;
export type IceServers = C.IceServersResponse;
export type CallPath = C.CallPath;
export type CallPolicy = C.CallPolicy;

export type Meeting = G.Meeting;
export type MeetingDocument = G.MeetingDocument;
export type MeetingGuest = z.infer<typeof G.MeetingGuest>;
export type KnockingGuest = z.infer<typeof G.KnockingGuest>;
export type Knock = z.infer<typeof G.KnockResponse>;
export type MeetingAdmitted = z.infer<typeof G.MeetingAdmittedEvent>;

export type ConnectionState = 'connecting' | 'online' | 'offline';
export type { ModeSetting, PollMode };

/** What `on()` hands to handlers, by type. */
export type ClientEventMap = { [K in ServerEventType]: Extract<ServerEvent, { type: K }> } & {
  /** Every server event, after its own type's handlers. */
  '*': ServerEvent;
  connection: { state: ConnectionState; mode: PollMode };
  /** The first answer after start() or a login: load state now (contacts, chats, ...). */
  ready: { cursor: string; resumed: boolean };
  /** The server could not continue from our cursor: reload state; events continue from `cursor`. */
  reset: { cursor: string };
  outbox: { entries: OutboxEntry[] };
  /** The session ended on the server (expired, password changed, logged out elsewhere): show the login. */
  auth: { reason: string; message: string };
};

/** How the parts of the client tell the views: `emit(type, payload)` to the `on()` handlers. */
export type Emit = (type: string, payload: unknown) => void;

export interface ClientOptions {
  /** '' for the same origin (the browser at /app), or 'https://portal.example'. */
  baseUrl: string;
  /** localStorage in the browser; a MemoryStorage (Map-backed) in tests. */
  storage: StorageLike;
  /** Defaults to globalThis.fetch. */
  fetch?: typeof fetch;
  /** Hold of a long poll, seconds (default TIMINGS.pollWaitDefault, at most TIMINGS.pollWaitMax). */
  pollWait?: number;
  /** Period of interval polling, seconds (default 30). */
  intervalSeconds?: number;
  /** For the backoff jitter (default Math.random). */
  random?: () => number;
  /** Polling mode to begin with (default 'auto'). */
  mode?: ModeSetting;
  /** Prefix of the storage keys (default 'portico'). */
  storagePrefix?: string;
  /** Request-lane requests are abandoned after this long (ms, default 30 000). */
  requestTimeoutMs?: number;
  /** A held poll is abandoned this long after its wait should have ended (ms, default 15 000). */
  pollTimeoutGraceMs?: number;
  /** Backoff: first ceiling and cap (ms, default 500 and 30 000). */
  backoffBaseMs?: number;
  backoffCapMs?: number;
  /** Auto mode while interval polling: first time until long polls are tried again (ms, default 10 min). */
  longRetryMs?: number;
}
