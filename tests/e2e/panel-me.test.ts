/**
 * End to end (issue 17, the panel side of "me") in Chromium against a real server: my profile
 * dialog changes my name (a contact's open panel follows within 2 s), my picture (the header and a
 * contact's list show it) and my status with an expiry (a contact sees it); busy and do-not-disturb
 * silence message notifications that available shows (a mention still shows with the setting on);
 * a muted chat does not notify and an unmuted one does; a wrong old password is told, the right
 * one signs out my other session. window.Notification is replaced in the page by a counter.
 * Screenshots of the dialog, the do-not-disturb menu and the contact list with pictures and
 * statuses, docked and 1366×768, light and dark, English and Japanese; axe on the dialogs.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seriousViolations } from '../helpers/axe.js';
import { activeChat } from '../helpers/chat.js';
import { CHROMIUM, CHROMIUM_FLAGS } from '../helpers/chromium.js';
import { ensureRendererBuilt, signInPanel } from '../helpers/panel-page.js';
import { Client, PASSWORD, startTestServer, type TestServer } from '../helpers/server.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const SHOTS = join(ROOT, 'tests/e2e/screenshots');
const DOCKED = { width: 360, height: 900 };
const T = 20_000;

const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, name), animations: 'disabled' });

/** Notifications the page shows, counted (permission granted). */
const NOTIFICATIONS = `
  window.__notes = [];
  window.Notification = class {
    static permission = 'granted';
    static requestPermission() { return Promise.resolve('granted'); }
    constructor(title, options) { window.__notes.push({ title, body: options && options.body, tag: options && options.tag, icon: options && options.icon }); }
    close() {}
  };
`;

