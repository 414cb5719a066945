/**
 * `portico db migrate` and `portico db import --from <data dir>` (issue 15), run as the installed
 * command against a real PostgreSQL: an embedded installation with users, contacts, a group, a
 * chat with reactions, an edit, a deletion and a call is copied row for row, every id and
 * sequence number kept (the log reads back the same events with the same cursors, new rows get
 * higher ids than any the installation ever gave), an import into a database that has data
 * changes nothing, and a server started with PORTICO_DATABASE_URL serves the imported installation.
 */
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseFile } from '../../server/src/config.js';
import { readPgEvents } from '../../server/src/store/pg-log.js';
import { PG_MIGRATIONS } from '../../server/src/store/pg-schema.js';
import { SqliteStore } from '../../server/src/store/sqlite.js';
import { backend } from '../helpers/backend.js';
import { activeChat } from '../helpers/chat.js';
import { runCli, tempDir } from '../helpers/cli.js';
import { HAVE_POSTGRES, startPostgres, type Postgres } from '../helpers/postgres.js';
import { Client, PASSWORD, startTestServer, type TestServer } from '../helpers/server.js';

/** A value as text, so SQLite's 0/1 and PostgreSQL's booleans, and BIGINT strings, compare. */
const norm = (v: unknown) => (v === null || v === undefined ? null : typeof v === 'boolean' ? (v ? '1' : '0') : Buffer.isBuffer(v) ? `x${v.toString('hex')}` : String(v));

