/**
 * What media cost on disk, against a real server: every provider has a storage quota (bytes of
 * its live media and games, each content counted once), and a periodic sweep deletes expired
 * items with their files, keeping any file a live item still uses.
 */
import { serverSql } from '../helpers/backend.js';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { makeZip, pseudoRandom, sample } from '../helpers/media-samples.js';
import { eventually, expectError, reply, startTestServer, type TestServer } from '../helpers/server.js';

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');


function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return (readdirSync(dir, { recursive: true }) as string[]).filter((p) => statSync(join(dir, p)).isFile()).sort();
}

async function provider(server: TestServer, name: string, channels = ['lobby']) {
  const res = await server.admin.post('/api/v1/admin/providers', { name, channels });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.key as string;
}

async function upload(server: TestServer, key: string, fields: Record<string, string>, file: { name: string; data: Buffer }) {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.set(name, value);
  form.set('file', new Blob([new Uint8Array(file.data)]), file.name);
  return reply(await fetch(`${server.url}/cgi/media`, { method: 'POST', body: form, headers: { authorization: `Bearer ${key}` } }));
}

let server: TestServer | undefined;
afterEach(async () => {
  await server?.destroy();
  server = undefined;
});
afterAll(() => server?.destroy());

describe('per-provider storage quota', () => {
  it('a push that would pass the quota is 413 quota_exceeded with used/limit, storing nothing; the same content counts once', async () => {
    const QUOTA = 20_000;
    server = await startTestServer({ mediaQuotaBytes: QUOTA, providerRequestsPerMinute: 1000 });
    const key = await provider(server, 'bigspender', ['lobby', 'screens']);
    const other = await provider(server, 'neighbour');
    const a = sample('png', 8000, 1);
    const b = sample('mp4', 8000, 2);
    const c = sample('png', 8000, 3);
    expect((await upload(server, key, { channel: 'lobby' }, { name: 'a.png', data: a })).status).toBe(201);
    // The same bytes again, even on another channel: no more disk, no more quota.
    expect((await upload(server, key, { channel: 'screens' }, { name: 'a-again.png', data: a })).status).toBe(201);
    expect((await upload(server, key, { channel: 'lobby' }, { name: 'b.mp4', data: b })).status).toBe(201);

    const mediaBefore = filesUnder(join(server.dataDir, 'media'));
    const refused = await upload(server, key, { channel: 'lobby' }, { name: 'c.png', data: c });
    expectError(refused, 413, 'quota_exceeded', 'over the quota', { strict: true });
    expect(refused.body.error.message).toMatch(/16000/); // used
    expect(refused.body.error.message).toMatch(/20000/); // limit
    expect(refused.body.error.message).toMatch(/8000/); // this file
    expect(filesUnder(join(server.dataDir, 'media'))).toEqual(mediaBefore);
    expect(filesUnder(join(server.dataDir, 'tmp'))).toEqual([]);
    const titles = (await server.admin.get('/api/v1/media')).body.items.map((i: any) => i.title);
    expect(titles).not.toContain('c.png');

    // Content it already holds still goes through; another provider has a quota of its own.
    expect((await upload(server, key, { channel: 'lobby' }, { name: 'b-again.mp4', data: b })).status).toBe(201);
    expect((await upload(server, other, { channel: 'lobby' }, { name: 'c.png', data: c })).status).toBe(201);
  });

  it('a game counts its archive and its unpacked files; a refused game leaves nothing in games or tmp', async () => {
    const unpacked = pseudoRandom(6000, 5); // stored uncompressed: the zip is a little larger than its content
    const index = '<!doctype html><title>G</title>';
    const game = await makeZip([{ name: 'index.html', data: index }, { name: 'data.bin', data: unpacked }], { compress: false });
    const gameBytes = game.length + unpacked.length + index.length;
    const picture = sample('png', 4000, 6);
    // Room for the picture plus the archive, but not plus what it unpacks to.
    const QUOTA = picture.length + game.length + 1000;
    expect(gameBytes + picture.length).toBeGreaterThan(QUOTA);
    server = await startTestServer({ mediaQuotaBytes: QUOTA });
    const key = await provider(server, 'gamer');
    expect((await upload(server, key, { channel: 'lobby' }, { name: 'p.png', data: picture })).status).toBe(201);
    const refused = await upload(server, key, { channel: 'lobby' }, { name: 'g.zip', data: game });
    expectError(refused, 413, 'quota_exceeded', 'game over the quota', { strict: true });
    expect(refused.body.error.message).toMatch(new RegExp(String(gameBytes)));
    expect(existsSync(join(server.dataDir, 'games', sha(game)))).toBe(false);
    expect(filesUnder(join(server.dataDir, 'games'))).toEqual([]);
    expect(filesUnder(join(server.dataDir, 'tmp'))).toEqual([]);
    expect(filesUnder(join(server.dataDir, 'media'))).toEqual([`${sha(picture).slice(0, 2)}/${sha(picture)}`]);
  });

  it('expired items no longer count', async () => {
    server = await startTestServer({ mediaQuotaBytes: 10_000, mediaSweepMs: 3_600_000 }); // no sweep during the test
    const key = await provider(server, 'brief');
    expect((await upload(server, key, { channel: 'lobby', expires: '1' }, { name: 'soon.png', data: sample('png', 8000, 7) })).status).toBe(201);
    expectError(await upload(server, key, { channel: 'lobby' }, { name: 'next.png', data: sample('png', 8000, 8) }), 413, 'quota_exceeded', 'while live');
    await new Promise((r) => setTimeout(r, 1100));
    const after = await upload(server, key, { channel: 'lobby' }, { name: 'next.png', data: sample('png', 8000, 8) });
    expect(after.status, JSON.stringify(after.body)).toBe(201);
  });
});

