/**
 * SQLite plumbing shared by the parts of the embedded store: what the main store lends the
 * others (its connection, group commit and event log), and the row mappers.
 */
import type Database from 'better-sqlite3';
import { avatarPath, chatFilePath, chatStateOf, type EventDraft, type Message } from '../../../shared/index.js';
import type { Prepare } from './statements.js';
import type { ChatRecord, MemberStatus, UserRecord } from './store.js';

export type Row = Record<string, any>;

/** What the main store lends: its connection, its group commit and its event log. */
export interface Engine {
  db: Database.Database;
  /** Prepares once per query text (statements.ts). */
  prepare: Prepare;
  /** Runs `fn` now, or once the write batch open at the moment has committed (it must not see that batch's rows). */
  read<T>(fn: () => T): Promise<T>;
  write<T>(fn: () => T | Promise<T>): Promise<T>;
  /** Appends an event inside the current write; published once the commit is on disk. */
  append(topic: string, draft: EventDraft, now?: number, origin?: number): void;
}

/**
 * The synchronous form of a row interface whose operations answer promises (StoreTx, CallRows,
 * MeetingRows): better-sqlite3 answers at once, and `promising` makes the async face of it.
 */
export type Synchronous<T> = {
  [K in keyof T]: T[K] extends (...args: any[]) => any
    ? T[K] extends (...args: infer A) => Promise<infer R>
      ? (...args: A) => R
      : T[K]
    : T[K] extends object
      ? Synchronous<T[K]>
      : T[K];
};

/**
 * The async face of synchronous row operations: each method of `rows` (its class's prototype
 * chain) answers a promise, a throw becoming a rejection, so a rule sees the same as on a store
 * whose operations are round trips. Properties listed in `nested` get their own async face.
 */
export function promising<T extends object>(rows: object, nested: Partial<Record<keyof T, object>> = {}): T {
  const face: Record<string, unknown> = {};
  for (let proto = Object.getPrototypeOf(rows); proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      const method = (rows as Record<string, unknown>)[name];
      if (name === 'constructor' || name in face || typeof method !== 'function') continue;
      face[name] = (...args: unknown[]) => {
        try {
          return Promise.resolve(method.apply(rows, args));
        } catch (error) {
          return Promise.reject(error);
        }
      };
    }
  }
  for (const [name, inner] of Object.entries(nested)) face[name] = promising(inner as object);
  return face as T;
}

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
 * A message row with its files (column `files`, JSON, or NULL when it has none): select
 * `m.*, ${MESSAGE_FILES} AS files FROM messages m`.
 */
/**
 * The message id after which a member reads a chat (0: all of it): their visible_from when the
 * chat's history is 'since_added' (migration 13). `user` and `chat` are SQL expressions.
 */
export const visibleAfterSql = (user: string, chat: string) =>
  `coalesce((SELECT CASE WHEN c.history = 'since_added' THEN coalesce(vm.visible_from, 0) ELSE 0 END
    FROM chat_members vm JOIN chats c ON c.id = vm.chat_id WHERE vm.chat_id = ${chat} AND vm.user_id = ${user}), 0)`;

export const MESSAGE_FILES = `(SELECT json_group_array(json_object('id', f.id, 'name', f.name, 'size', f.size, 'contentType', f.content_type, 'thumb', f.thumb_sha256 IS NOT NULL) ORDER BY mf.position)
   FROM message_files mf JOIN chat_files f ON f.id = mf.file_id WHERE mf.message_id = m.id HAVING count(*) > 0)`;

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
