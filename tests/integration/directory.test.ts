/**
 * Company directory (issue 21) against a real OpenLDAP (tests/helpers/slapd.ts): sign-in by bind
 * over StartTLS, accounts made with the directory's display name, wrong passwords counted like
 * local ones, filter injection, `portico directory sync` (dry run, disabling, groups becoming
 * Portico groups), the server's own periodic sync, and a directory that cannot be reached.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Attribute, Change } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Directory, DirectoryUnavailable, userFilter } from '../../server/src/directory/ldap.js';
import { ServerConfig, type ServerConfigInput } from '../../server/src/config.js';
import { describe as describeChange } from '../../server/src/directory/rules.js';
import { DirectorySync } from '../../server/src/directory/sync.js';
import { SqliteStore } from '../../server/src/store/sqlite.js';
import { topicOf } from '../../shared/index.js';
import { cliEnvFor } from '../helpers/backend.js';
import { cleanEnv, runCli, tempDir } from '../helpers/cli.js';

/** A CLI's environment, with the test server's database if it runs on PostgreSQL. */
const cliEnvWithDb = (env: Record<string, string>) => cleanEnv(cliEnvFor([], env));
import { ADMIN_PASSWORD, Client, eventually, expectError, login, PASSWORD, startTestServer, type TestServer } from '../helpers/server.js';
import { GROUPS_DN, HAVE_SLAPD, PEOPLE_DN, SERVICE_DN, SERVICE_PASSWORD, passwordOf, startSlapd, type Slapd } from '../helpers/slapd.js';
import { freePort } from '../helpers/squid.js';

const lock = (uid: string) =>
  new Change({ operation: 'add', modification: new Attribute({ type: 'pwdAccountLockedTime', values: ['000001010000Z'] }) });
const unlock = () => new Change({ operation: 'delete', modification: new Attribute({ type: 'pwdAccountLockedTime' }) });

