/**
 * Where media live on disk, content-addressed:
 *   <dataDir>/media/<first 2 hex>/<sha256>   every uploaded file, once per content
 *   <dataDir>/games/<sha256>/                a game archive, unpacked (once per archive)
 * Uploads arrive as temporary files in <dataDir>/tmp (same file system), so keeping one is a
 * rename; a game is unpacked into <dataDir>/tmp first and renamed into place when complete,
 * so a half-unpacked game is never served.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
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

export class MediaStorage {
  readonly mediaDir: string;
  readonly gamesDir: string;
  readonly tmpDir: string;

  constructor(dataDir: string) {
    const root = resolve(dataDir);
    this.mediaDir = join(root, 'media');
    this.gamesDir = join(root, 'games');
    this.tmpDir = join(root, 'tmp');
  }

  mediaPath(sha256: string): string {
    if (!SHA256.test(sha256)) throw new Error(`not a SHA-256: ${sha256}`);
    return join(this.mediaDir, sha256.slice(0, 2), sha256);
  }

  gameDir(sha256: string): string {
    if (!SHA256.test(sha256)) throw new Error(`not a SHA-256: ${sha256}`);
    return join(this.gamesDir, sha256);
  }

  /** Moves the upload into the store; if this content is there already, the upload is left to be deleted. */
  async keep(upload: Upload): Promise<void> {
    const target = this.mediaPath(upload.sha256);
    if (await exists(target)) return;
    await mkdir(join(this.mediaDir, upload.sha256.slice(0, 2)), { recursive: true, mode: 0o700 });
    // Two uploads of the same content at once: the second rename replaces identical bytes.
    await rename(upload.path, target);
  }

  /** Unpacks a game archive (once per content); throws a 400 AppError, leaving nothing behind, if it is refused. */
  async unpackGame(upload: Upload): Promise<void> {
    const target = this.gameDir(upload.sha256);
    if (await exists(target)) return;
    await mkdir(this.tmpDir, { recursive: true, mode: 0o700 });
    await mkdir(this.gamesDir, { recursive: true, mode: 0o700 });
    const work = join(this.tmpDir, `game-${randomBytes(12).toString('hex')}`);
    try {
      await unpackGame(upload.path, work, { files: PORTAL_LIMITS.gameFiles, bytes: PORTAL_LIMITS.gameUnpackedBytes });
      try {
        await rename(work, target);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error; // else: the same game was unpacked meanwhile
      }
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }
}
