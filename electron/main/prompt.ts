/**
 * Small modal-like prompt windows (electron side of prompt-page.ts), and the proxy login they
 * serve: credentials come from the OS-encrypted store on a first attempt, else from the user.
 */
import { ipcMain, safeStorage, type AuthInfo, type IpcMainEvent } from 'electron';
import { readFileSync, writeFileSync } from 'node:fs';
import { PROMPT_CHANNEL } from '../preload/bridge.js';
import { CredentialStore, proxyKey, type Cipher, type Credentials } from './credentials.js';
import { PromptResult, promptDataUrl, type PromptSpec } from './prompt-page.js';
import { text, type Language } from './text.js';
import { createPromptWindow } from './windows.js';

/** Shows a prompt and answers the field values, or null when cancelled or closed. */
export function prompt(spec: PromptSpec, preload: string): Promise<Record<string, string> | null> {
  const win = createPromptWindow({ preload, title: spec.title, height: 150 + 62 * spec.fields.length });
  return new Promise((resolve) => {
    let settled = false;
    const finish = (value: Record<string, string> | null): void => {
      if (settled) return;
      settled = true;
      ipcMain.removeListener(PROMPT_CHANNEL, onResult);
      resolve(value);
      if (!win.isDestroyed()) win.close();
    };
    const onResult = (event: IpcMainEvent, payload: unknown): void => {
      if (win.isDestroyed() || event.sender !== win.webContents) return; // only our prompt answers
      const result = PromptResult.safeParse(payload);
      finish(result.success ? result.data : null);
    };
    ipcMain.on(PROMPT_CHANNEL, onResult);
    win.on('closed', () => finish(null));
    win.once('ready-to-show', () => win.show());
    win.loadURL(promptDataUrl(spec)).catch(() => finish(null));
  });
}

/** safeStorage, counted as unavailable where it would only obfuscate (Linux without a keyring). */
export const osCipher: Cipher = {
  available: () =>
    safeStorage.isEncryptionAvailable() && !(process.platform === 'linux' && safeStorage.getSelectedStorageBackend() === 'basic_text'),
  encrypt: (plain) => safeStorage.encryptString(plain),
  decrypt: (encrypted) => safeStorage.decryptString(encrypted),
};

export function fileCredentialStore(path: string): CredentialStore {
  return new CredentialStore(
    {
      read: () => {
        try {
          return readFileSync(path, 'utf8');
        } catch {
          return undefined;
        }
      },
      write: (content) => writeFileSync(path, content, { mode: 0o600 }),
    },
    osCipher,
  );
}

/** Proxy login: one prompt per proxy at a time, however many requests are waiting on it. */
export class ProxyLogin {
  readonly #pending = new Map<string, Promise<Credentials | undefined>>();

  constructor(
    private readonly store: CredentialStore,
    private readonly preload: string,
    private readonly language: () => Language,
  ) {}

  async credentials(info: AuthInfo, firstAttempt: boolean): Promise<Credentials | undefined> {
    const key = proxyKey(info);
    const stored = this.store.get(key);
    if (stored && firstAttempt) return stored;
    let pending = this.#pending.get(key);
    if (!pending) {
      pending = this.#ask(info, stored?.username).finally(() => this.#pending.delete(key));
      this.#pending.set(key, pending);
    }
    const answer = await pending;
    if (answer) this.store.set(key, answer);
    else if (stored) this.store.delete(key);
    return answer;
  }

  async #ask(info: AuthInfo, username = ''): Promise<Credentials | undefined> {
    const t = text(this.language());
    const values = await prompt(
      {
        title: t.proxyTitle,
        message: t.proxyMessage(`${info.host}:${info.port}`, info.realm),
        fields: [
          { name: 'username', label: t.username, type: 'text', value: username },
          { name: 'password', label: t.password, type: 'password' },
        ],
        submit: t.ok,
        cancel: t.cancel,
        lang: this.language(),
      },
      this.preload,
    );
    return values?.username ? { username: values.username, password: values.password ?? '' } : undefined;
  }
}
