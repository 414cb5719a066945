/**
 * Several nodes on one PostgreSQL (issue 15): two nodes starting together on an empty database
 * migrate once and make one `admin`; a message sent through one node reaches a poll held on the
 * other; PostgreSQL restarted: the nodes answer 503 `unavailable` meanwhile, do not crash, and
 * reconnect by themselves (the log follower catches up).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PG_MIGRATIONS } from '../../server/src/store/pg-schema.js';
import { activeChat } from '../helpers/chat.js';
import { tempDir } from '../helpers/cli.js';
import { HAVE_POSTGRES, startPostgres, type Postgres } from '../helpers/postgres.js';
import { Client, PASSWORD, startTestServer, type TestServer } from '../helpers/server.js';

describe.runIf(HAVE_POSTGRES)('nodes on one PostgreSQL', () => {
  let db: Postgres;
  let a: TestServer;
  let b: TestServer;

  beforeAll(async () => {
    db = await startPostgres();
  }, 90_000);
  afterAll(async () => {
    await a?.close().catch(() => {});
    await b?.close().catch(() => {});
    await db?.destroy();
  });

  it('two nodes starting together on an empty database: one migration, one admin', async () => {
    [a, b] = await Promise.all([startTestServer({ databaseUrl: db.url }, tempDir('portico-a-')), startTestServer({ databaseUrl: db.url }, tempDir('portico-b-'))]);
    expect((await db.query('SELECT version FROM schema_version')).rows.map((r) => Number(r.version))).toEqual([PG_MIGRATIONS.length]);
    expect(Number((await db.query("SELECT count(*) AS n FROM users WHERE username = 'admin'")).rows[0].n)).toBe(1);
    // At most one of them made (and would print) a password.
    expect([a.generatedAdminPassword, b.generatedAdminPassword].filter(Boolean).length).toBeLessThanOrEqual(1);
  });

  it('a message sent through one node reaches a poll held on the other', async () => {
    const ann = await a.user('ann');
    await b.user('ben').catch(() => undefined); // made through b; logged in below on b
    const ben = await Client.login(b.url, 'ben', PASSWORD);
    const chat = await activeChat(ann, new Client(a.url, ben.token, 'ben'));
    await ben.poll(0);
    const held = ben.waitFor('chat.message', (e) => e.message.text === 'across nodes');
    expect((await ann.put(`/api/v1/chats/${chat}/messages/x1`, { text: 'across nodes' })).status).toBe(201);
    expect((await held).message.from).toBe('ann');
  });

  it('a logout or a removal on one node holds on the other at once (sessions are not cached per node)', async () => {
    const onA = await a.user('cy');
    const onB = new Client(b.url, onA.token, 'cy');
    expect((await onB.get('/api/v1/me')).status).toBe(200);
    expect((await onA.post('/api/v1/logout')).status).toBeLessThan(300);
    expect((await onB.get('/api/v1/me')).status).toBe(401);
    const dee = await b.user('dee');
    expect((await new Client(a.url, dee.token).get('/api/v1/me')).status).toBe(200);
    expect((await a.admin.delete('/api/v1/admin/users/dee')).status).toBe(200);
    expect((await dee.get('/api/v1/me')).status).toBe(401);
  });

  it('a user ID with a NUL byte is a wrong login, not a server error', async () => {
    const res = await new Client(a.url).post('/api/v1/login', { username: 'ann\u0000', password: PASSWORD });
    expect(res.status).toBe(401);
  });

  it('PostgreSQL restarted: 503 unavailable meanwhile, no crash, the nodes reconnect and the log catches up', async () => {
    const ann = await Client.login(a.url, 'ann', PASSWORD);
    const ben = await Client.login(b.url, 'ben', PASSWORD);
    const chat = ((await ann.get('/api/v1/chats')).body.chats as Array<{ id: string }>)[0]!.id;
    await ben.poll(0); // ben's cursor: from before the outage
    await db.stop();
    const down = await ann.put(`/api/v1/chats/${chat}/messages/x2`, { text: 'while down' });
    expect(down.status).toBe(503);
    expect(down.body.error.code).toBe('unavailable');
    const read = await ann.get('/api/v1/chats');
    expect(read.status).toBe(503);
    await db.start();
    let sent = down;
    for (let i = 0; i < 50 && sent.status !== 201; i++) {
      await new Promise((r) => setTimeout(r, 200));
      sent = await ann.put(`/api/v1/chats/${chat}/messages/x2`, { text: 'after the restart' });
    }
    expect(sent.status).toBe(201);
    const seen = await ben.waitFor('chat.message', (e) => e.message.clientId === 'x2', 15_000);
    expect(seen.message.text).toBe('after the restart');
  }, 60_000);
});