describe.skipIf(!HAVE_SLAPD)('company directory (LDAP)', { timeout: 180_000 }, () => {
  let slapd: Slapd;
  let server: TestServer;
  let settings: Partial<ServerConfigInput>;
  /** The environment a `portico` command needs for this directory and data directory. */
  let env: Record<string, string>;

  beforeAll(async () => {
    slapd = await startSlapd();
    const secrets = tempDir('portico-ldap-secret-');
    const passwordFile = join(secrets, 'bind-password');
    writeFileSync(passwordFile, `${SERVICE_PASSWORD}\n`, { mode: 0o600 });
    settings = {
      ldapUrl: slapd.url, // ldap:// on loopback: StartTLS, trusting the test CA
      ldapCaFile: slapd.caFile,
      ldapBindDn: SERVICE_DN,
      ldapBindPasswordFile: passwordFile,
      ldapUserBase: PEOPLE_DN,
      ldapGroupBase: GROUPS_DN,
      ldapGroupFilter: '(objectClass=groupOfNames)',
      ldapSyncMinutes: 0,
      loginFailuresPerUser: 3,
      loginPerIpPerMinute: 1000,
    };
    server = await startTestServer(settings);
    env = {
      PORTICO_DATA_DIR: server.dataDir,
      PORTICO_LDAP_URL: slapd.url,
      PORTICO_LDAP_CA_FILE: slapd.caFile,
      PORTICO_LDAP_BIND_DN: SERVICE_DN,
      PORTICO_LDAP_BIND_PASSWORD_FILE: passwordFile,
      PORTICO_LDAP_USER_BASE: PEOPLE_DN,
      PORTICO_LDAP_GROUP_BASE: GROUPS_DN,
      PORTICO_LDAP_GROUP_FILTER: '(objectClass=groupOfNames)',
    };
  }, 120_000);

  afterAll(async () => {
    await server?.destroy();
    await slapd?.stop();
  });

  const users = async () => (await server.admin.get('/api/v1/admin/users')).body.users as any[];
  const sync = (...args: string[]) => runCli(['directory', 'sync', ...args], { env: cliEnvWithDb(env) });

  it('signs a directory user in by bind and makes their account, named from displayName (else cn)', async () => {
    const alice = await login(server, 'alice', passwordOf('alice'));
    expect(alice.status).toBe(200);
    expect(alice.body.user).toMatchObject({ username: 'alice', displayName: 'Alice Archer' });
    const bob = await login(server, 'bob', passwordOf('bob'));
    expect(bob.body.user).toMatchObject({ username: 'bob', displayName: 'Bob Builder' });
    const list = await users();
    expect(list.find((u) => u.username === 'alice')).toMatchObject({ source: 'directory', disabled: false, isAdmin: false });
    expect(list.find((u) => u.username === 'admin')).toMatchObject({ source: 'local' });
    // Signing in again finds the same account.
    const again = await login(server, 'alice', passwordOf('alice'));
    expect(again.body.user.id).toBe(alice.body.user.id);
  });

  it('answers a wrong password with the same 401, counted toward the same limits', async () => {
    for (let i = 0; i < 3; i++) expectError(await login(server, 'carol', 'not her password'), 401, 'invalid_credentials', `try ${i}`);
    // The fourth attempt from this address is refused before the directory is asked, even with the right password.
    expectError(await login(server, 'carol', passwordOf('carol')), 429, 'rate_limited');
    expectError(await login(server, 'nobody', 'whatever password'), 401, 'invalid_credentials');
    expect((await users()).some((u) => u.username === 'nobody')).toBe(false);
  });

  it('refuses LDAP filter injection in the user ID', async () => {
    for (const username of ['*)(uid=*', '*', 'alice)(uid=*', 'al*', '*)(|(uid=*', 'alice\\', 'alice\u0000']) {
      expectError(await login(server, username, passwordOf('alice')), 401, 'invalid_credentials', username);
    }
    // Below the ID check too: the typed ID is escaped (RFC 4515) and matches nobody in the real directory.
    expect(userFilter('(&(objectClass=person)(uid={username}))', '*)(uid=*')).toBe('(&(objectClass=person)(uid=\\2a\\29\\28uid=\\2a))');
    const directory = Directory.from(ServerConfig.parse({ ...settings, dataDir: server.dataDir }))!;
    for (const username of ['*', '*)(uid=*', 'al*', 'alice)(objectClass=*']) expect(await directory.authenticate(username, passwordOf('alice')), username).toBeUndefined();
    expect(await directory.authenticate('alice', passwordOf('alice'))).toMatchObject({ username: 'alice' });
    expect(await directory.authenticate('alice', '')).toBeUndefined();
  });

  it('refuses a user the directory disabled', async () => {
    expectError(await login(server, 'dave', passwordOf('dave')), 401, 'invalid_credentials');
  });

  it('does not set a directory user’s password in Portico', async () => {
    const res = await server.admin.put('/api/v1/admin/users/alice/password', { password: 'a new password' });
    expectError(res, 409, 'managed_by_directory');
    expect(res.body.error.message).toMatch(/directory/);
    const cli = await runCli(['user', 'passwd', 'alice', '--password', 'a new password'], { env: cliEnvWithDb({ PORTICO_DATA_DIR: server.dataDir }) });
    expect(cli.code).toBe(1);
    expect(cli.stderr).toMatch(/kept by the company directory/);
    expect((await login(server, 'alice', passwordOf('alice'))).status).toBe(200);
  });

  it('dry run prints the plan and changes nothing', async () => {
    const before = { users: await users(), groups: (await server.admin.get('/api/v1/admin/groups')).body.groups };
    const run = await sync('--dry-run');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('would create user carol (Carol Cook)');
    expect(run.stdout).toContain('would create group sales (sales)');
    expect(run.stdout).toContain('would add alice to group sales');
    expect(run.stdout).toContain('would add bob to group sales');
    expect(run.stdout).not.toContain('dave');
    expect(run.stdout).not.toContain('ignored');
    expect(run.stdout).toMatch(/changes planned \(dry run: nothing changed\)/);
    expect(await users()).toEqual(before.users);
    expect((await server.admin.get('/api/v1/admin/groups')).body.groups).toEqual(before.groups);
  });

  it('sync makes directory groups Portico groups: members see each other, open panels are told', async () => {
    const alice = await Client.login(server.url, 'alice', passwordOf('alice'));
    await alice.poll(0); // a cursor: what comes after is what the sync did
    const run = await sync();
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('create group sales');
    expect(run.stdout).toContain('create user carol (Carol Cook)');
    await alice.waitFor('contacts.changed');
    const groups = (await server.admin.get('/api/v1/admin/groups')).body.groups as any[];
    expect(groups.find((g) => g.name === 'sales')).toMatchObject({ displayName: 'sales', members: ['alice', 'bob'] }); // not dave: disabled
    expect(groups.find((g) => g.name === 'engineering')).toMatchObject({ members: ['carol'] });
    expect(groups.some((g) => g.name === 'ignored')).toBe(false);
    const contacts = (await alice.get('/api/v1/contacts')).body.contacts as any[];
    expect(contacts.map((c) => c.username)).toEqual(['bob']);
    expect(contacts[0]).toMatchObject({ displayName: 'Bob Builder', groups: ['sales'] });
    // Idempotent: a second run has nothing to do.
    const second = await sync();
    expect(second.stdout).toContain('nothing to change');
    // user list says where each account comes from.
    const listed = await runCli(['user', 'list'], { env: cliEnvWithDb({ PORTICO_DATA_DIR: server.dataDir }) });
    expect(listed.stdout.split('\n')).toContain('alice\tAlice Archer\t(directory)');
    expect(listed.stdout.split('\n')).toContain('admin\tAdministrator\t(admin)');
  });

  it('a user disabled in the directory loses their sessions and cannot sign in after a sync', async () => {
    const bob = await Client.login(server.url, 'bob', passwordOf('bob'));
    expect((await bob.get('/api/v1/me')).status).toBe(200);
    await slapd.admin((c) => c.modify(`uid=bob,${PEOPLE_DN}`, lock('bob')));
    const run = await sync();
    expect(run.stdout).toContain('disable user bob (sessions end)');
    expect(run.stdout).toContain('remove bob from group sales');
    expectError(await bob.get('/api/v1/me'), 401, 'unauthorized');
    expectError(await login(server, 'bob', passwordOf('bob')), 401, 'invalid_credentials');
    expect((await users()).find((u) => u.username === 'bob')).toMatchObject({ disabled: true, source: 'directory' });
    const listed = await runCli(['user', 'list'], { env: cliEnvWithDb({ PORTICO_DATA_DIR: server.dataDir }) });
    expect(listed.stdout.split('\n')).toContain('bob\tBob Builder\t(directory, disabled)');
    // Enabled again in the directory: signing in works again.
    await slapd.admin((c) => c.modify(`uid=bob,${PEOPLE_DN}`, unlock()));
    expect((await login(server, 'bob', passwordOf('bob'))).status).toBe(200);
  });

  it('the server syncs by itself every PORTICO_LDAP_SYNC_MINUTES', async () => {
    const own = await startTestServer({ ...settings, ldapSyncMinutes: 0.01 }); // 0.6 s
    try {
      const carol = await Client.login(own.url, 'carol', passwordOf('carol'));
      await eventually(async () => (await own.admin.get('/api/v1/admin/groups')).body.groups.some((g: any) => g.name === 'engineering'), 10_000, 'groups synced');
      await slapd.admin((c) => c.modify(`uid=carol,${PEOPLE_DN}`, lock('carol')));
      await eventually(async () => (await carol.get('/api/v1/me')).status === 401, 10_000, 'carol signed out');
      expect((await own.admin.get('/api/v1/admin/groups')).body.groups.find((g: any) => g.name === 'engineering').members).toEqual([]);
    } finally {
      await slapd.admin((c) => c.modify(`uid=carol,${PEOPLE_DN}`, unlock()));
      await own.destroy();
    }
  });

  it('a directory that cannot be reached: 503 directory_unavailable, local accounts still sign in', async () => {
    const down = await startTestServer({ ...settings, ldapUrl: `ldap://127.0.0.1:${await freePort()}`, ldapTimeoutMs: 1000 });
    try {
      expectError(await login(down, 'alice', passwordOf('alice')), 503, 'directory_unavailable');
      expect((await login(down, 'admin', ADMIN_PASSWORD)).status).toBe(200);
      await down.user('localperson');
      expect((await login(down, 'localperson', PASSWORD)).status).toBe(200);
      const run = await runCli(['directory', 'sync'], { env: cliEnvWithDb({ ...env, PORTICO_DATA_DIR: down.dataDir, PORTICO_LDAP_URL: `ldap://127.0.0.1:${await freePort()}`, PORTICO_LDAP_TIMEOUT_MS: '1000' }) });
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/directory cannot be reached/);
    } finally {
      await down.destroy();
    }
  });

  it('two nodes syncing at once reach the same state, and each change is told once (idempotent, no lease)', async () => {
    const dir = tempDir('portico-two-nodes-');
    const nodes = [new SqliteStore(join(dir, 'portico.db')), new SqliteStore(join(dir, 'portico.db'))];
    try {
      const directory = Directory.from(ServerConfig.parse({ ...settings, dataDir: dir }))!;
      const hooks = { subscriptionsChanged() {}, userRemoved() {} };
      const [a, b] = await Promise.all(nodes.map((store) => new DirectorySync(store, directory, hooks).run()));
      const made = [...a!.changes, ...b!.changes].map(describeChange).sort();
      // Every change made by exactly one of the two nodes.
      expect(made).toEqual([...new Set(made)]);
      expect(made).toEqual(expect.arrayContaining(['create user alice (Alice Archer)', 'create group sales (sales)', 'add alice to group sales', 'add carol to group engineering']));
      const groups = await nodes[0]!.listGroups();
      expect(groups.map((g) => [g.name, g.members, g.source])).toEqual([['engineering', ['carol'], 'directory'], ['sales', ['alice', 'bob'], 'directory']]);
      const alice = (await nodes[0]!.userByName('alice'))!;
      // The log hands out what this store has published: the other node's commits once it has looked.
      await nodes[0]!.syncExternal();
      const told = await nodes[0]!.readEvents([topicOf.user(alice.id)], 0, 100);
      expect(told.filter((e) => JSON.parse(e.json).type === 'contacts.changed').length).toBe(2); // alice joined, then bob: once each, not once per node
      expect((await new DirectorySync(nodes[1]!, directory, hooks).run()).changes).toEqual([]);
    } finally {
      for (const store of nodes) await store.close();
    }
  });

  it('TLS: ldaps:// with PORTICO_LDAP_CA_FILE works; a certificate not trusted is unavailable, never plain', async () => {
    const base = ServerConfig.parse({ ...settings, dataDir: server.dataDir });
    const ldaps = Directory.from({ ...base, ldapUrl: slapd.ldapsUrl })!;
    expect(await ldaps.authenticate('alice', passwordOf('alice'))).toMatchObject({ displayName: 'Alice Archer' });
    const untrusted = Directory.from({ ...base, ldapCaFile: undefined })!; // StartTLS against the system's CAs
    await expect(untrusted.authenticate('alice', passwordOf('alice'))).rejects.toBeInstanceOf(DirectoryUnavailable);
    const plain = Directory.from({ ...base, ldapCaFile: undefined, ldapAllowPlain: true })!; // only when allowed
    expect(await plain.authenticate('alice', passwordOf('alice'))).toMatchObject({ username: 'alice' });
  });
});
