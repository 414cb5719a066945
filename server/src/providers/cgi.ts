/**
 * Reading a provider's push: one HTTP POST that a shell script can make with curl.
 * - Body: JSON, application/x-www-form-urlencoded, or multipart/form-data (with at most one
 *   file, streamed to a temporary file while its SHA-256 is computed, never held in memory).
 * - Who: the provider key in `Authorization: Bearer` or a `key` field; or, for providers who
 *   sign, `X-Portico-Provider` + `X-Portico-Timestamp` + `X-Portico-Signature: sha256=<hex>`,
 *   the HMAC-SHA256 of "<timestamp>.<raw body>" under the key, which then never travels.
 * - Limits: a request rate per provider (429 with Retry-After), body and file sizes.
 * Nothing is stored here; a temporary file is removed unless the route keeps it.
 */
import busboy from 'busboy';
import { createHash, createHmac, randomBytes, timingSafeEqual, type Hmac } from 'node:crypto';
import { createWriteStream } from 'node:fs';
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
/** A form or JSON push (at most 1 MiB) must arrive within this; multipart uploads have the server's 15 minutes. */
export const FORM_BODY_DEADLINE_MS = 20_000;
export const SIGNATURE_WINDOW_S = 300;

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
}

export const hashKey = (key: string) => createHash('sha256').update(key).digest();
export const newProviderKey = () => `pk_${randomBytes(24).toString('base64url')}`;

const unauthorized = (message: string) =>
  new AppError(401, 'unauthorized', message, { 'WWW-Authenticate': 'Bearer' });

export class ProviderGate {
  private readonly limiter: RateLimiterMemory;

  constructor(
    private readonly store: Store,
    private readonly secret: ServerSecret,
    private readonly tmpDir: string,
    requestsPerMinute: number,
  ) {
    this.limiter = new RateLimiterMemory({ points: requestsPerMinute, duration: 60 });
  }

  /** Reads, authenticates and rate-limits a push. `maxFileBytes` 0: no file allowed. */
  async read(ctx: Context, maxFileBytes: number): Promise<ProviderRequest> {
    const signed = ctx.get('x-portico-signature');
    let provider: ProviderRecord | undefined;
    let hmac: Hmac | undefined;
    let expectedMac: string | undefined;
    if (signed) {
      ({ provider, hmac, expectedMac } = await this.signedProvider(ctx, signed));
    } else {
      const bearer = /^Bearer (\S+)$/.exec(ctx.get('authorization'))?.[1];
      if (bearer) provider = await this.byKey(bearer);
    }
    if (provider) await this.limit(provider); // before reading a body we may refuse anyway
    else if (!ctx.is('multipart/form-data', 'application/x-www-form-urlencoded', 'application/json')) {
      throw unauthorized('send the provider key: Authorization: Bearer <key>, or a key field');
    }

    const { fields, file } = await this.readBody(ctx, maxFileBytes, hmac);
    try {
      if (hmac) {
        const mac = Buffer.from(hmac.digest('hex'));
        const given = Buffer.from(expectedMac!);
        if (mac.length !== given.length || !timingSafeEqual(mac, given)) throw unauthorized('the signature does not match the body');
      }
      const fieldKey = fields.key;
      delete fields.key;
      if (!provider) {
        if (typeof fieldKey !== 'string' || !fieldKey) throw unauthorized('send the provider key: Authorization: Bearer <key>, or a key field');
        provider = await this.byKey(fieldKey);
        await this.limit(provider);
      }
      if (provider.requireSignature && !signed) throw unauthorized('this provider must sign its requests (X-Portico-Signature)');
      return { provider, fields, file };
    } catch (error) {
      if (file) await rm(file.path, { force: true });
      throw error;
    }
  }

  /** Throws 403 unless the provider may post to the channel. */
  static allow(provider: ProviderRecord, channel: string) {
    if (!provider.channels.some((c) => c.toLowerCase() === channel.toLowerCase())) {
      throw new AppError(403, 'forbidden', `provider ${provider.name} may not post to channel ${channel} (it may post to: ${provider.channels.join(', ')})`);
    }
  }

  private async byKey(key: string): Promise<ProviderRecord> {
    const provider = await this.store.portal.providerByKeyHash(hashKey(key));
    if (!provider) throw unauthorized('unknown provider key');
    return provider;
  }

