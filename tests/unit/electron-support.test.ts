import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyLinuxAutostart, desktopEntry, quoteExecArgument } from '../../electron/main/autostart.js';
import { CredentialStore, proxyKey, type Cipher } from '../../electron/main/credentials.js';
import { PRESENCE_COLOURS, trayBitmap } from '../../electron/main/icon.js';
import { PROMPT_CSP, PromptResult, promptDataUrl, promptHtml } from '../../electron/main/prompt-page.js';

/** A stand-in for safeStorage: reversible, but never the plain text on disk. */
function fakeCipher(available = true): Cipher {
  return {
    available: () => available,
    encrypt: (plain) => Buffer.from(Buffer.from(plain, 'utf8').map((b) => b ^ 0x5a)),
    decrypt: (encrypted) => Buffer.from(encrypted.map((b) => b ^ 0x5a)).toString('utf8'),
  };
}
function memoryFile(initial?: string) {
  const file = { text: initial, read: () => file.text, write: (t: string) => void (file.text = t) };
  return file;
}

describe('proxy credential store', () => {
  const key = proxyKey({ scheme: 'Basic', host: 'Proxy.Corp', port: 3128, realm: 'Corp' });

  it('keys by scheme, host, port and realm', () => {
    expect(key).toBe('basic://proxy.corp:3128/Corp');
  });

  it('keeps credentials encrypted on disk and reads them back in a new run', () => {
    const file = memoryFile();
    new CredentialStore(file, fakeCipher()).set(key, { username: 'alice', password: 's3cret-pass' });
    expect(file.text).toBeDefined();
    expect(file.text).not.toContain('s3cret-pass');
    expect(file.text).not.toContain('alice');
    expect(new CredentialStore(file, fakeCipher()).get(key)).toEqual({ username: 'alice', password: 's3cret-pass' });
  });

  it('writes nothing without a real key store, keeping credentials for this run only', () => {
    const file = memoryFile();
    const store = new CredentialStore(file, fakeCipher(false));
    store.set(key, { username: 'alice', password: 'pw' });
    expect(file.text).toBeUndefined();
    expect(store.get(key)).toEqual({ username: 'alice', password: 'pw' });
  });

  it('forgets deleted credentials, and survives broken files and foreign ciphertext', () => {
    const file = memoryFile();
    const store = new CredentialStore(file, fakeCipher());
    store.set(key, { username: 'alice', password: 'pw' });
    store.delete(key);
    expect(new CredentialStore(file, fakeCipher()).get(key)).toBeUndefined();
    expect(new CredentialStore(memoryFile('not json'), fakeCipher()).get(key)).toBeUndefined();
    expect(new CredentialStore(memoryFile(JSON.stringify({ [key]: 'AAAA' })), fakeCipher()).get(key)).toBeUndefined();
  });
});

describe('prompt page', () => {
  const spec = {
    title: 'Proxy sign-in',
    message: 'The proxy asks for a sign-in (<img src=x onerror=alert(1)>)',
    fields: [
      { name: 'username', label: 'User "name"', type: 'text' as const, value: '"><script>alert(1)</script>' },
      { name: 'password', label: 'Password', type: 'password' as const },
    ],
    submit: 'OK',
    cancel: 'Cancel',
  };

  it('escapes every text it shows, and carries a CSP without scripts', () => {
    const html = promptHtml(spec);
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<script');
    expect(html).toContain('&#60;img src=x onerror=alert(1)&#62;');
    expect(html).toContain('value="&#34;&#62;&#60;script&#62;');
    expect(html).toContain(`content="${PROMPT_CSP}"`);
    expect(PROMPT_CSP).toContain("default-src 'none'");
    expect(PROMPT_CSP).not.toContain('script-src');
    expect(html).toContain('type="password"');
    expect(promptDataUrl(spec).startsWith('data:text/html;charset=utf-8,')).toBe(true);
    expect(decodeURIComponent(promptDataUrl(spec).slice('data:text/html;charset=utf-8,'.length))).toBe(html);
  });

  it('accepts only field values or null back', () => {
    expect(PromptResult.safeParse(null).success).toBe(true);
    expect(PromptResult.safeParse({ username: 'a', password: 'b' }).success).toBe(true);
    expect(PromptResult.safeParse({ username: 1 }).success).toBe(false);
    expect(PromptResult.safeParse({ username: 'x'.repeat(5000) }).success).toBe(false);
    expect(PromptResult.safeParse('yes').success).toBe(false);
  });
});

