/**
 * What storing a chat message durably costs SQLite itself on this machine, with no Portico code
 * around it: the floor under the durable target (`bench/run.ts` starts it pinned to the servers'
 * core, in the scratch directory, next to the fsync probe). On the store's own schema (its
 * migrations), `count` messages in group commits of `batch`: each message one INSERT of its row
 * (RETURNING it, as the store does) and one of its event; each batch BEGIN, COMMIT and an fsync
 * of the WAL (synchronous here, so its kernel work is on this process's clock); the trigram
 * search index filled in rounds of 64 as the store's indexer does. No membership or duplicate
 * check, no savepoints, no JSON beyond the event's body, no HTTP: less than any durable chat
 * server can do per message, so its CPU per message bounds how fast one can be.
 * Prints one JSON line: CPU µs per message (user + system), messages per second of wall time.
 */
import Database from 'better-sqlite3';
import { closeSync, fsyncSync, openSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { MIGRATIONS } from '../server/src/store/migrations.js';

const [dir = '.', countArg = '20000', batchArg = '100'] = process.argv.slice(2);
const count = Number(countArg);
const batch = Number(batchArg);
const file = join(dir, `sqlite-floor-${process.pid}.db`);
const db = new Database(file);
try {
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL'); // the store's setting: durability by its own fsync of the WAL
  db.pragma('foreign_keys = ON');
  for (const [v, sql] of MIGRATIONS.entries()) {
    db.exec(sql);
    db.pragma(`user_version = ${v + 1}`);
  }
  const now = Date.now();
  const user = (name: string) =>
    Number(db.prepare("INSERT INTO users (username, display_name, password_hash, is_admin, created_at) VALUES (?, ?, 'x', 0, ?)").run(name, name, now).lastInsertRowid);
  const [ann, ben] = [user('ann'), user('ben')];
  db.prepare("INSERT INTO chats (id, created_by, created_at) VALUES ('c1', 'ann', ?)").run(now);
  db.prepare("INSERT INTO chat_members (chat_id, user_id, status, position) VALUES ('c1', ?, 'accepted', 0), ('c1', ?, 'accepted', 1)").run(ann, ben);

  const insertMessage = db.prepare(
    'INSERT INTO messages (chat_id, from_user_id, from_username, client_id, text, sent_at, call, mentions, held) VALUES (?, ?, ?, ?, ?, ?, NULL, NULL, 0) RETURNING *',
  );
  const insertEvent = db.prepare('INSERT INTO events (topic, body, at) VALUES (?, ?, ?)');
  const index = db.prepare('INSERT INTO messages_fts (rowid, text) SELECT id, text FROM messages WHERE id > ? AND id <= ? ORDER BY id');
  const merge = db.prepare("INSERT INTO messages_fts (messages_fts, rank) VALUES ('merge', 8)");
  const [begin, commit] = [db.prepare('BEGIN'), db.prepare('COMMIT')];
  const wal = openSync(`${file}-wal`, 'r+');
  let indexed = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let sent = 0; sent < count; ) {
    begin.run();
    for (let i = 0; i < batch && sent < count; i++, sent++) {
      const text = `message ${sent}, of the kind people send all day`;
      const row = insertMessage.get('c1', ann, 'ann', `m${sent}`, text, Date.now()) as { id: number };
      insertEvent.run('chat:c1', JSON.stringify({ type: 'chat.message', at: new Date().toISOString(), chatId: 'c1', message: { id: row.id, text } }), Date.now());
    }
    if (sent - indexed >= 64) {
      index.run(indexed, sent);
      merge.run();
      indexed = sent;
    }
    commit.run();
    fsyncSync(wal);
  }
  const cpu = process.cpuUsage(cpu0);
  const seconds = (performance.now() - t0) / 1000;
  closeSync(wal);
  console.log(JSON.stringify({ messages: count, batch, cpuMicrosPerMessage: (cpu.user + cpu.system) / count, perSecond: count / seconds }));
} finally {
  db.close();
  for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true });
}