  private async signedProvider(ctx: Context, signature: string) {
    const name = ctx.get('x-portico-provider');
    const timestamp = ctx.get('x-portico-timestamp');
    const mac = /^sha256=([0-9a-f]{64})$/i.exec(signature)?.[1]?.toLowerCase();
    if (!name || !/^\d{1,12}$/.test(timestamp) || !mac) {
      throw unauthorized('a signed request needs X-Portico-Provider, X-Portico-Timestamp (Unix seconds) and X-Portico-Signature: sha256=<hex>');
    }
    if (Math.abs(Date.now() / 1000 - Number(timestamp)) > SIGNATURE_WINDOW_S) {
      throw unauthorized(`the timestamp is more than ${SIGNATURE_WINDOW_S} s away from the server's clock (replayed, or a clock is wrong)`);
    }
    const provider = await this.store.portal.providerByName(name);
    if (!provider) throw unauthorized('unknown provider');
    const hmac = createHmac('sha256', this.secret.unseal(provider.keySealed)).update(`${timestamp}.`);
    return { provider, hmac, expectedMac: mac };
  }

  private async limit(provider: ProviderRecord) {
    try {
      await this.limiter.consume(String(provider.id));
    } catch (res) {
      if (!(res instanceof RateLimiterRes)) throw res;
      const seconds = Math.max(1, Math.ceil(res.msBeforeNext / 1000));
      throw new AppError(429, 'rate_limited', `provider ${provider.name} sends too often; try again in ${seconds} s`, { 'Retry-After': String(seconds) });
    }
  }

  /** Reads the body; `hmac` sees every raw byte of it. */
  private async readBody(ctx: Context, maxFileBytes: number, hmac?: Hmac): Promise<{ fields: Record<string, unknown>; file?: Upload }> {
    if (ctx.is('multipart/form-data')) return this.readMultipart(ctx, maxFileBytes, hmac);
    const type = ctx.is('application/json', 'application/x-www-form-urlencoded');
    if (!type) throw new AppError(415, 'unsupported_media_type', 'send application/x-www-form-urlencoded, multipart/form-data or application/json');
    let text: string;
    try {
      const raw = await rawBodyWithin(ctx.req, ctx.res, FORM_BYTES, FORM_BODY_DEADLINE_MS);
      hmac?.update(raw);
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

  private async readMultipart(ctx: Context, maxFileBytes: number, hmac?: Hmac): Promise<{ fields: Record<string, unknown>; file?: Upload }> {
    await privateDir(this.tmpDir);
    const fields: [string, string][] = [];
    let file: Upload | undefined;
    let failure: AppError | undefined;
    let written: Promise<void> = Promise.resolve();
    const tmpPath = join(this.tmpDir, `upload-${randomBytes(12).toString('hex')}`);

    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: ctx.req.headers,
        limits: { fields: 50, fieldSize: FORM_BYTES, files: maxFileBytes > 0 ? 1 : 0, fileSize: maxFileBytes, parts: 60 },
      });
    } catch {
      throw new AppError(400, 'invalid_request', 'a multipart body needs a boundary in its Content-Type');
    }
    const done = new Promise<void>((resolve, reject) => {
      parser.on('field', (name, value, info) => {
        if (info.valueTruncated) failure ??= new AppError(413, 'body_too_large', `the field ${name} is too long`);
        fields.push([name, value]);
      });
      parser.on('file', (name, stream, info) => {
        if (name !== 'file' || file) {
          failure ??= new AppError(400, 'invalid_request', 'send one file, in the field named "file"');
          stream.resume();
          return;
        }
        const hash = createHash('sha256');
        let size = 0;
        const out = createWriteStream(tmpPath, { mode: 0o600 });
        stream.on('data', (chunk: Buffer) => {
          size += chunk.length;
          hash.update(chunk);
        });
        stream.on('limit', () => {
          failure ??= new AppError(413, 'body_too_large', `the file may have at most ${maxFileBytes} bytes`);
        });
        written = new Promise((ok, fail) => {
          out.on('finish', () => ok());
          out.on('error', fail);
        });
        stream.pipe(out);
        file = { path: tmpPath, size: 0, sha256: '', filename: info.filename ?? '', mimeType: info.mimeType };
        stream.on('end', () => {
          file!.size = size;
          file!.sha256 = hash.digest('hex');
        });
      });
      parser.on('filesLimit', () => (failure ??= new AppError(400, 'invalid_request', maxFileBytes > 0 ? 'send one file only' : 'this endpoint takes no file')));
      parser.on('fieldsLimit', () => (failure ??= new AppError(413, 'body_too_large', 'too many fields')));
      parser.on('partsLimit', () => (failure ??= new AppError(413, 'body_too_large', 'too many parts')));
      parser.on('close', resolve);
      parser.on('error', () => reject(new AppError(400, 'invalid_request', 'the multipart body is malformed')));
      ctx.req.on('aborted', () => reject(new AppError(400, 'invalid_request', 'the upload was cut off')));
    });
    // Both listen from the same tick, so neither misses a chunk.
    if (hmac) ctx.req.on('data', (chunk: Buffer) => hmac.update(chunk));
    ctx.req.pipe(parser);
    try {
      await done;
      await written;
      if (failure) throw failure;
    } catch (error) {
      await rm(tmpPath, { force: true });
      throw error;
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
