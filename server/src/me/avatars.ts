/**
 * Users' pictures: an upload is sniffed from its bytes (file-type: PNG, JPEG, WebP or GIF, else
 * 415), decoded with a pixel cap, turned upright, cut to a centred square of 256 px and written as
 * WebP without any of the original's metadata (sharp writes none unless asked). The file is
 * named by a keyed hash of those bytes (ServerSecret.contentKey) and served at
 * `/avatars/<key>.webp` without a token: an <img> cannot send the bearer token, and a path
 * nobody can derive from a picture they guess needs none. It never changes, so it is cached for
 * a year; a new picture is a new path, handed out with `user.updated`.
 *
 * Why not a signed, expiring path (as media): an avatar URL travels in events and contact lists
 * that clients keep; an expiring one would break in a panel that stays open for days.
 */
import type Router from '@koa/router';
import { fileTypeFromBuffer } from 'file-type';
import { lstat, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { AVATAR_TYPES, PEOPLE_LIMITS } from '../../../shared/index.js';
import type { Services } from '../context.js';
import { AppError, notFound } from '../errors.js';
import { sendFile } from '../media/serve.js';
import { privateDir } from '../private-fs.js';
import type { ServerSecret } from '../secrets.js';

const KEY = /^[0-9a-f]{64}$/;
const unsupported = () =>
  new AppError(415, 'unsupported_media_type', `send the picture as PNG, JPEG, WebP or GIF (the bytes are read, not the name or Content-Type)`);

export class AvatarStorage {
  readonly dir: string;
  /** One decode at a time: a big picture takes up to ~160 MB while decoded, and uploads are rare. */
  private turn: Promise<unknown> = Promise.resolve();

  constructor(
    dataDir: string,
    private readonly secret: ServerSecret,
  ) {
    this.dir = join(resolve(dataDir), 'avatars');
  }

  path(key: string): string {
    if (!KEY.test(key)) throw new Error(`not an avatar key: ${key}`);
    return join(this.dir, `${key}.webp`);
  }

  /** The stored square picture of an upload, and its key; 415 for anything that is not a readable image. */
  async process(upload: Buffer): Promise<{ key: string; bytes: Buffer }> {
    const type = await fileTypeFromBuffer(upload);
    if (!type || !(AVATAR_TYPES as readonly string[]).includes(type.mime)) throw unsupported();
    const resized = this.turn.then(() =>
      sharp(upload, { limitInputPixels: PEOPLE_LIMITS.avatarInputPixels, failOn: 'error' })
        .rotate() // the EXIF orientation, before the metadata goes
        .resize(PEOPLE_LIMITS.avatarSize, PEOPLE_LIMITS.avatarSize, { fit: 'cover', position: 'centre' })
        .webp({ quality: 85 })
        .toBuffer(),
    );
    this.turn = resized.catch(() => undefined);
    let bytes: Buffer;
    try {
      bytes = await resized;
    } catch {
      throw new AppError(415, 'unsupported_media_type', `the picture could not be read (damaged, or larger than ${PEOPLE_LIMITS.avatarInputPixels} pixels)`);
    }
    return { key: this.secret.contentKey('avatar', bytes), bytes };
  }

  /** Writes the file (0600) unless it is there already; atomic, so a reader never sees half of it. */
  async save(key: string, bytes: Buffer): Promise<void> {
    const target = this.path(key);
    if (await this.size(key)) return;
    await privateDir(this.dir);
    const tmp = join(this.dir, `.${randomBytes(8).toString('hex')}.tmp`);
    await writeFile(tmp, bytes, { mode: 0o600, flag: 'wx' });
    await rename(tmp, target);
  }

  async remove(key: string): Promise<void> {
    await rm(this.path(key), { force: true });
  }

  async size(key: string): Promise<number | undefined> {
    try {
      const st = await lstat(this.path(key));
      return st.isFile() ? st.size : undefined;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }
}

/** GET/HEAD /avatars/<key>.webp: no token (see above); immutable, so cached for a year. */
export function avatarServing(router: Router, { config, secret }: Services) {
  const storage = new AvatarStorage(config.dataDir, secret);
  router.get('/avatars/:file', async (ctx) => {
    ctx.state.route = '/avatars/:file';
    const key = /^([0-9a-f]{64})\.webp$/.exec(ctx.params.file ?? '')?.[1];
    const size = key && (await storage.size(key));
    if (!key || !size) throw notFound('picture');
    await sendFile(ctx, { path: storage.path(key), size, type: 'image/webp', etag: `"${key}"` }, {
      'Cache-Control': 'public, max-age=31536000, immutable',
      'Content-Security-Policy': "default-src 'none'; sandbox",
    });
  });
}
