/**
 * The `portico` command: `portico start` runs the server; the other commands are for IT admins
 * and work on the data directory directly (with the server running or not).
 *
 * What only some commands need (the HTTP server, backups, TLS with node-forge) is imported
 * when such a command runs, so an admin command loads little more than the store.
 */
import { Command, Option } from 'commander';
import { resolve } from 'node:path';
import { ZodError } from 'zod';
import { Accounts } from './admin/accounts.js';
import { backup, BackupError } from './backup/backup.js';
import { restore } from './backup/restore.js';
import { randomPassword } from './auth/passwords.js';
import { ConfigError, databaseFile, loadConfig, type ServerConfig } from './config.js';
import { AppError } from './errors.js';
import { ProviderAdmin } from './providers/admin.js';
import { privateDirSync } from './private-fs.js';
import { ServerSecret } from './secrets.js';
import { ImportError, importSqlite } from './store/pg-import.js';
import { openStore } from './store/open.js';
import type { Store } from './store/store.js';
import type { CertSummary } from './tls/certs.js';
import { VERSION } from './version.js';
import { addClientCommands } from './updates/cli.js';

const program = new Command('portico').description('Portico server and administration').version(VERSION);
const dataDirOption = () => new Option('-d, --data-dir <dir>', 'data directory (env PORTICO_DATA_DIR, default ./data)');
program.addOption(dataDirOption());

