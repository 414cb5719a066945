/**
 * Reading a push's body (a provider's POST that a shell script can make with curl): JSON,
 * application/x-www-form-urlencoded, or multipart/form-data with at most one file, streamed to a
 * temporary file while its SHA-256 is computed, never held in memory.
 * - Limits: a deadline for forms and for a multipart body up to its file, a minimum rate for the
 *   file; body and file sizes; uploads in progress per sender and their bytes together.
 * - Who sends is not decided here: the caller (providers/cgi.ts) sees every raw byte (for a
 *   signature's HMAC) and is asked, when a file part begins, whom the upload is charged to (it may
 *   refuse: then nothing of the file is written and the rest of the request is not read).
 * Nothing is stored here; a temporary file is removed on failure, else by the route.
 */
import busboy from 'busboy';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Context } from 'koa';
import { AppError } from '../errors.js';
import { privateDir } from '../private-fs.js';
import type { ProviderRecord } from '../store/portal.js';
import { rawBodyWithin } from './body.js';

export const FORM_BYTES = 1024 * 1024;
/** The default of providerBodyDeadlineMs: a form or JSON push (at most 1 MiB) must arrive within this. */
export const FORM_BODY_DEADLINE_MS = 20_000;
/** What a refused upload is told to wait: uploads take a while to finish. */
const UPLOAD_RETRY_S = 10;

/** The body reader's settings (ServerConfig has them all). */
export interface PushBodyLimits {
  providerConcurrentUploads: number;
  uploadSpoolBytes: number;
  uploadMinBytesPerSecond: number;
  uploadRateWindowMs: number;
  providerBodyDeadlineMs: number;
}

export interface Upload {
  path: string;
  size: number;
  sha256: string;
  filename: string;
  mimeType: string;
}

export interface PushBody {
  fields: Record<string, unknown>;
  file?: Upload;
}

/** An authenticated push, as a provider route receives it. */
export interface ProviderRequest extends PushBody {
  provider: ProviderRecord;
  /** Frees the upload's slot and spool bytes: call once the file is kept or removed. */
  release: () => void;
}

/** What http/route.ts needs of the provider gate: read and authenticate a push. `maxFileBytes` 0: no file. */
export interface PushGate {
  read(ctx: Context, maxFileBytes: number): Promise<ProviderRequest>;
}

/** What the reader asks of whoever authenticates the push. */
export interface PushSender {
  /** Every raw byte of the body, in order (for a signature's HMAC). */
  onBytes?: (chunk: Buffer) => void;
  /**
   * A file part begins, after these fields: the key its upload slot is charged to (one sender's
   * uploads at once are capped). Throw to refuse the file; nothing of it has been read yet.
   */
  fileSlot: (fieldsSoFar: readonly [string, string][]) => Promise<string>;
}

/** What one request holds of the upload caps; released once, by the route or on failure. */
export class Held {
  slot?: string;
  bytes = 0;
  constructor(private readonly reader: { free(slot: string | undefined, bytes: number): void }) {}
  readonly release = () => {
    this.reader.free(this.slot, this.bytes);
    this.slot = undefined;
    this.bytes = 0;
  };
}

/**
 * A refusal that came before the body was read: answer, then close rather than read the rest
 * (the error as given, with `Connection: close`, once the body is incomplete).
 */
export function refuseUnread(ctx: Context, error: unknown): unknown {
  if (!(error instanceof AppError) || ctx.req.complete) return error;
  ctx.req.unpipe();
  ctx.req.pause();
  ctx.res.once('finish', () => ctx.req.destroy());
  return new AppError(error.status, error.code, error.message, { ...error.headers, Connection: 'close' });
}

export class PushBodyReader {
  /** Uploads in progress per slot (the sender's key, e.g. `p:<provider id>` or `a:<address>`). */
  private readonly uploads = new Map<string, number>();
  private spooled = 0;

  constructor(
    private readonly tmpDir: string,
    private readonly limits: PushBodyLimits,
  ) {}

