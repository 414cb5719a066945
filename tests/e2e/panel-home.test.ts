/**
 * End to end (issue 17, "the panel as a daily home") in Debian's Chromium against a real server:
 * a reload resumes with contacts and chats at once (the cache, and the server's state loaded next
 * to the held first poll); an admin's new contact shows within 2 s; an urgent ticker item
 * interrupts a long loop; the chat header shows the partner's presence; losing the server shows
 * the offline banner and it goes when the server is back; people are found in the directory and
 * added; a leaving member is confirmed and leaves a line in the history; Ctrl+K jumps to a chat.
 * Screenshots docked (360×900), 1366×768 and 1920×1080, light and dark, English and Japanese,
 * each checked with axe-core (no serious or critical violation).
 */
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seriousViolations } from '../helpers/axe.js';
import { CHROMIUM, CHROMIUM_FLAGS } from '../helpers/chromium.js';
import { ensureRendererBuilt, signInPanel } from '../helpers/panel-page.js';
import { Client, PASSWORD, startTestServer, type TestServer } from '../helpers/server.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const SHOTS = join(ROOT, 'tests/e2e/screenshots');
const DOCKED = { width: 360, height: 900 };
const T = 20_000;


const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, name), animations: 'disabled' });

/**
 * Stamps, in the page's own clock (performance.now(), from the navigation), when the contact list
 * and the conversation list first show, and whether a "no contacts" text ever showed.
 */
const TIMING = `
  window.__seen = {};
  new MutationObserver(function () {
    var s = window.__seen;
    if (s.contacts === undefined && document.querySelector('.contact-list li.contact')) s.contacts = performance.now();
    if (s.chats === undefined && document.querySelector('.conv-list .conv')) s.chats = performance.now();
    var empty = document.querySelector('.contacts p.empty:not(.loading-line)');
    if (empty) s.falseEmpty = true;
  }).observe(document, { childList: true, subtree: true });
`;

