/**
 * Who sent a provider's push, and may it: one HTTP POST that a shell script can make with curl.
 * The body (JSON, form, or multipart with one file) is read by http/push-body.ts; this gate
 * decides who sends and when, around that reading.
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
 *   unchecked), counted by the body reader.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual, type Hmac } from 'node:crypto';
import { rm } from 'node:fs/promises';
import type { Context } from 'koa';
import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { AppError } from '../errors.js';
import { PushBodyReader, refuseUnread, type Held, type ProviderRequest, type PushBodyLimits, type PushGate, type PushSender } from '../http/push-body.js';
import { SharedLimits } from '../http/shared-limits.js';
import type { ServerSecret } from '../secrets.js';
import type { ProviderRecord } from '../store/portal.js';
import type { Store } from '../store/store.js';

// Where they were before the body reader moved to http/ (fuzz tests and media import them from here).
export { FORM_BODY_DEADLINE_MS, FORM_BYTES, type ProviderRequest, type Upload } from '../http/push-body.js';

export const SIGNATURE_WINDOW_S = 300;

/** The gate's settings (ServerConfig has them all). */
export interface GateLimits extends PushBodyLimits {
  providerRequestsPerMinute: number;
  providerFailuresPerIpPerMinute: number;
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

export class ProviderGate implements PushGate {
  private readonly pushes: RateLimiterAbstract;
  private readonly failures: RateLimiterAbstract;
  private readonly body: PushBodyReader;

  constructor(
    private readonly store: Store,
    private readonly secret: ServerSecret,
    tmpDir: string,
    private readonly limits: GateLimits,
    /** Rate limits and used signatures, shared by the cluster's nodes when Redis is configured. */
    private readonly shared: SharedLimits = SharedLimits.local(),
  ) {
    this.body = new PushBodyReader(tmpDir, limits);
    this.pushes = shared.limiter({ name: 'provider-pushes', points: limits.providerRequestsPerMinute, duration: 60 });
    this.failures = shared.limiter({ name: 'provider-failures', points: limits.providerFailuresPerIpPerMinute, duration: 60 });
  }

  /** Reads, authenticates and rate-limits a push. `maxFileBytes` 0: no file allowed. */
  async read(ctx: Context, maxFileBytes: number): Promise<ProviderRequest> {
    const held = this.body.hold();
    try {
      return await this.readPush(ctx, maxFileBytes, held);
    } catch (error) {
      held.release();
      throw refuseUnread(ctx, error);
    }
  }

  /** Throws 403 unless the provider may post to the channel. */
  static allow(provider: ProviderRecord, channel: string) {
    if (!provider.channels.some((c) => c.toLowerCase() === channel.toLowerCase())) {
      throw new AppError(403, 'forbidden', `provider ${provider.name} may not post to channel ${channel} (it may post to: ${provider.channels.join(', ')})`);
    }
  }

  private async readPush(ctx: Context, maxFileBytes: number, held: Held): Promise<ProviderRequest> {
    await this.checkAddress(ctx);
    const caller = await this.caller(ctx);
    if (caller.via === 'field' && !ctx.is('multipart/form-data', 'application/x-www-form-urlencoded', 'application/json')) {
      throw await this.failed(ctx, NO_KEY);
    }
    const { fields, file } = await this.body.read(ctx, maxFileBytes, this.sender(ctx, caller), held);
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
    if (await this.shared.used(`signature:${used}`)) throw await this.replayed(ctx);
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
    // Remembered until its window ends (then the timestamp check refuses it anyway); across nodes with Redis.
    if (!(await this.shared.once(`signature:${caller.used!}`, caller.signatureEndsMs!))) throw await this.replayed(ctx);
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
   * What the body reader asks: every raw byte goes to a signature's HMAC; a file part's sender
   * must be known by then (a key in a header or in a field before the file, or a signer's name),
   * and its upload is charged to the provider (to the address while a signature is unchecked).
   */
  private sender(ctx: Context, caller: Caller): PushSender {
    const hmac = caller.hmac;
    return {
      onBytes: hmac ? (chunk) => hmac.update(chunk) : undefined,
      fileSlot: async (fieldsSoFar) => {
        if (caller.via === 'field' && !caller.authenticated) await this.authenticateKey(ctx, caller, fieldsSoFar.find(([name]) => name === 'key')?.[1]);
        return caller.authenticated ? `p:${caller.provider!.id}` : `a:${ctx.ip}`;
      },
    };
  }
}

