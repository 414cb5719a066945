/**
 * The Portico v1 protocol: every request, response and event, as zod schemas.
 * The server validates with these and generates its OpenAPI document from them;
 * clients import the inferred types.
 */
import { z } from 'zod';
import { LIMITS, TIMINGS } from './limits.js';
import { ChartPoint, MediaItem, Notice, TickerItem } from './portal.js';
import { Call, CallSignal, MessageCall } from './calls.js';
import { UserSource } from './identity.js';
import { ChatMute, UserStatus } from './people.js';
import { ChatFileId, CHAT_FILE_LIMITS, MessageFile } from './chat-files.js';
import { MEETING_EVENTS } from './meetings.js';
import { CALL_STATE_EVENTS } from './call-state.js';
import { ChatHistory } from './chat-history.js';

// ---------- building blocks ----------
export const Username = z
  .string()
  .min(2)
  .max(LIMITS.usernameChars)
  .regex(/^[a-z0-9][a-z0-9._-]*$/i, 'letters, digits, dot, dash and underscore; starts with a letter or digit');
export const DisplayName = z.string().trim().min(1).max(LIMITS.displayNameChars);
export const Password = z.string().min(LIMITS.passwordMinChars).max(LIMITS.passwordMaxChars);
export const ClientId = z
  .string()
  .min(1)
  .max(LIMITS.clientIdChars)
  .regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, dash and underscore');
export const ChatId = z.string().uuid();
/** Opaque event cursor (today the decimal sequence number). */
export const Cursor = z.string().regex(/^\d{1,15}$/, 'an event cursor as returned by the server');
export const Timestamp = z.string().describe('ISO 8601 time');

export const PresenceState = z.enum(['available', 'away', 'busy', 'offline']);
export type PresenceState = z.infer<typeof PresenceState>;

/** Where the user's picture is served (no token needed: the path is a keyed hash of it); absent: show initials. */
const AvatarUrl = z.string().optional();
export const User = z.strictObject({ id: z.number().int(), username: z.string(), displayName: z.string(), avatarUrl: AvatarUrl });
export type User = z.infer<typeof User>;
/** What others see of a user: `status` is absent when none is set or it has expired. */
export const PublicUser = User.extend({ status: UserStatus.optional() });
export type PublicUser = z.infer<typeof PublicUser>;
export const Me = PublicUser.extend({
  isAdmin: z.boolean(),
  presence: PresenceState,
  /** Do not disturb until then; null: off (a time past is answered as null). */
  dndUntil: Timestamp.nullable(),
  /** While busy or in do-not-disturb, mentions of me still notify. */
  notifyMentionsWhenBusy: z.boolean(),
});
export type Me = z.infer<typeof Me>;

// ---------- auth ----------
/** What an installed client reports when it logs in, for the terminal registry (and the seat cap). */
export const ClientInfo = z.strictObject({
  installId: z.string().uuid(),
  version: z
    .string()
    .max(64)
    .regex(/^\d+\.\d+\.\d+([-+][0-9A-Za-z.+-]*)?$/, 'a version like 1.2.3'),
  platform: z.enum(['win32', 'darwin', 'linux', 'web']),
});
export type ClientInfo = z.infer<typeof ClientInfo>;
export const LoginRequest = z.strictObject({
  username: z.string().min(1).max(LIMITS.usernameChars),
  password: z.string().min(1).max(LIMITS.passwordMaxChars),
  /** Sent by installed clients: registers (or refreshes) the terminal; past the seat cap a new one is refused. */
  client: ClientInfo.optional(),
});
export const LoginResponse = z.strictObject({ token: z.string(), expiresAt: Timestamp, user: User });
export const MeResponse = z.strictObject({ user: Me });
export const OkResponse = z.strictObject({ ok: z.literal(true) });

// ---------- contacts & users ----------
export const Contact = z.strictObject({
  username: z.string(),
  displayName: z.string(),
  presence: PresenceState,
  /** Added by the user personally (removable), as opposed to only through a shared group. */
  personal: z.boolean(),
  /** Admin-managed groups through which this contact is shared. */
  groups: z.array(z.string()),
  avatarUrl: AvatarUrl,
  status: UserStatus.optional(),
});
export type Contact = z.infer<typeof Contact>;
export const ContactsResponse = z.strictObject({ contacts: z.array(Contact) });
export const ContactResponse = z.strictObject({ contact: Contact });
export const UsernameParams = z.strictObject({ username: Username });
export const UserSearchQuery = z.strictObject({ q: z.string().max(LIMITS.usernameChars).default('') });
/** A directory search hit: whether they are on my list already (personally or through a group). */
export const FoundUser = PublicUser.extend({ isContact: z.boolean(), personal: z.boolean() });
export type FoundUser = z.infer<typeof FoundUser>;
export const UsersResponse = z.strictObject({ users: z.array(FoundUser) });

