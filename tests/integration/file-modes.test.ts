/**
 * File modes in the data directory: every file 0600, every directory 0700, whatever the umask
 * (0 here, the worst: Node's and SQLite's defaults would give 0666/0644 and 0777) and even when
 * the directory and its subdirectories were made beforehand with 0755. Checked by walking the
 * whole data directory of a running server (database, -wal and -shm included) after a start,
 * some writes, a media upload, a game, a provider's form post, the TLS certificates and a
 * published update; then again after an upgrade from files the old code left 0644/0755.
 */
import { backend } from '../helpers/backend.js';
import { createHash } from 'node:crypto';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initCertificates } from '../../server/src/tls/certs.js';
import { publishUpdates } from '../../server/src/updates/publish.js';
import { makeZip } from '../helpers/media-samples.js';
import { reply, startTestServer, type TestServer } from '../helpers/server.js';

let dataDir: string;
let releaseDir: string;
let server: TestServer | undefined;
let umask: number;

/** Every path under `root` (itself included) whose mode is not 0700 (directories) or 0600 (files). */
function wrongModes(root: string): string[] {
  const wrong: string[] = [];
  const walk = (path: string) => {
    const stat = lstatSync(path);
    const want = stat.isDirectory() ? 0o700 : 0o600;
    if ((stat.mode & 0o7777) !== want) wrong.push(`${path.slice(root.length) || '/'} ${(stat.mode & 0o7777).toString(8)}`);
    if (stat.isDirectory()) for (const name of readdirSync(path)) walk(join(path, name));
  };
  walk(root);
  return wrong.sort();
}

/** Every path under `root`, for the record of what the walk saw. */
const allPaths = (root: string) => (readdirSync(root, { recursive: true }) as string[]).sort();


// A real 1x1 PNG (uploads may be sniffed).
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');

/** A folder like electron-builder's output with the generic provider (files 0644, as a build leaves them). */
function release(): string {
  const dir = mkdtempSync(join(tmpdir(), 'portico-release-'));
  const exe = Buffer.alloc(10_000, 7);
  const sha = createHash('sha512').update(exe).digest('base64');
  writeFileSync(join(dir, 'Portico-1.0.0-win-x64.exe'), exe, { mode: 0o644 });
  writeFileSync(
    join(dir, 'latest.yml'),
    ['version: 1.0.0', 'files:', '  - url: Portico-1.0.0-win-x64.exe', `    sha512: ${sha}`, `    size: ${exe.length}`, 'path: Portico-1.0.0-win-x64.exe', `sha512: ${sha}`, "releaseDate: '2025-01-01T00:00:00.000Z'", ''].join('\n'),
    { mode: 0o644 },
  );
  return dir;
}

async function useEverything(s: TestServer, round: number) {
  const provider = await s.admin.post('/api/v1/admin/providers', { name: `house${round}`, channels: ['lobby'] });
  expect(provider.status).toBe(201);
  const auth = { authorization: `Bearer ${provider.body.key}` };
  const bob = await s.user(`bob${round}`);
  await s.user(`alice${round}`);
  expect((await bob.post('/api/v1/chats', { invitees: [`alice${round}`] })).status).toBe(201);

  const media = new FormData();
  media.set('channel', 'lobby');
  media.set('title', `Photo ${round}`);
  media.set('file', new Blob([new Uint8Array(Buffer.concat([PNG, Buffer.from([round])]))], { type: 'image/png' }), 'photo.png');
  const uploaded = await reply(await fetch(`${s.url}/cgi/media`, { method: 'POST', body: media, headers: auth }));
  expect(uploaded.status, JSON.stringify(uploaded.body)).toBe(201);

  const game = new FormData();
  game.set('channel', 'lobby');
  game.set('title', `Game ${round}`);
  const archive = await makeZip([
    { name: 'index.html', data: `<!doctype html><title>g${round}</title>` },
    { name: 'js/game.js', data: `console.log(${round})` },
  ]);
  game.set('file', new Blob([new Uint8Array(archive)], { type: 'application/zip' }), 'game.zip');
  const unpacked = await reply(await fetch(`${s.url}/cgi/media`, { method: 'POST', body: game, headers: auth }));
  expect(unpacked.status, JSON.stringify(unpacked.body)).toBe(201);

  const notice = new FormData(); // a multipart post without a file: the CGI still spools in data/tmp
  notice.set('channel', 'lobby');
  notice.set('text', `Notice ${round}`);
  expect((await fetch(`${s.url}/cgi/notice`, { method: 'POST', body: notice, headers: auth })).status).toBe(201);

  await publishUpdates(releaseDir, s.dataDir);
}

beforeAll(() => {
  umask = process.umask(0); // the worst umask: nothing taken off what each call asks for
  dataDir = mkdtempSync(join(tmpdir(), 'portico-modes-'));
  chmodSync(dataDir, 0o755);
  for (const sub of ['tmp', 'media', 'games', 'updates', 'tls']) mkdirSync(join(dataDir, sub), { mode: 0o755 });
  releaseDir = release();
});
afterAll(async () => {
  await server?.close();
  process.umask(umask);
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(releaseDir, { recursive: true, force: true });
});

// The SQLite database and its WAL and shm are among the files checked (and loosened, then
// tightened): on PostgreSQL they are not in the data directory. The SQLite pass runs it.
describe.skipIf(backend === 'postgres')('data directory modes (umask 0)', () => {
  it('a new installation in pre-created 0755 directories: every file 0600, every directory 0700', async () => {
    initCertificates(dataDir, { hosts: ['localhost'], ips: ['127.0.0.1'] });
    server = await startTestServer({ httpsPort: 0 }, dataDir);
    await useEverything(server, 1);
    const seen = allPaths(dataDir);
    for (const file of ['portico.db', 'portico.db-wal', 'portico.db-shm', 'secret.key', 'tls/ca.crt', 'tls/server.key', 'updates/latest.yml']) expect(seen).toContain(file);
    expect(seen.some((p) => p.startsWith('media/') && /[0-9a-f]{64}$/.test(p))).toBe(true);
    expect(seen.some((p) => p.startsWith('games/') && p.endsWith('index.html'))).toBe(true);
    expect(wrongModes(dataDir)).toEqual([]);
  });

  it('an installation the old code left 0644/0755 is tightened at the next start', async () => {
    await server!.close();
    server = undefined;
    const loosen = (path: string) => {
      const isDir = lstatSync(path).isDirectory();
      chmodSync(path, isDir ? 0o755 : 0o644);
      if (isDir) for (const name of readdirSync(path)) loosen(join(path, name));
    };
    loosen(dataDir);
    // The database's -wal and -shm as a crashed old server leaves them: there, and world-readable.
    writeFileSync(join(dataDir, 'portico.db-wal'), '', { flag: 'a', mode: 0o644 });
    writeFileSync(join(dataDir, 'portico.db-shm'), '', { flag: 'a', mode: 0o644 });
    expect(wrongModes(dataDir).length).toBeGreaterThan(5);

    server = await startTestServer({ httpsPort: 0 }, dataDir);
    await useEverything(server, 2);
    expect(wrongModes(dataDir)).toEqual([]);
  });
});
