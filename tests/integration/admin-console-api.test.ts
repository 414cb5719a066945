/**
 * The three admin API calls the admin console needs that only the CLI had: a provider's channels
 * replaced (`provider set --channels`), a terminal forgotten (`terminal remove`), the published
 * updates listed (`update list`). Admins only; bad input is a 4xx.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishUpdates } from '../../server/src/updates/publish.js';
import { Client, PASSWORD, startTestServer, type Client as C, type TestServer } from '../helpers/server.js';

describe('admin API for the console', () => {
  let server: TestServer;
  let alice: C;
  beforeAll(async () => {
    server = await startTestServer();
    alice = await server.user('ac-alice');
  });
  afterAll(() => server.destroy());

  it("replaces a provider's channels and keeps its key", async () => {
    const made = await server.admin.post('/api/v1/admin/providers', { name: 'ac-news', channels: ['general'] });
    expect(made.status).toBe(201);
    const set = await server.admin.put('/api/v1/admin/providers/ac-news/channels', { channels: ['sales', 'General'] });
    expect(set.status).toBe(200);
    expect(set.body.provider.channels).toEqual(['general', 'sales']);
    // The old key pushes to the new channel.
    const push = await fetch(`${server.url}/cgi/ticker`, {
      method: 'POST',
      headers: { authorization: `Bearer ${made.body.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ channel: 'sales', text: 'Q4 closed' }),
    });
    expect(push.status).toBe(201);
    expect((await server.admin.put('/api/v1/admin/providers/ac-none/channels', { channels: ['x'] })).status).toBe(404);
    const empty = await server.admin.put('/api/v1/admin/providers/ac-news/channels', { channels: [] });
    expect(empty.status).toBe(400);
    expect(empty.body.error.code).toBe('invalid_request');
    expect((await alice.put('/api/v1/admin/providers/ac-news/channels', { channels: ['x'] })).status).toBe(403);
  });

  it('forgets a terminal, which frees its seat', async () => {
    const installId = randomUUID();
    const login = await new Client(server.url).post('/api/v1/login', {
      username: 'ac-alice',
      password: PASSWORD,
      client: { installId, version: '1.2.3', platform: 'win32' },
    });
    expect(login.status).toBe(200);
    const listed = async () => (await server.admin.get('/api/v1/admin/terminals')).body.terminals.map((t: any) => t.installId);
    expect(await listed()).toContain(installId);
    expect((await alice.delete(`/api/v1/admin/terminals/${installId}`)).status).toBe(403);
    expect((await server.admin.delete(`/api/v1/admin/terminals/${installId}`)).status).toBe(200);
    expect(await listed()).not.toContain(installId);
    expect((await server.admin.delete(`/api/v1/admin/terminals/${installId}`)).status).toBe(404);
    expect((await server.admin.delete('/api/v1/admin/terminals/not-a-uuid')).status).toBe(400);
  });

  it('lists the published updates as `portico update list` does', async () => {
    expect((await server.admin.get('/api/v1/admin/updates')).body).toEqual({ updates: [], enabled: true });
    const dir = mkdtempSync(join(tmpdir(), 'portico-ac-updates-'));
    try {
      const name = 'Portico-3.1.0-linux-x86_64.AppImage';
      writeFileSync(join(dir, name), 'an installer');
      const sha512 = createHash('sha512').update('an installer').digest('base64');
      writeFileSync(join(dir, 'latest-linux.yml'), `version: 3.1.0\nfiles:\n  - url: ${name}\n    sha512: ${sha512}\n    size: 12\npath: ${name}\nsha512: ${sha512}\n`);
      await publishUpdates(dir, server.dataDir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const res = await server.admin.get('/api/v1/admin/updates');
    expect(res.status).toBe(200);
    expect(res.body.updates).toEqual([expect.objectContaining({ manifest: 'latest-linux.yml', version: '3.1.0', signature: 'none' })]);
    expect(res.body.updates[0].files).toContain('Portico-3.1.0-linux-x86_64.AppImage');
    expect((await alice.get('/api/v1/admin/updates')).status).toBe(403);
  });
});
