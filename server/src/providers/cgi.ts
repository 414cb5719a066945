/**
 * Reading a provider's push: one HTTP POST that a shell script can make with curl.
 * - Body: JSON, application/x-www-form-urlencoded, or multipart/form-data (with at most one
 *   file, streamed to a temporary file while its SHA-256 is computed, never held in memory).
 * - Who: the provider key in `Authorization: Bearer` or a `key` field (in a multipart upload,
 *   before the file); or, for providers who sign, `X-Portico-Provider` + `X-Portico-Timestamp` +
 *   `X-Portico-Signature: sha256=<hex>`, the HMAC-SHA256 of "<timestamp>.<METHOD>.<path>.<raw
 *   body>" under the key (path without the query), which then never travels; each signature is
 *   accepted once.
 * - Order: nothing of a file is written before its sender is known (a key) or named (a
 *   signature, whose HMAC can only be checked after the body); a file part without either is
 *   refused and the rest of the request is not read.
 * - Limits: pushes per provider, charged only once authenticated; failed authentications per
 *   client address; uploads in progress per provider (per address while a signature is still
 *   unchecked) and their bytes together; a deadline for forms and for a multipart body up to its
 *   file, a minimum rate for the file; body and file sizes.
 * Nothing is stored here; a temporary file is removed unless the route keeps it.
 */
import busboy from 'busboy';
import { createHash, createHmac, randomBytes, timingSafeEqual, type Hmac } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Context } from 'koa';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { AppError } from '../errors.js';
import { rawBodyWithin } from '../http/body.js';
import { privateDir } from '../private-fs.js';
import type { ServerSecret } from '../secrets.js';
import type { ProviderRecord } from '../store/portal.js';
import type { Store } from '../store/store.js';

export const FORM_BYTES = 1024 * 1024;
/** The default of providerBodyDeadlineMs: a form or JSON push (at most 1 MiB) must arrive within this. */
export const FORM_BODY_DEADLINE_MS = 20_000;
export const SIGNATURE_WINDOW_S = 300;
/** What a refused upload is told to wait: uploads take a while to finish. */
const UPLOAD_RETRY_S = 10;

/** The gate's settings (ServerConfig has them all). */
export interface GateLimits {
  providerRequestsPerMinute: number;
  providerFailuresPerIpPerMinute: number;
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

export interface ProviderRequest {
  provider: ProviderRecord;
  fields: Record<string, unknown>;
  file?: Upload;
  /** Frees the upload's slot and spool bytes: call once the file is kept or removed. */
  release: () => void;
}

export const hashKey = (key: string) => createHash('sha256').update(key).digest();
export const newProviderKey = () => `pk_${randomBytes(24).toString('base64url')}`;

const unauthorized = (message: string) => new AppError(401, 'unauthorized', message, { 'WWW-Authenticate': 'Bearer' });
/** One answer for an unknown key, an unknown provider name and a wrong signature: no oracle for names. */
const BAD_CREDENTIALS = 'unknown provider, wrong key or wrong signature';
const NO_KEY = 'send the provider key: Authorization: Bearer <key>, or a key field (in a multipart upload, before the file); or sign the request';

/** How a push says who sent it; `provider` is set once known (for a signature: named, verified only after the body). */
interface Caller {
  via: 'bearer' | 'field' | 'signature';
  provider?: ProviderRecord;
  authenticated: boolean;
  hmac?: Hmac;
  mac?: string;
  /** The signature as remembered once accepted: for this provider name (names are case-insensitive). */
  used?: string;
  /** When the signature's window ends (ms): it is remembered as used until then. */
  signatureEndsMs?: number;
}

/**
 * Signatures already accepted, each until its timestamp window ends (after that the timestamp
 * check refuses it anyway). In memory: Portico runs as one node; a restart forgets them, so a
 * request signed in the last 5 minutes before a restart could be accepted once more.
 */
class UsedSignatures {
  private readonly until = new Map<string, number>();
  private nextSweep = 0;

  has(signature: string) {
    const ends = this.until.get(signature);
    return ends !== undefined && ends > Date.now();
  }

  /** Marks the signature used; false if it already was (checked and set in one step). */
  take(signature: string, endsMs: number): boolean {
    const now = Date.now();
    if (now >= this.nextSweep) {
      for (const [m, ends] of this.until) if (ends <= now) this.until.delete(m);
      this.nextSweep = now + 10_000;
    }
    if (this.has(signature)) return false;
    this.until.set(signature, endsMs);
    return true;
  }
}

/** What one request holds of the upload caps; released once, by the route or on failure. */
class Held {
  slot?: string;
  bytes = 0;
  constructor(private readonly gate: { free(slot: string | undefined, bytes: number): void }) {}
  readonly release = () => {
    this.gate.free(this.slot, this.bytes);
    this.slot = undefined;
    this.bytes = 0;
  };
}

export class ProviderGate {
  private readonly pushes: RateLimiterMemory;
  private readonly failures: RateLimiterMemory;
  private readonly used = new UsedSignatures();
  /** Uploads in progress per provider (`p:<id>`) or, for unverified signers, per address (`a:<ip>`). */
  private readonly uploads = new Map<string, number>();
  private spooled = 0;

