/**
 * Where media live on disk, content-addressed:
 *   <dataDir>/media/<first 2 hex>/<sha256>   every uploaded file, once per content
 *   <dataDir>/games/<sha256>/                a game archive, unpacked (once per archive)
 * Uploads arrive as temporary files in <dataDir>/tmp (same file system), so keeping one is a
 * rename; a game is unpacked into <dataDir>/tmp first and renamed into place when complete,
 * so a half-unpacked game is never served.
 *
 * Files no live item refers to are deleted by the media sweep (sweeper.ts). A push keeps its file
 * and records its item in two steps; the UploadGate keeps a sweep from running in between (it
 * would see the file unreferenced and delete it under the item about to be recorded).
 */
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, rename, rm, rmdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { PORTAL_LIMITS } from '../../../shared/index.js';
import type { Upload } from '../providers/cgi.js';
import { unpackGame } from './unzip.js';

export const SHA256 = /^[0-9a-f]{64}$/;

const exists = (path: string) =>
  stat(path).then(
    () => true,
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return false;
      throw error;
    },
  );

/**
 * Pushes share the store; the sweep needs it alone. Pushes wait while a sweep runs; a sweep
 * waits for the pushes in flight to finish, and pushes that arrive meanwhile wait for it.
 */
export class UploadGate {
  private inFlight = 0;
  private drained: (() => void) | undefined;
  private sweeping: Promise<void> | undefined;

  /** Enters as a push; call the answer once when done (more calls are ignored). */
  async enter(): Promise<() => void> {
    while (this.sweeping) await this.sweeping;
    this.inFlight++;
    let left = false;
    return () => {
      if (left) return;
      left = true;
      if (--this.inFlight === 0) this.drained?.();
    };
  }

  /** Runs `fn` with no push in flight. */
  async alone<T>(fn: () => Promise<T>): Promise<T> {
    while (this.sweeping) await this.sweeping;
    let open!: () => void;
    this.sweeping = new Promise<void>((resolve) => (open = resolve));
    try {
      if (this.inFlight > 0) await new Promise<void>((resolve) => (this.drained = resolve));
      return await fn();
    } finally {
      this.drained = undefined;
      this.sweeping = undefined;
      open();
    }
  }
}
/** One gate per folder: the routes and the sweeper build their storage separately. */
const gates = new Map<string, UploadGate>();

/** Bytes of the regular files under a directory (0 if there is none). */
async function treeBytes(dir: string): Promise<number> {
  let total = 0;
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  for (const entry of entries) if (entry.isFile()) total += (await lstat(join(entry.parentPath, entry.name))).size;
  return total;
}

/**
 * One folder of content-addressed files, `<dir>/<first 2 hex>/<sha256>`: each content stored once.
 * Media (<dataDir>/media) and chat files (<dataDir>/files) each have one.
 */
export class ContentStore {
  constructor(readonly dir: string) {}

  path(sha256: string): string {
    if (!SHA256.test(sha256)) throw new Error(`not a SHA-256: ${sha256}`);
    return join(this.dir, sha256.slice(0, 2), sha256);
  }

  /** Moves the file (a temporary file on the same file system) into the store; if this content is there already, the file is left to be deleted. */
  async keep(upload: { path: string; sha256: string }): Promise<void> {
    const target = this.path(upload.sha256);
    if (await exists(target)) return;
    await mkdir(join(this.dir, upload.sha256.slice(0, 2)), { recursive: true, mode: 0o700 });
    // Two uploads of the same content at once: the second rename replaces identical bytes.
    await rename(upload.path, target);
  }

  /** Deletes every stored file whose content is not in `keep` (names that are not a SHA-256 are left alone); answers how many. */
  async deleteAllBut(keep: ReadonlySet<string>): Promise<number> {
    let deleted = 0;
    for (const prefix of await list(this.dir)) {
      if (!/^[0-9a-f]{2}$/.test(prefix)) continue;
      const dir = join(this.dir, prefix);
      const names = await list(dir);
      for (const name of names) {
        if (!SHA256.test(name) || !name.startsWith(prefix) || keep.has(name)) continue;
        await rm(join(dir, name), { force: true });
        deleted++;
      }
      if ((await list(dir)).length === 0) await rmdir(dir).catch(() => {}); // an empty prefix folder (a push may just be filling it: then it stays)
    }
    return deleted;
  }
}

const list = (dir: string) =>
  readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return [] as string[];
    throw error;
  });

/** The gate of a data directory's folder (one per folder: the routes and the sweeper build their storage separately). */
export function uploadGate(dir: string): UploadGate {
  const key = resolve(dir);
  if (!gates.has(key)) gates.set(key, new UploadGate());
  return gates.get(key)!;
}

export class MediaStorage {
  readonly mediaDir: string;
  readonly gamesDir: string;
  readonly tmpDir: string;

  constructor(dataDir: string) {
    const root = resolve(dataDir);
    this.mediaDir = join(root, 'media');
    this.gamesDir = join(root, 'games');
    this.tmpDir = join(root, 'tmp');
    this.files = new ContentStore(this.mediaDir);
    this.gate = uploadGate(root);
  }

  readonly gate: UploadGate;
  private readonly files: ContentStore;

  mediaPath(sha256: string): string {
    return this.files.path(sha256);
  }

  gameDir(sha256: string): string {
    if (!SHA256.test(sha256)) throw new Error(`not a SHA-256: ${sha256}`);
    return join(this.gamesDir, sha256);
  }

  /** Moves the upload into the store; if this content is there already, the upload is left to be deleted. */
  keep(upload: Upload): Promise<void> {
    return this.files.keep(upload);
  }

  /**
   * Unpacks a game archive (once per content) and answers the bytes of its files. Throws a 400
   * AppError, leaving nothing behind, if it is refused; `check` sees the unpacked size before the
   * game is put in place, and what it throws leaves nothing behind either.
   */
  async unpackGame(upload: Upload, check: (unpackedBytes: number) => Promise<void> | void = () => {}): Promise<number> {
    const target = this.gameDir(upload.sha256);
    if (await exists(target)) {
      const bytes = await treeBytes(target);
      await check(bytes);
      return bytes;
    }
    await mkdir(this.tmpDir, { recursive: true, mode: 0o700 });
    await mkdir(this.gamesDir, { recursive: true, mode: 0o700 });
    const work = join(this.tmpDir, `game-${randomBytes(12).toString('hex')}`);
    try {
      const { bytes } = await unpackGame(upload.path, work, { files: PORTAL_LIMITS.gameFiles, bytes: PORTAL_LIMITS.gameUnpackedBytes });
      await check(bytes);
      try {
        await rename(work, target);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error; // else: the same game was unpacked meanwhile
      }
      return bytes;
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }

  /**
   * Deletes every stored file and unpacked game whose content is not in `keep`; answers how many
   * it deleted. Run it through the gate (`gate.alone`), so no push is between keeping a file and
   * recording it. Names that are not a SHA-256 are not the store's and are left alone.
   */
  async deleteAllBut(keep: ReadonlySet<string>): Promise<number> {
    let deleted = await this.files.deleteAllBut(keep);
    for (const name of await list(this.gamesDir)) {
      if (!SHA256.test(name) || keep.has(name)) continue;
      await rm(join(this.gamesDir, name), { recursive: true, force: true });
      deleted++;
    }
    return deleted;
  }
}
