/**
 * Installed clients: the terminal registry (filled by logins that carry `client`), the seat cap,
 * and client updates published with `portico update publish` (signed with `--sign` and the key
 * from `portico update keygen`) and served at /updates/.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, rmSync, statSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { isPublicKey, verifyManifest } from '../../electron/main/update-trust.js';
import { publishUpdates } from '../../server/src/updates/publish.js';
import { generateSigningKey } from '../../server/src/updates/signing.js';
import { backend, cliEnvFor } from '../helpers/backend.js';
import { runCli, tempDir } from '../helpers/cli.js';
import { Client, PASSWORD, expectError, startTestServer, type TestServer } from '../helpers/server.js';

/** Runs the `portico` CLI as a child process (without the machine's PORTICO_* settings). */
const cli = (args: string[], env: Record<string, string> = {}) => runCli(args, { env: cliEnvFor(args, env) });

const loginWith = (server: TestServer, username: string, client?: unknown) =>
  new Client(server.url).post('/api/v1/login', { username, password: PASSWORD, ...(client ? { client } : {}) });

describe('terminal registry and seat cap', () => {
  let server: TestServer;
  const installA = randomUUID();
  const installB = randomUUID();
  beforeAll(async () => {
    server = await startTestServer({ seats: 2 });
    await server.user('tu-alice', 'Alice');
    await server.user('tu-bob', 'Bob');
  });
  afterAll(() => server.destroy());

  it('lists the terminals logins came from, with user, version, platform and last seen', async () => {
    const before = Date.now();
    expect((await loginWith(server, 'tu-alice', { installId: installA, version: '1.0.0', platform: 'win32' })).status).toBe(200);
    expect((await loginWith(server, 'tu-bob', { installId: installB, version: '1.0.1-beta.1', platform: 'linux' })).status).toBe(200);
    // A login without `client` (the browser panel) registers nothing.
    expect((await loginWith(server, 'tu-bob')).status).toBe(200);

    const res = await server.admin.get('/api/v1/admin/terminals');
    expect(res.status).toBe(200);
    expect(res.body.seats).toEqual({ used: 2, limit: 2 });
    const byId = Object.fromEntries(res.body.terminals.map((t: any) => [t.installId, t]));
    expect(Object.keys(byId).sort()).toEqual([installA, installB].sort());
    expect(byId[installA]).toMatchObject({ username: 'tu-alice', version: '1.0.0', platform: 'win32' });
    expect(byId[installB]).toMatchObject({ username: 'tu-bob', version: '1.0.1-beta.1', platform: 'linux' });
    for (const t of res.body.terminals) {
      expect(Date.parse(t.lastSeen)).toBeGreaterThanOrEqual(before - 1000);
      expect(Date.parse(t.firstSeen)).toBeLessThanOrEqual(Date.parse(t.lastSeen));
    }

    // The same install logging in again (its user, updated): refreshed, not added.
    await new Promise((r) => setTimeout(r, 5));
    expect((await loginWith(server, 'tu-alice', { installId: installA, version: '1.1.0', platform: 'win32' })).status).toBe(200);
    const again = (await server.admin.get('/api/v1/admin/terminals')).body;
    expect(again.terminals).toHaveLength(2);
    expect(again.terminals[0]).toMatchObject({ installId: installA, username: 'tu-alice', version: '1.1.0', firstSeen: byId[installA].firstSeen });
    expect(Date.parse(again.terminals[0].lastSeen)).toBeGreaterThan(Date.parse(byId[installA].lastSeen));

    // Non-admins may not list terminals.
    const alice = await Client.login(server.url, 'tu-alice', PASSWORD);
    expectError(await alice.get('/api/v1/admin/terminals'), 403, 'forbidden');
  });

  it('past the cap a new install is refused with 403 seat_limit; known installs keep working', async () => {
    const refused = await loginWith(server, 'tu-alice', { installId: randomUUID(), version: '1.1.0', platform: 'darwin' });
    expectError(refused, 403, 'seat_limit', 'third install', { strict: true });
    expect(refused.body.error.message).toMatch(/seats .*taken/);
    expect((await server.admin.get('/api/v1/admin/terminals')).body.seats).toEqual({ used: 2, limit: 2 });

    const known = await loginWith(server, 'tu-bob', { installId: installB, version: '1.1.0', platform: 'linux' });
    expect(known.status).toBe(200);
    expect((await new Client(server.url, known.body.token).get('/api/v1/me')).status).toBe(200);
    // Letter case of the install id does not make a new terminal.
    expect((await loginWith(server, 'tu-alice', { installId: installA.toUpperCase(), version: '1.1.0', platform: 'win32' })).status).toBe(200);
  });

  it("another user's install id is refused with 409 conflict, and its record stays as it was", async () => {
    const before = (await server.admin.get('/api/v1/admin/terminals')).body.terminals.find((t: any) => t.installId === installA);
    expect(before.username).toBe('tu-alice');
    for (const installId of [installA, installA.toUpperCase()]) {
      const taken = await loginWith(server, 'tu-bob', { installId, version: '9.9.9', platform: 'darwin' });
      expectError(taken, 409, 'conflict', 'bob with alice\'s install', { strict: true });
      expect(taken.body.error.message).toMatch(/another user/);
      expect(taken.body.token).toBeUndefined();
    }
    const after = (await server.admin.get('/api/v1/admin/terminals')).body.terminals.find((t: any) => t.installId === installA);
    expect(after).toEqual(before);
    // Alice's own login from it still works.
    expect((await loginWith(server, 'tu-alice', { installId: installA, version: '1.1.0', platform: 'win32' })).status).toBe(200);
  });

  it('a wrong password is still invalid_credentials (the seat check comes after it), and bad client info is 400', async () => {
    const wrong = await new Client(server.url).post('/api/v1/login', {
      username: 'tu-alice',
      password: 'not the password',
      client: { installId: randomUUID(), version: '1.0.0', platform: 'win32' },
    });
    expectError(wrong, 401, 'invalid_credentials');
    for (const client of [
      { installId: 'not-a-uuid', version: '1.0.0', platform: 'win32' },
      { installId: randomUUID(), version: 'latest', platform: 'win32' },
      { installId: randomUUID(), version: '1.0.0', platform: 'amiga' },
      { installId: randomUUID(), version: '1.0.0', platform: 'linux', extra: 1 },
    ]) {
      expectError(await loginWith(server, 'tu-alice', client), 400, 'invalid_request', JSON.stringify(client));
    }
  });

  it('`portico terminal list` shows the terminals and seats; `terminal remove` frees a seat', async () => {
    const list = await cli(['terminal', 'list', '--data-dir', server.dataDir], { PORTICO_SEATS: '2' });
    expect(list.code, list.stderr).toBe(0);
    const lines = list.stdout.trim().split('\n');
    expect(lines.find((l) => l.startsWith(installA))).toMatch(new RegExp(`^${installA}\\ttu-alice\\t1\\.1\\.0\\twin32\\t\\d{4}-`));
    expect(lines.find((l) => l.startsWith(installB))).toMatch(/\ttu-bob\t1\.1\.0\tlinux\t/);
    expect(lines.at(-1)).toBe('seats: 2 used of 2');

    const removed = await cli(['terminal', 'remove', installB, '--data-dir', server.dataDir]);
    expect(removed.code, removed.stderr).toBe(0);
    const newcomer = randomUUID();
    expect((await loginWith(server, 'tu-bob', { installId: newcomer, version: '1.1.0', platform: 'darwin' })).status).toBe(200);
    const ids = (await server.admin.get('/api/v1/admin/terminals')).body.terminals.map((t: any) => t.installId);
    expect(ids.sort()).toEqual([installA, newcomer].sort());
    const missing = await cli(['terminal', 'remove', installB, '--data-dir', server.dataDir]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/not found/);
  });

  it("a removed user's terminal is free for whoever logs in from it next", async () => {
    const bobs = (await server.admin.get('/api/v1/admin/terminals')).body.terminals.find((t: any) => t.username === 'tu-bob');
    expect(bobs).toBeDefined();
    await server.user('tu-carol');
    expectError(await loginWith(server, 'tu-carol', { installId: bobs.installId, version: '1.1.0', platform: 'darwin' }), 409, 'conflict');
    expect((await server.admin.delete('/api/v1/admin/users/tu-bob')).status).toBe(200);
    expect((await loginWith(server, 'tu-carol', { installId: bobs.installId, version: '1.2.0', platform: 'darwin' })).status).toBe(200);
    const now = (await server.admin.get('/api/v1/admin/terminals')).body.terminals.find((t: any) => t.installId === bobs.installId);
    expect(now).toMatchObject({ username: 'tu-carol', version: '1.2.0', firstSeen: bobs.firstSeen });
  });
});

