/**
 * `portico backup` and `portico restore`, as real child processes, against a real server under
 * write load.
 *
 * What a backup guarantees: it is the data directory as it was at one instant between the start
 * and the end of the `portico backup` command (SQLite's online backup in one read transaction).
 * So every message acknowledged before the backup started is in it, none whose request began
 * after it ended is, and for each sender (who sends one message after the other) the restored
 * messages are a prefix of what they sent: no gaps, no torn or damaged rows. Sessions are in the
 * database and the server secret is in the archive, so old tokens keep working.
 */
import { backend } from '../helpers/backend.js';
import Database from 'better-sqlite3';
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli as cli, tempDir } from '../helpers/cli.js';
import { Client, startTestServer, type TestServer } from '../helpers/server.js';

/** Every file and directory under `dir` with its permission bits. */
function modes(dir: string, prefix = ''): Array<[string, number]> {
  return readdirSync(dir).flatMap((name): Array<[string, number]> => {
    const path = join(dir, name);
    const mode = statSync(path).mode & 0o777;
    return statSync(path).isDirectory() ? [[`${prefix}${name}/`, mode], ...modes(path, `${prefix}${name}/`)] : [[`${prefix}${name}`, mode]];
  });
}

interface Sent {
  clientId: string;
  text: string;
  startedAt: number;
  ackedAt?: number;
}

