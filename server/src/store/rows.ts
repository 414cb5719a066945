/**
 * Row mappers both stores share: a row (SQLite's, or PostgreSQL's with its booleans as 0/1 and
 * BIGINTs as numbers: pg-parts.ts `asSqliteRow`, pg-store.ts `types`) to the store's records and
 * the protocol's objects, and the one SQL expression both dialects write alike.
 */
import { avatarPath, chatFilePath, chatStateOf, type Call, type CallMemberState, type ClientInfo, type Message } from '../../../shared/index.js';
import type { CallRecord } from './calls.js';
import type { DocumentRecord, GuestRecord, MeetingRecord } from './meetings.js';
import type { ChannelRecord } from './portal.js';
import type { ChatFileRecord, ChatRecord, MemberStatus, UserRecord } from './store.js';
import type { TerminalRecord } from './terminals.js';

export type Row = Record<string, any>;

export const iso = (ms: number) => new Date(ms).toISOString();

export function toUser(r: Row): UserRecord {
  return {
    id: r.id,
    username: r.username,
    displayName: r.display_name,
    passwordHash: r.password_hash,
    isAdmin: r.is_admin === 1,
    chosenPresence: r.chosen_presence,
    announcedPresence: r.announced_presence,
    createdAt: r.created_at,
    source: r.source ?? 'local',
    disabled: r.disabled === 1,
    avatar: r.avatar ?? null,
    status: r.status ? JSON.parse(r.status) : null,
    dndUntil: r.dnd_until ?? null,
    notifyMentionsWhenBusy: r.notify_mentions_when_busy !== 0,
  };
}

/**
 * The message id after which a member reads a chat (0: all of it): their visible_from when the
 * chat's history is 'since_added' (migration 13). `user` and `chat` are SQL expressions.
 */
export const visibleAfterSql = (user: string, chat: string) =>
  `coalesce((SELECT CASE WHEN c.history = 'since_added' THEN coalesce(vm.visible_from, 0) ELSE 0 END
    FROM chat_members vm JOIN chats c ON c.id = vm.chat_id WHERE vm.chat_id = ${chat} AND vm.user_id = ${user}), 0)`;

/** A chat row and its members' rows (position order, with their users' names and pictures). */
export function toChatRecord(chat: Row, members: Row[]): ChatRecord {
  return {
    chat: {
      id: chat.id,
      state: chatStateOf(members.map((m) => m.status)),
      createdBy: chat.created_by,
      createdAt: iso(chat.created_at),
      history: chat.history ?? 'all',
      members: members.map((m) => ({ username: m.username, displayName: m.display_name, status: m.status, ...(m.avatar ? { avatarUrl: avatarPath(m.avatar) } : {}) })),
    },
    memberStatus: new Map(members.map((m) => [m.user_id as number, m.status as MemberStatus])),
  };
}

export function toMessage(r: Row): Message {
  const message: Message = { id: r.id, chatId: r.chat_id, clientId: r.client_id, from: r.from_username, text: r.text, sentAt: iso(r.sent_at) };
  if (r.call) message.call = JSON.parse(r.call); // the line recording a call that ended
  if (r.edited_at) message.editedAt = iso(r.edited_at);
  if (r.deleted) message.deleted = true;
  if (r.held) message.state = 'held';
  if (r.mentions) message.mentions = JSON.parse(r.mentions);
  if (r.files) {
    // Unsigned paths (they work with a member's token); chat/files.ts signs them for the answer.
    message.files = (JSON.parse(r.files) as Array<{ id: string; name: string; size: number; contentType: string; thumb: number }>).map(({ thumb, ...file }) => ({
      ...file,
      url: chatFilePath(r.chat_id, file.id),
      ...(thumb ? { thumbnailUrl: chatFilePath(r.chat_id, file.id, true) } : {}),
    }));
  }
  return message;
}

export function toChatFile(r: Row): ChatFileRecord {
  const file: ChatFileRecord = {
    id: r.id,
    chatId: r.chat_id,
    uploaderId: r.uploader_id,
    name: r.name,
    size: r.size,
    contentType: r.content_type,
    sha256: r.sha256,
    createdAt: r.created_at,
  };
  if (r.thumb_sha256) file.thumbSha256 = r.thumb_sha256;
  return file;
}

/** A call row and its members' rows (position order; `rung_by` the ringer's username) as a record. */
export function toCallRecord(r: Row, rows: Row[]): CallRecord {
  const call: Call = {
    id: r.id,
    chatId: r.chat_id,
    createdBy: r.created_by,
    createdAt: iso(r.created_at),
    video: r.video === 1,
    state: r.state,
    // Who rang a member into the call running shows while it rings them.
    members: rows.map((m) => ({ username: m.username, displayName: m.display_name, state: m.state, ...(m.rung_by && m.state === 'ringing' ? { rungBy: m.rung_by } : {}) })),
  };
  if (r.answered_at !== null) call.answeredAt = iso(r.answered_at);
  if (r.ended_at !== null) call.endedAt = iso(r.ended_at);
  if (r.end_reason !== null) call.endReason = r.end_reason;
  const record: CallRecord = { call, members: new Map(rows.map((m) => [m.user_id as number, m.state as CallMemberState])) };
  const nameOf = (id: number) => rows.find((m) => m.user_id === id);
  if (r.held_by !== null && r.held_by !== undefined) {
    record.heldById = r.held_by;
    call.heldBy = nameOf(r.held_by)?.username ?? '';
  }
  if (r.transfer_to !== null && r.transfer_to !== undefined) {
    record.transfer = { fromId: r.transfer_from, toId: r.transfer_to, at: r.transfer_at, ...(r.transfer_reason ? { reason: r.transfer_reason } : {}), ...(r.transfer_warm ? { warm: true } : {}) };
    const from = nameOf(r.transfer_from);
    const to = nameOf(r.transfer_to);
    call.transfer = {
      from: from?.username ?? '',
      fromName: from?.display_name ?? '',
      to: to?.username ?? '',
      toName: to?.display_name ?? '',
      ...(r.transfer_reason ? { reason: r.transfer_reason } : {}),
      ...(r.transfer_warm ? { warm: true } : {}),
    };
  }
  return record;
}

export function toMeeting(r: Row): MeetingRecord {
  return {
    id: r.id,
    number: r.number,
    title: r.title,
    hostId: r.host_id,
    hostUsername: r.host_username,
    hostDisplayName: r.host_display_name,
    chatId: r.chat_id,
    fixed: r.fixed === 1,
    createdAt: r.created_at,
    endedAt: r.ended_at,
    presentation: r.presentation ? JSON.parse(r.presentation) : null,
  };
}

export function toGuest(r: Row): GuestRecord {
  return { id: r.id, meetingId: r.meeting_id, name: r.name, address: r.address, status: r.status, presenter: r.presenter === 1, createdAt: r.created_at };
}

export function toMeetingDocument(r: Row): DocumentRecord {
  return { id: r.id, meetingId: r.meeting_id, name: r.name, pages: JSON.parse(r.pages), createdAt: r.created_at };
}

export const toChannel = (r: Row): ChannelRecord => ({ id: r.id, name: r.name, title: r.title, isDefault: r.is_default === 1 });

export const toTerminal = (r: Row): TerminalRecord => ({
  installId: r.install_id,
  userId: r.user_id ?? null,
  username: r.username ?? null,
  version: r.version,
  platform: r.platform as ClientInfo['platform'],
  firstSeen: r.first_seen,
  lastSeen: r.last_seen,
});
