/**
 * Durable writes per second of the store alone, SQLite against PostgreSQL in the same run (issue
 * 15): `node --import tsx bench/store-writes.ts [--writers 100] [--ms 5000] [--runs 2]`. Each
 * writer sends chat messages (the chat feature's putMessage rule, one `store.write` each) one
 * after the other into a chat of its own, for the duration; the figure is acknowledged writes per
 * second, each acknowledged after its COMMIT is on disk (SQLite: after the fsync of its batch;
 * PostgreSQL: synchronous_commit on, fsync on). No HTTP: what the store's group commit allows.
 * PostgreSQL is Debian's, started through the test helper (a cluster of its own, removed after).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createChat, moveMember, putMessage } from '../server/src/chat/rules.js';
import { PgStore } from '../server/src/store/pg-store.js';
import { SqliteStore } from '../server/src/store/sqlite.js';
import type { Store, UserRecord } from '../server/src/store/store.js';
import { startPostgres } from '../tests/helpers/postgres.js';

const argv = process.argv.slice(2);
const opt = (name: string, fallback: number) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : fallback;
};
const WRITERS = opt('writers', 100);
const MS = opt('ms', 5000);
const RUNS = opt('runs', 2);

async function measure(store: Store) {
  const users: UserRecord[] = [];
  for (let i = 0; i < WRITERS + 1; i++) users.push(await store.createUser({ username: `u${i}-${Date.now()}`, displayName: `u${i}`, passwordHash: 'x', isAdmin: false }));
  const chats: string[] = [];
  for (let i = 0; i < WRITERS; i++) {
    const chat = await store.write((tx) => createChat(tx, users[i]!.id, [users[WRITERS]!.id]));
    await store.write((tx) => moveMember(tx, chat.id, users[WRITERS]!.id, ['invited'], 'accepted'));
    chats.push(chat.id);
  }
  const latencies: number[] = [];
  let ok = 0;
  let failed = 0;
  const end = performance.now() + MS;
  const t0 = performance.now();
  await Promise.all(
    chats.map(async (chatId, i) => {
      for (let n = 0; performance.now() < end; n++) {
        const t = performance.now();
        try {
          await store.write((tx) => putMessage(tx, { chatId, fromUserId: users[i]!.id, fromUsername: users[i]!.username, clientId: `m${n}`, text: `message ${n}` }), { chatId });
          ok++;
        } catch {
          failed++;
        }
        latencies.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  return { perSecond: Math.round(ok / seconds), failed, p50: round(latencies[Math.floor(latencies.length / 2)]!), p99: round(latencies[Math.floor(latencies.length * 0.99)]!) };
}

const round = (v: number) => Math.round(v * 10) / 10;

const dir = mkdtempSync(join(tmpdir(), 'portico-store-writes-'));
const postgres = await startPostgres();
try {
  for (let run = 1; run <= RUNS; run++) {
    const sqlite = new SqliteStore(join(dir, `run${run}.db`));
    console.log(`run ${run} SQLite:     `, await measure(sqlite));
    await sqlite.close();
    await postgres.query(`CREATE DATABASE run${run}`);
    const pg = await PgStore.open(postgres.url.replace(/\/portico$/, `/run${run}`));
    const result = await measure(pg);
    console.log(`run ${run} PostgreSQL: `, { ...result, writesPerBatch: round(pg.stats.writes / pg.stats.batches) });
    await pg.close();
  }
} finally {
  await postgres.destroy();
  rmSync(dir, { recursive: true, force: true });
}
