/**
 * Admin commands for installed clients: `portico update keygen|publish|list|clear` (client updates
 * served at /updates/, signed with the organisation's key) and `portico terminal list|remove` (the
 * terminal registry and its seats).
 */
import type { Command, Option } from 'commander';
import { resolve } from 'node:path';
import { databaseFile, loadConfig, type ServerConfig } from '../config.js';
import { notFound } from '../errors.js';
import { privateDirSync } from '../private-fs.js';
import { openStore } from '../store/open.js';
import type { Store } from '../store/store.js';
import type { ManifestInfo } from './publish.js';

/** Loaded only when an update command runs, so other commands start no slower. */
const publishing = () => import('./publish.js');

type Print = (line: string) => void;

function configOf(command: Command): ServerConfig {
  return loadConfig(process.env, { dataDir: command.optsWithGlobals().dataDir });
}

const print: Print = (line) => process.stdout.write(line + '\n');

const SIGNATURE_WORDS = { none: 'unsigned', present: 'signed', valid: 'signed', invalid: 'signature INVALID' } as const;
const describe = (m: ManifestInfo) =>
  [m.manifest, m.version, m.files.join(', '), SIGNATURE_WORDS[m.signature ?? 'none'], ...(m.allowDowngrade ? ['downgrade allowed'] : [])].join('\t');

async function withStore(config: ServerConfig, fn: (store: Store) => Promise<void>) {
  privateDirSync(resolve(config.dataDir));
  const store = await openStore({ file: databaseFile(config.dataDir), databaseUrl: config.databaseUrl });
  try {
    await fn(store);
  } finally {
    await store.close();
  }
}

export function addClientCommands(program: Command, dataDirOption: () => Option) {
  const update = program.command('update').description('client updates offered at /updates/ (electron-updater generic provider)').addOption(dataDirOption());
  update
    .command('keygen')
    .description('make the organisation key that signs update manifests (<data>/update-signing.key) and print its public key for the clients')
    .option('--force', 'replace an existing key (clients that pinned the old public key then refuse updates until they get the new one)')
    .action(async (opts: { force?: boolean }, command: Command) => {
      const { generateSigningKey } = await import('./signing.js');
      const { path, publicKey } = await generateSigningKey(configOf(command).dataDir, opts.force === true);
      print(`private key written to ${path} (keep it secret; back it up)`);
      print('public key, for "updatePublicKey" in the clients\' machine-wide config.json:');
      print(publicKey);
    });
  update
    .command('public-key')
    .description('print the public key of <data>/update-signing.key again')
    .action(async (_opts, command: Command) => {
      const { loadSigningKey, publicKeyText } = await import('./signing.js');
      print(publicKeyText(await loadSigningKey(configOf(command).dataDir)));
    });
  update
    .command('publish <dir>')
    .description('check and publish latest*.yml and the installers they name from <dir> (replaces what was published for those platforms)')
    .option('--sign', 'sign each manifest with <data>/update-signing.key (writes latest*.yml.sig); clients that pin the key refuse unsigned updates')
    .option('--allow-downgrade', 'let clients move to this version even if it is older than theirs (recorded in the signed manifest; needs --sign)')
    .action(async (dir: string, opts: { sign?: boolean; allowDowngrade?: boolean }, command: Command) => {
      const config = configOf(command);
      const published = await (await publishing()).publishUpdates(resolve(dir), config.dataDir, { sign: opts.sign === true, allowDowngrade: opts.allowDowngrade === true });
      print('published:');
      for (const m of published) print(`  ${describe(m)}`);
      if (!config.updatesEnabled) print('note: updates are disabled on this server (PORTICO_UPDATES_ENABLED=false): /updates answers 404');
    });
  update
    .command('list')
    .description('what is published')
    .action(async (_opts, command: Command) => {
      const published = await (await publishing()).publishedUpdates(configOf(command).dataDir);
      if (published.length === 0) print('no client updates published');
      for (const m of published) print(describe(m));
    });
  update
    .command('clear')
    .description('withdraw every published update')
    .action(async (_opts, command: Command) => {
      await (await publishing()).clearUpdates(configOf(command).dataDir);
      print('client updates withdrawn');
    });

  const terminal = program.command('terminal').description('installed clients (terminals) and seats').addOption(dataDirOption());
  terminal
    .command('list')
    .description('list terminals: install id, user, version, platform, last seen')
    .action(async (_opts, command: Command) => {
      const config = configOf(command);
      await withStore(config, async (store) => {
        const all = await store.terminals.list();
        for (const t of all) {
          print(`${t.installId}\t${t.username ?? '-'}\t${t.version}\t${t.platform}\t${new Date(t.lastSeen).toISOString()}`);
        }
        print(`seats: ${all.length} used of ${config.seats ?? 'unlimited'}`);
      });
    });
  terminal
    .command('remove <installId>')
    .description('forget a terminal and free its seat (it registers again at its next login, if a seat is free)')
    .action(async (installId: string, _opts, command: Command) => {
      await withStore(configOf(command), async (store) => {
        if (!(await store.terminals.remove(installId))) throw notFound(`terminal ${installId}`);
        print(`removed terminal ${installId}`);
      });
    });
}