describe('the panel as a daily home', { timeout: 90_000 }, () => {
  let server: TestServer;
  let browser: Browser;
  let providerKey: string;
  const contexts: BrowserContext[] = [];
  let alice: Page;
  let bob: Page;
  let chatId: string;
  const pageErrors: string[] = [];

  const provider = async (path: string, body: URLSearchParams) => {
    const res = await fetch(server.url + path, { method: 'POST', headers: { authorization: `Bearer ${providerKey}` }, body });
    expect(res.status, `${path}: ${await res.clone().text()}`).toBe(201);
  };

  async function open(options: { locale?: string; viewport?: { width: number; height: number }; colorScheme?: 'light' | 'dark' } = {}) {
    const context = await browser.newContext({ locale: options.locale ?? 'en-US', viewport: options.viewport ?? DOCKED, baseURL: server.url, colorScheme: options.colorScheme ?? 'light' });
    contexts.push(context);
    await context.addInitScript(TIMING);
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    return page;
  }

  async function signIn(page: Page, username: string) {
    await signInPanel(page, username, T);
    await page.locator('.panel-header .conn[data-state=online]').waitFor({ timeout: T });
  }

  beforeAll(async () => {
    await ensureRendererBuilt();
    mkdirSync(SHOTS, { recursive: true });
    server = await startTestServer();
    await server.user('alice', 'Alice Adams');
    await server.user('bob', 'Bob Brown');
    await server.user('carol', 'Carol Chen');
    await server.user('dave', 'Dave Dunn');
    await server.user('erin', 'Erin Evans');
    for (const [user, contact] of [
      ['alice', 'bob'],
      ['bob', 'alice'],
    ]) {
      expect((await server.admin.put(`/api/v1/admin/users/${user}/contacts/${contact}`)).status).toBe(200);
    }
    // Carol comes to Alice through a group.
    expect((await server.admin.post('/api/v1/admin/groups', { name: 'sales', displayName: 'Sales' })).status).toBe(201);
    for (const u of ['alice', 'carol']) expect((await server.admin.put(`/api/v1/admin/groups/sales/members/${u}`)).status).toBe(200);
    const created = await server.admin.post('/api/v1/admin/providers', { name: 'e2e', channels: ['news', 'company'] });
    expect(created.status).toBe(201);
    providerKey = created.body.key;
    await provider('/cgi/ticker', new URLSearchParams({ channel: 'news', text: 'Canteen opens early today' }));
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
    alice = await open();
    bob = await open();
    await Promise.all([signIn(alice, 'alice'), signIn(bob, 'bob')]);
  }, 90_000);

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => {});
    await browser?.close();
    await server?.destroy();
  });

  it('shows the groups a contact comes from', async () => {
    const carol = alice.locator('li.contact[data-username=carol]');
    await carol.waitFor({ timeout: T });
    expect(await carol.locator('.contact-groups').textContent()).toMatch(/^via (sales|Sales)$/);
    // Shared by a group only: nothing of mine to remove.
    expect(await carol.locator('.contact-remove').count()).toBe(0);
  });

  it('the chat header shows the partner\'s presence and follows it', async () => {
    await alice.locator('li.contact[data-username=bob] .contact-main').click();
    const request = bob.locator('.request[role=alertdialog]');
    await request.waitFor({ timeout: T });
    chatId = (await request.getAttribute('data-chat'))!;
    await request.locator('button.primary').click();
    const presence = alice.locator(`.chat[data-chat="${chatId}"] .chat-presence`);
    await expect.poll(() => presence.textContent(), { timeout: T }).toBe('Available');
    await bob.locator('.chat-overlay button.back').click();
    await bob.locator('select[name=status]').selectOption('away');
    await expect.poll(() => presence.textContent(), { timeout: T }).toBe('Away');
    expect(await presence.getAttribute('data-state')).toBe('away');
    await bob.locator('select[name=status]').selectOption('available');
    await expect.poll(() => presence.textContent(), { timeout: T }).toBe('Available');
    // Messages: grouped, one "Sent" under the latest of mine.
    const box = alice.locator('.chat-overlay textarea');
    for (const text of ['First line', 'Second line', 'Third line']) {
      await box.fill(text);
      await box.press('Enter');
    }
    await alice.locator('.chat-overlay .msg.mine[data-state=sent]', { hasText: 'Third line' }).waitFor({ timeout: T });
    await expect.poll(() => alice.locator('.chat-overlay .msg.mine .msg-state').count(), { timeout: T }).toBe(1);
    expect(await alice.locator('.chat-overlay .msg.mine.grouped').count()).toBe(2);
    await shot(alice, 'home-chat-docked.png');
    await alice.locator('.chat-overlay button.back').click();
  });

  it('after a reload shows contacts and chats within 1 s, from the cache and from the server next to the held poll', async () => {
    // The cursor is stored: the first poll after the reload is held (nothing new happens).
    expect(await alice.evaluate(() => Object.keys(localStorage).some((k) => k.startsWith('portico.cursor.')))).toBe(true);
    await alice.waitForTimeout(1500); // the cache is written a second after a change
    expect(await alice.evaluate(() => localStorage.getItem('portico.panel-cache.alice') !== null)).toBe(true);
    await alice.reload();
    await alice.locator(`.conv[data-chat="${chatId}"]`).waitFor({ timeout: T });
    const cached = await alice.evaluate(() => (window as any).__seen);
    expect(cached.contacts, 'contacts shown (ms after navigation)').toBeLessThan(1000);
    expect(cached.chats, 'chats shown (ms after navigation)').toBeLessThan(1000);
    expect(cached.falseEmpty).toBeUndefined();

    // Without a cache (another browser, say): the server's state, not the held poll, brings them.
    await alice.evaluate(() => localStorage.removeItem('portico.panel-cache.alice'));
    await alice.reload();
    await alice.locator(`.conv[data-chat="${chatId}"]`).waitFor({ timeout: T });
    const fresh = await alice.evaluate(() => (window as any).__seen);
    expect(fresh.contacts, 'contacts shown (ms after navigation)').toBeLessThan(1000);
    expect(fresh.chats, 'chats shown (ms after navigation)').toBeLessThan(1000);
    expect(fresh.falseEmpty).toBeUndefined();
    await alice.locator('li.contact[data-username=bob].presence-available').waitFor({ timeout: T });
  });

  it('never shows one user\'s cached panel to another, and drops it on sign-out', async () => {
    const page = await open();
    await signIn(page, 'bob');
    await page.waitForTimeout(1500);
    expect(await page.evaluate(() => localStorage.getItem('portico.panel-cache.bob') !== null)).toBe(true);
    // Bob's cache says nothing to Alice's panel in this browser: hers is keyed and checked by user.
    await page.evaluate(() => localStorage.setItem('portico.panel-cache.alice', localStorage.getItem('portico.panel-cache.bob')!));
    await page.locator('.settings summary').click();
    await page.locator('.settings-menu button', { hasText: 'Sign out' }).click();
    await page.locator('form.login-form').waitFor({ timeout: T });
    expect(await page.evaluate(() => localStorage.getItem('portico.panel-cache.bob'))).toBeNull();
    await page.locator('input[name=username]').fill('alice');
    await page.locator('input[name=password]').fill(PASSWORD);
    await page.locator('form.login-form button[type=submit]').click();
    await page.locator('.panel').waitFor({ timeout: T });
    // Bob's own contact list (Alice) never shows in Alice's panel.
    await page.locator('li.contact[data-username=bob]').waitFor({ timeout: T });
    expect(await page.locator('li.contact[data-username=alice]').count()).toBe(0);
    await page.context().close();
  });

  it('shows a contact the admin adds within 2 s', async () => {
    const started = Date.now();
    expect((await server.admin.put('/api/v1/admin/users/alice/contacts/dave')).status).toBe(200);
    await alice.locator('li.contact[data-username=dave]').waitFor({ timeout: T });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('finds people in the directory and adds one to the contacts; removes her again', async () => {
    await alice.locator('.contacts .add-people').click();
    const dialog = alice.locator('dialog.people-dialog');
    await dialog.waitFor({ timeout: T });
    await dialog.locator('input[name=people-search]').fill('eri');
    const erin = dialog.locator('li.person[data-username=erin]');
    await erin.waitFor({ timeout: T });
    expect(await erin.locator('.person-name').textContent()).toBe('Erin Evans');
    expect(await seriousViolations(alice)).toEqual([]);
    await shot(alice, 'home-people.png');
    await erin.locator('button.person-add').click();
    await erin.locator('.person-added').waitFor({ timeout: T });
    await dialog.locator('.dialog-head button.icon').click();
    const row = alice.locator('li.contact[data-username=erin]');
    await row.waitFor({ timeout: T });
    await row.hover();
    await row.locator('.contact-remove').click();
    await row.waitFor({ state: 'detached', timeout: T });
  });

  it('lets a priority item interrupt a long loop: on screen within 5 s; one loop lasts about a minute at most', async () => {
    for (let i = 1; i <= 40; i++) await provider('/cgi/ticker', new URLSearchParams({ channel: 'news', text: `Market report ${i}: shares of several companies moved in quiet trading today` }));
    await alice.locator('.ticker-item', { hasText: 'Market report 40:' }).first().waitFor({ timeout: T });
    await alice.mouse.move(0, 0); // the pointer off the ticker: it scrolls
    const loop = Number(await alice.locator('.ticker-track').getAttribute('data-loop-seconds'));
    expect(loop).toBeGreaterThan(20);
    expect(loop).toBeLessThanOrEqual(65);
    await alice.waitForTimeout(1500); // well into the loop
    const pushed = Date.now();
    await provider('/cgi/ticker', new URLSearchParams({ channel: 'news', text: 'URGENT: building evacuation drill now', priority: '50' }));
    await expect
      .poll(
        () =>
          alice.evaluate(() => {
            const view = document.querySelector('.ticker-viewport')!.getBoundingClientRect();
            return [...document.querySelectorAll('.ticker-track .ticker-item')].some((li) => {
              if (!li.textContent?.startsWith('URGENT')) return false;
              const r = li.getBoundingClientRect();
              return r.right > view.left + 20 && r.left < view.right - 20;
            });
          }),
        { timeout: 5000, interval: 100 },
      )
      .toBe(true);
    expect(Date.now() - pushed).toBeLessThan(5000);
  });

  it('sets the ticker channels, their order and speed', async () => {
    await alice.locator('.settings summary').click();
    await alice.locator('.ticker-settings-open').click();
    const dialog = alice.locator('dialog.ticker-dialog');
    await dialog.locator('li.channel-row[data-channel=company]').waitFor({ timeout: T });
    expect(await seriousViolations(alice)).toEqual([]);
    for (const name of ['company', 'news']) await dialog.locator(`li.channel-row[data-channel=${name}] input[type=checkbox]`).check();
    const before = await dialog.locator('li.channel-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-channel')));
    await dialog.locator('li.channel-row').first().locator('button[aria-label^="Move"]').last().click(); // the first one down
    const after = await dialog.locator('li.channel-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-channel')));
    expect(after).toEqual([before[1], before[0], ...before.slice(2)]);
    await dialog.locator('select[name=ticker-speed]').selectOption('fast');
    await shot(alice, 'home-ticker-settings.png');
    await dialog.locator('button[type=submit]').click();
    await dialog.waitFor({ state: 'detached', timeout: T });
    const asAlice = await Client.login(server.url, 'alice', PASSWORD);
    expect((await asAlice.get('/api/v1/channels')).body.mine).toEqual(after.filter((n) => n === 'company' || n === 'news'));
    expect(await alice.evaluate(() => localStorage.getItem('portico.ticker-speed'))).toBe('fast');
  });

  it('shows the offline banner when the server goes away, and drops it when it is back', async () => {
    const { port, dataDir } = server;
    await server.close();
    let back = false;
    const comeBack = async () => {
      if (back) return;
      back = true;
      server = await startTestServer({ port }, dataDir);
    };
    try {
      const banner = alice.locator('.panel-column .offline-banner');
      await banner.waitFor({ timeout: T });
      expect(await banner.textContent()).toContain('Offline — messages will be sent when you reconnect');
      await expect.poll(() => banner.locator('.offline-retry').textContent(), { timeout: T }).toMatch(/Next try in \d+ s|Trying again/);
      expect(await seriousViolations(alice)).toEqual([]);
      await shot(alice, 'home-offline.png');
      // Retry now, still without a server: the banner stays.
      await banner.locator('button', { hasText: 'Retry now' }).click();
      await alice.waitForTimeout(300);
      expect(await banner.count()).toBe(1);
      await comeBack();
      if (await banner.count()) await banner.locator('button', { hasText: 'Retry now' }).click().catch(() => {}); // gone already if the loop tried first
      await banner.waitFor({ state: 'detached', timeout: T });
    } finally {
      await comeBack(); // the later cases need the server
    }
    await expect.poll(() => alice.locator('.panel-header .conn').getAttribute('data-state'), { timeout: T }).toBe('online');
  });

  // Twelve sign-ins in fresh browser contexts: slow on a loaded machine.
  it('looks right at every size, light and dark, English and Japanese (axe: no serious or critical violation)', { timeout: 300_000 }, async () => {
    const sizes = [
      { name: 'docked', viewport: DOCKED },
      { name: '1366', viewport: { width: 1366, height: 768 } },
      { name: '1920', viewport: { width: 1920, height: 1080 } },
    ];
    for (const lang of ['en-US', 'ja-JP']) {
      for (const scheme of ['light', 'dark'] as const) {
        for (const size of sizes) {
          const page = await open({ locale: lang, viewport: size.viewport, colorScheme: scheme });
          await signIn(page, 'alice');
          await page.locator('li.contact[data-username=bob]').waitFor({ timeout: T });
          const name = `home-${size.name}-${scheme}-${lang.slice(0, 2)}`;
          if (size.name !== 'docked') await page.locator('.chat-empty').waitFor({ timeout: T });
          await page.locator('.ticker-item').first().waitFor({ timeout: T });
          expect(await seriousViolations(page), `${name}-panel`).toEqual([]);
          await shot(page, `${name}-panel.png`);
          await page.locator(`.conv[data-chat="${chatId}"]`).click();
          await page.locator('.chat .msg').first().waitFor({ timeout: T });
          if (size.name !== 'docked') expect(await page.locator('.chat-pane .chat').count(), 'the chat beside the panel').toBe(1);
          await page.waitForTimeout(200);
          const violations = await seriousViolations(page);
          expect(violations, name).toEqual([]);
          await shot(page, `${name}.png`);
          await page.context().close();
        }
      }
    }
  });

  it('asks before leaving a chat and shows the leaving in the history', async () => {
    // Bob, back online after the restart, is in the chat with Alice; he leaves it.
    await expect.poll(() => bob.locator('.panel-header .conn').getAttribute('data-state'), { timeout: 40_000 }).toBe('online');
    await bob.locator(`.conv[data-chat="${chatId}"]`).click();
    await bob.locator('.chat-overlay button.leave').click();
    const confirm = bob.locator('.confirm-bar[role=alertdialog]');
    await confirm.waitFor({ timeout: T });
    expect(await confirm.textContent()).toContain('Leave this chat?');
    await alice.locator(`.conv[data-chat="${chatId}"]`).click();
    await confirm.locator('button.confirm-leave').click();
    await bob.locator('.chat-overlay').waitFor({ state: 'detached', timeout: T });
    await alice.locator('.chat-overlay .system-line', { hasText: 'Bob Brown left the chat' }).waitFor({ timeout: T });
    expect(await alice.locator('.chat-overlay .day-line').count(), 'one day, one separator').toBe(1);
    await alice.locator('.chat-overlay button.back').click();
  });

  it('jumps to a person with Ctrl+K', async () => {
    await alice.keyboard.press('Control+k');
    const dialog = alice.locator('dialog.jump-dialog');
    await dialog.waitFor({ timeout: T });
    await dialog.locator('input[name=jump]').fill('car');
    expect(await dialog.locator('.jump-item').first().textContent()).toContain('Carol Chen');
    expect(await seriousViolations(alice)).toEqual([]);
    await shot(alice, 'home-jump.png');
    await dialog.locator('input[name=jump]').press('Enter');
    await dialog.waitFor({ state: 'detached', timeout: T });
    await alice.locator('.toast', { hasText: 'Chat request sent to Carol Chen' }).waitFor({ timeout: T });
  });

  it('ran without script errors', () => {
    expect(pageErrors).toEqual([]);
  });
});
