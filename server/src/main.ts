/**
 * The `portico` command: `portico start` runs the server; the other commands are for IT admins
 * and work on the data directory directly (with the server running or not).
 */
import { Command, Option } from 'commander';
import { ZodError } from 'zod';
import { Accounts } from './admin/accounts.js';
import { randomPassword } from './auth/passwords.js';
import { ConfigError, loadConfig } from './config.js';
import { AppError } from './errors.js';
import { databaseFile, startServer } from './server.js';
import { SqliteStore } from './store/sqlite.js';
import { VERSION } from './version.js';

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
    const server = await startServer(config);
    const lines = [
      '',
      `  Portico ${VERSION} is running at ${server.url}`,
      `  API description: ${server.url}/api/v1/openapi.json`,
      `  Data directory:  ${databaseFile(config.dataDir)}`,
    ];
    if (server.generatedAdminPassword) {
      lines.push(
        '',
        `  First start: created the administrator "admin" with the password ${server.generatedAdminPassword}`,
        '  It is shown only now. Log in with it (POST /api/v1/login), or set PORTICO_ADMIN_PASSWORD on a first start.',
      );
    } else {
      lines.push('  Log in with a user of this server (the administrator is "admin"); add users with `npm run admin -- user add NAME`.');
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
  });

/**
 * An admin command: opens the data directory's store, runs, closes. Commander hands the action
 * its positional arguments, then the options, then the command itself.
 */
function admin(fn: (accounts: Accounts, print: (line: string) => void, args: string[], opts: Record<string, any>) => Promise<void>) {
  return async (...received: any[]) => {
    const command = received[received.length - 1] as Command;
    const opts = command.optsWithGlobals();
    const args = received.slice(0, -2).flat() as string[];
    const config = loadConfig(process.env, { dataDir: opts.dataDir });
    const store = new SqliteStore(databaseFile(config.dataDir));
    try {
      await fn(new Accounts(store), (line) => process.stdout.write(line + '\n'), args, opts);
    } finally {
      await store.close();
    }
  };
}

const user = program.command('user').description('manage users').addOption(dataDirOption());
user
  .command('add <username>')
  .description('create a user (a password is generated and printed if none is given)')
  .option('-n, --name <displayName>', 'display name')
  .option('--password <password>', 'password (at least 8 characters)')
  .option('--admin', 'make an administrator')
  .action(
    admin(async (accounts, print, [username], opts) => {
      const password = opts.password ?? randomPassword();
      const created = await accounts.createUser({ username: username!, password, displayName: opts.name, isAdmin: !!opts.admin });
      print(`created ${created.isAdmin ? 'administrator' : 'user'} ${created.username} (${created.displayName})`);
      if (!opts.password) print(`password: ${password}`);
    }),
  );
user
  .command('remove <username>')
  .description('remove a user: sessions end, chats are left, sent messages stay in history')
  .action(admin(async (accounts, print, [username]) => {
    await accounts.removeUser(username!);
    print(`removed ${username}`);
  }));
user
  .command('passwd <username>')
  .description("reset a user's password (generated and printed if none is given); their sessions end")
  .option('--password <password>', 'the new password')
  .action(admin(async (accounts, print, [username], opts) => {
    const password = opts.password ?? randomPassword();
    await accounts.resetPassword(username!, password);
    print(`password of ${username} reset`);
    if (!opts.password) print(`password: ${password}`);
  }));
user
  .command('list')
  .description('list users')
  .action(admin(async (accounts, print) => {
    for (const u of await accounts.listUsers()) print(`${u.username}\t${u.displayName}${u.isAdmin ? '\t(admin)' : ''}`);
  }));

const contact = program.command('contact').description("manage a user's contacts").addOption(dataDirOption());
contact
  .command('add <username> <contacts...>')
  .description("add contacts to a user's list")
  .action(admin(async (accounts, print, [username, ...contacts]) => {
    for (const c of contacts) {
      await accounts.addContact(username!, c);
      print(`${username} now has ${c} as a contact`);
    }
  }));
contact
  .command('remove <username> <contact>')
  .description("remove a contact from a user's list")
  .action(admin(async (accounts, print, [username, c]) => {
    await accounts.removeContact(username!, c!);
    print(`${c} removed from ${username}'s contacts`);
  }));
contact
  .command('list <username>')
  .description("list a user's contacts")
  .action(admin(async (accounts, print, [username]) => {
    for (const c of await accounts.contactsOf(username!)) {
      const via = [c.personal ? 'personal' : '', ...c.groups.map((g) => `group ${g}`)].filter(Boolean).join(', ');
      print(`${c.user.username}\t${c.user.displayName}\t${via}`);
    }
  }));

const group = program.command('group').description('manage groups: members of a group all see each other as contacts').addOption(dataDirOption());
group
  .command('create <name>')
  .option('-n, --name <displayName>', 'display name')
  .description('create a group')
  .action(admin(async (accounts, print, [name], opts) => {
    await accounts.createGroup(name!, opts.name);
    print(`created group ${name}`);
  }));
group
  .command('delete <name>')
  .description('remove a group')
  .action(admin(async (accounts, print, [name]) => {
    await accounts.removeGroup(name!);
    print(`removed group ${name}`);
  }));
group
  .command('add <name> <usernames...>')
  .description('add users to a group')
  .action(admin(async (accounts, print, [name, ...usernames]) => {
    for (const u of usernames) await accounts.addToGroup(name!, u);
    print(`group ${name}: ${(await accounts.group(name!)).members.join(', ')}`);
  }));
group
  .command('remove <name> <username>')
  .description('remove a user from a group')
  .action(admin(async (accounts, print, [name, u]) => {
    await accounts.removeFromGroup(name!, u!);
    print(`group ${name}: ${(await accounts.group(name!)).members.join(', ')}`);
  }));
group
  .command('list')
  .description('list groups and their members')
  .action(admin(async (accounts, print) => {
    for (const g of await accounts.listGroups()) print(`${g.name}\t${g.displayName}\t${g.members.join(', ')}`);
  }));

program.parseAsync().catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof AppError) process.stderr.write(`portico: ${error.message}\n`);
  else if (error instanceof ZodError) process.stderr.write(`portico: ${error.issues.map((i) => `${i.path.join('.') || 'value'}: ${i.message}`).join('; ')}\n`);
  else process.stderr.write(`portico: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
