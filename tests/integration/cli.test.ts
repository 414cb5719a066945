/**
 * The `portico` command line, run for real as child processes (node with tsx's loader on
 * server/src/main.ts, which is what the tsx binary and bin/portico.js do), against the data
 * directory of a test server that is running at the same time. Every child runs in a scratch
 * working directory, so a data-dir option that is not honoured cannot litter the repository with
 * ./data; every child is killed at the end whatever happens.
 */
import Database from 'better-sqlite3';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { cliEnvFor } from '../helpers/backend.js';
import { ROOT, runCli, spawnCli, tempDir } from '../helpers/cli.js';
import { Client, PASSWORD, eventually, login, startTestServer, type TestServer } from '../helpers/server.js';

let workDir: string;

/** Runs a CLI command to its end in the file's working directory (60 s at most). */
const cli = (args: string[], env: Record<string, string> = {}) => runCli(args, { env: cliEnvFor(args, env), cwd: workDir, timeoutMs: 60_000 });

/** `portico start` until its banner is out; answers the child and the banner. */
function startCli(args: string[], env: Record<string, string>, cwd = workDir) {
  const child = spawnCli(['start', ...args], { env: { PORTICO_PORT: '0', PORTICO_LOG_LEVEL: 'warn', ...cliEnvFor(args, env) }, cwd });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const banner = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no banner within 60 s:\n${stdout}\n${stderr}`)), 60_000);
    child.stdout!.on('data', () => {
      if (stdout.includes('Stop with Ctrl+C')) {
        clearTimeout(timer);
        resolve(stdout);
      }
    });
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before its banner:\n${stdout}\n${stderr}`));
    });
  });
  /** SIGTERM, and the exit code (SIGKILL after 5 s). */
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
    const code = await exited;
    clearTimeout(killer);
    return code;
  };
  return { child, banner, stop, output: () => ({ stdout, stderr }) };
}

const lines = (text: string) => text.split('\n').filter((l) => l.length > 0);


const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
/** A README section: from its heading to the next heading of the same level. */
function readmeSection(heading: string) {
  const start = README.indexOf(`\n${heading}`);
  if (start < 0) throw new Error(`README.md has no "${heading}"`);
  const next = README.indexOf('\n## ', start + heading.length + 1);
  return README.slice(start, next < 0 ? undefined : next);
}
/** The `npm run admin -- ...` lines of a README section's first sh block, split as sh would (quotes, comments). */
function readmeCommands(heading: string): string[][] {
  const block = /```sh\n([\s\S]*?)```/.exec(readmeSection(heading))![1]!;
  return block
    .split('\n')
    .filter((l) => l.startsWith('npm run admin -- '))
    .map((l) => {
      const words: string[] = [];
      for (const m of l.slice('npm run admin -- '.length).matchAll(/'([^']*)'|"([^"]*)"|(#.*)|(\S+)/g)) {
        if (m[3] !== undefined) break;
        words.push(m[1] ?? m[2] ?? m[4]!);
      }
      return words;
    });
}

beforeAll(() => {
  workDir = tempDir('portico-cli-cwd-');
});

