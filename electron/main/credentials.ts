/**
 * Proxy credentials remembered between runs, encrypted with the operating system's key store
 * (Electron's safeStorage, passed in as `cipher` so this module stays testable). When no real
 * key store is available, nothing is written to disk: credentials live for this run only.
 */
import { z } from 'zod';

export interface Credentials {
  username: string;
  password: string;
}

export interface Cipher {
  /** False when only a plain-text fallback exists (e.g. Linux without a keyring). */
  available(): boolean;
  encrypt(plain: string): Buffer;
  decrypt(encrypted: Buffer): string;
}

export interface CredentialFile {
  read(): string | undefined;
  write(text: string): void;
}

const Stored = z.record(z.string(), z.string().max(10_000));
const Plain = z.strictObject({ username: z.string().max(1024), password: z.string().max(1024) });

/** The key one proxy's credentials are kept under. */
export function proxyKey(info: { scheme: string; host: string; port: number; realm?: string }): string {
  return `${info.scheme.toLowerCase()}://${info.host.toLowerCase()}:${info.port}/${info.realm ?? ''}`;
}

export class CredentialStore {
  readonly #memory = new Map<string, Credentials>();

  constructor(
    private readonly file: CredentialFile,
    private readonly cipher: Cipher,
  ) {}

  #readAll(): Record<string, string> {
    try {
      const text = this.file.read();
      const parsed = text ? Stored.safeParse(JSON.parse(text)) : undefined;
      return parsed?.success ? parsed.data : {};
    } catch {
      return {};
    }
  }

  get(key: string): Credentials | undefined {
    const cached = this.#memory.get(key);
    if (cached) return cached;
    const encrypted = this.#readAll()[key];
    if (!encrypted || !this.cipher.available()) return undefined;
    try {
      const parsed = Plain.safeParse(JSON.parse(this.cipher.decrypt(Buffer.from(encrypted, 'base64'))));
      if (!parsed.success) return undefined;
      this.#memory.set(key, parsed.data);
      return parsed.data;
    } catch {
      return undefined; // another user's or machine's key store: ask again
    }
  }

  set(key: string, credentials: Credentials): void {
    this.#memory.set(key, credentials);
    if (!this.cipher.available()) return;
    const all = this.#readAll();
    all[key] = this.cipher.encrypt(JSON.stringify(credentials)).toString('base64');
    this.file.write(JSON.stringify(all));
  }

  delete(key: string): void {
    this.#memory.delete(key);
    const all = this.#readAll();
    if (key in all) {
      delete all[key];
      this.file.write(JSON.stringify(all));
    }
  }
}
