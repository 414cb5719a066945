/**
 * The real PostgreSQL and Redis the cluster tests (issue 15) stand on: each starts from Debian's
 * packages on a free loopback port, refuses a wrong password, keeps committed rows through a
 * crash (SIGKILL) and restart, and stops cleanly.
 */
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HAVE_POSTGRES, startPostgres, type Postgres } from '../helpers/postgres.js';
import { HAVE_REDIS, startRedis } from '../helpers/redis.js';

describe.runIf(HAVE_POSTGRES)('PostgreSQL test cluster', () => {
  let db: Postgres;
  beforeAll(async () => {
    db = await startPostgres();
  }, 60_000);
  afterAll(() => db?.destroy());

  it('answers on loopback with password authentication only', async () => {
    expect((await db.query('SELECT current_user AS who, host(inet_server_addr()) AS addr')).rows[0]).toEqual({ who: 'portico', addr: '127.0.0.1' });
    const wrong = new pg.Client({ connectionString: db.url.replace(/:[^:@]+@/, ':wrong@') });
    await expect(wrong.connect()).rejects.toThrow(/password authentication failed/);
    await wrong.end().catch(() => {});
  });

  it('keeps what was committed through a crash and a restart', async () => {
    await db.query('CREATE TABLE kept (n int PRIMARY KEY)');
    await db.query('INSERT INTO kept SELECT generate_series(1, 1000)');
    await db.kill();
    await expect(db.query('SELECT 1')).rejects.toThrow();
    await db.start();
    expect((await db.query('SELECT count(*)::int AS n FROM kept')).rows[0].n).toBe(1000);
  }, 60_000);
});

describe.runIf(HAVE_REDIS)('Redis test server', () => {
  it('answers with the password, refuses without, and stops', async () => {
    const redis = await startRedis();
    try {
      const client = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 0 });
      await client.connect();
      await client.set('portico:test', 'ok');
      expect(await client.get('portico:test')).toBe('ok');
      client.disconnect();
      const anonymous = new Redis(redis.port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0 });
      anonymous.on('error', () => {}); // the refusal comes as the command's error below
      await anonymous.connect().catch(() => {});
      await expect(anonymous.get('portico:test')).rejects.toThrow(/NOAUTH/);
      anonymous.disconnect();
    } finally {
      await redis.stop();
    }
  });
});