// Imports from an embedded (SQLite) installation, which its first test server makes: the SQLite pass runs it.
describe.runIf(HAVE_POSTGRES && backend === 'sqlite')('portico db import', () => {
  let db: Postgres;
  let server: TestServer;
  let dataDir: string;
  const cli = (args: string[]) => runCli(args, { env: { PORTICO_DATABASE_URL: db.url }, cwd: tempDir('portico-cli-'), timeoutMs: 60_000 });

  beforeAll(async () => {
    db = await startPostgres();
    server = await startTestServer();
    dataDir = server.dataDir;
    const alice = await server.user('alice', 'Alice Ångström');
    const bob = await server.user('bob');
    await server.user('carol');
    const gone = await server.user('gone');
    expect((await server.admin.put('/api/v1/admin/users/alice/contacts/bob')).status).toBeLessThan(300);
    expect((await server.admin.post('/api/v1/admin/groups', { name: 'sales', displayName: 'Sales' })).status).toBeLessThan(300);
    expect((await server.admin.put('/api/v1/admin/groups/sales/members/carol')).status).toBeLessThan(300);
    const chat = await activeChat(alice, bob);
    const sent = [];
    for (const [i, text] of ['hello', 'grüße 👋 @bob', 'to be edited', 'to be deleted'].entries()) {
      const res = await alice.put(`/api/v1/chats/${chat}/messages/c${i}`, { text });
      expect(res.status).toBeLessThan(300);
      sent.push(res.body.message.id as number);
    }
    expect((await bob.put(`/api/v1/chats/${chat}/messages/${sent[0]}/reactions`, { emoji: '👍' })).status).toBeLessThan(300);
    expect((await alice.request('PATCH', `/api/v1/chats/${chat}/messages/c2`, { text: 'edited' })).status).toBe(200);
    expect((await alice.delete(`/api/v1/chats/${chat}/messages/c3`)).status).toBeLessThan(300);
    const held = bob.poll(2); // bob is online: the call rings him
    const call = await alice.post('/api/v1/calls', { chatId: chat, video: false });
    expect(call.status, JSON.stringify(call.body)).toBe(201);
    expect((await alice.post(`/api/v1/calls/${call.body.call.id}/hangup`)).status).toBeLessThan(300);
    await held;
    // The newest user goes: the installation has given out an id that no row holds any more.
    expect((await server.admin.delete(`/api/v1/admin/users/${gone.username}`)).status).toBeLessThan(300);
    await server.close();
  }, 120_000);
  afterAll(async () => {
    await server?.destroy().catch(() => {});
    await db?.destroy();
  });

  it('db migrate brings an empty database to the newest schema, then has nothing to do', async () => {
    const first = await cli(['db', 'migrate']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain(`applied ${PG_MIGRATIONS.length} migration(s)`);
    const again = await cli(['db', 'migrate']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('up to date');
  });

  it('copies every row, keeping ids and sequence numbers', async () => {
    const run = await cli(['db', 'import', '--from', dataDir]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/imported .* rows in \d+ tables, events up to \d+/);

    const source = new Database(databaseFile(dataDir), { readonly: true });
    try {
      const tables = source.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'messages_fts%'").pluck().all() as string[];
      expect(tables).toEqual(expect.arrayContaining(['users', 'messages', 'events', 'message_reactions', 'calls', 'group_members']));
      for (const table of tables) {
        const cols = (source.pragma(`table_info("${table}")`) as Array<{ name: string }>).map((c) => c.name);
        const list = cols.map((c) => `"${c}"`).join(', ');
        const where = table === 'meta' ? " WHERE key <> 'fts_indexed_through'" : '';
        const mine = (source.prepare(`SELECT ${list} FROM "${table}"${where}`).raw().all() as unknown[][]).map((r) => JSON.stringify(r.map(norm))).sort();
        const theirs = (await db.query(`SELECT ${list} FROM "${table}"`)).rows.map((r: Record<string, unknown>) => JSON.stringify(cols.map((c) => norm(r[c])))).sort();
        expect(theirs, table).toEqual(mine);
      }
      expect(Number((await db.query('SELECT count(*) FROM messages')).rows[0].count)).toBe(5); // four texts and the call's line

      // The log reads back the same: same cursors, same events, for a panel's topics.
      const store = new SqliteStore(databaseFile(dataDir));
      try {
        const topics = (source.prepare('SELECT DISTINCT topic FROM events').pluck().all() as string[]);
        const before = await store.readEvents(topics, 0, 10_000);
        const pool = new pg.Pool({ connectionString: db.url, max: 1 });
        try {
          const after = await readPgEvents(pool, topics, 0, 10_000);
          expect(after.map((e) => [e.seq, e.topic, e.json])).toEqual(before.map((e) => [e.seq, e.topic, e.json]));
          expect(before.length).toBeGreaterThan(10);
        } finally {
          await pool.end();
        }
      } finally {
        await store.close();
      }

      // New rows get ids above any the installation gave, the removed user's included.
      const marks = new Map((source.prepare('SELECT name, seq FROM sqlite_sequence').all() as Array<{ name: string; seq: number }>).map((r) => [r.name, r.seq]));
      const maxUser = source.prepare('SELECT max(id) FROM users').pluck().get() as number;
      expect(marks.get('users')).toBeGreaterThan(maxUser);
      const user = await db.query("INSERT INTO users (username, display_name, password_hash, created_at) VALUES ('new', 'New', 'x', 0) RETURNING id");
      expect(Number(user.rows[0].id)).toBe(marks.get('users')! + 1);
      const event = await db.query("INSERT INTO events (topic, body, at) VALUES ('t', '{}', 0) RETURNING seq");
      expect(Number(event.rows[0].seq)).toBe(marks.get('events')! + 1);
    } finally {
      source.close();
    }
  });

  it('refuses a database that has data, and changes nothing', async () => {
    const count = async () => Number((await db.query('SELECT (SELECT count(*) FROM users) + (SELECT count(*) FROM events) AS n')).rows[0].n);
    const before = await count();
    const run = await cli(['db', 'import', '--from', dataDir]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('already has data');
    expect(await count()).toBe(before);
  });

  it('answers clearly without PORTICO_DATABASE_URL, for a directory that is not an installation', async () => {
    const noUrl = await runCli(['db', 'migrate'], { cwd: tempDir('portico-cli-'), timeoutMs: 60_000 });
    expect(noUrl.code).toBe(1);
    expect(noUrl.stderr).toContain('PORTICO_DATABASE_URL is not set');
    const empty = await cli(['db', 'import', '--from', tempDir('portico-empty-')]);
    expect(empty.code).toBe(1);
    expect(empty.stderr).toContain('cannot open the SQLite database');
  });

  it('a server started with PORTICO_DATABASE_URL on the imported database serves the installation: same users, chats, cursors', async () => {
    const node = await startTestServer({ databaseUrl: db.url }, tempDir('portico-node-'));
    try {
      const alice = await Client.login(node.url, 'alice', PASSWORD);
      const bob = await Client.login(node.url, 'bob', PASSWORD);
      const chats = (await alice.get('/api/v1/chats')).body.chats as Array<{ id: string }>;
      expect(chats).toHaveLength(1);
      const history = (await alice.get(`/api/v1/chats/${chats[0]!.id}/messages`)).body.messages as Array<{ text: string }>;
      expect(history.map((m) => m.text)).toContain('edited');
      await bob.poll(0);
      const head = Number((await db.query('SELECT max(seq) AS s FROM events')).rows[0].s);
      const sent = await alice.put(`/api/v1/chats/${chats[0]!.id}/messages/after-import`, { text: 'on PostgreSQL' });
      expect(sent.status).toBe(201);
      const seen = await bob.waitFor('chat.message', (e) => e.message.text === 'on PostgreSQL');
      expect(Number(seen.cursor)).toBe(head + 1); // the log goes on from the imported sequence
      expect((await node.admin.get('/api/v1/admin/users')).status).toBe(200);
    } finally {
      await node.close();
    }
  });
});