describe.concurrent('portico CLI', () => {
// Each command is a fresh Node process that loads TypeScript: slow on 2 busy cores, so a generous limit.
describe('user/contact/group on the data directory of a running server', { timeout: 120_000 }, () => {
  let server: TestServer;
  let dir: string;
  beforeAll(async () => {
    server = await startTestServer();
    dir = server.dataDir;
  });
  afterAll(() => server?.destroy());

  it('user add without --password prints a generated one, which logs in to the running server', async ({ expect }) => {
    const run = await cli(['user', 'add', 'cli-gen', '--data-dir', dir]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const [created, pw, ...rest] = lines(run.stdout);
    expect(created).toBe('created user cli-gen (cli-gen)');
    expect(rest).toEqual([]);
    const password = /^password: (\S+)$/.exec(pw ?? '')?.[1];
    expect(password, run.stdout).toBeDefined();
    expect(password!.length).toBeGreaterThanOrEqual(8);

    const res = await login(server, 'cli-gen', password!);
    expect(res.status).toBe(200);
    expect(res.body.user).toEqual({ id: expect.any(Number), username: 'cli-gen', displayName: 'cli-gen' });
    expect((await login(server, 'cli-gen', PASSWORD)).status).toBe(401);
  });

  it('user add with --password, --name and --admin (data dir by flag or by PORTICO_DATA_DIR)', async ({ expect }) => {
    const [named, boss] = await Promise.all([
      cli(['user', 'add', 'cli-named', '--name', 'Named Person', '--password', 'given password 1'], { PORTICO_DATA_DIR: dir }),
      cli(['user', 'add', 'cli-boss', '--admin', '--password', 'boss password 1', '-d', dir]),
    ]);
    expect(named).toEqual({ code: 0, stdout: 'created user cli-named (Named Person)\n', stderr: '' });
    expect(boss).toEqual({ code: 0, stdout: 'created administrator cli-boss (cli-boss)\n', stderr: '' });

    expect((await login(server, 'cli-named', 'given password 1')).status).toBe(200);
    const bossClient = await Client.login(server.url, 'cli-boss', 'boss password 1');
    const users = (await bossClient.get('/api/v1/admin/users')).body.users;
    expect(users.find((u: any) => u.username === 'cli-named')).toMatchObject({ displayName: 'Named Person', isAdmin: false });
    expect(users.find((u: any) => u.username === 'cli-boss')).toMatchObject({ isAdmin: true });
  });

  it('user list prints every user, by user ID, with display name and admin mark', async ({ expect }) => {
    expect((await server.admin.post('/api/v1/admin/users', { username: 'cli-listed', password: PASSWORD, displayName: 'Listed Person' })).status).toBe(201);
    const run = await cli(['user', 'list', '--data-dir', dir]);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    const out = lines(run.stdout);
    expect(out).toContain('admin\tAdministrator\t(admin)');
    expect(out).toContain('cli-listed\tListed Person');
    const names = out.map((l) => l.split('\t')[0]!);
    expect(names).toEqual([...names].sort());
    const onServer = (await server.admin.get('/api/v1/admin/users')).body.users.map((u: any) => u.username);
    for (const name of names) expect(onServer).toContain(name);
  });

  it('user passwd sets (or generates) a new password and ends the sessions on the running server', async ({ expect }) => {
    const bob = await server.user('cli-pw');
    expect((await bob.get('/api/v1/me')).status).toBe(200);

    const set = await cli(['user', 'passwd', 'cli-pw', '--password', 'new password 12', '-d', dir]);
    expect(set).toEqual({ code: 0, stdout: 'password of cli-pw reset\n', stderr: '' });
    expect((await bob.get('/api/v1/me')).status).toBe(401);
    expect((await login(server, 'cli-pw', PASSWORD)).status).toBe(401);
    expect((await login(server, 'cli-pw', 'new password 12')).status).toBe(200);

    const generated = await cli(['user', 'passwd', 'cli-pw', '-d', dir]);
    expect(generated.code).toBe(0);
    const [head, pw] = lines(generated.stdout);
    expect(head).toBe('password of cli-pw reset');
    const password = /^password: (\S{8,})$/.exec(pw ?? '')?.[1];
    expect(password, generated.stdout).toBeDefined();
    expect((await login(server, 'cli-pw', 'new password 12')).status).toBe(401);
    expect((await login(server, 'cli-pw', password!)).status).toBe(200);
  });

  it('user remove: their token dies on the running server, their chat partner sees them leave, history stays', async ({ expect }) => {
    const alice = await server.user('cli-rm-alice');
    const gone = await server.user('cli-rm-gone');
    await alice.poll();
    const chat = (await alice.post('/api/v1/chats', { invitees: ['cli-rm-gone'] })).body.chat;
    expect((await gone.post(`/api/v1/chats/${chat.id}/accept`)).status).toBe(200);
    expect((await gone.put(`/api/v1/chats/${chat.id}/messages/g1`, { text: 'bye all' })).status).toBe(201);
    await alice.waitFor('chat.message');

    const run = await cli(['user', 'remove', 'cli-rm-gone', '-d', dir]);
    expect(run).toEqual({ code: 0, stdout: 'removed cli-rm-gone\n', stderr: '' });

    expect((await gone.get('/api/v1/me')).status).toBe(401);
    expect((await login(server, 'cli-rm-gone', PASSWORD)).status).toBe(401);
    const left = await alice.waitFor('chat.left');
    expect(left.username).toBe('cli-rm-gone');
    expect(left.chat.id).toBe(chat.id);
    const history = (await alice.get(`/api/v1/chats/${chat.id}/messages`)).body.messages;
    expect(history.map((m: any) => [m.from, m.text])).toEqual([['cli-rm-gone', 'bye all']]);
  });

  it('contact add/list/remove change what the running server shows and streams', async ({ expect }) => {
    const ca = await server.user('cli-ca');
    const cb = await server.user('cli-cb', 'Contact Bee');
    await server.user('cli-cc');
    await ca.poll(); // ca's subscriptions are now cached by the server

    const added = await cli(['contact', 'add', 'cli-ca', 'cli-cb', 'cli-cc', '-d', dir]);
    expect(added).toEqual({ code: 0, stdout: 'cli-ca now has cli-cb as a contact\ncli-ca now has cli-cc as a contact\n', stderr: '' });
    // Ordered by display name: "cli-cc" before "Contact Bee".
    expect((await ca.get('/api/v1/contacts')).body.contacts.map((c: any) => [c.username, c.personal])).toEqual([
      ['cli-cc', true],
      ['cli-cb', true],
    ]);
    // The server noticed the change made by another process: cb's presence reaches ca.
    await cb.poll(0);
    expect((await ca.waitFor('presence', (e) => e.username === 'cli-cb')).state).toBe('available');

    const listed = await cli(['contact', 'list', 'cli-ca', '-d', dir]);
    expect(listed.code).toBe(0);
    expect(lines(listed.stdout)).toEqual(['cli-cc\tcli-cc\tpersonal', 'cli-cb\tContact Bee\tpersonal']);

    const removed = await cli(['contact', 'remove', 'cli-ca', 'cli-cb', '-d', dir]);
    expect(removed).toEqual({ code: 0, stdout: "cli-cb removed from cli-ca's contacts\n", stderr: '' });
    expect((await ca.get('/api/v1/contacts')).body.contacts.map((c: any) => c.username)).toEqual(['cli-cc']);
  });

  it('group create/add/list/remove/delete change who sees whom on the running server', async ({ expect }) => {
    const ga = await server.user('cli-ga');
    const gb = await server.user('cli-gb');

    expect(await cli(['group', 'create', 'cli-team', '--name', 'CLI Team', '-d', dir])).toEqual({ code: 0, stdout: 'created group cli-team\n', stderr: '' });
    expect(await cli(['group', 'add', 'cli-team', 'cli-ga', 'cli-gb', '-d', dir])).toEqual({
      code: 0,
      stdout: 'group cli-team: cli-ga, cli-gb\n',
      stderr: '',
    });
    expect((await ga.get('/api/v1/contacts')).body.contacts).toEqual([
      { username: 'cli-gb', displayName: 'cli-gb', presence: 'offline', personal: false, groups: ['cli-team'] },
    ]);
    expect((await gb.get('/api/v1/contacts')).body.contacts.map((c: any) => c.username)).toEqual(['cli-ga']);
    expect((await server.admin.get('/api/v1/admin/groups')).body.groups).toContainEqual({
      name: 'cli-team',
      displayName: 'CLI Team',
      members: ['cli-ga', 'cli-gb'],
    });

    const listed = await cli(['group', 'list', '-d', dir]);
    expect(listed.code).toBe(0);
    expect(lines(listed.stdout)).toContain('cli-team\tCLI Team\tcli-ga, cli-gb');

    expect(await cli(['group', 'remove', 'cli-team', 'cli-gb', '-d', dir])).toEqual({ code: 0, stdout: 'group cli-team: cli-ga\n', stderr: '' });
    expect((await ga.get('/api/v1/contacts')).body.contacts).toEqual([]);

    expect(await cli(['group', 'delete', 'cli-team', '-d', dir])).toEqual({ code: 0, stdout: 'removed group cli-team\n', stderr: '' });
    expect((await server.admin.get('/api/v1/admin/groups')).body.groups.map((g: any) => g.name)).not.toContain('cli-team');
  });

  it('provider add/list/rotate/remove and channel set work against the running server', async ({ expect }) => {
    const added = await cli(['provider', 'add', 'cli-meteo', '--channels', 'cli-weather,cli-rain', '-d', dir]);
    expect(added.code).toBe(0);
    expect(lines(added.stdout)[0]).toBe('created provider cli-meteo for channels cli-rain, cli-weather');
    const key = /^key: (pk_\S+)$/m.exec(added.stdout)![1]!;
    const pushWith = (k: string) =>
      fetch(`${server.url}/cgi/ticker`, { method: 'POST', body: new URLSearchParams({ key: k, channel: 'cli-weather', text: 'from the CLI key' }) });
    expect((await pushWith(key)).status).toBe(201);
    expect(lines((await cli(['provider', 'list', '-d', dir])).stdout)).toContain('cli-meteo\tcli-rain,cli-weather');

    expect((await cli(['channel', 'set', 'cli-rain', '--no-default', '--title', 'Rain radar', '-d', dir])).stdout).toBe('cli-rain\tRain radar\n');
    expect(lines((await cli(['channel', 'list', '-d', dir])).stdout)).toContain('cli-weather\tcli-weather\t(default)');

    const rotated = await cli(['provider', 'rotate', 'cli-meteo', '-d', dir]);
    const fresh = /^key: (pk_\S+)$/m.exec(rotated.stdout)![1]!;
    expect((await pushWith(key)).status).toBe(401);
    expect((await pushWith(fresh)).status).toBe(201);
    expect(await cli(['provider', 'remove', 'cli-meteo', '-d', dir])).toEqual({ code: 0, stdout: 'removed provider cli-meteo\n', stderr: '' });
    expect((await pushWith(fresh)).status).toBe(401);
    const missing = await cli(['provider', 'add', 'cli-x', '-d', dir]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('--channels');
  });

  it('errors exit non-zero with one clear "portico: ..." line on stderr and change nothing', async ({ expect }) => {
    expect((await server.admin.post('/api/v1/admin/users', { username: 'cli-dup', password: PASSWORD })).status).toBe(201);
    const cases: Array<[string[], RegExp]> = [
      [['user', 'add', 'CLI-DUP', '--password', 'some password'], /^portico: the username CLI-DUP is taken$/],
      [['user', 'remove', 'cli-nobody'], /^portico: user cli-nobody not found$/],
      [['contact', 'add', 'cli-nobody', 'admin'], /^portico: user cli-nobody not found$/],
      [['group', 'delete', 'cli-no-group'], /^portico: group cli-no-group not found$/],
      [['user', 'add', 'bad name', '--password', 'some password'], /^portico: username: /],
    ];
    const runs = await Promise.all(cases.map(([args]) => cli([...args, '-d', dir])));
    runs.forEach((run, i) => {
      const label = cases[i]![0].join(' ');
      expect(run.code, label).not.toBe(0);
      expect(run.stdout, label).toBe('');
      expect(lines(run.stderr), label).toHaveLength(1);
      expect(run.stderr.trim(), label).toMatch(cases[i]![1]);
    });
    const users = (await server.admin.get('/api/v1/admin/users')).body.users.map((u: any) => u.username);
    expect(users.filter((u: string) => u.toLowerCase() === 'cli-dup')).toEqual(['cli-dup']);
    expect(users).not.toContain('bad name');
    expect((await login(server, 'cli-dup', PASSWORD)).status).toBe(200);
  });
});

describe('start', { timeout: 120_000 }, () => {
  it('a bad PORTICO_PORT stops it at once with a message naming PORTICO_PORT', async ({ expect }) => {
    const dataDir = tempDir('portico-cli-badport-');
    const run = await cli(['start'], { PORTICO_PORT: 'notaport', PORTICO_DATA_DIR: dataDir });
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/^portico: /);
    expect(run.stderr).toContain('PORTICO_PORT');
    expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(run.stdout).not.toContain('is running');
    expect(readdirSync(dataDir)).toEqual([]);
  });

  it('on a fresh data directory it prints its URL and a generated admin password that logs in; a restart does not', async ({ expect }) => {
    const dataDir = join(tempDir('portico-cli-start-'), 'fresh');
    const first = startCli([], { PORTICO_DATA_DIR: dataDir });
    let password: string;
    try {
      const banner = await first.banner;
      const url = /is running at (http:\/\/127\.0\.0\.1:(\d+))$/m.exec(banner);
      expect(url, banner).not.toBeNull();
      const base = url![1]!;
      expect(Number(url![2])).toBeGreaterThan(0);
      expect(banner).toContain(`API description: ${base}/api/v1/openapi.json`);
      expect(banner).toContain(join(dataDir, 'portico.db'));
      password = /created the administrator "admin" with the password (\S+)$/m.exec(banner)?.[1] as string;
      expect(password, banner).toBeDefined();

      const health = await fetch(`${base}/healthz`);
      expect(health.status).toBe(200);
      const admin = await Client.login(base, 'admin', password);
      expect((await admin.get('/api/v1/me')).body.user).toMatchObject({ username: 'admin', isAdmin: true });
      expect(await first.stop()).toBe(0);
    } finally {
      await first.stop();
    }

    const second = startCli([], { PORTICO_DATA_DIR: dataDir });
    try {
      const banner = await second.banner;
      expect(banner).not.toContain('First start');
      expect(banner).not.toContain(password);
      const url = /is running at (http:\/\/127\.0\.0\.1:\d+)$/m.exec(banner)![1]!;
      expect((await new Client(url).post('/api/v1/login', { username: 'admin', password })).status).toBe(200);
      expect(await second.stop()).toBe(0);
    } finally {
      await second.stop();
    }
  });

  it('start --data-dir DIR uses DIR (not ./data)', async ({ expect }) => {
    const cwd = tempDir('portico-cli-start-cwd-');
    const dataDir = join(tempDir('portico-cli-start-flag-'), 'by-flag');
    const server = startCli(['--data-dir', dataDir], {}, cwd);
    try {
      const banner = await server.banner;
      expect(banner).toContain(`Data directory:  ${join(dataDir, 'portico.db')}`);
      await eventually(() => existsSync(join(dataDir, 'portico.db')), 2000, 'the database in the given directory');
      expect(existsSync(join(cwd, 'data'))).toBe(false);
    } finally {
      await server.stop();
    }
  });
});
describe('what a new user trips on', { timeout: 600_000 }, () => {
  it("every command of the README's administration and provider blocks succeeds, in order, in a fresh data directory", async ({ expect }) => {
    const dir = join(tempDir('portico-cli-readme-'), 'data');
    const commands = [...readmeCommands('## Administration'), ...readmeCommands('## Content providers')];
    expect(commands.length).toBeGreaterThan(15);
    for (const args of commands) {
      const run = await cli([...args, '--data-dir', dir]);
      expect(run, `npm run admin -- ${args.join(' ')}`).toMatchObject({ code: 0, stderr: expect.not.stringMatching(/portico: /) });
    }
  });

  it("the README's provider may push to every channel its examples push to", ({ expect }) => {
    const section = readmeSection('## Content providers');
    const granted = new Set<string>();
    for (const m of section.matchAll(/provider (?:add|set) meteo --channels (\S+)/g)) {
      granted.clear(); // `set` replaces the list
      for (const c of m[1]!.split(',')) granted.add(c);
    }
    const pushed = new Set([...section.matchAll(/channel=(\w+)/g)].map((m) => m[1]).filter(Boolean));
    expect(pushed.size).toBeGreaterThan(2);
    for (const c of pushed) expect(granted, `channel ${c}`).toContain(c);
  });

  it('group add with an unknown user exits 1 naming them and adds nobody; contact list on an empty list says so', async ({ expect }) => {
    const dir = join(tempDir('portico-cli-atomic-'), 'data');
    expect((await cli(['user', 'add', 'alice', '--admin', '--password', 'alice password 1', '-d', dir])).code).toBe(0);
    expect((await cli(['group', 'create', 'team', '-d', dir])).code).toBe(0);
    const [bad, empty] = await Promise.all([cli(['group', 'add', 'team', 'alice', 'nosuchuser', '-d', dir]), cli(['contact', 'list', 'alice', '-d', dir])]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toBe('portico: user nosuchuser not found\n');
    expect(empty).toEqual({ code: 0, stdout: 'alice has no contacts\n', stderr: '' });
    const db = new Database(join(dir, 'portico.db'), { readonly: true });
    try {
      expect(db.prepare('SELECT COUNT(*) FROM group_members').pluck().get()).toBe(0);
    } finally {
      db.close();
    }
  });

  it('provider set NAME --channels replaces its channels (made as needed) and keeps its key', async ({ expect }) => {
    const server = await startTestServer();
    try {
      const dir = server.dataDir;
      const added = await cli(['provider', 'add', 'cli-set', '--channels', 'cli-one,cli-two', '-d', dir]);
      const key = /^key: (pk_\S+)$/m.exec(added.stdout)![1]!;
      const push = (channel: string) => fetch(`${server.url}/cgi/ticker`, { method: 'POST', body: new URLSearchParams({ key, channel, text: 'hello' }) });
      expect((await push('cli-three')).status).toBe(403);
      const set = await cli(['provider', 'set', 'cli-set', '--channels', 'cli-two, cli-three', '-d', dir]);
      expect(set).toEqual({ code: 0, stdout: 'provider cli-set now pushes to cli-three, cli-two\n', stderr: '' });
      expect((await push('cli-three')).status).toBe(201);
      expect((await push('cli-two')).status).toBe(201);
      expect((await push('cli-one')).status).toBe(403);
      const missing = await cli(['provider', 'set', 'cli-nobody', '--channels', 'x', '-d', dir]);
      expect(missing).toEqual({ code: 1, stdout: '', stderr: 'portico: provider cli-nobody not found\n' });
    } finally {
      await server.destroy();
    }
  });

  it('a first start on a busy port fails naming the port and creates no admin; the next start on a free port prints the password', async ({ expect }) => {
    const dataDir = join(tempDir('portico-cli-busy-'), 'data');
    const blocker = createServer();
    await new Promise<void>((ok) => blocker.listen(0, '127.0.0.1', ok));
    const busy = (blocker.address() as { port: number }).port;
    try {
      const run = await cli(['start'], { PORTICO_PORT: String(busy), PORTICO_DATA_DIR: dataDir, PORTICO_LOG_LEVEL: 'warn' });
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(new RegExp(`^portico: port ${busy} on 127\\.0\\.0\\.1 is in use`));
      expect(run.stderr).not.toMatch(/\n\s+at /);
      expect(run.stdout).not.toContain('is running');
      if (existsSync(join(dataDir, 'portico.db'))) {
        const db = new Database(join(dataDir, 'portico.db'), { readonly: true });
        try {
          expect(db.prepare('SELECT COUNT(*) FROM users').pluck().get()).toBe(0);
        } finally {
          db.close();
        }
      }
    } finally {
      blocker.close();
    }
    const server = startCli([], { PORTICO_DATA_DIR: dataDir });
    try {
      const banner = await server.banner;
      const password = /created the administrator "admin" with the password (\S+)$/m.exec(banner)?.[1];
      expect(password, banner).toBeDefined();
      const base = /is running at (http:\/\/127\.0\.0\.1:\d+)$/m.exec(banner)![1]!;
      expect((await Client.login(base, 'admin', password!)).token).toBeDefined();
    } finally {
      await server.stop();
    }
  });

  it('user add before the first start says no admin will be made, and the first start says how to make one', async ({ expect }) => {
    const dataDir = join(tempDir('portico-cli-early-'), 'data');
    const added = await cli(['user', 'add', 'early', '--password', 'early password 1', '-d', dataDir]);
    expect(added.code).toBe(0);
    expect(added.stdout).toBe('created user early (early)\n');
    expect(added.stderr).toMatch(/no administrator/);
    expect(added.stderr).toContain('portico user add NAME --admin');
    const server = startCli([], { PORTICO_DATA_DIR: dataDir });
    try {
      const banner = await server.banner;
      expect(banner).not.toContain('created the administrator');
      expect(banner).toMatch(/no administrator/i);
      expect(banner).toContain('"admin" was not created');
      expect(banner).toContain('portico user add NAME --admin');
    } finally {
      await server.stop();
    }
  });
});
});
