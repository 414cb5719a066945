/**
 * Files sent in chats: where their bytes live, what they are, their thumbnails, the signed paths
 * an <img> or <video> loads them by, and the sweep of files nothing refers to.
 *
 * Bytes are content-addressed under <dataDir>/files (media/storage.ts's ContentStore: the same
 * bytes sent twice, or in two chats, are stored once); each upload is a `chat_files` row of one
 * chat with its own id and name. The type is sniffed from the bytes (file-type), never taken from
 * the name or the declared type; unknown bytes are application/octet-stream. Images get a WebP
 * thumbnail (sharp) of at most THUMB_PX a side, stored the same way.
 *
 * What nothing refers to goes: a file no message carries (never attached, or its message was
 * deleted) is deleted a day after its upload, and then every stored content no file row names
 * (ChatFileSweeper). The upload gate keeps a sweep from running between keeping bytes and
 * recording their row.
 */
import { createHash, randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import sharp from 'sharp';
import { chatFilePath, CHAT_FILE_LIMITS, type ChatFile, type Message } from '../../../shared/index.js';
import { AppError } from '../errors.js';
import type { Upload } from '../http/push-body.js';
import { sniff } from '../media/kinds.js';
import { ContentStore, uploadGate, type UploadGate } from '../media/storage.js';
import { privateDir } from '../private-fs.js';
import type { ServerSecret } from '../secrets.js';
import type { ChatFileRecord, Store, UserRecord } from '../store/store.js';
import { addChatFile } from './file-rules.js';

const HOUR = 3_600_000;
/** A signed path works for at least this long (rounded up to the hour, so the same URL is handed out for an hour and caches hit). */
export const FILE_URL_LIFETIME_MS = 12 * HOUR;
/** A file no message carries is deleted this long after its upload. */
export const UNATTACHED_FILE_LIFETIME_MS = 24 * HOUR;
/** Thumbnails fit in a square of this many pixels. */
export const THUMB_PX = 320;
/** What sharp makes thumbnails of (and what file-type names these formats). */
const THUMBNAILABLE = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/avif', 'image/tiff']);

/** Shown in place (images, audio, video); everything else is served as an attachment (a download). */
export const showsInline = (contentType: string) => /^(image|audio|video)\//.test(contentType) && !contentType.includes('svg');

const subject = (chatId: string, fileId: string, thumbnail: boolean) => `chat-file:${chatId}/${fileId}${thumbnail ? '/thumbnail' : ''}`;

/** `?exp=<expiry, base 36 seconds>&sig=<HMAC>` granting a chat file (or its thumbnail). */
export function signedPath(secret: ServerSecret, chatId: string, fileId: string, thumbnail: boolean, now = Date.now()): string {
  const expiry = Math.ceil((now + FILE_URL_LIFETIME_MS) / HOUR) * HOUR;
  const [exp, sig] = secret.grant(subject(chatId, fileId, thumbnail), expiry).split('.');
  return `${chatFilePath(chatId, fileId, thumbnail)}?exp=${exp}&sig=${sig}`;
}

export function signatureAllows(secret: ServerSecret, chatId: string, fileId: string, thumbnail: boolean, exp: string, sig: string): boolean {
  return secret.allows(`${exp}.${sig}`, subject(chatId, fileId, thumbnail));
}

/** The message with fresh signed paths for its files (the store gives the unsigned ones). */
export function signFiles(secret: ServerSecret, message: Message, now = Date.now()): Message {
  if (!message.files) return message;
  return {
    ...message,
    files: message.files.map((f) => ({
      ...f,
      url: signedPath(secret, message.chatId, f.id, false, now),
      ...(f.thumbnailUrl ? { thumbnailUrl: signedPath(secret, message.chatId, f.id, true, now) } : {}),
    })),
  };
}

export const toChatFile = ({ id, name, size, contentType }: ChatFileRecord): ChatFile => ({ id, name, size, contentType });

/** A file name as kept: no folders, no control characters, at most CHAT_FILE_LIMITS.nameChars. */
export function cleanName(name: string): string {
  const base = name.split(/[/\\]/).pop()!.replace(/[\u0000-\u001f\u007f]/g, '').trim();
  return [...base].slice(0, CHAT_FILE_LIMITS.nameChars).join('') || 'file';
}

export class ChatFiles {
  readonly content: ContentStore;
  readonly gate: UploadGate;
  private readonly tmpDir: string;

  constructor(
    private readonly store: Store,
    dataDir: string,
  ) {
    const root = resolve(dataDir);
    this.content = new ContentStore(join(root, 'files'));
    this.gate = uploadGate(this.content.dir);
    this.tmpDir = join(root, 'tmp');
  }

  /** Whether the user may upload to (and read files of) the chat: an accepted member. */
  async isMember(user: UserRecord, chatId: string): Promise<boolean> {
    const chat = await this.store.chatById(chatId);
    return chat?.memberStatus.get(user.id) === 'accepted';
  }

  /** Keeps an upload (the caller removes its temporary file) as a file of the chat. */
  async add(user: UserRecord, chatId: string, upload: Upload, name: string): Promise<ChatFileRecord> {
    if (upload.size === 0) throw new AppError(400, 'invalid_request', 'the file is empty');
    const type = await sniff(upload.path);
    const contentType = type?.mime ?? 'application/octet-stream';
    const thumb = THUMBNAILABLE.has(contentType) ? await this.thumbnail(upload.path) : undefined;
    const leave = await this.gate.enter(); // no sweep between keeping the bytes and recording the row
    try {
      await this.content.keep(upload);
      if (thumb) await this.content.keep(thumb);
      const file: ChatFileRecord = {
        id: randomBytes(16).toString('base64url'),
        chatId,
        uploaderId: user.id,
        name: cleanName(name),
        size: upload.size,
        contentType,
        sha256: upload.sha256,
        ...(thumb ? { thumbSha256: thumb.sha256 } : {}),
        createdAt: Date.now(),
      };
      // Refused here (the user left meanwhile), the kept bytes are unreferenced: the sweep deletes them.
      await this.store.write((tx) => addChatFile(tx, file));
      return file;
    } finally {
      leave();
      if (thumb) await rm(thumb.path, { force: true });
    }
  }

  /** A WebP of the image within THUMB_PX × THUMB_PX, in a temporary file; none if sharp cannot read it. */
  private async thumbnail(path: string): Promise<{ path: string; sha256: string } | undefined> {
    let data: Buffer;
    try {
      data = await sharp(path, { limitInputPixels: 100_000_000 })
        .rotate()
        .resize(THUMB_PX, THUMB_PX, { fit: 'inside', withoutEnlargement: true })
        .webp({ quality: 75 })
        .toBuffer();
    } catch {
      return undefined; // a damaged or unusual image is still sent, without a thumbnail
    }
    await privateDir(this.tmpDir);
    const thumbPath = join(this.tmpDir, `thumb-${randomBytes(12).toString('hex')}`);
    await writeFile(thumbPath, data, { mode: 0o600 });
    return { path: thumbPath, sha256: createHash('sha256').update(data).digest('hex') };
  }
}

/** Deletes files no message carries a day after their upload, then the bytes no file names. */
export class ChatFileSweeper {
  private readonly files: ChatFiles;
  private running: Promise<void> | undefined;

  constructor(
    private readonly store: Store,
    dataDir: string,
    private readonly log?: Logger,
  ) {
    this.files = new ChatFiles(store, dataDir);
  }

  /** One sweep; a call while one runs joins it. */
  sweep(now = Date.now()): Promise<void> {
    return (this.running ??= this.files.gate
      .alone(async () => {
        const { deleted, keep } = await this.store.sweepChatFiles(now - UNATTACHED_FILE_LIFETIME_MS);
        const contents = await this.files.content.deleteAllBut(keep);
        if (deleted > 0 || contents > 0) this.log?.info({ files: deleted, contents }, 'deleted chat files no message carries');
      })
      .finally(() => (this.running = undefined)));
  }

  async idle(): Promise<void> {
    await this.running?.catch(() => {});
  }
}
