/**
 * `contacts.changed`: an open panel learns at once that its contact list changed, whoever changed
 * it (the admin API, group membership, the user's own contacts routes, the CLI on the data
 * directory of the running server), and reloads the list; before, only a reload showed it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEnvFor } from '../helpers/backend.js';
import { runCli, tempDir } from '../helpers/cli.js';
import { Client, startTestServer, type TestServer } from '../helpers/server.js';

describe('contacts.changed', { timeout: 120_000 }, () => {
  let server: TestServer;
  let ann: Client;
  let ben: Client;
  let cat: Client;

  beforeAll(async () => {
    server = await startTestServer();
    [ann, ben, cat] = await Promise.all([server.user('cc-ann'), server.user('cc-ben'), server.user('cc-cat')]);
    await Promise.all([ann.poll(), ben.poll(), cat.poll()]); // cursors at now
  });
  afterAll(() => server?.destroy());

  const contactsOf = async (client: Client) => (await client.get('/api/v1/contacts')).body.contacts.map((c: { username: string }) => c.username);

  /** Starts the client's (held) polling for the event, runs the change, and waits for the event. */
  async function seen(clients: Client[], change: () => Promise<unknown>, timeoutMs = 10_000) {
    const waiting = clients.map((c) => c.waitFor('contacts.changed', () => true, timeoutMs));
    await new Promise((r) => setTimeout(r, 100)); // the polls are held
    await change();
    return Promise.all(waiting);
  }

  it('reaches the open client when the admin adds or removes a contact', async () => {
    const [event] = await seen([ann], async () => expect((await server.admin.put('/api/v1/admin/users/cc-ann/contacts/cc-ben')).status).toBe(200));
    expect(Object.keys(event).sort()).toEqual(['at', 'cursor', 'type']);
    expect(await contactsOf(ann)).toEqual(['cc-ben']);
    await seen([ann], async () => expect((await server.admin.delete('/api/v1/admin/users/cc-ann/contacts/cc-ben')).status).toBe(200));
    expect(await contactsOf(ann)).toEqual([]);
  });

  it('reaches every member when the admin adds or removes a group member', async () => {
    expect((await server.admin.post('/api/v1/admin/groups', { name: 'cc-team' })).status).toBe(201);
    await seen([ben], () => server.admin.put('/api/v1/admin/groups/cc-team/members/cc-ben'));
    await seen([ben, cat], async () => expect((await server.admin.put('/api/v1/admin/groups/cc-team/members/cc-cat')).status).toBeLessThan(300));
    expect(await contactsOf(ben)).toEqual(['cc-cat']);
    await seen([ben, cat], async () => expect((await server.admin.delete('/api/v1/admin/groups/cc-team/members/cc-cat')).status).toBe(200));
    expect(await contactsOf(ben)).toEqual([]);
    await seen([ben], async () => expect((await server.admin.delete('/api/v1/admin/groups/cc-team')).status).toBe(200));
  });

  it("reaches the user's other sessions when they change their own contacts", async () => {
    const desk = await Client.login(server.url, 'cc-cat', 'correct horse battery');
    await desk.poll();
    await seen([desk], async () => expect((await cat.put('/api/v1/contacts/cc-ann')).status).toBe(201));
    expect(await contactsOf(desk)).toEqual(['cc-ann']);
    await seen([desk], async () => expect((await cat.delete('/api/v1/contacts/cc-ann')).status).toBe(200));
  });

  it('reaches the open client when the CLI changes the contacts on the running server’s data directory', async () => {
    await seen([ann], async () => {
      const run = await runCli(['contact', 'add', 'cc-ann', 'cc-cat', '-d', server.dataDir], { cwd: tempDir('portico-cc-'), timeoutMs: 60_000, env: cliEnvFor(['-d', server.dataDir]) });
      expect(run.code, run.stderr).toBe(0);
    }, 90_000); // a CLI process takes seconds to start on a busy machine
    expect(await contactsOf(ann)).toEqual(['cc-cat']);
  });
});
