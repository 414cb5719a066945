/**
 * End to end, single sign-on (issue 21): the panel's login page in Debian's Chromium offers
 * "Sign in with <company>"; the button goes through a real OpenID Connect provider's sign-in page
 * (oidc-provider, tests/helpers/oidc.ts) and lands signed in on the panel, with the one-time code
 * gone from the address. A local account's ID comes back to the login page with the reason; the
 * Japanese page says it in Japanese.
 */
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, CHROMIUM_FLAGS } from '../helpers/chromium.js';
import { OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, listenOidcProvider, type TestOidcProvider } from '../helpers/oidc.js';
import { ensureRendererBuilt } from '../helpers/panel-page.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const SHOTS = join(ROOT, 'tests/e2e/screenshots');
const T = 20_000;

describe('single sign-on in the panel (Chromium)', { timeout: 120_000 }, () => {
  let idp: TestOidcProvider;
  let server: TestServer;
  let browser: Browser;

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    await ensureRendererBuilt();
    idp = await listenOidcProvider();
    server = await startTestServer({
      oidcIssuer: idp.issuer,
      oidcClientId: OIDC_CLIENT_ID,
      oidcClientSecret: OIDC_CLIENT_SECRET,
      oidcName: 'Example Corp',
      oidcAllowHttp: true,
      loginPerIpPerMinute: 1000,
    });
    await idp.start({ redirectUris: [`${server.url}/api/v1/sso/callback`] });
    await server.user('local-carol', 'Carol Local');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.destroy();
    await idp?.close();
  });

  /** At the provider's (development) login form: types the login and submits. */
  async function loginAtProvider(page: Page, login: string) {
    await page.waitForURL((url) => url.origin === idp.issuer, { timeout: T, waitUntil: 'commit' });
    await page.locator('input[name=login]').fill(login);
    await page.locator('input[name=password]').fill('any password');
    await page.locator('button[type=submit]').click();
  }

  it('"Sign in with Example Corp" goes through the provider and lands signed in on the panel', async () => {
    const context = await browser.newContext({ baseURL: server.url, locale: 'en-US', viewport: { width: 340, height: 900 } });
    const page = await context.newPage();
    await page.goto('/app/');
    const button = page.locator('button.sso-button');
    await button.waitFor({ timeout: T });
    expect(await button.textContent()).toBe('Sign in with Example Corp');
    await page.screenshot({ path: join(SHOTS, 'sso-login.png') });
    await button.click();
    await loginAtProvider(page, 'sso-alice');
    await page.locator('.panel').waitFor({ timeout: T });
    // Back on the panel, the one-time code is no longer in the address.
    expect(new URL(page.url()).pathname).toBe('/app/');
    expect(new URL(page.url()).hash).toBe('');
    const users = (await server.admin.get('/api/v1/admin/users')).body.users;
    expect(users.find((u: any) => u.username === 'sso-alice')).toMatchObject({ source: 'sso', displayName: 'Alice Single' });
    await page.screenshot({ path: join(SHOTS, 'sso-panel.png') });
    // Remembered ("remember me" was on): a reload stays signed in.
    await page.reload();
    await page.locator('.panel').waitFor({ timeout: T });
    await context.close();
  });

  it("a local account's ID comes back to the login page with the reason, in Japanese on a Japanese page", async () => {
    const context = await browser.newContext({ baseURL: server.url, locale: 'ja-JP' });
    const page = await context.newPage();
    await page.goto('/app/');
    const button = page.locator('button.sso-button');
    await button.waitFor({ timeout: T });
    expect(await button.textContent()).toBe('Example Corp でサインイン');
    await button.click();
    await loginAtProvider(page, 'local-carol');
    const notice = page.locator('.login .notice-line');
    await notice.waitFor({ timeout: T });
    expect(await notice.textContent()).toContain('シングルサインオンでは引き継げません');
    expect(new URL(page.url()).hash).toBe('');
    await context.close();
  });

  it('no button when the server has no single sign-on', async () => {
    const plain = await startTestServer();
    const context = await browser.newContext({ baseURL: plain.url });
    try {
      const page = await context.newPage();
      await page.goto('/app/');
      await page.locator('form.login-form').waitFor({ timeout: T });
      await page.waitForLoadState('networkidle');
      expect(await page.locator('button.sso-button').count()).toBe(0);
    } finally {
      await context.close();
      await plain.destroy();
    }
  });
});