  constructor(
    private readonly store: Store,
    private readonly secret: ServerSecret,
    private readonly tmpDir: string,
    private readonly limits: GateLimits,
  ) {
    this.pushes = new RateLimiterMemory({ points: limits.providerRequestsPerMinute, duration: 60 });
    this.failures = new RateLimiterMemory({ points: limits.providerFailuresPerIpPerMinute, duration: 60 });
  }

  /** Reads, authenticates and rate-limits a push. `maxFileBytes` 0: no file allowed. */
  async read(ctx: Context, maxFileBytes: number): Promise<ProviderRequest> {
    const held = new Held(this);
    try {
      return await this.readPush(ctx, maxFileBytes, held);
    } catch (error) {
      held.release();
      if (!(error instanceof AppError) || ctx.req.complete) throw error;
      // Refused before the body was read: answer, then close rather than read the rest.
      ctx.req.unpipe();
      ctx.req.pause();
      ctx.res.once('finish', () => ctx.req.destroy());
      throw new AppError(error.status, error.code, error.message, { ...error.headers, Connection: 'close' });
    }
  }

  /** Throws 403 unless the provider may post to the channel. */
  static allow(provider: ProviderRecord, channel: string) {
    if (!provider.channels.some((c) => c.toLowerCase() === channel.toLowerCase())) {
      throw new AppError(403, 'forbidden', `provider ${provider.name} may not post to channel ${channel} (it may post to: ${provider.channels.join(', ')})`);
    }
  }

  free(slot: string | undefined, bytes: number) {
    if (slot) {
      const n = (this.uploads.get(slot) ?? 1) - 1;
      if (n > 0) this.uploads.set(slot, n);
      else this.uploads.delete(slot);
    }
    this.spooled -= bytes;
  }

  private async readPush(ctx: Context, maxFileBytes: number, held: Held): Promise<ProviderRequest> {
    await this.checkAddress(ctx);
    const caller = await this.caller(ctx);
    if (caller.via === 'field' && !ctx.is('multipart/form-data', 'application/x-www-form-urlencoded', 'application/json')) {
      throw await this.failed(ctx, NO_KEY);
    }
    const { fields, file } = await this.readBody(ctx, maxFileBytes, caller, held);
    try {
      if (caller.via === 'signature') await this.verify(ctx, caller);
      else if (!caller.authenticated) await this.authenticateKey(ctx, caller, fields.key);
      delete fields.key;
      return { provider: caller.provider!, fields, file, release: held.release };
    } catch (error) {
      if (file) await rm(file.path, { force: true });
      throw error;
    }
  }

  /** Who the headers say sent the push; a bearer key is checked (and charged) here, before the body. */
  private async caller(ctx: Context): Promise<Caller> {
    const signature = ctx.get('x-portico-signature');
    if (signature) return this.signer(ctx, signature);
    const bearer = /^Bearer (\S+)$/.exec(ctx.get('authorization'))?.[1];
    if (!bearer) return { via: 'field', authenticated: false };
    const caller: Caller = { via: 'bearer', authenticated: false };
    await this.authenticateKey(ctx, caller, bearer);
    return caller;
  }

  /** A key (bearer or field): authenticated, refused if it must sign, then charged to the provider. */
  private async authenticateKey(ctx: Context, caller: Caller, key: unknown) {
    if (typeof key !== 'string' || !key) throw await this.failed(ctx, NO_KEY);
    const provider = await this.store.portal.providerByKeyHash(hashKey(key));
    if (!provider) throw await this.failed(ctx, BAD_CREDENTIALS);
    if (provider.requireSignature) throw unauthorized('this provider must sign its requests (X-Portico-Signature)');
    await this.charge(provider);
    caller.provider = provider;
    caller.authenticated = true;
  }

