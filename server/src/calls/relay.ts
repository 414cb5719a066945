/**
 * The HTTP relay: call media through the Portico server when no ICE path works (only an HTTP
 * proxy passes). Each sender PUTs short, self-contained WebM chunks; each receiver long-polls
 * the next one. Media is ephemeral: per (call, sender) an in-memory ring of the last few chunks,
 * never SQLite. A receiver that fell behind gets the newest chunk (and is told how many it
 * skipped), so delay never builds up; every chunk starts with its own header and key frame, so
 * skipping is safe. A sender may have two streams ('media': camera and microphone; 'screen': a
 * shared screen), each its own ring.
 *
 * Isolation between calls: memory is bounded per ring (chunksKept), per call (callBytes) and for
 * the server (totalBytes). A chunk that would pass a bound first evicts the oldest chunks of its
 * own ring (never another's: one call's flood cannot push out another call's media); if it still
 * does not fit it is refused, and the route answers 429. Chunks are kept as the Buffers they were
 * read into and answered as they are (no copies); all work per chunk is O(chunks kept).
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
  callId: string;
  chunks: RelayChunk[];
  bytes: number;
  lastPut: number;
  waiters: Set<Waiter>;
}

const key = (callId: string, sender: string, stream = 'media') => `${callId}\n${sender.toLowerCase()}\n${stream}`;

export interface RelayLimits {
  chunksKept: number;
  maxBacklog: number;
  idleMs: number;
  callBytes: number;
  totalBytes: number;
}

/** A chunk that does not fit the call's or the server's bound even after its ring's old chunks went. */
export class RelayFullError extends Error {
  constructor(readonly scope: 'call' | 'server') {
    super(`the relay holds as much as it may for this ${scope}`);
  }
}

export class RelayBuffers {
  private readonly rings = new Map<string, Ring>();
  /** Bytes held per call, and in all: kept as chunks come and go (no scans per chunk). */
  private readonly callBytes = new Map<string, number>();
  private totalBytes = 0;
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    private readonly limits: RelayLimits = RELAY_LIMITS,
    private readonly now: () => number = Date.now,
  ) {}

  private ring(callId: string, sender: string, stream: string, lastPut: number): Ring {
    const k = key(callId, sender, stream);
    let ring = this.rings.get(k);
    if (!ring) this.rings.set(k, (ring = { callId, chunks: [], bytes: 0, lastPut, waiters: new Set() }));
    return ring;
  }

  private account(ring: Ring, delta: number) {
    ring.bytes += delta;
    this.totalBytes += delta;
    const held = (this.callBytes.get(ring.callId) ?? 0) + delta;
    if (held > 0) this.callBytes.set(ring.callId, held);
    else this.callBytes.delete(ring.callId);
  }

  private shift(ring: Ring) {
    this.account(ring, -ring.chunks.shift()!.data.length);
  }

  /**
   * Keeps a chunk; false when it is not newer than what the sender already sent (a retry).
   * Throws RelayFullError when the call's or the server's bound leaves no room for it.
   */
  put(callId: string, sender: string, chunk: RelayChunk, stream = 'media'): boolean {
    const ring = this.ring(callId, sender, stream, 0);
    ring.lastPut = this.now();
    const last = ring.chunks.at(-1);
    if (last && chunk.seq <= last.seq) return false;
    const size = chunk.data.length;
    const over = () =>
      (this.callBytes.get(callId) ?? 0) + size > this.limits.callBytes ? 'call' : this.totalBytes + size > this.limits.totalBytes ? 'server' : undefined;
    // Room is made in the uploader's own ring only: what others hold is theirs.
    while (over() && ring.chunks.length > 0) this.shift(ring);
    const full = over();
    if (full) throw new RelayFullError(full);
    ring.chunks.push(chunk);
    this.account(ring, size);
    while (ring.chunks.length > this.limits.chunksKept) this.shift(ring);
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
  get(callId: string, sender: string, after: number, waitMs: number, signal?: AbortSignal, stream = 'media'): Promise<RelayAnswer> {
    const existing = this.rings.get(key(callId, sender, stream));
    const ready = existing && this.pick(existing, after);
    if (ready || waitMs <= 0) return Promise.resolve(ready || undefined);
    // A receiver may start polling before the sender's first chunk: the ring exists from then on.
    const held = existing ?? this.ring(callId, sender, stream, this.now());
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
      this.drop(k, ring);
    }
  }

  private drop(k: string, ring: Ring) {
    this.account(ring, -ring.bytes);
    this.rings.delete(k);
  }

  /** Drops buffers of senders silent for idleMs with nobody waiting (calls that ended unseen). */
  sweep() {
    const cutoff = this.now() - this.limits.idleMs;
    for (const [k, ring] of this.rings) if (ring.lastPut < cutoff && ring.waiters.size === 0) this.drop(k, ring);
  }

  /** Bytes held right now (for tests and metrics). */
  get bytes(): number {
    return this.totalBytes;
  }

  /** Bytes held for one call. */
  bytesOf(callId: string): number {
    return this.callBytes.get(callId) ?? 0;
  }

  stats(callId: string, sender: string, stream = 'media'): { chunks: number; bytes: number } {
    const ring = this.rings.get(key(callId, sender, stream));
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
    this.callBytes.clear();
    this.totalBytes = 0;
  }
}