describe('portico backup and restore', { timeout: 300_000 }, () => {
  // `portico backup` copies the embedded SQLite database; a PostgreSQL cluster is backed up with
  // PostgreSQL's own tools (docs/deployment.md section 7).
  it.skipIf(backend === 'postgres')('a backup taken under write load restores into a fresh directory: every acknowledged message, the files, the old tokens', async () => {
    const server: TestServer = await startTestServer();
    let restored: TestServer | undefined;
    try {
      const alice = await server.user('alice');
      const bob = await server.user('bob');
      const chat = (await alice.post('/api/v1/chats', { invitees: ['bob'] })).body.chat;
      expect((await bob.post(`/api/v1/chats/${chat.id}/accept`)).status).toBe(200);
      // The rest of a data directory: media, a game, updates and TLS files (not read by this test's servers).
      const files: Record<string, string> = {
        'media/ab/ab12': 'an uploaded picture',
        'games/cd34/index.html': '<p>a game</p>',
        'updates/latest.yml': 'version: 1.2.3\n',
        'tls/ca.key': 'not really a key',
      };
      for (const [path, content] of Object.entries(files)) {
        mkdirSync(join(server.dataDir, path, '..'), { recursive: true, mode: 0o700 });
        writeFileSync(join(server.dataDir, path), content, { mode: 0o600 });
      }

      // Each sender sends one message after the other: its acknowledged messages are in order.
      let writing = true;
      const sent: Record<string, Sent[]> = { alice: [], bob: [] };
      const sender = async (client: Client, name: string) => {
        for (let i = 0; writing; i++) {
          const m: Sent = { clientId: `${name}-${i}`, text: `${name} says ${i} ${'x'.repeat(i % 50)}`, startedAt: Date.now() };
          sent[name]!.push(m);
          const res = await client.put(`/api/v1/chats/${chat.id}/messages/${m.clientId}`, { text: m.text });
          if (res.status !== 201) throw new Error(`${m.clientId}: ${res.status} ${JSON.stringify(res.body)}`);
          m.ackedAt = Date.now();
        }
      };
      const senders = Promise.all([sender(alice, 'alice'), sender(bob, 'bob')]);
      const acked = (name: string) => sent[name]!.filter((m) => m.ackedAt !== undefined).length;
      while (acked('alice') < 100 || acked('bob') < 100) await new Promise((r) => setTimeout(r, 20));

      const archive = join(tempDir('portico-backup-'), 'portico-backup.tar.gz');
      const backupStarted = Date.now();
      const run = await cli(['backup', archive, '--data-dir', server.dataDir]);
      const backupEnded = Date.now();
      const ackedDuring = acked('alice') + acked('bob');
      await new Promise((r) => setTimeout(r, 200)); // writes go on after it too
      writing = false;
      await senders;
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/^backed up .+ to .+portico-backup\.tar\.gz \(.*portico\.db.*\)\n$/);
      expect(statSync(archive).mode & 0o777).toBe(0o600);
      // The load really ran across the backup.
      expect(sent.alice!.some((m) => m.ackedAt! > backupEnded)).toBe(true);
      expect(ackedDuring).toBeGreaterThan(200);

      const target = join(tempDir('portico-restore-'), 'data');
      const notEmpty = tempDir('portico-restore-busy-');
      writeFileSync(join(notEmpty, 'keep.txt'), 'mine');
      const [put, refused] = await Promise.all([cli(['restore', archive, '--data-dir', target]), cli(['restore', archive, '--data-dir', notEmpty])]);
      expect(put.stderr).toBe('');
      expect(put.code).toBe(0);
      expect(put.stdout).toContain(`into ${target}`);
      expect(refused).toEqual({ code: 1, stdout: '', stderr: `portico: ${notEmpty} is not empty: restore into a new or empty directory\n` });
      expect(readdirSync(notEmpty)).toEqual(['keep.txt']);

      // Files 0600, directories 0700; the secret and the other files as they were.
      expect(statSync(target).mode & 0o777).toBe(0o700);
      for (const [path, mode] of modes(target)) expect([path, mode]).toEqual([path, path.endsWith('/') ? 0o700 : 0o600]);
      expect(readFileSync(join(target, 'secret.key'))).toEqual(readFileSync(join(server.dataDir, 'secret.key')));
      for (const [path, content] of Object.entries(files)) expect(readFileSync(join(target, path), 'utf8')).toBe(content);
      expect(readdirSync(target)).not.toContain('tmp');

      // The messages: a consistent snapshot.
      const db = new Database(join(target, 'portico.db'), { readonly: true });
      const rows = db.prepare('SELECT from_username, client_id, text FROM messages WHERE chat_id = ? ORDER BY id').all(chat.id) as Array<{
        from_username: string;
        client_id: string;
        text: string;
      }>;
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      db.close();
      for (const name of ['alice', 'bob']) {
        const mine = rows.filter((r) => r.from_username === name);
        const k = mine.length;
        // A prefix of what they sent, each row whole.
        expect(mine.map((r) => [r.client_id, r.text])).toEqual(sent[name]!.slice(0, k).map((m) => [m.clientId, m.text]));
        // Everything acknowledged before the backup started is there ...
        const before = sent[name]!.filter((m) => m.ackedAt! < backupStarted).length;
        expect(k).toBeGreaterThanOrEqual(before);
        expect(before).toBeGreaterThanOrEqual(100);
        // ... and nothing that was sent only after it ended.
        expect(sent[name]!.slice(0, k).every((m) => m.startedAt <= backupEnded)).toBe(true);
      }

      // A server on the restored directory: the old tokens work, the history is there.
      restored = await startTestServer({ tls: false }, target);
      for (const old of [alice, bob, server.admin]) {
        const again = new Client(restored.url, old.token, old.username);
        const me = await again.get('/api/v1/me');
        expect(me.status, old.username).toBe(200);
        expect(me.body.user.username).toBe(old.username);
      }
      const history = await new Client(restored.url, alice.token).get(`/api/v1/chats/${chat.id}/messages?limit=200`);
      expect(history.status).toBe(200);
      expect(history.body.messages.at(-1).text).toBe(rows.at(-1)!.text);
    } finally {
      await restored?.destroy();
      await server.destroy();
    }
  });

  it('restore refuses what is not a Portico backup and leaves the directory as it was', async () => {
    const dir = tempDir('portico-restore-bad-');
    const junk = join(dir, 'junk.tar.gz');
    writeFileSync(junk, 'this is not a gzip file');
    const target = join(dir, 'data');
    const run = await cli(['restore', junk, '--data-dir', target]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^portico: .*junk\.tar\.gz is not a readable backup/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(readdirSync(dir)).toEqual(['junk.tar.gz']);
  });
});
