/**
 * The outbox: messages the user wrote, in the order written, with the client id made for each
 * at once. Entries still 'sending' or 'failed' are kept in storage, so they survive a restart and
 * are sent again with the same client id (the server stores a client id once: no duplicates).
 * Sent entries stay in memory for the views (the last SENT_KEPT of them), not in storage.
 */
import type { Message } from '../../../../shared/schemas.js';
import type { SafeStorage } from './storage.js';

export type OutboxState = 'sending' | 'sent' | 'failed';

export interface OutboxEntry {
  clientId: string;
  chatId: string;
  text: string;
  /**
   * Files uploaded before the entry was queued (ids from uploadFile), with their names for the
   * view: sent under the entry's client id, so a resend never attaches them twice.
   */
  files?: Array<{ id: string; name: string }>;
  state: OutboxState;
  /** The message as the server stored it, once sent. */
  message?: Message;
  /** Why it failed: the server's error code ('chat_not_active', 'forbidden', 'invalid_request', ...). */
  error?: string;
  /** The server's message for the failure, in English. */
  errorMessage?: string;
  createdAt: string;
}

const SENT_KEPT = 200;

const isEntry = (v: unknown): v is OutboxEntry => {
  const e = v as Partial<OutboxEntry> | null;
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof e.clientId === 'string' &&
    typeof e.chatId === 'string' &&
    typeof e.text === 'string' &&
    (e.files === undefined || (Array.isArray(e.files) && e.files.every((f) => typeof f?.id === 'string' && typeof f?.name === 'string'))) &&
    (e.state === 'sending' || e.state === 'failed' || e.state === 'sent') &&
    typeof e.createdAt === 'string'
  );
};

export class Outbox {
  private entries: OutboxEntry[] = [];
  /** The user whose outbox this is (storage is per user). */
  owner: string | undefined;

  constructor(private readonly storage: SafeStorage) {}

  private get key(): string | undefined {
    return this.owner === undefined ? undefined : this.storage.key('outbox', this.owner);
  }

  /** Loads the stored outbox of this user (no-op when it is already theirs). */
  load(owner: string): void {
    if (this.owner === owner) return;
    this.owner = owner;
    const stored = this.storage.getJson(this.key!);
    this.entries = Array.isArray(stored) ? stored.filter(isEntry).filter((e) => e.state !== 'sent') : [];
  }

  /** Forgets the outbox, in memory and in storage (logout). */
  clear(): void {
    if (this.key) this.storage.remove(this.key);
    this.entries = [];
    this.owner = undefined;
  }

  add(entry: OutboxEntry): void {
    this.entries.push(entry);
    this.save();
  }

  get(clientId: string): OutboxEntry | undefined {
    return this.entries.find((e) => e.clientId === clientId);
  }

  /** The next entry to send: the oldest one 'sending'. */
  next(): OutboxEntry | undefined {
    return this.entries.find((e) => e.state === 'sending');
  }

  update(entry: OutboxEntry, change: Partial<OutboxEntry>): void {
    Object.assign(entry, change);
    if (entry.state !== 'failed') {
      delete entry.error;
      delete entry.errorMessage;
    }
    this.prune();
    this.save();
  }

  remove(clientId: string): boolean {
    const before = this.entries.length;
    this.entries = this.entries.filter((e) => e.clientId !== clientId);
    if (this.entries.length === before) return false;
    this.save();
    return true;
  }

  /** Copies, oldest first; of one chat if given. */
  list(chatId?: string): OutboxEntry[] {
    return this.entries.filter((e) => chatId === undefined || e.chatId === chatId).map((e) => ({ ...e }));
  }

  private prune(): void {
    const sent = this.entries.filter((e) => e.state === 'sent');
    if (sent.length <= SENT_KEPT) return;
    const drop = new Set(sent.slice(0, sent.length - SENT_KEPT));
    this.entries = this.entries.filter((e) => !drop.has(e));
  }

  private save(): void {
    const key = this.key;
    if (!key) return;
    const unsent = this.entries.filter((e) => e.state !== 'sent');
    if (unsent.length === 0) this.storage.remove(key);
    else this.storage.setJson(key, unsent);
  }
}