// ---------- presence ----------
export const PresenceRequest = z.strictObject({ state: PresenceState });
export const PresenceResponse = z.strictObject({ state: PresenceState, effective: PresenceState });

// ---------- chats ----------
/** One emoji on a message and who chose it, in the order they did. */
export const Reaction = z.strictObject({ emoji: z.string(), users: z.array(z.string()) });
export type Reaction = z.infer<typeof Reaction>;
export const Message = z.strictObject({
  id: z.number().int(),
  chatId: z.string(),
  clientId: z.string(),
  from: z.string(),
  text: z.string(),
  sentAt: Timestamp,
  /** Set on the line the server appends when a call in this chat ended; text is the plain-English fallback. */
  call: MessageCall.optional(),
  /** When its author last changed the text (absent: never edited). */
  editedAt: Timestamp.optional(),
  /** Deleted by its author: the place is kept, the text is '' and reactions and mentions are gone. */
  deleted: z.literal(true).optional(),
  /** Who reacted with what, each emoji once, in the order first used (absent: none). */
  reactions: z.array(Reaction).optional(),
  /** Members of the chat named as `@username` in the text (absent: none). */
  mentions: z.array(z.string()).optional(),
  /** Files sent with the message, in the order given (absent when none). */
  files: z.array(MessageFile).optional(),
  /**
   * 'held': sent while a call in its chat is on hold; only its author has it until the call is
   * resumed or ends, when it comes to everyone as a chat.message without this field (absent: delivered).
   */
  state: z.literal('held').optional(),
});
export type Message = z.infer<typeof Message>;
export const ChatState = z.enum(['pending', 'active', 'closed']);
export const MemberStatus = z.enum(['invited', 'accepted', 'declined', 'left']);
export const ChatMember = z.strictObject({
  username: z.string(),
  displayName: z.string(),
  status: MemberStatus,
  avatarUrl: AvatarUrl,
  /** In GET /chats: the id of the last message this member has read (0: none yet). */
  readUpTo: z.number().int().optional(),
});
export const Chat = z.strictObject({
  id: z.string(),
  state: ChatState,
  createdBy: z.string(),
  createdAt: Timestamp,
  members: z.array(ChatMember),
  /** What members added later read: all the history (default) or only what came after they were added (shared/chat-history.ts). */
  history: ChatHistory,
  /** In GET /chats: messages from others after the user's read mark (deleted ones not counted). */
  unread: z.number().int().optional(),
  /** In GET /chats: the newest message, for the list and a request card's preview. */
  lastMessage: Message.optional(),
  /** For the caller, in their chat list: whether they muted it, and until when (absent: until unmuted). */
  muted: z.boolean().optional(),
  mutedUntil: Timestamp.optional(),
  /** In GET /chats and GET /chats/:id: the call running in this chat, which its members may join (absent: none). */
  call: Call.optional(),
});
export type Chat = z.infer<typeof Chat>;
export const CreateChatRequest = z.strictObject({
  invitees: z.array(Username).min(1).max(LIMITS.invitees),
});
export const ChatResponse = z.strictObject({ chat: Chat });
export const ChatsResponse = z.strictObject({ chats: z.array(Chat) });
export const ChatParams = z.strictObject({ id: ChatId });

export const MessageParams = z.strictObject({ id: ChatId, clientId: ClientId });
export const SendMessageRequest = z
  .strictObject({
    text: z.string().max(LIMITS.messageChars).optional(),
    /** Files uploaded to this chat (POST /api/v1/chats/:id/files), in order. */
    files: z.array(ChatFileId).min(1).max(CHAT_FILE_LIMITS.filesPerMessage).optional(),
  })
  .refine((b) => (b.text ?? '').trim().length > 0 || (b.files?.length ?? 0) > 0, { message: 'must not be empty (send text, files or both)', path: ['text'] });
export const MessageResponse = z.strictObject({ message: Message });
export const HistoryQuery = z.strictObject({
  before: z.coerce.number().int().positive().optional(),
  limit: z.coerce.number().int().min(1).max(LIMITS.historyPageMax).default(LIMITS.historyPage),
});
export const HistoryResponse = z.strictObject({
  messages: z.array(Message).describe('oldest first'),
  /** Pass as `before` to get the page before this one; absent when this is the first page. */
  before: z.number().int().optional(),
});

// ---------- events ----------
export const EventsQuery = z.strictObject({
  after: Cursor.optional(),
  wait: z.coerce.number().min(0).max(TIMINGS.pollWaitMax).default(TIMINGS.pollWaitDefault),
  /** Interval-polling clients: seconds until the next poll, so presence does not time out in between. */
  interval: z.coerce.number().int().min(0).max(TIMINGS.pollIntervalMax).default(0),
});

