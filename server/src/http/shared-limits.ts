/**
 * Rate limits and once-only keys that hold for the whole cluster: in Redis when
 * PORTICO_REDIS_URL is set (several nodes count together, so 10 failed logins spread over 3 nodes
 * lock an account as on one), in this process's memory otherwise (one node).
 *
 * With Redis, each limiter keeps an in-memory insurance limiter of the same shape: if Redis stops
 * answering, every node goes on limiting on its own (stricter per node, never unlimited), and
 * takes up the shared count again when Redis is back. Commands fail at once while Redis is down
 * (no offline queue), so a request never waits on it.
 */
import { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, type RateLimiterAbstract } from 'rate-limiter-flexible';

export interface LimiterOptions {
  /** Unique per limiter: the keys' prefix in Redis. */
  name: string;
  points: number;
  /** Seconds. */
  duration: number;
}

export class SharedLimits {
  private readonly onceMemory = new Map<string, number>();
  private nextSweep = 0;

  private constructor(private readonly redis: Redis | undefined) {}

  /** In-memory limits (one node). */
  static local(): SharedLimits {
    return new SharedLimits(undefined);
  }

  /** Limits shared through the Redis at `url` (redis://[:password@]host:port[/db]). */
  static async connect(url: string, onError: (error: Error) => void): Promise<SharedLimits> {
    const redis = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: true, connectTimeout: 5000 });
    redis.on('error', onError); // reconnects by itself; meanwhile the insurance limiters count
    await redis.connect();
    return new SharedLimits(redis);
  }

  get shared(): boolean {
    return this.redis !== undefined;
  }

  limiter({ name, points, duration }: LimiterOptions): RateLimiterAbstract {
    const insurance = new RateLimiterMemory({ points, duration, keyPrefix: name });
    if (!this.redis) return insurance;
    return new RateLimiterRedis({ storeClient: this.redis, points, duration, keyPrefix: `portico:limit:${name}`, insuranceLimiter: insurance });
  }

  /**
   * Marks `key` as used until `untilMs` (epoch ms); false if it already was. Checked and set in one
   * step (Redis SET NX), so two nodes that see the same signed request accept it once.
   */
  async once(key: string, untilMs: number): Promise<boolean> {
    const ttl = Math.max(1, untilMs - Date.now());
    if (this.redis) {
      try {
        return (await this.redis.set(`portico:once:${key}`, '1', 'PX', ttl, 'NX')) === 'OK';
      } catch {
        /* Redis down: this node remembers on its own meanwhile */
      }
    }
    return this.onceLocal(key, untilMs);
  }

  /** Whether `key` is marked (a cheap early look; `once` is what decides). */
  async used(key: string): Promise<boolean> {
    if (this.redis) {
      try {
        return (await this.redis.exists(`portico:once:${key}`)) === 1;
      } catch {
        /* Redis down: this node's own memory */
      }
    }
    const ends = this.onceMemory.get(key);
    return ends !== undefined && ends > Date.now();
  }

  private onceLocal(key: string, untilMs: number): boolean {
    const now = Date.now();
    if (now >= this.nextSweep) {
      for (const [k, ends] of this.onceMemory) if (ends <= now) this.onceMemory.delete(k);
      this.nextSweep = now + 10_000;
    }
    const ends = this.onceMemory.get(key);
    if (ends !== undefined && ends > now) return false;
    this.onceMemory.set(key, untilMs);
    return true;
  }

  async close(): Promise<void> {
    await this.redis?.quit().catch(() => this.redis?.disconnect());
  }
}