  /** A signed push's headers: well-formed, in the window, not used before. The HMAC is checked after the body. */
  private async signer(ctx: Context, signature: string): Promise<Caller> {
    const name = ctx.get('x-portico-provider');
    const timestamp = ctx.get('x-portico-timestamp');
    const mac = /^sha256=([0-9a-f]{64})$/i.exec(signature)?.[1]?.toLowerCase();
    if (!name || !/^\d{1,12}$/.test(timestamp) || !mac) {
      throw await this.failed(ctx, 'a signed request needs X-Portico-Provider, X-Portico-Timestamp (Unix seconds) and X-Portico-Signature: sha256=<hex>');
    }
    if (Math.abs(Date.now() / 1000 - Number(timestamp)) > SIGNATURE_WINDOW_S) {
      throw await this.failed(ctx, `the timestamp is more than ${SIGNATURE_WINDOW_S} s away from the server's clock (replayed, or a clock is wrong)`);
    }
    const used = `${name.toLowerCase()} ${mac}`;
    if (this.used.has(used)) throw await this.replayed(ctx);
    // An unknown name is read like a wrong signature (a key nobody has), so neither the answer
    // nor when it comes tells which names exist.
    const provider = await this.store.portal.providerByName(name);
    const key = provider ? this.secret.unseal(provider.keySealed) : randomBytes(32);
    const hmac = createHmac('sha256', key).update(`${timestamp}.${ctx.method}.${ctx.path}.`);
    return { via: 'signature', provider, authenticated: false, hmac, mac, used, signatureEndsMs: (Number(timestamp) + SIGNATURE_WINDOW_S) * 1000 };
  }

  /** After the body: the HMAC, then the provider's rate, then the signature is marked used. */
  private async verify(ctx: Context, caller: Caller) {
    const mac = Buffer.from(caller.hmac!.digest('hex'));
    const given = Buffer.from(caller.mac!);
    if (!caller.provider || mac.length !== given.length || !timingSafeEqual(mac, given)) throw await this.failed(ctx, BAD_CREDENTIALS);
    await this.charge(caller.provider);
    if (!this.used.take(caller.used!, caller.signatureEndsMs!)) throw await this.replayed(ctx);
    caller.authenticated = true;
  }

  /** 429 for an address past its failed authentications. */
  private async checkAddress(ctx: Context) {
    const res = await this.failures.get(ctx.ip);
    if (res && res.consumedPoints >= this.limits.providerFailuresPerIpPerMinute) {
      const seconds = Math.max(1, Math.ceil(res.msBeforeNext / 1000));
      throw new AppError(429, 'rate_limited', `too many failed provider authentications from this address; try again in ${seconds} s`, { 'Retry-After': String(seconds) });
    }
  }

  /** A failed authentication, charged to the client's address (never to the provider it named). */
  private async failed(ctx: Context, message: string): Promise<AppError> {
    await this.failures.consume(ctx.ip).catch((res) => {
      if (!(res instanceof RateLimiterRes)) throw res; // over: the next request gets 429
    });
    return unauthorized(message);
  }

  private async replayed(ctx: Context): Promise<AppError> {
    await this.failed(ctx, '');
    return new AppError(409, 'replayed', 'this signature was already accepted: sign each request with a fresh timestamp');
  }

  private async charge(provider: ProviderRecord) {
    try {
      await this.pushes.consume(String(provider.id));
    } catch (res) {
      if (!(res instanceof RateLimiterRes)) throw res;
      const seconds = Math.max(1, Math.ceil(res.msBeforeNext / 1000));
      throw new AppError(429, 'rate_limited', `provider ${provider.name} sends too often; try again in ${seconds} s`, { 'Retry-After': String(seconds) });
    }
  }

  /**
   * A file part begins: its sender must be known by now (a key in a header or in a field before
   * the file, or a signer's name); then it takes an upload slot and reserves its bytes.
   */
  private async startFile(ctx: Context, caller: Caller, fieldsSoFar: [string, string][], maxFileBytes: number, held: Held) {
    if (caller.via === 'field' && !caller.authenticated) await this.authenticateKey(ctx, caller, fieldsSoFar.find(([name]) => name === 'key')?.[1]);
    const slot = caller.authenticated ? `p:${caller.provider!.id}` : `a:${ctx.ip}`;
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

  /** Reads the body; the caller's HMAC, if any, sees every raw byte of it. */
  private async readBody(ctx: Context, maxFileBytes: number, caller: Caller, held: Held): Promise<{ fields: Record<string, unknown>; file?: Upload }> {
    if (ctx.is('multipart/form-data')) return this.readMultipart(ctx, maxFileBytes, caller, held);
    const type = ctx.is('application/json', 'application/x-www-form-urlencoded');
    if (!type) throw new AppError(415, 'unsupported_media_type', 'send application/x-www-form-urlencoded, multipart/form-data or application/json');
    let text: string;
    try {
      const raw = await rawBodyWithin(ctx.req, ctx.res, FORM_BYTES, this.limits.providerBodyDeadlineMs);
      caller.hmac?.update(raw);
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

  private async readMultipart(ctx: Context, maxFileBytes: number, caller: Caller, held: Held): Promise<{ fields: Record<string, unknown>; file?: Upload }> {
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
      /** A refusal that stops reading at once (read() then closes the connection after the answer). */
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
        this.startFile(ctx, caller, fields, maxFileBytes, held).then(() => {
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
    if (caller.hmac) req.on('data', (chunk: Buffer) => caller.hmac!.update(chunk));
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