describe('the panel: me, pictures, statuses, do not disturb, mutes', { timeout: 120_000 }, () => {
  let server: TestServer;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  let alice: Page;
  let bob: Page;
  let aliceApi: Client;
  let bobApi: Client;
  let chatId: string;
  const pageErrors: string[] = [];

  async function open(options: { locale?: string; viewport?: { width: number; height: number }; colorScheme?: 'light' | 'dark' } = {}) {
    const context = await browser.newContext({ locale: options.locale ?? 'en-US', viewport: options.viewport ?? DOCKED, baseURL: server.url, colorScheme: options.colorScheme ?? 'light' });
    contexts.push(context);
    await context.addInitScript(NOTIFICATIONS);
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    return page;
  }

  async function signIn(page: Page, username: string) {
    await signInPanel(page, username, T);
    await page.locator('.panel-header .conn[data-state=online]').waitFor({ timeout: T });
  }

  const notes = (page: Page) => page.evaluate(() => (window as any).__notes as Array<{ title: string; body?: string; tag?: string; icon?: string }>);

  /** Alice sends a message to the chat; Bob's unread count for it goes up (it arrived), then his notifications are answered. */
  async function aliceSays(text: string) {
    const before = Number((await bob.locator(`.conv[data-chat="${chatId}"] .badge`).textContent({ timeout: 100 }).catch(() => '0')) ?? 0);
    const res = await aliceApi.put(`/api/v1/chats/${chatId}/messages/${randomUUID()}`, { text });
    expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
    await expect.poll(async () => Number((await bob.locator(`.conv[data-chat="${chatId}"] .badge`).textContent({ timeout: 500 }).catch(() => '0')) ?? 0), { timeout: T }).toBe(before + 1);
    return (await notes(bob)).filter((n) => n.body === text).length;
  }

  beforeAll(async () => {
    await ensureRendererBuilt();
    mkdirSync(SHOTS, { recursive: true });
    server = await startTestServer();
    await server.user('alice', 'Alice Adams');
    await server.user('bob', 'Bob Brown');
    await server.user('carol', 'Carol Chen');
    for (const [user, contact] of [
      ['alice', 'bob'],
      ['bob', 'alice'],
      ['bob', 'carol'],
    ]) {
      expect((await server.admin.put(`/api/v1/admin/users/${user}/contacts/${contact}`)).status).toBe(200);
    }
    aliceApi = await Client.login(server.url, 'alice', PASSWORD);
    bobApi = await Client.login(server.url, 'bob', PASSWORD);
    chatId = await activeChat(aliceApi, bobApi);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
    alice = await open();
    bob = await open();
    await Promise.all([signIn(alice, 'alice'), signIn(bob, 'bob')]);
  }, 90_000);

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => {});
    await browser?.close();
    await server?.destroy();
    expect(pageErrors).toEqual([]);
  });

  it('changes my display name; a contact\'s open panel shows it within 2 s', async () => {
    await alice.locator('.me-open').click();
    const dialog = alice.locator('dialog.me-dialog');
    await dialog.waitFor({ timeout: T });
    expect(await seriousViolations(alice)).toEqual([]);
    await dialog.locator('input[name=displayName]').fill('Alice Archer');
    const started = Date.now();
    await dialog.locator('.me-name-form button[type=submit]').click();
    await bob.locator('li.contact[data-username=alice] .contact-name', { hasText: 'Alice Archer' }).waitFor({ timeout: T });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(await alice.locator('.panel-header .me-name').textContent()).toBe('Alice Archer');
    // Initials stand in for a picture until there is one.
    expect(await bob.locator('li.contact[data-username=alice] [data-avatar=initials]').getAttribute('data-initials')).toBe('AA');
  });

  it('uploads a picture: the header and a contact\'s list show it; a file that is no picture is refused in words', async () => {
    const dialog = alice.locator('dialog.me-dialog');
    await dialog.locator('input[name=avatar]').setInputFiles({ name: 'note.png', mimeType: 'image/png', buffer: Buffer.from('not a picture at all') });
    await dialog.locator('button.save-picture').click();
    await expect.poll(() => dialog.locator('#me-picture-note.form-error').textContent(), { timeout: T }).toMatch(/picture could not be used/);
    const png = await sharp({ create: { width: 300, height: 200, channels: 3, background: { r: 40, g: 120, b: 200 } } }).png().toBuffer();
    await dialog.locator('input[name=avatar]').setInputFiles({ name: 'me.png', mimeType: 'image/png', buffer: png });
    expect(await dialog.locator('img.avatar-preview').count()).toBe(1);
    await dialog.locator('button.save-picture').click();
    await alice.locator('.panel-header .me-open img.avatar').waitFor({ timeout: T });
    const picture = bob.locator('li.contact[data-username=alice] img.avatar');
    await picture.waitFor({ timeout: T });
    await expect.poll(() => picture.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth), { timeout: T }).toBeGreaterThan(0);
  });

  it('sets a status with an expiry; the contact sees it', async () => {
    const dialog = alice.locator('dialog.me-dialog');
    await dialog.locator('input[name=statusEmoji]').fill('📅');
    await dialog.locator('input[name=statusText]').fill('In a meeting');
    await dialog.locator('select[name=statusExpiry]').selectOption('1h');
    await dialog.locator('.me-status-form button[type=submit]').click();
    const status = bob.locator('li.contact[data-username=alice] .contact-status');
    await expect.poll(() => status.textContent(), { timeout: T }).toMatch(/📅In a meeting until/);
    expect(await alice.locator('.panel-header .me-status').textContent()).toMatch(/In a meeting/);
    expect(await seriousViolations(alice)).toEqual([]);
    await dialog.locator('button[aria-label=Close]').click();
  });

  it('busy silences a message notification that available shows; a mention still shows with the setting on', async () => {
    expect(await aliceSays('hello while available')).toBe(1);
    const shown = (await notes(bob)).find((n) => n.body === 'hello while available');
    expect(shown?.icon, 'the sender\'s picture').toMatch(/\/avatars\/.+\.webp$/);
    await bob.locator('select[name=status]').selectOption('busy');
    await expect.poll(async () => (await aliceApi.get('/api/v1/contacts')).body.contacts.find((c: any) => c.username === 'bob')?.presence, { timeout: T }).toBe('busy');
    expect(await aliceSays('hello while busy')).toBe(0);
    // The setting is on by default: a mention comes through; off, it does not.
    expect(await aliceSays('@bob mentioned while busy')).toBe(1);
    const setMentions = async (on: boolean) => {
      await bob.locator('.dnd summary').click();
      await bob.locator('input[name=notifyMentionsWhenBusy]').setChecked(on);
      await expect.poll(async () => (await bobApi.get('/api/v1/me')).body.user.notifyMentionsWhenBusy, { timeout: T }).toBe(on);
      await bob.locator('.dnd summary').click();
    };
    await setMentions(false);
    expect(await aliceSays('@bob mentioned, setting off')).toBe(0);
    await setMentions(true);
    expect(await aliceSays('@bob mentioned, setting on')).toBe(1);
    await bob.locator('select[name=status]').selectOption('available');
    expect(await aliceSays('back again')).toBe(1);
  });

  it('do not disturb for 1 h shows its banner and silences; turning it off notifies again', async () => {
    await bob.locator('.dnd summary').click();
    await bob.locator('button.dnd-1h').click();
    const banner = bob.locator('.dnd-banner');
    await expect.poll(() => banner.textContent(), { timeout: T }).toMatch(/Notifications paused until/);
    expect(await bob.locator('details.dnd.on').count()).toBe(1);
    expect(await aliceSays('during dnd')).toBe(0);
    expect(await aliceSays('@bob a mention during dnd (the setting is on)')).toBe(1);
    await bob.locator('.dnd summary').click();
    await shot(bob, 'me-dnd-menu-docked-light-en.png');
    await bob.locator('button.dnd-off').click();
    await banner.waitFor({ state: 'detached', timeout: T });
    expect(await aliceSays('after dnd')).toBe(1);
  });

  it('a muted chat does not notify; unmuted it does', async () => {
    const toggle = bob.locator(`li:has(.conv[data-chat="${chatId}"]) .conv-mute`);
    await toggle.click();
    await expect.poll(() => toggle.getAttribute('aria-pressed'), { timeout: T }).toBe('true');
    await bob.locator(`.conv[data-chat="${chatId}"][data-muted=true] .conv-muted`).waitFor({ timeout: T });
    expect(await aliceSays('in a muted chat')).toBe(0);
    expect(await bob.locator(`.conv[data-chat="${chatId}"] .badge.badge-muted`).count()).toBe(1);
    // The chat header's toggle shows the same, and unmutes.
    await bob.locator(`.conv[data-chat="${chatId}"]`).click();
    const headerToggle = bob.locator('.chat-overlay .chat-mute');
    await expect.poll(() => headerToggle.getAttribute('aria-pressed'), { timeout: T }).toBe('true');
    // The header shows the partner's picture and status too.
    // (attached: a docked column hides it, the name needs the room)
    await bob.locator('.chat-overlay .chat-header img.avatar').waitFor({ state: 'attached', timeout: T });
    await expect.poll(() => bob.locator('.chat-overlay .chat-header .chat-status').textContent(), { timeout: T }).toMatch(/In a meeting/);
    expect(await seriousViolations(bob)).toEqual([]);
    await shot(bob, 'me-chat-header-docked-light-en.png');
    await headerToggle.click();
    await expect.poll(() => headerToggle.getAttribute('aria-pressed'), { timeout: T }).toBe('false');
    await bob.locator('.chat-overlay button.back').click();
    await expect.poll(() => toggle.getAttribute('aria-pressed'), { timeout: T }).toBe('false');
    expect(await aliceSays('in an unmuted chat')).toBe(1);
  });

  it('a wrong old password is told; the right one signs out my other session', async () => {
    const carol = await open();
    await signIn(carol, 'carol');
    const other = await open();
    await signIn(other, 'carol');
    await carol.locator('.me-open').click();
    const dialog = carol.locator('dialog.me-dialog');
    await dialog.locator('input[name=oldPassword]').fill('not-my-password');
    await dialog.locator('input[name=newPassword]').fill('a-new-password-1');
    await dialog.locator('input[name=confirmPassword]').fill('a-new-password-1');
    await dialog.locator('.me-password-form button[type=submit]').click();
    await expect.poll(() => dialog.locator('#me-password-note').textContent(), { timeout: T }).toBe('The current password is not right.');
    await dialog.locator('input[name=oldPassword]').fill(PASSWORD);
    await dialog.locator('.me-password-form button[type=submit]').click();
    await expect.poll(() => dialog.locator('#me-password-note').textContent(), { timeout: T }).toBe('Password changed. Your other devices were signed out.');
    await other.locator('form.login-form').waitFor({ timeout: 40_000 });
    // This session goes on.
    expect(await carol.locator('.panel').count()).toBe(1);
  });

  it('looks right docked and at 1366×768, light and dark, English and Japanese', { timeout: 300_000 }, async () => {
    // Bob with a status of his own and do-not-disturb on: the header shows both.
    const inAnHour = new Date(Date.now() + 3_600_000).toISOString();
    expect((await bobApi.request('PATCH', '/api/v1/me', { status: { emoji: '🍜', text: 'Lunch', until: inAnHour }, dndUntil: inAnHour })).status).toBe(200);
    for (const lang of ['en-US', 'ja-JP']) {
      for (const scheme of ['light', 'dark'] as const) {
        for (const size of [
          { name: 'docked', viewport: DOCKED },
          { name: '1366', viewport: { width: 1366, height: 768 } },
        ]) {
          const page = await open({ locale: lang, viewport: size.viewport, colorScheme: scheme });
          await signIn(page, 'bob');
          await page.locator('li.contact[data-username=alice] img.avatar').waitFor({ timeout: T });
          await page.locator('li.contact[data-username=alice] .contact-status').waitFor({ timeout: T });
          await page.locator('.panel-header .me-status').waitFor({ timeout: T });
          await page.locator('.dnd-banner').waitFor({ timeout: T });
          const name = `me-${size.name}-${scheme}-${lang.slice(0, 2)}`;
          await shot(page, `${name}-contacts.png`);
          await page.locator('.dnd summary').click();
          await page.locator('.dnd-menu').waitFor({ timeout: T });
          expect(await seriousViolations(page), `${name}-dnd`).toEqual([]);
          await shot(page, `${name}-dnd.png`);
          await page.locator('.dnd summary').click();
          await page.locator('.me-open').click();
          await page.locator('dialog.me-dialog').waitFor({ timeout: T });
          await page.waitForTimeout(200);
          expect(await seriousViolations(page), `${name}-dialog`).toEqual([]);
          await shot(page, `${name}-dialog.png`);
          await page.context().close();
        }
      }
    }
  });
});
