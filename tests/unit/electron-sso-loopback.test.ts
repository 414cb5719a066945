/** The desktop app's single sign-on listener (electron/main/sso-loopback.ts), with a fake browser. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loopbackSignIn, loopbackStartUrl } from '../../electron/main/sso-loopback.js';

/** What the browser was asked to open, and the listener's address from it. */
const returnTo = (startUrl: string) => new URL(new URL(startUrl).searchParams.get('return_to')!);

describe('single sign-on through a loopback listener (RFC 8252)', () => {
  it('builds the start URL on the server with a loopback return and the S256 challenge of the verifier', () => {
    const url = new URL(loopbackStartUrl('https://portico.example.com/prefix/', 49152, 'v'.repeat(43)));
    expect(url.origin + url.pathname).toBe('https://portico.example.com/prefix/api/v1/sso/start');
    expect(url.searchParams.get('return_to')).toBe('http://127.0.0.1:49152/callback');
    expect(url.searchParams.get('challenge')).toBe(createHash('sha256').update('v'.repeat(43)).digest('base64url'));
  });

  it('answers the code the browser brings back, with the verifier whose challenge went out', async () => {
    let opened = '';
    const result = await loopbackSignIn({
      serverUrl: 'https://portico.example.com',
      open: async (url) => {
        opened = url;
        const back = returnTo(url);
        // Strangers first: another path, no code: 404, and the listener keeps waiting.
        expect((await fetch(new URL('/other?code=x', back))).status).toBe(404);
        expect((await fetch(back)).status).toBe(404);
        back.searchParams.set('code', 'one-time-code');
        const page = await fetch(back);
        expect(page.status).toBe(200);
        expect(await page.text()).toContain('return to Portico');
      },
    });
    expect(result).toMatchObject({ code: 'one-time-code' });
    const { verifier } = result as { verifier: string };
    expect(new URL(opened).searchParams.get('challenge')).toBe(createHash('sha256').update(verifier).digest('base64url'));
    // The listener is gone.
    await expect(fetch(returnTo(opened))).rejects.toThrow();
  });

  it("answers the server's error code", async () => {
    const result = await loopbackSignIn({
      serverUrl: 'https://portico.example.com',
      open: async (url) => {
        const back = returnTo(url);
        back.searchParams.set('error', 'sso_account_conflict');
        await fetch(back);
      },
    });
    expect(result).toEqual({ error: 'sso_account_conflict' });
  });

  it('gives up when nobody comes back in time, or the browser cannot be opened, and closes the listener', async () => {
    let opened = '';
    await expect(loopbackSignIn({ serverUrl: 'https://x.example', timeoutMs: 100, open: async (url) => void (opened = url) })).rejects.toThrow(/in time/);
    await expect(fetch(returnTo(opened))).rejects.toThrow();
    await expect(loopbackSignIn({ serverUrl: 'https://x.example', open: async (url) => { opened = url; throw new Error('no browser'); } })).rejects.toThrow('no browser');
    await expect(fetch(returnTo(opened))).rejects.toThrow();
  });
});