describe('deleting expired media', () => {
  it('the sweep deletes expired items and their files and unpacked games, keeping files that live items still use', async () => {
    server = await startTestServer({ mediaSweepMs: 50 });
    const key = await provider(server, 'tidy');
    const shared = sample('png', 3000, 10);
    const alone = sample('mp4', 3000, 11);
    const keep = sample('png', 3000, 12);
    const game = await makeZip([{ name: 'index.html', data: '<!doctype html><title>G</title>' }], { compress: false });
    const push = async (name: string, data: Buffer, expires?: string) => {
      const res = await upload(server!, key, { channel: 'lobby', ...(expires ? { expires } : {}) }, { name, data });
      expect(res.status, `${name}: ${JSON.stringify(res.body)}`).toBe(201);
    };
    await push('shared-expiring.png', shared, '1');
    await push('shared-live.png', shared);
    await push('alone.mp4', alone, '1');
    await push('keep.png', keep);
    await push('game.zip', game, '1');
    const { items } = (await server.admin.get('/api/v1/media')).body;
    const urlOf = (title: string) => items.find((i: any) => i.title === title).url as string;
    const [aloneUrl, gameUrl, sharedUrl] = [urlOf('alone.mp4'), urlOf('game.zip'), urlOf('shared-expiring.png')];
    expect((await fetch(server.url + aloneUrl)).status).toBe(200);
    expect((await fetch(server.url + gameUrl)).status).toBe(200);

    const media = join(server.dataDir, 'media');
    const path = (data: Buffer) => `${sha(data).slice(0, 2)}/${sha(data)}`;
    await eventually(() => !filesUnder(media).includes(path(alone)), 10_000, 'the expired video to be deleted');
    await eventually(() => !existsSync(join(server!.dataDir, 'games', sha(game))), 10_000, 'the expired game to be deleted');
    expect(filesUnder(media)).toEqual([path(shared), path(keep)].sort());
    expect(readdirSync(join(server.dataDir, 'games'))).toEqual([]);

    const db = await serverSql(server);
    try {
      const titles = (await db.all("SELECT body FROM items WHERE kind = 'media' ORDER BY id")).map((r) => JSON.parse(r.body).title);
      expect(titles).toEqual(['shared-live.png', 'keep.png']);
      expect((await db.all('SELECT sha256 FROM media_files ORDER BY sha256')).map((r) => r.sha256)).toEqual([sha(shared), sha(keep)].sort());
    } finally {
      await db.close();
    }
    expect((await fetch(server.url + aloneUrl)).status).toBe(404);
    expect((await fetch(server.url + gameUrl)).status).toBe(404);
    expect((await fetch(server.url + sharedUrl)).status).toBe(200); // the live item's file
    expect((await server.admin.get('/api/v1/media')).body.items.map((i: any) => i.title).sort()).toEqual(['keep.png', 'shared-live.png']);
  });

  it('files no live item refers to (left from before, or a crash mid-push) are deleted too', async () => {
    server = await startTestServer({ mediaSweepMs: 50 });
    const key = await provider(server, 'tidy');
    const live = sample('png', 2000, 20);
    expect((await upload(server, key, { channel: 'lobby' }, { name: 'live.png', data: live })).status).toBe(201);
    const stray = sha(Buffer.from('stray'));
    mkdirSync(join(server.dataDir, 'media', stray.slice(0, 2)), { recursive: true });
    writeFileSync(join(server.dataDir, 'media', stray.slice(0, 2), stray), 'left over');
    mkdirSync(join(server.dataDir, 'games', stray), { recursive: true });
    writeFileSync(join(server.dataDir, 'games', stray, 'index.html'), 'left over');
    await eventually(() => !existsSync(join(server!.dataDir, 'games', stray)), 10_000, 'the stray game to be deleted');
    await eventually(() => filesUnder(join(server!.dataDir, 'media')).length === 1, 10_000, 'the stray file to be deleted');
    expect(filesUnder(join(server.dataDir, 'media'))).toEqual([`${sha(live).slice(0, 2)}/${sha(live)}`]);
  });
});
