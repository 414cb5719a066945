/**
 * What the client keeps between runs, and where: the session (only with "remember me"), and per
 * user the event cursor and the unsent messages of the outbox. Keys, with the default prefix:
 *
 *   portico.session              {"token": "...", "user": {...}}     (login with remember, restore)
 *   portico.cursor.<username>    "1234"                              (the last event handled)
 *   portico.outbox.<username>    [OutboxEntry, ...]                  (sending and failed entries)
 */
export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** A StorageLike in memory (tests; Node tools; a browser without localStorage). */
export class MemoryStorage implements StorageLike {
  readonly map = new Map<string, string>();
  getItem(key: string): string | null {
    return this.map.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.map.set(key, String(value));
  }
  removeItem(key: string): void {
    this.map.delete(key);
  }
}

/** Storage that never throws: a full or disabled store (private mode, quota) must not stop the client. */
export class SafeStorage {
  constructor(
    private readonly storage: StorageLike,
    readonly prefix: string,
  ) {}

  key(...parts: string[]): string {
    return [this.prefix, ...parts].join('.');
  }

  get(key: string): string | undefined {
    try {
      return this.storage.getItem(key) ?? undefined;
    } catch {
      return undefined;
    }
  }

  getJson(key: string): unknown {
    const text = this.get(key);
    if (text === undefined) return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return undefined;
    }
  }

  set(key: string, value: string): void {
    try {
      this.storage.setItem(key, value);
    } catch (err) {
      console.warn(`portico: could not store ${key}:`, err);
    }
  }

  setJson(key: string, value: unknown): void {
    this.set(key, JSON.stringify(value));
  }

  remove(key: string): void {
    try {
      this.storage.removeItem(key);
    } catch {
      /* nothing to do */
    }
  }
}
