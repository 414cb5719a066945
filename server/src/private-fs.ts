/**
 * Private files and directories: everything in the data directory is for the server's user only
 * (files 0600, directories 0700). A mode given to mkdir/open is only an upper bound (the umask
 * takes bits off, and nothing at all happens to a directory that already exists), so each helper
 * also sets the mode exactly with chmod.
 */
import { chmodSync, closeSync, copyFileSync, lstatSync, mkdirSync, openSync, readdirSync } from 'node:fs';
import { chmod, copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';

export const PRIVATE_DIR = 0o700;
export const PRIVATE_FILE = 0o600;

/** Makes `path` (and missing parents) a directory, mode 0700 even if it was there before. */
export function privateDirSync(path: string): string {
  mkdirSync(path, { recursive: true, mode: PRIVATE_DIR });
  chmodSync(path, PRIVATE_DIR);
  return path;
}

export async function privateDir(path: string): Promise<string> {
  await mkdir(path, { recursive: true, mode: PRIVATE_DIR });
  await chmod(path, PRIVATE_DIR);
  return path;
}

/** Creates `path` empty if missing (never truncates), mode 0600 either way. */
export function privateFileSync(path: string): string {
  closeSync(openSync(path, 'a', PRIVATE_FILE));
  chmodSync(path, PRIVATE_FILE);
  return path;
}

/** Sets an existing file to 0600; a missing one is fine. */
export function tightenIfExists(path: string): void {
  try {
    chmodSync(path, PRIVATE_FILE);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

/** copyFile keeps the source's mode (0644 from a build folder): the copy is made 0600. */
export async function copyPrivate(from: string, to: string): Promise<void> {
  await copyFile(from, to);
  await chmod(to, PRIVATE_FILE);
}

export function copyPrivateSync(from: string, to: string): void {
  copyFileSync(from, to);
  chmodSync(to, PRIVATE_FILE);
}

/**
 * Every directory under `root` (itself included) to 0700 and every file to 0600, for data
 * directories made by older versions or by hand. Symbolic links are neither followed nor changed.
 * Answers the paths it could not change (owned by another user, usually), for a warning.
 */
export function tightenTree(root: string): string[] {
  const failed: string[] = [];
  const visit = (path: string) => {
    let stat;
    try {
      stat = lstatSync(path);
    } catch {
      return; // gone meanwhile (a temporary file)
    }
    if (stat.isSymbolicLink()) return;
    const want = stat.isDirectory() ? PRIVATE_DIR : PRIVATE_FILE;
    if ((stat.mode & 0o7777) !== want) {
      try {
        chmodSync(path, want);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') failed.push(path);
      }
    }
    if (stat.isDirectory()) {
      let names: string[] = [];
      try {
        names = readdirSync(path);
      } catch {
        failed.push(path);
      }
      for (const name of names) visit(join(path, name));
    }
  };
  visit(root);
  return failed;
}
