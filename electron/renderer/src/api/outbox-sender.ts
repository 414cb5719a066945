/**
 * Sending the outbox (outbox.ts keeps it): one message at a time on the request lane, in the
 * order written, each as PUT /chats/<id>/messages/<client id> (sent again with the same client id
 * until the server has it: no duplicates). Transient failures back off with full jitter; the
 * server's 4xx marks the entry failed (retry() sends it again); a lost session stops the sender,
 * the next session resends.
 */
import { Backoff, clientBackoff } from './backoff.js';
import { ENDPOINTS } from './endpoints.js';
import { asApiError } from './errors.js';
import type { Outbox, OutboxEntry } from './outbox.js';
import type { Transport } from './transport.js';
import type { ClientOptions, Emit } from './types.js';
import { Sleeper, newClientId } from './util.js';

/** Consecutive 500s for one message after which it counts as failed (a server bug, not an outage). */
const SERVER_ERRORS_TO_FAIL = 5;

export class OutboxSender {
  private readonly sleeper = new Sleeper();
  private readonly backoff: Backoff;
  private active = false;

  /** `running`: the client is started and has a session (else the sender waits). */
  constructor(
    options: ClientOptions,
    private readonly entries: Outbox,
    private readonly transport: Transport,
    private readonly running: () => boolean,
    private readonly emit: Emit,
  ) {
    this.backoff = new Backoff(clientBackoff(options));
  }

  /** Queues a message: a new entry (state 'sending', a new client id), stored until the server has it. */
  send(chatId: string, text: string, files?: Array<{ id: string; name: string }>): OutboxEntry {
    if (this.entries.owner === undefined) throw new Error('not logged in');
    const entry: OutboxEntry = { clientId: newClientId(), chatId, text, ...(files?.length ? { files } : {}), state: 'sending', createdAt: new Date().toISOString() };
    this.entries.add(entry);
    this.announce();
    this.kick();
    return { ...entry };
  }

  /** Sends a failed entry again (same client id); for one still sending, tries at once. */
  retry(clientId: string): void {
    const entry = this.entries.get(clientId);
    if (!entry || entry.state === 'sent') return;
    if (entry.state === 'failed') {
      this.entries.update(entry, { state: 'sending' });
      this.announce();
    }
    this.kick(true);
  }

  /** Drops a failed (or sent) entry; answers whether it did. An entry still sending cannot be taken back. */
  discard(clientId: string): boolean {
    const entry = this.entries.get(clientId);
    if (!entry || entry.state === 'sending') return false;
    this.entries.remove(clientId);
    this.announce();
    return true;
  }

  list(chatId?: string): OutboxEntry[] {
    return this.entries.list(chatId);
  }

  /** Tells the views ('outbox') what the outbox holds now. */
  announce(): void {
    this.emit('outbox', { entries: this.list() });
  }

  /** Starts sending if there is a session and nothing sends yet; `wake` also ends a backoff now. */
  kick(wake = false): void {
    if (wake) this.sleeper.wake();
    if (this.active || !this.running()) return;
    this.active = true;
    void this.loop()
      .catch((err: unknown) => console.error('portico: the outbox sender stopped:', err))
      .finally(() => {
        this.active = false;
        if (this.running() && this.entries.next()) this.kick();
      });
  }

  /** Ends a backoff now (to stop, or to see that the session ended). */
  wake(): void {
    this.sleeper.wake();
  }

  private async loop(): Promise<void> {
    let serverErrors = 0;
    let lastId: string | undefined;
    while (this.running()) {
      const entry = this.entries.next();
      if (!entry) return;
      if (entry.clientId !== lastId) serverErrors = 0;
      lastId = entry.clientId;
      const owner = this.entries.owner;
      this.sleeper.clear();
      const current = () => this.entries.owner === owner && this.entries.get(entry.clientId) === entry;
      try {
        const message = await this.transport.call(ENDPOINTS.putMessage, [entry.chatId, entry.clientId, entry.text, entry.files?.map((f) => f.id)]);
        if (!current()) continue;
        this.backoff.reset();
        this.entries.update(entry, { state: 'sent', message });
        this.announce();
      } catch (err) {
        const e = asApiError(err);
        if (!current() || e.isUnauthorized) continue; // a lost session stops the loop; a new one resends
        if (e.isTransient && !(e.status === 500 && e.fromServer && ++serverErrors >= SERVER_ERRORS_TO_FAIL)) {
          const retryAfterMs = (e.retryAfter ?? 0) * 1000;
          await this.sleeper.sleep(Math.max(this.backoff.next(), Math.min(retryAfterMs, this.backoff.capMs)));
          continue;
        }
        this.backoff.reset();
        this.entries.update(entry, { state: 'failed', error: e.code, errorMessage: e.message });
        this.announce();
      }
    }
  }
}
