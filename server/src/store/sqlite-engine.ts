/**
 * SQLite plumbing shared by the parts of the embedded store: what the main store lends the
 * others (its connection, group commit and event log). The row mappers, which the PostgreSQL
 * store shares, are in rows.ts.
 */
import type Database from 'better-sqlite3';
import type { EventDraft } from '../../../shared/index.js';
import type { Prepare } from './statements.js';

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

/**
 * A message's files as JSON (NULL when it has none), for toMessage (rows.ts): select
 * `m.*, ${MESSAGE_FILES} AS files FROM messages m`.
 */
export const MESSAGE_FILES = `(SELECT json_group_array(json_object('id', f.id, 'name', f.name, 'size', f.size, 'contentType', f.content_type, 'thumb', f.thumb_sha256 IS NOT NULL) ORDER BY mf.position)
   FROM message_files mf JOIN chat_files f ON f.id = mf.file_id WHERE mf.message_id = m.id HAVING count(*) > 0)`;
