/**
 * `portico backup <file>`: one gzipped tar of a data directory, consistent while the server runs.
 *
 * The database is copied first, with SQLite's online backup API from a read-only connection, in a
 * single step: one read transaction, so the copy is the database as it was at one instant
 * (between the start and the end of the backup) and a busy server never makes it start over.
 * Then everything else in the directory (secret.key, tls/, media/, games/, updates/, and whatever
 * later versions keep there), except the live database files and tmp/. Files only grow or are
 * replaced whole (media are stored once per content, never changed), so copying them after the
 * database gives every row of the copy its files.
 */
import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { create } from 'tar';
import { VERSION } from '../version.js';

export const DATABASE = 'portico.db';
export const MANIFEST = 'portico-backup.json';
export const BACKUP_FORMAT = 1;
/** Left out: the live database (copied through SQLite instead) and half-finished uploads. */
const SKIPPED = new Set([MANIFEST, DATABASE, `${DATABASE}-wal`, `${DATABASE}-shm`, `${DATABASE}-journal`, 'tmp']);

/** A backup or restore that cannot go on; its message is for the admin, as it is. */
export class BackupError extends Error {}

export interface Manifest {
  format: number;
  portico: string;
  createdAt: string;
  /** The database's schema version (PRAGMA user_version). */
  schema: number;
}

export interface BackupResult {
  file: string;
  entries: string[];
  bytes: number;
}

const inside = (dir: string, path: string) => {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith('..') && !rel.startsWith('/'));
};

export async function backup(dataDir: string, file: string): Promise<BackupResult> {
  const dir = resolve(dataDir);
  const out = resolve(file);
  const db = join(dir, DATABASE);
  if (!existsSync(db)) throw new BackupError(`no Portico database in ${dir} (${DATABASE}): is this the data directory?`);
  if (inside(dir, out)) throw new BackupError(`write the backup outside the data directory ${dir}`);
  if (!existsSync(dirname(out))) throw new BackupError(`${dirname(out)} does not exist`);

  // The staging directory sits next to the archive (same file system, as big as the database)
  // and holds the database copy plus links to the rest, which tar follows.
  const stage = join(dirname(out), `.${basename(out)}.${randomBytes(6).toString('hex')}.tmp`);
  const partial = `${stage}.tar.gz`;
  mkdirSync(stage, { mode: 0o700 });
  try {
    const source = new Database(db, { readonly: true, fileMustExist: true });
    let schema: number;
    try {
      schema = source.pragma('user_version', { simple: true }) as number;
      // All remaining pages in one step: one read transaction, never restarted by the server's writes.
      await source.backup(join(stage, DATABASE), { progress: () => 0x7fffffff });
    } finally {
      source.close();
    }
    const manifest: Manifest = { format: BACKUP_FORMAT, portico: VERSION, createdAt: new Date().toISOString(), schema };
    writeFileSync(join(stage, MANIFEST), JSON.stringify(manifest, null, 2) + '\n', { mode: 0o600 });
    const rest = readdirSync(dir).filter((name) => !SKIPPED.has(name)).sort();
    for (const name of rest) symlinkSync(join(dir, name), join(stage, name));

    const entries = [MANIFEST, DATABASE, ...rest];
    await create({ file: partial, cwd: stage, gzip: true, portable: true, follow: true, mode: 0o600 }, entries);
    renameSync(partial, out);
    return { file: out, entries, bytes: statSync(out).size };
  } finally {
    rmSync(stage, { recursive: true, force: true });
    rmSync(partial, { force: true });
  }
}
