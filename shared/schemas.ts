/**
 * The Portico v1 protocol: every request, response and event, as zod schemas.
 * The server validates with these and generates its OpenAPI document from them;
 * clients import the inferred types.
 */
import { z } from 'zod';
import { LIMITS, TIMINGS } from './limits.js';
import { ChartPoint, MediaItem, Notice, TickerItem } from './portal.js';
import { Call, CallSignal, MessageCall } from './calls.js';
import { MEETING_EVENTS } from './meetings.js';

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

export const User = z.strictObject({ id: z.number().int(), username: z.string(), displayName: z.string() });
export type User = z.infer<typeof User>;
export const Me = User.extend({ isAdmin: z.boolean(), presence: PresenceState });
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
});
export type Contact = z.infer<typeof Contact>;
export const ContactsResponse = z.strictObject({ contacts: z.array(Contact) });
export const ContactResponse = z.strictObject({ contact: Contact });
export const UsernameParams = z.strictObject({ username: Username });
export const UserSearchQuery = z.strictObject({ q: z.string().max(LIMITS.usernameChars).default('') });
export const UsersResponse = z.strictObject({ users: z.array(User) });

// ---------- presence ----------
export const PresenceRequest = z.strictObject({ state: PresenceState });
export const PresenceResponse = z.strictObject({ state: PresenceState, effective: PresenceState });

// ---------- chats ----------
export const ChatState = z.enum(['pending', 'active', 'closed']);
export const MemberStatus = z.enum(['invited', 'accepted', 'declined', 'left']);
export const ChatMember = z.strictObject({ username: z.string(), displayName: z.string(), status: MemberStatus });
export const Chat = z.strictObject({
  id: z.string(),
  state: ChatState,
  createdBy: z.string(),
  createdAt: Timestamp,
  members: z.array(ChatMember),
});
export type Chat = z.infer<typeof Chat>;
export const CreateChatRequest = z.strictObject({
  invitees: z.array(Username).min(1).max(LIMITS.invitees),
});
export const ChatResponse = z.strictObject({ chat: Chat });
export const ChatsResponse = z.strictObject({ chats: z.array(Chat) });
export const ChatParams = z.strictObject({ id: ChatId });

export const Message = z.strictObject({
  id: z.number().int(),
  chatId: z.string(),
  clientId: z.string(),
  from: z.string(),
  text: z.string(),
  sentAt: Timestamp,
  /** Set on the line the server appends when a call in this chat ended; text is the plain-English fallback. */
  call: MessageCall.optional(),
});
export type Message = z.infer<typeof Message>;
export const MessageParams = z.strictObject({ id: ChatId, clientId: ClientId });
export const SendMessageRequest = z.strictObject({
  text: z
    .string()
    .max(LIMITS.messageChars)
    .refine((t) => t.trim().length > 0, 'must not be empty'),
});
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
export const ChatClosedEvent = z.strictObject({ ...base, type: z.literal('chat.closed'), chat: Chat });
export const ChatMessageEvent = z.strictObject({ ...base, type: z.literal('chat.message'), message: Message });
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
export const Event = z.discriminatedUnion('type', [
  PresenceEvent,
  ChatRequestEvent,
  ChatMemberEvent('chat.accepted'),
  ChatMemberEvent('chat.declined'),
  ChatMemberEvent('chat.left'),
  ChatClosedEvent,
  ContactsChangedEvent,
  ChatMessageEvent,
  TickerItemEvent,
  MediaItemEvent,
  NoticeEvent,
  ChartPointsEvent,
  LinksChangedEvent,
  CallRingEvent,
  CallUpdatedEvent,
  CallEndedEvent,
  CallSignalEvent,
  ...MEETING_EVENTS,
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
export const AdminUser = User.extend({ isAdmin: z.boolean(), presence: PresenceState, createdAt: Timestamp });
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
