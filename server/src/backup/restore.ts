/**
 * `portico restore <file> --data-dir <dir>`: unpacks a `portico backup` archive into a new or
 * empty directory (never over an existing installation), files 0600 and directories 0700, and
 * checks that the database opens and passes SQLite's integrity check. A restore that fails
 * leaves the directory as empty as it found it.
 */
import Database from 'better-sqlite3';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { extract } from 'tar';
import { BACKUP_FORMAT, BackupError, DATABASE, MANIFEST, type Manifest } from './backup.js';

export interface RestoreResult {
  dataDir: string;
  manifest: Manifest;
}

/** Files 0600, directories 0700, whatever the archive or the umask said. */
function tighten(path: string) {
  if (statSync(path).isDirectory()) {
    chmodSync(path, 0o700);
    for (const name of readdirSync(path)) tighten(join(path, name));
  } else {
    chmodSync(path, 0o600);
  }
}

export async function restore(file: string, dataDir: string): Promise<RestoreResult> {
  const archive = resolve(file);
  const dir = resolve(dataDir);
  if (!existsSync(archive)) throw new BackupError(`${archive} does not exist`);
  const existed = existsSync(dir);
  if (existed) {
    if (!statSync(dir).isDirectory()) throw new BackupError(`${dir} is not a directory`);
    if (readdirSync(dir).length > 0) throw new BackupError(`${dir} is not empty: restore into a new or empty directory`);
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  try {
    // Plain files and directories only: a link could point anywhere (tar already refuses
    // absolute paths and "..").
    const refused: string[] = [];
    try {
      await extract({
        file: archive,
        cwd: dir,
        strict: true,
        filter: (path, entry) => {
          const type = 'type' in entry ? entry.type : entry.isDirectory() ? 'Directory' : 'File';
          if (type === 'File' || type === 'Directory') return true;
          refused.push(path);
          return false;
        },
      });
    } catch (error) {
      throw new BackupError(`${archive} is not a readable backup: ${(error as Error).message}`);
    }
    if (refused.length > 0) throw new BackupError(`${archive} holds links (${refused.slice(0, 3).join(', ')}): not a Portico backup`);
    tighten(dir);

    let manifest: Manifest;
    try {
      manifest = JSON.parse(readFileSync(join(dir, MANIFEST), 'utf8'));
    } catch {
      throw new BackupError(`${archive} is not a Portico backup (no ${MANIFEST})`);
    }
    if (manifest.format !== BACKUP_FORMAT) throw new BackupError(`${archive} is a backup of format ${manifest.format}; this Portico reads format ${BACKUP_FORMAT}`);
    if (!existsSync(join(dir, DATABASE))) throw new BackupError(`${archive} holds no ${DATABASE}`);
    let check: unknown;
    try {
      const db = new Database(join(dir, DATABASE), { fileMustExist: true });
      try {
        check = db.pragma('integrity_check', { simple: true });
      } finally {
        db.close();
      }
    } catch (error) {
      throw new BackupError(`the database in ${archive} does not open: ${(error as Error).message}`);
    }
    if (check !== 'ok') throw new BackupError(`the database in ${archive} is damaged: ${String(check)}`);
    rmSync(join(dir, MANIFEST));
    return { dataDir: dir, manifest };
  } catch (error) {
    // Leave the directory as found: empty (or gone, if this restore made it).
    for (const name of readdirSync(dir)) rmSync(join(dir, name), { recursive: true, force: true });
    if (!existed) rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
