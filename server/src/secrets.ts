/**
 * The server's own secret (32 random bytes in the data directory, readable by the server's user
 * only). It seals provider keys at rest, so HMAC signatures can be checked without keeping keys
 * in clear, and it signs the expiring capability paths media and games are served under
 * (a <video> or a sandboxed game cannot send the user's bearer token).
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, linkSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tightenIfExists } from './private-fs.js';
import { join } from 'node:path';

export class ServerSecret {
  private readonly sealKey: Buffer;
  private readonly signKey: Buffer;

  constructor(secret: Buffer) {
    this.sealKey = Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), 'portico seal', 32));
    this.signKey = Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), 'portico sign', 32));
  }

  /** Loads the data directory's secret, creating it on first use. */
  static load(dataDir: string): ServerSecret {
    const file = join(dataDir, 'secret.key');
    if (!existsSync(file)) {
      // Nodes of a cluster starting together on a shared data directory: the file appears whole
      // (written aside, then linked: no node reads it half written) and the first one wins.
      const aside = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
      writeFileSync(aside, randomBytes(32), { mode: 0o600, flag: 'wx' });
      try {
        linkSync(aside, file);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      } finally {
        rmSync(aside, { force: true });
      }
    } else tightenIfExists(file); // one an older version (or a copy) left readable by others
    const secret = readFileSync(file);
    if (secret.length !== 32) throw new Error(`${file} is damaged: expected 32 bytes`);
    return new ServerSecret(secret);
  }

  seal(text: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.sealKey, iv);
    const body = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
  }

  unseal(sealed: string): string {
    const raw = Buffer.from(sealed, 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', this.sealKey, raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  }

  /** A path token granting `subject` until `expiresAt` (ms): "<expiry base36>.<mac>". */
  grant(subject: string, expiresAt: number): string {
    const expiry = Math.ceil(expiresAt / 1000).toString(36);
    return `${expiry}.${this.mac(`${expiry}.${subject}`)}`;
  }

  /** True if the token grants `subject` now. */
  allows(token: string, subject: string, now = Date.now()): boolean {
    const [expiry, mac] = token.split('.');
    if (!expiry || !mac || !/^[0-9a-z]{1,10}$/.test(expiry) || parseInt(expiry, 36) * 1000 <= now) return false;
    const expected = Buffer.from(this.mac(`${expiry}.${subject}`));
    const given = Buffer.from(mac);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  /**
   * A name for content that only this server can compute (HMAC-SHA256 of the bytes, 64 hex):
   * the same bytes get the same name, but nobody can derive the name of a picture they merely
   * guess, so a path named by it is a capability.
   */
  contentKey(label: string, data: Buffer): string {
    return createHmac('sha256', this.signKey).update(`content:${label}\n`).update(data).digest('hex');
  }

  private mac(text: string): string {
    return createHmac('sha256', this.signKey).update(text).digest('base64url').slice(0, 32);
  }
}