const base = { cursor: Cursor, at: Timestamp };
export const PresenceEvent = z.strictObject({ ...base, type: z.literal('presence'), username: z.string(), state: PresenceState });
export const ChatRequestEvent = z.strictObject({ ...base, type: z.literal('chat.request'), from: z.string(), chat: Chat });
export const ChatMemberEvent = <T extends 'chat.accepted' | 'chat.declined' | 'chat.left'>(type: T) =>
  z.strictObject({ ...base, type: z.literal(type), username: z.string(), chat: Chat });
/** The user's contact list changed (a contact or a group member added or removed, by them or an admin): reload GET /contacts. On the user's own topic. */
export const ContactsChangedEvent = z.strictObject({ ...base, type: z.literal('contacts.changed') });
/** People were invited into the chat by a member (POST /chats/:id/members); on the chat's topic. Each gets a chat.request. */
export const ChatAddedEvent = z.strictObject({ ...base, type: z.literal('chat.added'), by: z.string(), usernames: z.array(z.string()), chat: Chat });
/** A chat's settings changed (PATCH /chats/:id: `history`), `by` whom; on the chat's topic and each invitee's own. */
export const ChatUpdatedEvent = z.strictObject({ ...base, type: z.literal('chat.updated'), by: z.string(), chat: Chat });
export const ChatClosedEvent = z.strictObject({ ...base, type: z.literal('chat.closed'), chat: Chat });
export const ChatMessageEvent = z.strictObject({ ...base, type: z.literal('chat.message'), message: Message });
/*
 * The message lifecycle (shared/chat-lifecycle.ts has the requests). chat.message, its edits,
 * deletions and reactions go to the chat's topic and, while someone is still invited, to each
 * invitee's own topic too (they listen to the chat only once they accept). Apply them by id.
 */
export const ChatMessageEditedEvent = z.strictObject({ ...base, type: z.literal('chat.message.edited'), message: Message });
export const ChatMessageDeletedEvent = z.strictObject({ ...base, type: z.literal('chat.message.deleted'), chatId: z.string(), id: z.number().int() });
/** A reaction added or taken back; `reactions` is the message's whole list after it. */
export const ChatReactionEvent = z.strictObject({
  ...base,
  type: z.literal('chat.reaction'),
  chatId: z.string(),
  messageId: z.number().int(),
  username: z.string(),
  emoji: z.string(),
  added: z.boolean(),
  reactions: z.array(Reaction),
});
/** A member's read mark moved forward (to the chat's members, the reader's other devices included). */
export const ChatReadEvent = z.strictObject({ ...base, type: z.literal('chat.read'), chatId: z.string(), username: z.string(), upTo: z.number().int() });
/**
 * Someone is typing. Never stored: handed only to polls held at that moment, with the cursor the
 * answer carries anyway (it moves nothing); a poll not held then misses it, as it may.
 */