describe('Linux autostart entry', () => {
  it('quotes arguments as the Desktop Entry specification asks', () => {
    expect(quoteExecArgument('/opt/Portico/portico')).toBe('/opt/Portico/portico');
    expect(quoteExecArgument('/home/a/My Apps/Portico.AppImage')).toBe('"/home/a/My Apps/Portico.AppImage"');
    expect(quoteExecArgument('/x/$HOME`cmd`"q"')).toBe('"/x/\\\\$HOME\\\\`cmd\\\\`\\\\"q\\\\""');
    expect(quoteExecArgument('/x/100%')).toBe('"/x/100%%"');
    expect(desktopEntry(['/opt/Portico/portico', '--hidden'])).toContain('Exec=/opt/Portico/portico --hidden\n');
  });

  it('writes and removes ~/.config/autostart/portico.desktop', () => {
    const home = mkdtempSync(join(tmpdir(), 'portico-autostart-'));
    try {
      const file = join(home, 'autostart', 'portico.desktop');
      applyLinuxAutostart(true, ['/opt/Portico/portico'], home);
      expect(readFileSync(file, 'utf8')).toMatch(/^\[Desktop Entry\]\nType=Application\nName=Portico\nExec=\/opt\/Portico\/portico\n/);
      applyLinuxAutostart(false, ['/opt/Portico/portico'], home);
      expect(existsSync(file)).toBe(false);
      applyLinuxAutostart(false, ['/opt/Portico/portico'], home); // already gone: fine
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});

describe('tray icon', () => {
  const pixel = (buffer: Buffer, size: number, x: number, y: number) => {
    const i = (y * size + x) * 4;
    return { b: buffer[i]!, g: buffer[i + 1]!, r: buffer[i + 2]!, a: buffer[i + 3]! };
  };

  it('is a disc in the presence colour with transparent corners', () => {
    for (const state of ['available', 'away', 'busy', 'offline'] as const) {
      const bitmap = trayBitmap(state, 0, 32);
      expect(bitmap.length).toBe(32 * 32 * 4);
      const [r, g, b] = PRESENCE_COLOURS[state];
      expect(pixel(bitmap, 32, 16, 16)).toEqual({ r, g, b, a: 255 });
      expect(pixel(bitmap, 32, 0, 0).a).toBe(0);
    }
  });

  it('shows a blue badge dot at the top right while there are unread messages', () => {
    expect(pixel(trayBitmap('available', 0, 32), 32, 24, 7)).toMatchObject({ r: PRESENCE_COLOURS.available[0], a: 255 });
    expect(pixel(trayBitmap('available', 3, 32), 32, 24, 7)).toEqual({ r: 0x1e, g: 0x88, b: 0xe5, a: 255 });
  });
});

describe('panel load failures', () => {
  it('a certificate error names the certificate and never suggests a bypass; other errors point at the network', async () => {
    const { loadFailureMessage, text, isCertificateError } = await import('../../electron/main/text.js');
    expect(isCertificateError(-202)).toBe(true); // ERR_CERT_AUTHORITY_INVALID
    expect(isCertificateError(-105)).toBe(false); // ERR_NAME_NOT_RESOLVED
    const cert = loadFailureMessage(text('en'), 'https://portico.example.com', -202, 'ERR_CERT_AUTHORITY_INVALID');
    expect(cert).toContain('certificate of https://portico.example.com is not trusted');
    expect(cert).toContain('CA fingerprint');
    const net = loadFailureMessage(text('ja'), 'https://portico.example.com', -105, 'ERR_NAME_NOT_RESOLVED');
    expect(net).toContain('接続できません');
    expect(net).toContain('ERR_NAME_NOT_RESOLVED');
  });
});