/** A folder like electron-builder's output with the generic provider. */
function release(version: string) {
  const dir = tempDir('portico-release-');
  const exe = randomBytes(200_000);
  const appImage = randomBytes(50_000);
  const names = { exe: `Portico-${version}-win-x64.exe`, appImage: `Portico-${version}-linux-x86_64.AppImage` };
  writeFileSync(join(dir, names.exe), exe);
  writeFileSync(join(dir, `${names.exe}.blockmap`), randomBytes(300));
  writeFileSync(join(dir, names.appImage), appImage);
  const sha = (b: Buffer) => createHash('sha512').update(b).digest('base64');
  const manifest = (file: string, bytes: Buffer) =>
    [
      `version: ${version}`,
      'files:',
      `  - url: ${file}`,
      `    sha512: ${sha(bytes)}`,
      `    size: ${bytes.length}`,
      `path: ${file}`,
      `sha512: ${sha(bytes)}`,
      `releaseDate: '2025-01-01T00:00:00.000Z'`,
      '',
    ].join('\n');
  writeFileSync(join(dir, 'latest.yml'), manifest(names.exe, exe));
  writeFileSync(join(dir, 'latest-linux.yml'), manifest(names.appImage, appImage));
  return { dir, exe, appImage, names };
}

describe('client updates at /updates/', () => {
  let server: TestServer;
  let v1: ReturnType<typeof release>;
  const get = (path: string, headers: Record<string, string> = {}) => fetch(server.url + path, { headers });

  beforeAll(async () => {
    server = await startTestServer();
    v1 = release('1.2.0');
  });
  afterAll(() => server.destroy());

  it('nothing is offered before a publish', async () => {
    expect((await get('/updates/latest.yml')).status).toBe(404);
  });

  it('`portico update publish` publishes checked files; they are served without a token, with content types, ETag and ranges', async () => {
    const run = await cli(['update', 'publish', v1.dir, '--data-dir', server.dataDir]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('latest.yml\t1.2.0');
    expect(run.stdout).toContain('latest-linux.yml\t1.2.0');

    const yml = await get('/updates/latest.yml');
    expect(yml.status).toBe(200);
    expect(yml.headers.get('content-type')).toBe('text/yaml; charset=utf-8');
    const doc = parse(await yml.text());
    expect(doc.version).toBe('1.2.0');
    expect(doc.files[0].url).toBe(v1.names.exe);
    expect((await get('/updates/latest-linux.yml')).headers.get('content-type')).toMatch(/^text\/yaml/);

    const exe = await get(`/updates/${v1.names.exe}`);
    expect(exe.status).toBe(200);
    expect(exe.headers.get('content-type')).toBe('application/octet-stream');
    expect(exe.headers.get('accept-ranges')).toBe('bytes');
    expect(Buffer.from(await exe.arrayBuffer()).equals(v1.exe)).toBe(true);
    for (const name of [`${v1.names.exe}.blockmap`, v1.names.appImage]) {
      const res = await get(`/updates/${name}`);
      expect(res.status, name).toBe(200);
      expect(res.headers.get('content-type'), name).toBe('application/octet-stream');
      await res.arrayBuffer();
    }

    const etag = exe.headers.get('etag')!;
    expect(etag).toMatch(/^"[0-9a-f]+-[0-9a-f]+"$/);
    expect((await get(`/updates/${v1.names.exe}`, { 'if-none-match': etag })).status).toBe(304);

    const part = await get(`/updates/${v1.names.exe}`, { range: 'bytes=1000-1999' });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 1000-1999/${v1.exe.length}`);
    expect(Buffer.from(await part.arrayBuffer()).equals(v1.exe.subarray(1000, 2000))).toBe(true);
    const tail = await get(`/updates/${v1.names.exe}`, { range: 'bytes=-10' });
    expect(tail.status).toBe(206);
    expect(Buffer.from(await tail.arrayBuffer()).equals(v1.exe.subarray(-10))).toBe(true);
    const outside = await get(`/updates/${v1.names.exe}`, { range: `bytes=${v1.exe.length + 10}-` });
    expect(outside.status).toBe(416);
    expect(outside.headers.get('content-range')).toBe(`bytes */${v1.exe.length}`);
    await outside.text();
  });

  it('paths that leave the updates folder, hidden files, folders and symbolic links are 404', async () => {
    writeFileSync(join(server.dataDir, 'updates', '.hidden'), 'secret');
    // A link to the database (on PostgreSQL, to the file naming it: tests/helpers/backend.ts).
    const target = join(server.dataDir, backend === 'postgres' ? 'test-database-url' : 'portico.db');
    symlinkSync(target, join(server.dataDir, 'updates', 'link.yml'));
    expect(existsSync(target)).toBe(true);
    for (const path of [
      '/updates/..%2Fportico.db',
      '/updates/%2e%2e%2fportico.db',
      '/updates/%2E%2E/portico.db',
      '/updates/..%5Cportico.db',
      '/updates/.hidden',
      '/updates/link.yml',
      '/updates/',
      '/updates/sub/latest.yml',
      '/updates/latest.yml%00.exe',
      '/updates/nothing.exe',
    ]) {
      const res = await get(path);
      expect(res.status, path).toBe(404);
      expect(await res.text(), path).not.toContain('SQLite');
    }
    expect((await get('/updates/%E0%A4%A')).status).toBe(400);
  });

  it('a manifest whose file does not match is refused and what was published stays', async () => {
    const v2 = release('1.3.0');
    writeFileSync(join(v2.dir, v2.names.exe), randomBytes(200_000)); // not what latest.yml says
    const run = await cli(['update', 'publish', v2.dir, '--data-dir', server.dataDir]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/SHA-512 of Portico-1\.3\.0-win-x64\.exe does not match/);
    expect(parse(await (await get('/updates/latest.yml')).text()).version).toBe('1.2.0');

    rmSync(join(v2.dir, v2.names.appImage));
    await expect(publishUpdates(v2.dir, server.dataDir)).rejects.toThrow(/not in/);
    rmSync(join(v2.dir, 'latest-linux.yml'));
    writeFileSync(join(v2.dir, 'latest.yml'), 'version: [unclosed');
    await expect(publishUpdates(v2.dir, server.dataDir)).rejects.toThrow(/not valid YAML/);
  });

  it('publishing is the pin: a new publish for one platform replaces it and keeps the others', async () => {
    const v3 = release('1.3.1');
    rmSync(join(v3.dir, 'latest-linux.yml'));
    const published = await publishUpdates(v3.dir, server.dataDir);
    expect(published.map((m) => `${m.manifest} ${m.version}`)).toEqual(['latest-linux.yml 1.2.0', 'latest.yml 1.3.1']);
    expect(parse(await (await get('/updates/latest.yml')).text()).version).toBe('1.3.1');
    expect((await get(`/updates/${v3.names.exe}`)).status).toBe(200);
    expect((await get(`/updates/${v1.names.exe}`)).status).toBe(404); // no manifest names it any more
    expect((await get(`/updates/${v1.names.appImage}`)).status).toBe(200);
    expect(readFileSync(join(server.dataDir, 'updates', 'latest-linux.yml'), 'utf8')).toContain('1.2.0');

    const list = await cli(['update', 'list', '--data-dir', server.dataDir]);
    expect(list.stdout).toMatch(/^latest-linux\.yml\t1\.2\.0\t.*\nlatest\.yml\t1\.3\.1\t/);
  });

  it('with updatesEnabled false, /updates answers 404 even for published files', async () => {
    const off = await startTestServer({ updatesEnabled: false });
    try {
      await publishUpdates(v1.dir, off.dataDir);
      expect(existsSync(join(off.dataDir, 'updates', 'latest.yml'))).toBe(true);
      for (const path of ['/updates/latest.yml', `/updates/${v1.names.exe}`]) {
        const res = await fetch(off.url + path);
        expect(res.status, path).toBe(404);
        await res.text();
      }
    } finally {
      await off.destroy();
    }
  });
});

describe('signed client updates: `portico update keygen` and `publish --sign`', () => {
  let server: TestServer;
  let publicKey: string;
  const get = (path: string) => fetch(server.url + path);
  const bytes = async (path: string) => Buffer.from(await (await get(path)).arrayBuffer());

  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.destroy());

  it('keygen writes the private key 0600 in the data directory, prints the public key, and never overwrites without --force', async () => {
    const run = await cli(['update', 'keygen', '--data-dir', server.dataDir]);
    expect(run.code, run.stderr).toBe(0);
    publicKey = run.stdout.trim().split('\n').at(-1)!;
    expect(isPublicKey(publicKey)).toBe(true);
    const keyFile = join(server.dataDir, 'update-signing.key');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(keyFile, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(run.stdout).not.toContain('PRIVATE KEY');

    const again = await cli(['update', 'keygen', '--data-dir', server.dataDir]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/exists.*--force/);
    const shown = await cli(['update', 'public-key', '--data-dir', server.dataDir]);
    expect(shown.stdout.trim()).toBe(publicKey);

    const other = tempDir('portico-keygen-');
    const first = await generateSigningKey(other);
    await expect(generateSigningKey(other)).rejects.toThrow(/exists/);
    const forced = await generateSigningKey(other, true);
    expect(forced.publicKey).not.toBe(first.publicKey);
    expect(statSync(forced.path).mode & 0o777).toBe(0o600);
  }, 90_000);

  it('publish --sign serves latest*.yml.sig over the exact manifest bytes; the client verifies them with the printed key', async () => {
    const v1 = release('2.0.0');
    const run = await cli(['update', 'publish', '--sign', v1.dir, '--data-dir', server.dataDir]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/latest\.yml\t2\.0\.0\t.*\tsigned/);
    for (const manifest of ['latest.yml', 'latest-linux.yml']) {
      const body = await bytes(`/updates/${manifest}`);
      expect(body.equals(readFileSync(join(v1.dir, manifest))), manifest).toBe(true); // published as built
      const sig = await get(`/updates/${manifest}.sig`);
      expect(sig.status, manifest).toBe(200);
      const verdict = verifyManifest(body, await sig.text(), publicKey);
      expect(verdict.ok && verdict.value, manifest).toMatchObject({ version: '2.0.0', allowDowngrade: false });
    }
    const list = await cli(['update', 'list', '--data-dir', server.dataDir]);
    expect(list.stdout).toMatch(/^latest-linux\.yml\t2\.0\.0\t.*\tsigned\nlatest\.yml\t2\.0\.0\t.*\tsigned\n$/);
  }, 90_000);

  it('--allow-downgrade is recorded inside the signed manifest, and needs --sign', async () => {
    const old = release('1.9.0');
    rmSync(join(old.dir, 'latest-linux.yml'));
    const refused = await cli(['update', 'publish', '--allow-downgrade', old.dir, '--data-dir', server.dataDir]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/--allow-downgrade needs --sign/);

    const run = await cli(['update', 'publish', '--sign', '--allow-downgrade', old.dir, '--data-dir', server.dataDir]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/latest\.yml\t1\.9\.0\t.*\tsigned\tdowngrade allowed/);
    const body = await bytes('/updates/latest.yml');
    expect(parse(body.toString()).porticoAllowDowngrade).toBe(true);
    const verdict = verifyManifest(body, await (await get('/updates/latest.yml.sig')).text(), publicKey);
    expect(verdict.ok && verdict.value).toMatchObject({ version: '1.9.0', allowDowngrade: true });
    // The Linux manifest, not republished, keeps its own signature.
    const linux = verifyManifest(await bytes('/updates/latest-linux.yml'), await (await get('/updates/latest-linux.yml.sig')).text(), publicKey);
    expect(linux.ok && linux.value.version).toBe('2.0.0');
  }, 90_000);

  it('an unsigned publish leaves no stale signature behind (clients that pin the key refuse it)', async () => {
    const v3 = release('2.1.0');
    rmSync(join(v3.dir, 'latest-linux.yml'));
    const run = await cli(['update', 'publish', v3.dir, '--data-dir', server.dataDir]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/latest\.yml\t2\.1\.0\t.*\tunsigned/);
    expect((await get('/updates/latest.yml.sig')).status).toBe(404);
    expect(verifyManifest(await bytes('/updates/latest.yml'), undefined, publicKey)).toEqual({ ok: false, reason: 'the manifest is not signed' });
    expect((await get('/updates/latest-linux.yml.sig')).status).toBe(200);
  }, 90_000);
});