  /** A new hold on the upload caps, for one request. */
  hold(): Held {
    return new Held(this);
  }

  free(slot: string | undefined, bytes: number) {
    if (slot) {
      const n = (this.uploads.get(slot) ?? 1) - 1;
      if (n > 0) this.uploads.set(slot, n);
      else this.uploads.delete(slot);
    }
    this.spooled -= bytes;
  }

  /** Reads the body; `sender.onBytes`, if any, sees every raw byte of it. */
  async read(ctx: Context, maxFileBytes: number, sender: PushSender, held: Held): Promise<PushBody> {
    if (ctx.is('multipart/form-data')) return this.readMultipart(ctx, maxFileBytes, sender, held);
    const type = ctx.is('application/json', 'application/x-www-form-urlencoded');
    if (!type) throw new AppError(415, 'unsupported_media_type', 'send application/x-www-form-urlencoded, multipart/form-data or application/json');
    let text: string;
    try {
      const raw = await rawBodyWithin(ctx.req, ctx.res, FORM_BYTES, this.limits.providerBodyDeadlineMs);
      sender.onBytes?.(raw);
      text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
    } catch (error: any) {
      if (error instanceof AppError) throw error; // 408: too slow
      if (error?.type === 'entity.too.large') throw new AppError(413, 'body_too_large', `the body may have at most ${FORM_BYTES} bytes`);
      if (error instanceof TypeError) throw new AppError(400, 'invalid_request', 'the body is not valid UTF-8');
      throw new AppError(400, 'invalid_request', 'the request body could not be read');
    }
    if (type === 'application/json') {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new AppError(400, 'invalid_json', 'the body is not valid JSON');
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new AppError(400, 'invalid_request', 'the body must be a JSON object');
      return { fields: parsed as Record<string, unknown> };
    }
    return { fields: formFields(new URLSearchParams(text)) };
  }

  /**
   * One file a user uploads: multipart/form-data with the file in the field "file", or the file
   * itself as the body (any other Content-Type, or none). Streamed to a temporary file (0600)
   * while its SHA-256 is computed; charged to `slot` (uploads at once per slot, spooled bytes
   * together). The caller authenticates and authorizes before calling: no byte is read before.
   */
  async readFile(ctx: Context, maxFileBytes: number, slot: string, held: Held): Promise<{ fields: Record<string, unknown>; file: Upload }> {
    const sender: PushSender = { fileSlot: async () => slot };
    if (ctx.is('multipart/form-data')) {
      const { fields, file } = await this.readMultipart(ctx, maxFileBytes, sender, held);
      if (!file) throw new AppError(400, 'invalid_request', 'send the file in a multipart field named "file", or as the body itself');
      return { fields, file };
    }
    return { fields: {}, file: await this.readRaw(ctx, maxFileBytes, sender, held) };
  }