program
  .command('start')
  .description('run the server')
  .option('--host <host>', 'address to listen on (env PORTICO_HOST, default 127.0.0.1)')
  .option('-p, --port <port>', 'port (env PORTICO_PORT, default 8080)')
  .addOption(dataDirOption())
  .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent (env PORTICO_LOG_LEVEL)')
  .option('--admin-password <password>', 'password of "admin" on the first start of an empty data directory (env PORTICO_ADMIN_PASSWORD)')
  .action(async (_opts, command: Command) => {
    const opts = command.optsWithGlobals(); // --data-dir may stand before or after `start`
    const config = loadConfig(process.env, {
      host: opts.host,
      port: opts.port,
      dataDir: opts.dataDir,
      logLevel: opts.logLevel,
      adminPassword: opts.adminPassword,
    });
    const { startServer } = await import('./server.js');
    const server = await startServer(config);
    const url = server.httpsUrl ?? server.url; // with TLS, what the network is to use
    const lines = [
      '',
      `  Portico ${VERSION} is running at ${url}`,
      `  The panel:       ${url}/app/  (open it in a browser, or point the desktop app at ${url})`,
      `  API description: ${url}/api/v1/openapi.json`,
      // On PostgreSQL the data directory holds no database: say where each is (no password shown).
      ...(config.databaseUrl
        ? [`  Database:        PostgreSQL ${pgWhere(config.databaseUrl)}`, `  Data directory:  ${resolve(config.dataDir)}`]
        : [`  Data directory:  ${databaseFile(config.dataDir)}`]),
    ];
    if (server.generatedAdminPassword) {
      lines.push(
        '',
        `  First start: created the administrator "admin" with the password ${server.generatedAdminPassword}`,
        '  It is shown only now. Log in with it (POST /api/v1/login), or set PORTICO_ADMIN_PASSWORD on a first start.',
      );
    } else if (server.noAdministrator) {
      lines.push(
        '',
        '  No administrator: this data directory had users before its first start, so "admin" was not created.',
        '  Make one with `portico user add NAME --admin` (npm run admin -- user add NAME --admin).',
      );
    } else {
      lines.push('  Log in with a user of this server (the administrator is "admin"); add users with `npm run admin -- user add NAME`.');
    }
    if (server.tls) {
      lines.push(
        `  TLS:             HTTPS at ${server.httpsUrl}${server.redirectUrl ? `, ${server.redirectUrl} redirects to it` : ''}; plain HTTP only on loopback at ${server.url}`,
        `  Certificate:     ${server.tls.source.certPath} (reloaded when it changes, or on SIGHUP)`,
      );
    }
    lines.push('  Stop with Ctrl+C.', '');
    process.stdout.write(lines.join('\n') + '\n');
    let stopping = false;
    const stop = async () => {
      if (stopping) return;
      stopping = true;
      await server.close();
      process.exit(0);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    if (server.tls) process.on('SIGHUP', () => server.tls?.reload());
  });

/**
 * An admin command: opens the data directory's store, runs, closes. Commander hands the action
 * its positional arguments, then the options, then the command itself.
 */
interface AdminTools {
  accounts: Accounts;
  providers: ProviderAdmin;
  store: Store;
  config: ServerConfig;
}

function admin(fn: (tools: AdminTools, print: (line: string) => void, args: string[], opts: Record<string, any>) => Promise<void>) {
  return async (...received: any[]) => {
    const command = received[received.length - 1] as Command;
    const opts = command.optsWithGlobals();
    const args = received.slice(0, -2).flat() as string[];
    const config = loadConfig(process.env, { dataDir: opts.dataDir });
    privateDirSync(resolve(config.dataDir));
    const store = await openStore({ file: databaseFile(config.dataDir), databaseUrl: config.databaseUrl });
    try {
      const tools = { accounts: new Accounts(store), providers: new ProviderAdmin(store, ServerSecret.load(resolve(config.dataDir))), store, config };
      await fn(tools, (line) => process.stdout.write(line + '\n'), args, opts);
    } finally {
      await store.close();
    }
  };
}

const warn = (line: string) => process.stderr.write(line + '\n');

const user = program.command('user').description('manage users').addOption(dataDirOption());
user
  .command('add <username>')
  .description('create a user (a password is generated and printed if none is given)')
  .option('-n, --name <displayName>', 'display name')
  .option('--password <password>', 'password (at least 8 characters)')
  .option('--admin', 'make an administrator')
  .action(
    admin(async ({ accounts }, print, [username], opts) => {
      const password = opts.password ?? randomPassword();
      const created = await accounts.createUser({ username: username!, password, displayName: opts.name, isAdmin: !!opts.admin });
      print(`created ${created.isAdmin ? 'administrator' : 'user'} ${created.username} (${created.displayName})`);
      if (!opts.password) print(`password: ${password}`);
      // The first start makes "admin" only in an empty data directory: this one is not empty now.
      if (!(await accounts.listUsers()).some((u) => u.isAdmin)) {
        warn('note: this data directory has no administrator, and `portico start` creates "admin" only in an empty one;');
        warn('      make one with `portico user add NAME --admin`');
      }
    }),
  );
user
  .command('remove <username>')
  .description('remove a user: sessions end, chats are left, sent messages stay in history')
  .action(admin(async ({ accounts }, print, [username]) => {
    await accounts.removeUser(username!);
    print(`removed ${username}`);
  }));
user
  .command('passwd <username>')
  .description("reset a user's password (generated and printed if none is given); their sessions end")
  .option('--password <password>', 'the new password')
  .action(admin(async ({ accounts }, print, [username], opts) => {
    const password = opts.password ?? randomPassword();
    await accounts.resetPassword(username!, password);
    print(`password of ${username} reset`);
    if (!opts.password) print(`password: ${password}`);
  }));
user
  .command('list')
  .description('list users')
  .action(admin(async ({ accounts }, print) => {
    const users = await accounts.listUsers();
    if (users.length === 0) print('no users (the first `portico start` creates "admin")');
    // Local accounts as before; the others say where they come from (and whether the directory disabled them).
    const origin = (u: (typeof users)[number]) => (u.source === 'local' ? '' : `\t(${u.source}${u.disabled ? ', disabled' : ''})`);
    for (const u of users) print(`${u.username}\t${u.displayName}${u.isAdmin ? '\t(admin)' : ''}${origin(u)}`);
  }));

const contact = program.command('contact').description("manage a user's contacts").addOption(dataDirOption());
contact
  .command('add <username> <contacts...>')
  .description("add contacts to a user's list")
  .action(admin(async ({ accounts }, print, [username, ...contacts]) => {
    for (const c of contacts) {
      await accounts.addContact(username!, c);
      print(`${username} now has ${c} as a contact`);
    }
  }));
contact
  .command('remove <username> <contact>')
  .description("remove a contact from a user's list")
  .action(admin(async ({ accounts }, print, [username, c]) => {
    await accounts.removeContact(username!, c!);
    print(`${c} removed from ${username}'s contacts`);
  }));
contact
  .command('list <username>')
  .description("list a user's contacts")
  .action(admin(async ({ accounts }, print, [username]) => {
    const contacts = await accounts.contactsOf(username!);
    if (contacts.length === 0) print(`${username} has no contacts`);
    for (const c of contacts) {
      const via = [c.personal ? 'personal' : '', ...c.groups.map((g) => `group ${g}`)].filter(Boolean).join(', ');
      print(`${c.user.username}\t${c.user.displayName}\t${via}`);
    }
  }));

const group = program.command('group').description('manage groups: members of a group all see each other as contacts').addOption(dataDirOption());
group
  .command('create <name>')
  .option('-n, --name <displayName>', 'display name')
  .description('create a group')
  .action(admin(async ({ accounts }, print, [name], opts) => {
    await accounts.createGroup(name!, opts.name);
    print(`created group ${name}`);
  }));
group
  .command('delete <name>')
  .description('remove a group')
  .action(admin(async ({ accounts }, print, [name]) => {
    await accounts.removeGroup(name!);
    print(`removed group ${name}`);
  }));
group
  .command('add <name> <usernames...>')
  .description('add users to a group')
  .action(admin(async ({ accounts }, print, [name, ...usernames]) => {
    await accounts.addToGroup(name!, ...usernames);
    print(`group ${name}: ${(await accounts.group(name!)).members.join(', ')}`);
  }));
group
  .command('remove <name> <username>')
  .description('remove a user from a group')
  .action(admin(async ({ accounts }, print, [name, u]) => {
    await accounts.removeFromGroup(name!, u!);
    print(`group ${name}: ${(await accounts.group(name!)).members.join(', ')}`);
  }));
group
  .command('list')
  .description('list groups and their members')
  .action(admin(async ({ accounts }, print) => {
    const groups = await accounts.listGroups();
    if (groups.length === 0) print('no groups');
    for (const g of groups) print(`${g.name}\t${g.displayName}\t${g.members.join(', ')}${g.source === 'directory' ? '\t(directory: the sync keeps its members)' : ''}`);
  }));

const directory = program.command('directory').description('the company directory (Active Directory / LDAP, PORTICO_LDAP_*)').addOption(dataDirOption());
directory
  .command('sync')
  .description('make users and groups follow the directory now (the running server also does it every PORTICO_LDAP_SYNC_MINUTES)')
  .option('--dry-run', 'print what would change, change nothing')
  .action(admin(async ({ store, config }, print, _args, opts) => {
    const { Directory, DirectoryUnavailable } = await import('./directory/ldap.js');
    const { DirectorySync } = await import('./directory/sync.js');
    const { describe } = await import('./directory/rules.js');
    let client;
    try {
      client = Directory.from(config);
    } catch (error) {
      throw new ConfigError(`cannot read a file of the directory settings (PORTICO_LDAP_BIND_PASSWORD_FILE, PORTICO_LDAP_CA_FILE): ${(error as Error).message}`);
    }
    if (!client) throw new ConfigError('no directory configured: set PORTICO_LDAP_URL and PORTICO_LDAP_USER_BASE (docs/deployment.md)');
    // The running server sees these writes (users, groups, ended sessions) through the database.
    const { changes, notes } = await new DirectorySync(store, client, new Accounts(store).hooks).run({ dryRun: !!opts.dryRun }).catch((error: unknown) => {
      if (!(error instanceof DirectoryUnavailable)) throw error;
      throw new AppError(503, 'directory_unavailable', `the directory cannot be reached or searched: ${(error as Error).message}`);
    });
    for (const note of notes) warn(`note: ${note}`);
    for (const c of changes) print(`${opts.dryRun ? 'would ' : ''}${describe(c)}`);
    print(changes.length === 0 ? 'nothing to change' : `${changes.length} ${changes.length === 1 ? 'change' : 'changes'}${opts.dryRun ? ' planned (dry run: nothing changed)' : ' made'}`);
  }));

const channelList = (option: unknown) => String(option).split(',').map((c) => c.trim()).filter(Boolean);
const provider = program.command('provider').description('manage content providers (who may push to which channels)').addOption(dataDirOption());
provider
  .command('add <name>')
  .description('create a provider for some channels (made as needed); prints its key, shown only now')
  .requiredOption('-c, --channels <names>', 'comma-separated channel names, e.g. weather,stocks')
  .option('--require-signature', 'accept only HMAC-signed pushes from it')
  .action(admin(async ({ providers }, print, [name], opts) => {
    const { provider: p, key } = await providers.create({ name: name!, channels: channelList(opts.channels), requireSignature: !!opts.requireSignature });
    print(`created provider ${p.name} for channels ${p.channels.join(', ')}`);
    print(`key: ${key}`);
  }));
provider
  .command('set <name>')
  .description('replace the channels a provider may push to (made as needed); its key stays')
  .requiredOption('-c, --channels <names>', 'comma-separated channel names, e.g. weather,stocks')
  .action(admin(async ({ providers }, print, [name], opts) => {
    const p = await providers.setChannels(name!, channelList(opts.channels));
    print(`provider ${p.name} now pushes to ${p.channels.join(', ')}`);
  }));
provider
  .command('rotate <name>')
  .description('give a provider a new key (the old one stops working)')
  .action(admin(async ({ providers }, print, [name]) => {
    print(`key: ${(await providers.rotate(name!)).key}`);
  }));
provider
  .command('remove <name>')
  .description('remove a provider')
  .action(admin(async ({ providers }, print, [name]) => {
    await providers.remove(name!);
    print(`removed provider ${name}`);
  }));
provider
  .command('list')
  .description('list providers and their channels')
  .action(admin(async ({ providers }, print) => {
    const list = await providers.list();
    if (list.length === 0) print('no providers');
    for (const p of list) print(`${p.name}\t${p.channels.join(',')}${p.requireSignature ? '\t(signed only)' : ''}`);
  }));

const channel = program.command('channel').description('manage channels').addOption(dataDirOption());
channel
  .command('list')
  .description('list channels')
  .action(admin(async ({ store }, print) => {
    const channels = await store.portal.listChannels();
    if (channels.length === 0) print('no channels');
    for (const c of channels) print(`${c.name}\t${c.title}${c.isDefault ? '\t(default)' : ''}`);
  }));
channel
  .command('set <name>')
  .description('set a channel title, and whether users who chose nothing see it')
  .option('--title <title>', 'the title shown in the panel')
  .option('--default', 'shown to users who chose no channels')
  .option('--no-default', 'not shown unless a user chooses it')
  .action(admin(async ({ store }, print, [name], opts) => {
    const c = await store.portal.updateChannel(name!, { title: opts.title, isDefault: opts.default });
    print(`${c.name}\t${c.title}${c.isDefault ? '\t(default)' : ''}`);
  }));

program
  .command('backup <file>')
  .description('write the data directory to one archive (.tar.gz), consistent while the server runs')
  .addOption(dataDirOption())
  .action(async (file: string, _opts, command: Command) => {
    const { dataDir } = loadConfig(process.env, { dataDir: command.optsWithGlobals().dataDir });
    const r = await backup(dataDir, file);
    out(`backed up ${resolve(dataDir)} to ${r.file} (${r.entries.join(', ')}; ${(r.bytes / 1048576).toFixed(1)} MiB)`);
  });
program
  .command('restore <file>')
  .description('put a backup back into a new or empty data directory')
  .addOption(dataDirOption())
  .action(async (file: string, _opts, command: Command) => {
    const { dataDir } = loadConfig(process.env, { dataDir: command.optsWithGlobals().dataDir });
    const r = await restore(file, dataDir);
    out(`restored ${resolve(file)} (made ${r.manifest.createdAt} by Portico ${r.manifest.portico}) into ${r.dataDir}`);
    out(`start it with: portico start --data-dir ${r.dataDir}`);
  });

addClientCommands(program, dataDirOption);

/** The PostgreSQL of PORTICO_DATABASE_URL, for the `db` commands. */
async function postgresPool(): Promise<import('pg').Pool> {
  const { databaseUrl } = loadConfig(process.env, {});
  if (!databaseUrl) throw new ConfigError('PORTICO_DATABASE_URL is not set: give the PostgreSQL database, e.g. postgres://portico:secret@db.example.com:5432/portico');
  const { default: pg } = await import('pg');
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  pool.on('error', () => {}); // an idle connection the server ends: the next query reports it
  return pool;
}

const db = program.command('db').description('the PostgreSQL database of a cluster (PORTICO_DATABASE_URL)');
db.command('migrate')
  .description('bring the PostgreSQL schema to this version (nodes also do it when they start)')
  .action(async () => {
    const { migratePostgres, PG_MIGRATIONS } = await import('./store/pg-schema.js');
    const pool = await postgresPool();
    try {
      const applied = await migratePostgres(pool);
      out(applied === 0 ? `the schema is up to date (version ${PG_MIGRATIONS.length})` : `applied ${applied} migration(s): the schema is at version ${PG_MIGRATIONS.length}`);
    } finally {
      await pool.end();
    }
  });
db.command('import')
  .description('copy an embedded (SQLite) installation into an empty PostgreSQL database, keeping every id and cursor')
  .requiredOption('--from <dir>', 'the data directory to copy (stop its server first)')
  .action(async (opts: { from: string }) => {
    const pool = await postgresPool();
    try {
      const r = await importSqlite(databaseFile(opts.from), pool);
      for (const t of r.tables) out(`${t.table}\t${t.rows}`);
      out(`imported ${resolve(opts.from)}: ${r.tables.reduce((n, t) => n + t.rows, 0)} rows in ${r.tables.length} tables, events up to ${r.headSeq}`);
      out(`media, games, updates and the secret stay in the data directory: share it with every node (see docs/deployment.md)`);
    } finally {
      await pool.end();
    }
  });


const collect = (value: string, previous: string[] = []) => [...previous, ...value.split(',').map((v) => v.trim()).filter(Boolean)];
const certDataDir = (command: Command) => loadConfig(process.env, { dataDir: command.optsWithGlobals().dataDir }).dataDir;
const printCert = (print: (line: string) => void, label: string, path: string, c: CertSummary) => {
  print(`${label}: ${path}`);
  print(`  subject:  ${c.subject}`);
  print(`  valid:    ${c.validFrom.toISOString()} to ${c.validTo.toISOString()}${c.validTo < new Date() ? '  (EXPIRED)' : ''}`);
  if (c.sans.hosts.length + c.sans.ips.length) print(`  names:    ${[...c.sans.hosts, ...c.sans.ips].join(', ')}`);
  print(`  sha-256:  ${c.fingerprint256}`);
};
const out = (line: string) => process.stdout.write(line + '\n');

const cert = program.command('cert').description('TLS: the organisation CA and the server certificate (in <data dir>/tls/)').addOption(dataDirOption());
cert
  .command('init')
  .description('create the organisation CA (kept if there is one) and a server certificate signed by it')
  .option('--host <name>', 'a host name the clients use (repeatable or comma-separated; default: localhost and this machine)', collect)
  .option('--ip <address>', 'an IP address the clients use (repeatable or comma-separated; default: 127.0.0.1, ::1)', collect)
  .action(async (opts, command: Command) => {
    const { defaultSans, initCertificates } = await import('./tls/certs.js');
    const given = { hosts: opts.host ?? [], ips: opts.ip ?? [] };
    const sans = given.hosts.length + given.ips.length ? given : defaultSans();
    const r = initCertificates(certDataDir(command), sans);
    out(r.createdCa ? `created the organisation CA ${r.paths.caCert} (key ${r.paths.caKey}, readable by this user only)` : `kept the existing CA ${r.paths.caCert}`);
    printCert(out, 'server certificate', r.paths.serverCert, r.server);
    out('');
    out(`CA fingerprint for the clients (caFingerprint256): ${r.ca.fingerprint256}`);
    out('A running server picks the new certificate up by itself; start one with TLS: portico start (HTTPS on port 443, PORTICO_HTTPS_PORT)');
  });
cert
  .command('renew')
  .description('a new server certificate from the existing CA (same names unless given); clients keep trusting it')
  .option('--host <name>', 'replace the host names (repeatable or comma-separated)', collect)
  .option('--ip <address>', 'replace the IP addresses (repeatable or comma-separated)', collect)
  .action(async (opts, command: Command) => {
    const { renewCertificates } = await import('./tls/certs.js');
    const r = renewCertificates(certDataDir(command), { hosts: opts.host ?? [], ips: opts.ip ?? [] });
    printCert(out, 'renewed server certificate', r.paths.serverCert, r.server);
    out(`CA fingerprint (unchanged): ${r.ca.fingerprint256}`);
  });
cert
  .command('show')
  .description('paths, validity, names and fingerprints of the CA and server certificate')
  .action(async (_opts, command: Command) => {
    const { certificateStatus } = await import('./tls/certs.js');
    const config = loadConfig(process.env, { dataDir: command.optsWithGlobals().dataDir });
    const s = certificateStatus(config.dataDir);
    if (config.tlsCert) out(`the server uses the admin-supplied certificate ${resolve(config.tlsCert)} (PORTICO_TLS_CERT), key ${config.tlsKey ? resolve(config.tlsKey) : '(PORTICO_TLS_KEY missing)'}`);
    if (!s.ca && !s.server) {
      out(`no certificates in ${s.paths.dir}: run \`portico cert init\``);
      return;
    }
    if (s.ca) printCert(out, 'CA', s.paths.caCert, s.ca);
    if (s.server) printCert(out, 'server certificate', s.paths.serverCert, s.server);
    if (s.server) out(`  key:      ${s.paths.serverKey}`);
    if (s.ca) out(`CA fingerprint for the clients (caFingerprint256): ${s.ca.fingerprint256}`);
  });

program.parseAsync().catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof AppError || error instanceof BackupError || error instanceof ImportError) process.stderr.write(`portico: ${error.message}\n`);
  else if (error instanceof ZodError) process.stderr.write(`portico: ${error.issues.map((i) => `${i.path.join('.') || 'value'}: ${i.message}`).join('; ')}\n`);
  else process.stderr.write(`portico: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});

/** host:port/database of a PostgreSQL URL, without its user and password. */
function pgWhere(url: string): string {
  try {
    const u = new URL(url);
    return `${u.host}${u.pathname}`;
  } catch {
    return '(PORTICO_DATABASE_URL)';
  }
}
