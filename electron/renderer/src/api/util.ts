/** Small pieces the client is built from: a serial request lane, wakeable sleeps, client ids, the event handlers. */

/** Runs tasks one at a time in the order given: the client's second (and last) connection. */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private waiting = 0;

  /** Tasks queued or running. */
  get size(): number {
    return this.waiting;
  }

  run<T>(task: () => Promise<T>): Promise<T> {
    this.waiting++;
    const result = this.tail.then(task, task);
    this.tail = result.then(
      () => this.waiting--,
      () => this.waiting--,
    );
    return result;
  }
}

/**
 * A sleep that can be cut short: `wake()` ends the current sleep at once, or, when nothing sleeps,
 * makes the next sleep return at once (so a wake between two awaits is not lost). `clear()`
 * forgets such a pending wake (the loops call it when they begin a new attempt).
 */
export class Sleeper {
  private done: (() => void) | undefined;
  private pending = false;

  sleep(ms: number): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    this.done?.();
    return new Promise<void>((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const done = () => {
        if (timer !== undefined) clearTimeout(timer);
        if (this.done === done) this.done = undefined;
        resolve();
      };
      this.done = done;
      if (Number.isFinite(ms)) timer = setTimeout(done, Math.max(0, ms));
    });
  }

  get sleeping(): boolean {
    return this.done !== undefined;
  }

  wake(): void {
    if (this.done) this.done();
    else this.pending = true;
  }

  clear(): void {
    this.pending = false;
  }
}

/**
 * A random UUID as the client id of a message. crypto.randomUUID exists only in secure contexts
 * (https, localhost); a panel served over plain http on an office network still has
 * crypto.getRandomValues.
 */
export function newClientId(): string {
  const c = (globalThis as { crypto?: Crypto }).crypto;
  if (c && typeof c.randomUUID === 'function') return c.randomUUID();
  const bytes = new Uint8Array(16);
  if (c && typeof c.getRandomValues === 'function') c.getRandomValues(bytes);
  else for (let i = 0; i < 16; i++) bytes[i] = Math.floor(Math.random() * 256);
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Handlers by event type; a failing handler is logged and does not stop the others. */
export class Emitter {
  private readonly handlers = new Map<string, Set<(payload: any) => void>>();

  on(type: string, handler: (payload: any) => void): () => void {
    let set = this.handlers.get(type);
    if (!set) this.handlers.set(type, (set = new Set()));
    // Wrapped, so the same function may be subscribed twice and each unsubscribe removes one.
    const entry = (payload: any) => handler(payload);
    set.add(entry);
    return () => {
      set.delete(entry);
    };
  }

  emit(type: string, payload: unknown): void {
    const set = this.handlers.get(type);
    if (!set) return;
    for (const handler of [...set]) {
      try {
        handler(payload);
      } catch (err) {
        console.error(`portico: a '${type}' handler failed:`, err);
      }
    }
  }
}
