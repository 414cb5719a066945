/**
 * The admin console at /app/#/admin in Debian's Chromium against a real server: an admin adds a
 * user (the generated password shown once) who can then sign in with it, resets and removes
 * with a confirmation, manages a group and a provider (its key shown once, and it pushes); a
 * non-admin gets no console, and the API answers them 403. Screenshots go to
 * tests/e2e/screenshots/ (look at them).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seriousViolations } from '../helpers/axe.js';
import { CHROMIUM, CHROMIUM_FLAGS } from '../helpers/chromium.js';
import { ADMIN_PASSWORD, Client, PASSWORD, startTestServer, type TestServer } from '../helpers/server.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const SHOTS = join(ROOT, 'tests/e2e/screenshots');
const T = 20_000;

describe('admin console', () => {
  let server: TestServer;
  let browser: Browser;
  const pageErrors: string[] = [];

  async function open(viewport = { width: 1366, height: 768 }, colorScheme: 'light' | 'dark' = 'light', locale = 'en-US') {
    const context = await browser.newContext({ viewport, colorScheme, locale, baseURL: server.url });
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    return page;
  }

  async function signIn(page: Page, username: string, password: string) {
    await page.goto('/app/#/admin');
    await page.locator('input[name=username]').fill(username);
    await page.locator('input[name=password]').fill(password);
    await page.locator('form.login-form button[type=submit]').click();
  }

  /** Clicks a row's button that opens a confirmation, then confirms it. */
  async function confirm(page: Page, scope: ReturnType<Page['locator']>, label: string) {
    await scope.getByRole('button', { name: label, exact: true }).first().click();
    const dialog = page.locator('dialog[open]');
    await dialog.waitFor({ timeout: T });
    await dialog.getByRole('button', { name: label, exact: true }).click();
    await dialog.waitFor({ state: 'detached', timeout: T }).catch(() => dialog.waitFor({ state: 'hidden', timeout: T }));
  }

  beforeAll(async () => {
    if (!existsSync(join(ROOT, 'electron/renderer/dist/index.html'))) {
      const { buildRenderer } = (await import(join(ROOT, 'electron/renderer/build.mjs'))) as { buildRenderer: (o: { quiet: boolean }) => Promise<unknown> };
      await buildRenderer({ quiet: true });
    }
    mkdirSync(SHOTS, { recursive: true });
    server = await startTestServer();
    await server.user('dana', 'Dana Demir');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.destroy();
  });

  it('adds a user who can sign in with the password shown once; resets it; removes them after a confirmation', async () => {
    const page = await open();
    await signIn(page, 'admin', ADMIN_PASSWORD);
    await page.getByRole('heading', { name: 'Users' }).waitFor({ timeout: T });
    await page.getByRole('cell', { name: 'dana', exact: true }).waitFor({ timeout: T });

    const form = page.getByRole('form', { name: 'Add a user' });
    await form.getByLabel('User ID').fill('erik');
    await form.getByLabel('Display name').fill('Erik Ek');
    await form.getByRole('button', { name: 'Add a user' }).click();
    const secret = page.locator('.admin-secret-value');
    await secret.waitFor({ timeout: T });
    const password = (await secret.textContent())!.trim();
    expect(password).toMatch(/^[A-Za-z2-9]{16}$/);
    await page.screenshot({ path: join(SHOTS, 'admin-users-1366-light.png') });
    expect(await seriousViolations(page)).toEqual([]);
    expect((await Client.login(server.url, 'erik', password)).token).toBeTruthy();
    await page.getByRole('button', { name: 'Close' }).click();
    await expect.poll(() => secret.count()).toBe(0);

    // Reset: a new password, the old one stops working.
    const row = page.getByRole('row').filter({ has: page.getByRole('cell', { name: 'erik', exact: true }) });
    await confirm(page, row, 'Reset password');
    await secret.waitFor({ timeout: T });
    const next = (await secret.textContent())!.trim();
    expect(next).not.toBe(password);
    expect((await new Client(server.url).post('/api/v1/login', { username: 'erik', password })).status).toBe(401);
    expect((await Client.login(server.url, 'erik', next)).token).toBeTruthy();
    await page.getByRole('button', { name: 'Close' }).click();

    // Contacts of a user: add one, it shows.
    await row.getByRole('button', { name: 'Contacts' }).click();
    await page.getByPlaceholder('Add contact (user ID)').fill('dana');
    await page.locator('.admin-sub').getByRole('button', { name: 'Add' }).click();
    await page.locator('.admin-chip', { hasText: 'Dana Demir' }).waitFor({ timeout: T });
    expect((await server.admin.get('/api/v1/admin/users/erik/contacts')).body.contacts.map((c: any) => c.username)).toEqual(['dana']);

    // Removal asks first: Cancel keeps the user.
    await row.getByRole('button', { name: 'Remove', exact: true }).first().click();
    await page.locator('dialog[open]').getByRole('button', { name: 'Cancel' }).click();
    expect((await server.admin.get('/api/v1/admin/users')).body.users.map((u: any) => u.username)).toContain('erik');
    await confirm(page, row, 'Remove');
    await expect.poll(async () => (await server.admin.get('/api/v1/admin/users')).body.users.map((u: any) => u.username), { timeout: T }).not.toContain('erik');
    await page.context().close();
  });

  it('groups and providers: a group with a member, a provider whose key (shown once) pushes', async () => {
    const page = await open({ width: 1920, height: 1080 }, 'dark');
    await signIn(page, 'admin', ADMIN_PASSWORD);
    await page.getByRole('tab', { name: 'Groups' }).click();
    const form = page.getByRole('form', { name: 'Add a group' });
    await form.getByLabel('Group name').fill('sales');
    await form.getByLabel('Display name').fill('Sales team');
    await form.getByRole('button', { name: 'Add a group' }).click();
    const card = page.getByRole('article', { name: 'Sales team' });
    await card.waitFor({ timeout: T });
    await card.getByPlaceholder('Add member (user ID)').fill('dana');
    await card.getByRole('button', { name: 'Add' }).click();
    await card.locator('.admin-chip', { hasText: 'dana' }).waitFor({ timeout: T });
    expect((await server.admin.get('/api/v1/admin/groups')).body.groups).toEqual([{ name: 'sales', displayName: 'Sales team', members: ['dana'] }]);
    // A bad name gets the server's message, not silence.
    await form.getByLabel('Group name').fill('no spaces here');
    await form.getByRole('button', { name: 'Add a group' }).click();
    await page.getByRole('alert').first().waitFor({ timeout: T });

    await page.getByRole('tab', { name: 'Content providers' }).click();
    const add = page.getByRole('form', { name: 'Add a provider' });
    await add.getByLabel('Provider name').fill('weather');
    await add.getByLabel('Channels (comma-separated)').fill('news, weather');
    await add.getByRole('button', { name: 'Add a provider' }).click();
    const secret = page.locator('.admin-secret-value');
    await secret.waitFor({ timeout: T });
    const key = (await secret.textContent())!.trim();
    await page.screenshot({ path: join(SHOTS, 'admin-providers-1920-dark.png') });
    expect(await seriousViolations(page)).toEqual([]);
    const push = await fetch(`${server.url}/cgi/ticker`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ channel: 'weather', text: 'Sunny' }),
    });
    expect(push.status).toBe(201);
    await page.getByRole('tab', { name: 'Channels' }).click();
    await page.getByRole('cell', { name: 'weather', exact: true }).waitFor({ timeout: T });
    await page.getByRole('tab', { name: 'Terminals' }).click();
    await page.getByText('Seats: 0 used of unlimited').waitFor({ timeout: T });
    await page.context().close();
  });

  it('a non-admin gets no console, and 403 from the admin API', async () => {
    const page = await open({ width: 360, height: 900 });
    await signIn(page, 'dana', PASSWORD);
    await page.getByText('This console is for administrators. Your account is not one.').waitFor({ timeout: T });
    expect(await page.getByRole('tab').count()).toBe(0);
    const status = await page.evaluate(async () => {
      const token = JSON.parse(localStorage.getItem('portico.session') ?? '{}').token as string;
      return (await fetch('/api/v1/admin/users', { headers: { authorization: `Bearer ${token}` } })).status;
    });
    expect(status).toBe(403);
    await page.screenshot({ path: join(SHOTS, 'admin-denied-360.png') });
    await page.context().close();
  });

  it('speaks Japanese in a ja-JP browser (docked size)', async () => {
    const page = await open({ width: 360, height: 900 }, 'light', 'ja-JP');
    await signIn(page, 'admin', ADMIN_PASSWORD);
    await page.getByRole('heading', { name: 'ユーザー' }).waitFor({ timeout: T });
    await page.screenshot({ path: join(SHOTS, 'admin-users-360-ja.png') });
    expect(await seriousViolations(page)).toEqual([]);
    expect(pageErrors).toEqual([]);
    await page.context().close();
  });
});
