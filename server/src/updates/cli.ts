/**
 * Admin commands for installed clients: `portico update publish|list|clear` (client updates served
 * at /updates/) and `portico terminal list|remove` (the terminal registry and its seats).
 */
import type { Command, Option } from 'commander';
import { resolve } from 'node:path';
import { loadConfig, type ServerConfig } from '../config.js';
import { notFound } from '../errors.js';
import { privateDirSync } from '../private-fs.js';
import { databaseFile } from '../server.js';
import { SqliteStore } from '../store/sqlite.js';
import type { ManifestInfo } from './publish.js';

/** Loaded only when an update command runs, so other commands start no slower. */
const publishing = () => import('./publish.js');

type Print = (line: string) => void;

function configOf(command: Command): ServerConfig {
  return loadConfig(process.env, { dataDir: command.optsWithGlobals().dataDir });
}

const print: Print = (line) => process.stdout.write(line + '\n');

const describe = (m: ManifestInfo) => `${m.manifest}\t${m.version}\t${m.files.join(', ')}`;

async function withStore(config: ServerConfig, fn: (store: SqliteStore) => Promise<void>) {
  privateDirSync(resolve(config.dataDir));
  const store = new SqliteStore(databaseFile(config.dataDir));
  try {
    await fn(store);
  } finally {
    await store.close();
  }
}

export function addClientCommands(program: Command, dataDirOption: () => Option) {
  const update = program.command('update').description('client updates offered at /updates/ (electron-updater generic provider)').addOption(dataDirOption());
  update
    .command('publish <dir>')
    .description('check and publish latest*.yml and the installers they name from <dir> (replaces what was published for those platforms)')
    .action(async (dir: string, _opts, command: Command) => {
      const config = configOf(command);
      const published = await (await publishing()).publishUpdates(resolve(dir), config.dataDir);
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