export const ChatTypingEvent = z.strictObject({ ...base, type: z.literal('chat.typing'), chatId: z.string(), username: z.string() });
/** A ticker item, flat: {channel, text, url, ...}. */
export const TickerItemEvent = z.strictObject({ ...base, ...TickerItem.shape, type: z.literal('ticker.item') });
export const MediaItemEvent = z.strictObject({ ...base, type: z.literal('media.item'), item: MediaItem });
export const NoticeEvent = z.strictObject({ ...base, type: z.literal('notice.item'), notice: Notice });
export const ChartPointsEvent = z.strictObject({
  ...base,
  type: z.literal('chart.points'),
  channel: z.string(),
  series: z.string(),
  unit: z.string().optional(),
  points: z.array(ChartPoint),
});
export const LinksChangedEvent = z.strictObject({ ...base, type: z.literal('links.changed'), html: z.string() });
/** Calls: on each member's own user topic. `call.ring` goes to each member rung. */
export const CallRingEvent = z.strictObject({ ...base, type: z.literal('call.ring'), call: Call });
/** A member's state changed (accepted, declined, left) and the call goes on; to every member. */
export const CallUpdatedEvent = z.strictObject({ ...base, type: z.literal('call.updated'), call: Call });
/** The call is over (instead of a last call.updated); to every member, those still ringing included. */
export const CallEndedEvent = z.strictObject({ ...base, type: z.literal('call.ended'), call: Call });
export const CallSignalEvent = z.strictObject({
  ...base,
  type: z.literal('call.signal'),
  callId: z.string(),
  from: z.string(),
  signal: CallSignal,
});
/** A contact's or chat partner's name, picture or status changed; on the recipient's own topic. */
export const UserUpdatedEvent = z.strictObject({ ...base, type: z.literal('user.updated'), user: PublicUser });
/** My own settings changed (on another device too): name, picture, status, do-not-disturb; on my topic. */
export const MeUpdatedEvent = z.strictObject({ ...base, type: z.literal('me.updated'), user: Me });
/** I muted or unmuted a chat (on another device too); on my topic. */
export const ChatMutedEvent = z.strictObject({ ...base, type: z.literal('chat.muted'), mute: ChatMute });
export const Event = z.discriminatedUnion('type', [
  PresenceEvent,
  ChatRequestEvent,
  ChatMemberEvent('chat.accepted'),
  ChatMemberEvent('chat.declined'),
  ChatMemberEvent('chat.left'),
  ChatClosedEvent,
  ContactsChangedEvent,
  ChatMessageEvent,
  ChatMessageEditedEvent,
  ChatMessageDeletedEvent,
  ChatReactionEvent,
  ChatReadEvent,
  ChatTypingEvent,
  TickerItemEvent,
  MediaItemEvent,
  NoticeEvent,
  ChartPointsEvent,
  LinksChangedEvent,
  CallRingEvent,
  CallUpdatedEvent,
  CallEndedEvent,
  CallSignalEvent,
  UserUpdatedEvent,
  MeUpdatedEvent,
  ChatMutedEvent,
  ...MEETING_EVENTS,
  ...CALL_STATE_EVENTS,
  ChatAddedEvent,
  ChatUpdatedEvent,
]);
export type Event = z.infer<typeof Event>;
export type EventType = Event['type'];
/** An event as the server stores it: everything but the cursor, which the log assigns. */
export type EventDraft = Event extends infer E ? (E extends Event ? Omit<E, 'cursor' | 'at'> : never) : never;

export const EventsResponse = z.union([
  z.strictObject({ events: z.array(Event), cursor: Cursor }),
  z.strictObject({ reset: z.literal(true), cursor: Cursor }).describe(
    'the cursor is older than retention (or from another server): re-sync from the state endpoints, then poll from this cursor',
  ),
]);
export type EventsResponse = z.infer<typeof EventsResponse>;

// ---------- admin ----------
export const CreateUserRequest = z.strictObject({
  username: Username,
  password: Password,
  displayName: DisplayName.optional(),
  isAdmin: z.boolean().default(false),
});
export const AdminUser = User.extend({
  isAdmin: z.boolean(),
  presence: PresenceState,
  createdAt: Timestamp,
  /** Where the account comes from; a directory or SSO account's password is not kept by Portico. */
  source: UserSource,
  /** A directory account the directory disabled or removed: it cannot sign in. */
  disabled: z.boolean(),
});
export const AdminUserResponse = z.strictObject({ user: AdminUser });
export const AdminUsersResponse = z.strictObject({ users: z.array(AdminUser) });
export const Terminal = z.strictObject({
  installId: z.string(),
  /** Who last logged in from it (null once that user is removed). */
  username: z.string().nullable(),
  version: z.string(),
  platform: ClientInfo.shape.platform,
  firstSeen: Timestamp,
  lastSeen: Timestamp,
});
export type Terminal = z.infer<typeof Terminal>;
export const TerminalsResponse = z.strictObject({
  terminals: z.array(Terminal),
  /** Seats in use and the cap (null: unlimited). */
  seats: z.strictObject({ used: z.number().int(), limit: z.number().int().nullable() }),
});
export const TerminalParams = z.strictObject({ installId: ClientInfo.shape.installId });
/** What `portico update list` shows: each published manifest, its version, files and signature. */
export const PublishedUpdate = z.strictObject({
  manifest: z.string(),
  version: z.string(),
  files: z.array(z.string()),
  signature: z.enum(['none', 'present', 'valid', 'invalid']).optional(),
  allowDowngrade: z.boolean().optional(),
});
export const UpdatesResponse = z.strictObject({ updates: z.array(PublishedUpdate), enabled: z.boolean() });
export const ResetPasswordRequest = z.strictObject({ password: Password });
export const UserContactParams = z.strictObject({ username: Username, contact: Username });
export const GroupName = Username;
export const CreateGroupRequest = z.strictObject({ name: GroupName, displayName: DisplayName.optional() });
export const Group = z.strictObject({ name: z.string(), displayName: z.string(), members: z.array(z.string()) });
export const GroupResponse = z.strictObject({ group: Group });
export const GroupsResponse = z.strictObject({ groups: z.array(Group) });
export const GroupParams = z.strictObject({ name: GroupName });
export const GroupMemberParams = z.strictObject({ name: GroupName, username: Username });
