/**
 * The HTTP relay: call media through the Portico server when no ICE path works (only an HTTP
 * proxy passes). Each sender PUTs short, self-contained WebM chunks; each receiver long-polls
 * the next one. Media is ephemeral: per (call, sender) an in-memory ring of the last few chunks,
 * never SQLite. A receiver that fell behind gets the newest chunk (and is told how many it
 * skipped), so delay never builds up; every chunk starts with its own header and key frame, so
 * skipping is safe. Memory is bounded by RELAY_LIMITS.chunksKept × chunkBytes per sender.
 */
import { RELAY_LIMITS } from '../../../shared/index.js';

export interface RelayChunk {
  seq: number;
  type: string;
  data: Buffer;
}

export type RelayAnswer = { chunk: RelayChunk; skipped: number; newest: number } | undefined;

interface Waiter {
  after: number;
  resolve: (answer: RelayAnswer) => void;
  timer: ReturnType<typeof setTimeout>;
}

interface Ring {
  chunks: RelayChunk[];
  bytes: number;
  lastPut: number;
  waiters: Set<Waiter>;
}

const key = (callId: string, sender: string) => `${callId}\n${sender.toLowerCase()}`;

export class RelayBuffers {
  private readonly rings = new Map<string, Ring>();
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    private readonly limits: { chunksKept: number; maxBacklog: number; idleMs: number } = RELAY_LIMITS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Keeps a chunk; false when it is not newer than what the sender already sent (a retry). */
  put(callId: string, sender: string, chunk: RelayChunk): boolean {
    const k = key(callId, sender);
    let ring = this.rings.get(k);
    if (!ring) this.rings.set(k, (ring = { chunks: [], bytes: 0, lastPut: 0, waiters: new Set() }));
    ring.lastPut = this.now();
    const last = ring.chunks.at(-1);
    if (last && chunk.seq <= last.seq) return false;
    ring.chunks.push(chunk);
    ring.bytes += chunk.data.length;
    while (ring.chunks.length > this.limits.chunksKept) ring.bytes -= ring.chunks.shift()!.data.length;
    for (const waiter of [...ring.waiters]) {
      const answer = this.pick(ring, waiter.after);
      if (answer) this.finish(ring, waiter, answer);
    }
    return true;
  }

  /**
   * The next chunk after `after`, or the newest when the next is gone or the receiver is more
   * than maxBacklog behind; after = -1 starts at the newest. Waits up to waitMs when there is none.
   */
  get(callId: string, sender: string, after: number, waitMs: number, signal?: AbortSignal): Promise<RelayAnswer> {
    const k = key(callId, sender);
    let ring = this.rings.get(k);
    const ready = ring && this.pick(ring, after);
    if (ready || waitMs <= 0) return Promise.resolve(ready || undefined);
    // A receiver may start polling before the sender's first chunk: the ring exists from then on.
    if (!ring) this.rings.set(k, (ring = { chunks: [], bytes: 0, lastPut: this.now(), waiters: new Set() }));
    const held = ring;
    return new Promise((resolve) => {
      const waiter: Waiter = { after, resolve, timer: setTimeout(() => this.finish(held, waiter, undefined), waitMs) };
      held.waiters.add(waiter);
      signal?.addEventListener('abort', () => this.finish(held, waiter, undefined), { once: true });
    });
  }

  private pick(ring: Ring, after: number): RelayAnswer {
    const newest = ring.chunks.at(-1);
    if (!newest || newest.seq <= after) return undefined;
    const next = ring.chunks.find((c) => c.seq > after)!;
    const behind = after < 0 || next.seq !== after + 1 || newest.seq - next.seq > this.limits.maxBacklog;
    const chunk = behind ? newest : next;
    return { chunk, skipped: after < 0 ? 0 : chunk.seq - after - 1, newest: newest.seq };
  }

  private finish(ring: Ring, waiter: Waiter, answer: RelayAnswer) {
    if (!ring.waiters.delete(waiter)) return;
    clearTimeout(waiter.timer);
    waiter.resolve(answer);
  }

  /** Drops every buffer of a call (it ended) and answers its held downloads empty. */
  dropCall(callId: string) {
    for (const [k, ring] of this.rings) {
      if (!k.startsWith(`${callId}\n`)) continue;
      for (const waiter of [...ring.waiters]) this.finish(ring, waiter, undefined);
      this.rings.delete(k);
    }
  }

  /** Drops buffers of senders silent for idleMs with nobody waiting (calls that ended unseen). */
  sweep() {
    const cutoff = this.now() - this.limits.idleMs;
    for (const [k, ring] of this.rings) if (ring.lastPut < cutoff && ring.waiters.size === 0) this.rings.delete(k);
  }

  /** Bytes held right now (for tests and metrics). */
  get bytes(): number {
    let total = 0;
    for (const ring of this.rings.values()) total += ring.bytes;
    return total;
  }

  stats(callId: string, sender: string): { chunks: number; bytes: number } {
    const ring = this.rings.get(key(callId, sender));
    return { chunks: ring?.chunks.length ?? 0, bytes: ring?.bytes ?? 0 };
  }

  /** Sweeps every `ms` until close(): one timer, which the server stops when it closes. */
  startSweeping(ms: number): this {
    clearInterval(this.sweeper);
    this.sweeper = setInterval(() => this.sweep(), ms);
    this.sweeper.unref();
    return this;
  }

  get sweeping(): boolean {
    return this.sweeper !== undefined;
  }

  /** Stops the sweeper and answers every held download (nothing more to come). */
  close() {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
    for (const ring of this.rings.values()) for (const waiter of [...ring.waiters]) this.finish(ring, waiter, undefined);
    this.rings.clear();
  }
}
