/**
 * The panel's API client: import everything from here.
 *
 *   const client = new PorticoClient({ baseUrl: '', storage: localStorage });
 *   client.on('ready', loadState);          // first answer after start()/login: load contacts, chats, ...
 *   client.on('reset', loadState);          // the server could not continue from our cursor: load again
 *   client.on('chat.message', (e) => ...);  // every server event type, in order, once
 *   client.on('connection', ({ state, mode }) => ...);
 *   client.on('outbox', ({ entries }) => ...);
 *   client.on('auth', () => showLogin());   // the session ended on the server
 *   const user = (await client.restore()) ?? (await client.login(name, password, remember));
 *   client.start();                         // event loop + outbox sender; they wait while logged out
 *
 * Rules of thumb for views:
 *  - Keep one started client per session (per storage): two started clients of one login replace
 *    each other's held poll on the server and share the outbox in storage.
 *  - Your own messages arrive twice over: as the outbox entry ('sending' -> 'sent', with
 *    `message`) and as a 'chat.message' event with the same `message.clientId`. Key messages by
 *    clientId (or id) and merge.
 *  - A resumed client (ready.resumed) replays what happened while it was away; history loaded at
 *    'ready' may already contain some of it: key by message id.
 *  - OutboxEntry.error is the server's error code (for translated text); errorMessage is the
 *    server's English message.
 *  - Media URLs are paths: client.resolveUrl(item.url).
 *  - After resume from sleep or a network change call client.networkChanged() (or pollNow()).
 */
export { PorticoClient } from './client.js';
export type {
  Call,
  Channel,
  ChannelsView,
  Chat,
  ChartSeries,
  ClientEventMap,
  ClientOptions,
  ConnectionState,
  ChatMute,
  Contact,
  FoundUser,
  History,
  LinksView,
  Me,
  MeChange,
  MediaItem,
  Message,
  ChatFile,
  MessageFile,
  SearchResults,
  ModeSetting,
  Notice,
  PollMode,
  LoginClientInfo,
  PresenceState,
  PresenceView,
  ServerEvent,
  ServerEventType,
  TickerItem,
  TickerView,
  PublicUser,
  User,
  UserStatus,
  Meeting,
  MeetingDocument,
  MeetingGuest,
  KnockingGuest,
  Knock,
  MeetingAdmitted,
} from './types.js';
/** Whether a message notifies (show / silent / none): the same rules as the Electron main process. */
export { isBusy, isMuted, mentions, notifyDecision, type NotifyDecision, type NotifyInput } from '../../../../shared/notify-policy.js';
export { PEOPLE_LIMITS } from '../../../../shared/people-limits.js';
export { ApiError } from './errors.js';
export type { OutboxEntry, OutboxState } from './outbox.js';
export { MemoryStorage, type StorageLike } from './storage.js';
export { Backoff } from './backoff.js';
export { PollPolicy, MIN_HELD_WAIT, CUTS_TO_SWITCH } from './policy.js';
/** The server's limits the views check before sending (a message's length, files per message). */
export { LIMITS } from '../../../../shared/limits.js';