  /** The body is the file: at most `maxFileBytes`, at the minimum rate, else the answer closes the connection. */
  private async readRaw(ctx: Context, maxFileBytes: number, sender: PushSender, held: Held): Promise<Upload> {
    const { req } = ctx;
    const tooLarge = () => new AppError(413, 'body_too_large', `the file may have at most ${maxFileBytes} bytes`);
    if (Number(ctx.get('content-length')) > maxFileBytes) throw refuseUnread(ctx, tooLarge());
    try {
      await this.startFile(ctx, sender, [], maxFileBytes, held);
    } catch (error) {
      throw refuseUnread(ctx, error);
    }
    await privateDir(this.tmpDir);
    const { uploadRateWindowMs: windowMs, uploadMinBytesPerSecond: minRate } = this.limits;
    const path = join(this.tmpDir, `upload-${randomBytes(12).toString('hex')}`);
    const hash = createHash('sha256');
    const out = createWriteStream(path, { mode: 0o600 });
    let size = 0;
    let windowBytes = 0;
    let rateCheck: NodeJS.Timeout | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        const onData = (chunk: Buffer) => {
          size += chunk.length;
          windowBytes += chunk.length;
          if (size > maxFileBytes) return stop(tooLarge());
          hash.update(chunk);
          if (!out.write(chunk)) {
            req.pause();
            out.once('drain', () => req.resume());
          }
        };
        /** Stops reading: the answer is sent, then the connection closed (the rest of the body is never read). */
        const stop = (error: AppError) => {
          req.off('data', onData);
          req.pause();
          ctx.res.once('finish', () => req.destroy());
          reject(new AppError(error.status, error.code, error.message, { ...error.headers, Connection: 'close' }));
        };
        rateCheck = setInterval(() => {
          if (windowBytes < (minRate * windowMs) / 1000) stop(new AppError(408, 'invalid_request', `the upload is slower than ${minRate} bytes a second`));
          windowBytes = 0;
        }, windowMs);
        req.on('data', onData);
        req.once('end', () => out.end());
        req.once('aborted', () => reject(new AppError(400, 'invalid_request', 'the upload was cut off')));
        out.once('finish', () => resolve());
        out.once('error', reject);
      });
    } catch (error) {
      if (!out.closed) await new Promise<void>((closed) => out.destroy().once('close', () => closed()));
      await rm(path, { force: true });
      throw error;
    } finally {
      clearInterval(rateCheck);
    }
    return { path, size, sha256: hash.digest('hex'), filename: '', mimeType: ctx.get('content-type') };
  }

  /**
   * A file part begins: its sender names the slot (and may refuse); then it takes an upload slot
   * and reserves its bytes.
   */
  private async startFile(ctx: Context, sender: PushSender, fieldsSoFar: [string, string][], maxFileBytes: number, held: Held) {
    const slot = await sender.fileSlot(fieldsSoFar);
    if ((this.uploads.get(slot) ?? 0) >= this.limits.providerConcurrentUploads) {
      throw new AppError(429, 'rate_limited', `at most ${this.limits.providerConcurrentUploads} uploads at once; try again when one has finished`, {
        'Retry-After': String(UPLOAD_RETRY_S),
      });
    }
    const declared = Number(ctx.get('content-length')) || Infinity;
    const bytes = Math.min(declared, maxFileBytes);
    if (this.spooled + bytes > this.limits.uploadSpoolBytes) {
      throw new AppError(503, 'rate_limited', 'the server is receiving too many uploads at once; try again shortly', { 'Retry-After': String(UPLOAD_RETRY_S) });
    }
    this.uploads.set(slot, (this.uploads.get(slot) ?? 0) + 1);
    this.spooled += bytes;
    held.slot = slot;
    held.bytes = bytes;
  }

  private async readMultipart(ctx: Context, maxFileBytes: number, sender: PushSender, held: Held): Promise<PushBody> {
    const { req } = ctx;
    const { providerBodyDeadlineMs: deadlineMs, uploadRateWindowMs: windowMs, uploadMinBytesPerSecond: minRate } = this.limits;
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: req.headers,
        limits: { fields: 50, fieldSize: FORM_BYTES, files: maxFileBytes > 0 ? 1 : 0, fileSize: maxFileBytes, parts: 60 },
      });
    } catch {
      throw new AppError(400, 'invalid_request', 'a multipart body needs a boundary in its Content-Type');
    }
    if (maxFileBytes > 0) await privateDir(this.tmpDir);
    // From here to req.pipe nothing awaits: every listener of the body is there from its first chunk.
    const fields: [string, string][] = [];
    let fieldBytes = 0;
    let file: Upload | undefined;
    let fileSeen = false;
    let out: WriteStream | undefined;
    let written: Promise<void> = Promise.resolve();
    /** A refusal that still reads the body to its end (the client then gets the answer cleanly). */
    let failure: AppError | undefined;
    const tmpPath = join(this.tmpDir, `upload-${randomBytes(12).toString('hex')}`);
    let windowBytes = 0;
    let deadline: NodeJS.Timeout | undefined;
    let rateCheck: NodeJS.Timeout | undefined;

    const done = new Promise<void>((resolve, reject) => {
      /** A refusal that stops reading at once (the gate then closes the connection after the answer). */
      const stop = (error: unknown) => {
        req.unpipe(parser);
        req.pause();
        reject(error);
      };
      // Up to the file (or, with no file allowed, the whole body) within the form deadline;
      // the file then at a minimum rate, so a slow sender cannot hold a request for long.
      deadline = setTimeout(
        () => stop(new AppError(408, 'invalid_request', `the body${maxFileBytes > 0 ? ' up to its file' : ''} did not arrive within ${deadlineMs / 1000} s`)),
        deadlineMs,
      );
      req.on('data', (chunk: Buffer) => (windowBytes += chunk.length));

      parser.on('field', (name, value, info) => {
        fieldBytes += value.length;
        if (info.valueTruncated || fieldBytes > FORM_BYTES) failure ??= new AppError(413, 'body_too_large', `the fields may have at most ${FORM_BYTES} bytes`);
        fields.push([name, value]);
      });
      parser.on('file', (name, stream, info) => {
        if (name !== 'file' || fileSeen) {
          failure ??= new AppError(400, 'invalid_request', 'send one file, in the field named "file"');
          stream.resume();
          return;
        }
        fileSeen = true;
        // Until startFile has decided, nothing is read from the file (busboy holds back the body).
        this.startFile(ctx, sender, fields, maxFileBytes, held).then(() => {
          clearTimeout(deadline);
          windowBytes = 0;
          rateCheck = setInterval(() => {
            if (windowBytes < (minRate * windowMs) / 1000) {
              stop(new AppError(408, 'invalid_request', `the upload is slower than ${minRate} bytes a second`));
            }
            windowBytes = 0;
          }, windowMs);
          const hash = createHash('sha256');
          let size = 0;
          out = createWriteStream(tmpPath, { mode: 0o600 });
          stream.on('data', (chunk: Buffer) => {
            size += chunk.length;
            hash.update(chunk);
          });
          stream.on('limit', () => {
            failure ??= new AppError(413, 'body_too_large', `the file may have at most ${maxFileBytes} bytes`);
          });
          const target = out;
          written = new Promise((ok, fail) => {
            target.on('finish', () => ok());
            target.on('error', fail);
          });
          written.catch(() => {}); // awaited below; an abandoned upload's stream may fail unobserved
          stream.pipe(out);
          file = { path: tmpPath, size: 0, sha256: '', filename: info.filename ?? '', mimeType: info.mimeType };
          stream.on('end', () => {
            file!.size = size;
            file!.sha256 = hash.digest('hex');
          });
        }, stop);
      });
      parser.on('filesLimit', () => (failure ??= new AppError(400, 'invalid_request', maxFileBytes > 0 ? 'send one file only' : 'this endpoint takes no file')));
      parser.on('fieldsLimit', () => (failure ??= new AppError(413, 'body_too_large', 'too many fields')));
      parser.on('partsLimit', () => (failure ??= new AppError(413, 'body_too_large', 'too many parts')));
      parser.on('close', resolve);
      parser.on('error', () => reject(new AppError(400, 'invalid_request', 'the multipart body is malformed')));
      req.on('aborted', () => reject(new AppError(400, 'invalid_request', 'the upload was cut off')));
    });
    // Both listen from the same tick, so neither misses a chunk.
    const { onBytes } = sender;
    if (onBytes) req.on('data', (chunk: Buffer) => onBytes(chunk));
    req.pipe(parser);
    try {
      await done;
      await written;
      if (failure) throw failure;
    } catch (error) {
      if (out && !out.closed) await new Promise<void>((closed) => out!.destroy().once('close', () => closed()));
      await rm(tmpPath, { force: true });
      throw error;
    } finally {
      clearTimeout(deadline);
      clearInterval(rateCheck);
    }
    return { fields: formFields(fields), file };
  }
}

/** Form fields as an object; a repeated name becomes a list (zod then says it wanted one). */
function formFields(entries: Iterable<[string, string]>): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const [name, value] of entries) {
    const prev = fields[name];
    fields[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return fields;
}
