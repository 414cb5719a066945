/**
 * End to end (issue 16, the panel side): two users in Chromium against a real server. Markdown and
 * links render, and XSS payloads in the text never run; edit (also by ↑), delete with a
 * confirmation, reactions with counts and who, "is typing…", "Seen", the emoji picker under the
 * panel's CSP; files (an image inline, a PDF card that downloads); unread across reloads; axe finds no serious violation in the conversation. Screenshots at 360×900 and
 * 1366×768, light and dark, go to tests/e2e/screenshots/ (look at them).
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seriousViolations } from '../helpers/axe.js';
import { activeChat } from '../helpers/chat.js';
import { CHROMIUM, CHROMIUM_FLAGS } from '../helpers/chromium.js';
import { ensureRendererBuilt, signInPanel } from '../helpers/panel-page.js';
import { startTestServer, type Client, type TestServer } from '../helpers/server.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const SHOTS = join(ROOT, 'tests/e2e/screenshots');
const T = 20_000;

/** Records window.open instead of opening, CSP violations, and whether any payload ran. */
const INIT = `
  window.__opened = [];
  window.open = function (url) { window.__opened.push(String(url)); return null; };
  window.__csp = [];
  window.__xss = 0;
  document.addEventListener('securitypolicyviolation', function (e) { window.__csp.push(e.violatedDirective + ' ' + e.blockedURI); });
`;

const PAYLOADS = [
  '<img src=x onerror="window.__xss++">',
  '<script>window.__xss++</script>',
  '"><svg onload="window.__xss++">',
  '[click me](javascript:window.__xss++)',
  '<a href="javascript:window.__xss++">link</a>',
  '<iframe srcdoc="<script>parent.__xss++</script>"></iframe>',
];

describe('conversations in Chromium', { timeout: 90_000 }, () => {
  let server: TestServer;
  let browser: Browser;
  let aliceApi: Client;
  let bobApi: Client;
  let chatId: string;
  let alice: Page;
  let bob: Page;
  const contexts: BrowserContext[] = [];
  const pageErrors: string[] = [];

  async function open(viewport = { width: 360, height: 900 }, colorScheme: 'light' | 'dark' = 'light') {
    const context = await browser.newContext({ viewport, baseURL: server.url, colorScheme, locale: 'en-US' });
    contexts.push(context);
    await context.addInitScript(INIT);
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    return page;
  }

  const chatOf = (page: Page) => page.locator(`.chat[data-chat="${chatId}"]`);
  const openChat = async (page: Page) => {
    await page.locator(`.conv[data-chat="${chatId}"]`).click();
    await chatOf(page).locator('textarea').first().waitFor({ timeout: T });
  };
  const send = async (page: Page, text: string) => {
    const box = chatOf(page).locator('.composer textarea');
    await box.fill(text);
    await box.press('Enter');
    await expect.poll(() => box.inputValue()).toBe('');
  };

  beforeAll(async () => {
    await ensureRendererBuilt();
    mkdirSync(SHOTS, { recursive: true });
    server = await startTestServer();
    aliceApi = await server.user('alice', 'Alice Adams');
    bobApi = await server.user('bob', 'Bob Brown');
    for (const [user, contact] of [
      ['alice', 'bob'],
      ['bob', 'alice'],
    ]) {
      expect((await server.admin.put(`/api/v1/admin/users/${user}/contacts/${contact}`)).status).toBe(200);
    }
    chatId = await activeChat(aliceApi, bobApi);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
    alice = await open();
    bob = await open();
    await Promise.all([signInPanel(alice, 'alice', T), signInPanel(bob, 'bob', T)]);
  }, 90_000);

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => {});
    await browser?.close();
    await server?.destroy();
  });

  it('renders markdown and links; a link opens outside', async () => {
    await openChat(alice);
    await openChat(bob);
    await send(alice, '**Lunch** at _noon_? See https://intranet.example.com/menu and `code`\n> quoted\n- one\n- two');
    const msg = chatOf(bob).locator('.msg.theirs').last();
    await msg.locator('strong', { hasText: 'Lunch' }).waitFor({ timeout: T });
    expect(await msg.locator('em').textContent()).toBe('noon');
    expect(await msg.locator('code').textContent()).toBe('code');
    expect(await msg.locator('blockquote').textContent()).toContain('quoted');
    expect(await msg.locator('ul li').count()).toBe(2);
    const link = msg.locator('a[href="https://intranet.example.com/menu"]');
    await link.click();
    expect(await bob.evaluate(() => (window as any).__opened)).toEqual(['https://intranet.example.com/menu']);
    expect(bob.url()).toContain('/app/');
    await send(alice, '👍');
    await chatOf(bob).locator('.msg.theirs .msg-text.jumbo', { hasText: '👍' }).waitFor({ timeout: T });
  });

  it('never runs HTML or script links from a message', async () => {
    for (const p of PAYLOADS) await send(alice, p);
    await chatOf(bob).locator('.msg.theirs', { hasText: 'srcdoc' }).waitFor({ timeout: T });
    await bob.waitForTimeout(300);
    for (const page of [alice, bob]) {
      const list = chatOf(page).locator('.message-list');
      expect(await list.locator('img, script, svg:not(.icon-svg), iframe').count()).toBe(0);
      expect(await list.locator('a[href^="javascript" i]').count()).toBe(0);
      expect(await page.evaluate(() => (window as any).__xss)).toBe(0);
    }
    // The texts are shown as written.
    expect(await chatOf(bob).locator('.msg.theirs', { hasText: '<img src=x onerror=' }).count()).toBe(1);
    await chatOf(bob).locator('.msg.theirs', { hasText: 'click me' }).last().click();
    expect(await bob.evaluate(() => (window as any).__xss)).toBe(0);
  });

  it('shows the other typing, then their message; "Seen" under mine once read', async () => {
    const box = chatOf(bob).locator('.composer textarea');
    await box.focus();
    await box.pressSequentially('On my way', { delay: 30 });
    await chatOf(alice).locator('.typing-line', { hasText: 'Bob Brown is typing…' }).waitFor({ timeout: T });
    await box.press('Enter');
    await chatOf(alice).locator('.msg.theirs', { hasText: 'On my way' }).waitFor({ timeout: T });
    await expect.poll(() => chatOf(alice).locator('.typing-line').textContent(), { timeout: T }).toBe('');
    await send(alice, 'See you');
    await chatOf(bob).locator('.msg.theirs', { hasText: 'See you' }).waitFor({ timeout: T });
    await chatOf(alice).locator('.msg.mine .msg-state .seen', { hasText: 'Seen' }).waitFor({ timeout: T });
  });

  it('edits (by the button and by ↑) and deletes with a confirmation', async () => {
    await send(alice, 'Meeting at 3');
    const mine = chatOf(alice).locator('.msg.mine', { hasText: 'Meeting at 3' });
    await mine.hover();
    await mine.locator('button.edit-message').click();
    const editor = chatOf(alice).locator('.msg-edit textarea');
    await editor.fill('Meeting at 4');
    await editor.press('Enter');
    const theirs = chatOf(bob).locator('.msg.theirs', { hasText: 'Meeting at 4' });
    await theirs.locator('.msg-edited', { hasText: '(edited)' }).waitFor({ timeout: T });

    // ↑ in the empty composer edits my last message.
    const box = chatOf(alice).locator('.composer textarea');
    await box.focus();
    await box.press('ArrowUp');
    const editor2 = chatOf(alice).locator('.msg-edit textarea');
    await expect.poll(() => editor2.inputValue()).toBe('Meeting at 4');
    await editor2.fill('Meeting at 5');
    await editor2.press('Enter');
    await chatOf(bob).locator('.msg.theirs', { hasText: 'Meeting at 5' }).waitFor({ timeout: T });

    const target = chatOf(alice).locator('.msg.mine', { hasText: 'Meeting at 5' });
    await target.hover();
    await target.locator('button.delete-message').click();
    const dialog = alice.locator('dialog.confirm-delete');
    await dialog.waitFor({ timeout: T });
    await dialog.locator('button', { hasText: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached', timeout: T });
    await target.hover();
    await target.locator('button.delete-message').click();
    await alice.locator('dialog.confirm-delete .confirm-delete-button').click();
    await chatOf(bob).locator('.msg.theirs.deleted .msg-deleted', { hasText: 'This message was deleted' }).waitFor({ timeout: T });
    expect(await chatOf(bob).locator('.msg', { hasText: 'Meeting at 5' }).count()).toBe(0);
    // Their messages have no edit or delete.
    const bobsView = chatOf(bob).locator('.msg.theirs', { hasText: 'See you' });
    await bobsView.hover();
    expect(await bobsView.locator('button.edit-message, button.delete-message').count()).toBe(0);
  });

  it('reacts: quick ones and the picker, counts and who, click to toggle', async () => {
    const msg = chatOf(bob).locator('.msg.theirs', { hasText: 'See you' });
    await msg.hover();
    await msg.locator('button.quick-reaction').first().click();
    const aliceMsg = chatOf(alice).locator('.msg.mine', { hasText: 'See you' });
    const thumbs = aliceMsg.locator('button.reaction[data-emoji="👍"]');
    await thumbs.waitFor({ timeout: T });
    expect(await thumbs.getAttribute('title')).toBe('Bob Brown reacted with 👍');
    expect(await thumbs.getAttribute('aria-pressed')).toBe('false');
    await thumbs.click();
    await expect.poll(() => chatOf(bob).locator('.msg.theirs', { hasText: 'See you' }).locator('button.reaction[data-emoji="👍"] .reaction-count').textContent(), { timeout: T }).toBe('2');
    expect(await thumbs.getAttribute('aria-pressed')).toBe('true');
    // The picker (emoji-mart) works under the CSP.
    await aliceMsg.hover();
    await aliceMsg.locator('button.add-reaction').click();
    const picker = aliceMsg.locator('em-emoji-picker');
    await picker.waitFor({ timeout: T });
    await picker.locator('input[type=search]').fill('tada');
    await picker.locator('button[aria-label="🎉"]').first().click();
    await chatOf(bob).locator('.msg.theirs', { hasText: 'See you' }).locator('button.reaction[data-emoji="🎉"]').waitFor({ timeout: T });
    // Toggle off.
    await thumbs.click();
    await expect.poll(() => chatOf(bob).locator('.msg.theirs', { hasText: 'See you' }).locator('button.reaction[data-emoji="👍"] .reaction-count').textContent(), { timeout: T }).toBe('1');
  });

  it('inserts emoji from the composer picker; counts down near the limit', async () => {
    await chatOf(alice).locator('.composer button.emoji-button').click();
    const picker = chatOf(alice).locator('.composer em-emoji-picker');
    await picker.waitFor({ timeout: T });
    await picker.locator('input[type=search]').fill('rocket');
    await picker.locator('button[aria-label="🚀"]').first().click();
    await expect.poll(() => chatOf(alice).locator('.composer textarea').inputValue()).toBe('🚀');
    const box = chatOf(alice).locator('.composer textarea');
    await box.fill('x'.repeat(4010));
    await chatOf(alice).locator('.char-count.over', { hasText: '10 characters too many' }).waitFor({ timeout: T });
    expect(await chatOf(alice).locator('.composer button[type=submit]').isDisabled()).toBe(true);
    await box.fill('');
  });

  it('shares an image and a PDF: the image inline as a thumbnail that opens full size, the PDF as a card that downloads', async () => {
    const image = await sharp({ create: { width: 640, height: 400, channels: 3, background: '#3a7bd5' } }).png().toBuffer();
    const pdf = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');
    const evilName = '"><img src=x onerror="window.__xss++">.pdf';
    await chatOf(alice).locator('input.file-input').setInputFiles([
      { name: 'photo.png', mimeType: 'image/png', buffer: image },
      { name: evilName, mimeType: 'application/pdf', buffer: pdf },
    ]);
    await expect.poll(() => chatOf(alice).locator('.attachment[data-done=true]').count(), { timeout: T }).toBe(2);
    await send(alice, 'Files for you');
    const msg = chatOf(bob).locator('.msg.theirs', { hasText: 'Files for you' });
    const thumb = msg.locator('.file-thumb img');
    await thumb.waitFor({ timeout: T });
    await expect.poll(() => thumb.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth), { timeout: T }).toBeGreaterThan(0);
    expect(await thumb.getAttribute('alt')).toBe('photo.png');
    await thumb.click();
    const full = bob.locator('dialog.lightbox img.lightbox-image');
    await expect.poll(() => full.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth), { timeout: T }).toBe(640);
    await bob.keyboard.press('Escape');
    await bob.locator('dialog.lightbox').waitFor({ state: 'detached', timeout: T });
    const card = msg.locator('a.file-card-link');
    expect(await card.locator('.file-card-name').textContent()).toBe(evilName);
    const [download] = await Promise.all([bob.waitForEvent('download', { timeout: T }), card.click()]);
    expect(download.suggestedFilename()).toMatch(/\.pdf$/);
    const saved = await download.path();
    expect(readFileSync(saved!).subarray(0, 5).toString()).toBe('%PDF-');
    for (const page of [alice, bob]) {
      expect(await page.evaluate(() => (window as any).__xss)).toBe(0);
      expect(await chatOf(page).locator('img[src="x"]').count()).toBe(0);
    }
  });

  it('counts unread from the server: the badge and the window title, also after a reload; read once shown', async () => {
    await chatOf(bob).locator('button.back').click();
    await chatOf(bob).waitFor({ state: 'detached', timeout: T });
    await send(alice, 'Are you there?');
    await send(alice, 'Ping');
    const badge = bob.locator(`.conv[data-chat="${chatId}"] .badge`);
    await expect.poll(() => badge.textContent(), { timeout: T }).toBe('2');
    await expect.poll(() => bob.title(), { timeout: T }).toMatch(/^\(2\) Portico/);
    await bob.reload();
    await bob.locator('.panel').waitFor({ timeout: T });
    await expect.poll(() => badge.textContent(), { timeout: T }).toBe('2');
    await expect.poll(() => bob.title(), { timeout: T }).toMatch(/^\(2\) Portico/);
    await openChat(bob);
    await chatOf(bob).locator('.msg.theirs', { hasText: 'Ping' }).waitFor({ timeout: T });
    await expect.poll(() => bob.title(), { timeout: T }).not.toMatch(/^\(/);
    // The read mark reached the server: a reload shows nothing unread.
    await expect.poll(async () => (await bobApi.get('/api/v1/chats')).body.chats.find((c: { id: string }) => c.id === chatId)?.unread ?? 0, { timeout: T }).toBe(0);
    await bob.reload();
    await bob.locator('.panel').waitFor({ timeout: T });
    await bob.locator(`.conv[data-chat="${chatId}"]`).waitFor({ timeout: T });
    expect(await badge.count()).toBe(0);
    expect(await bob.title()).not.toMatch(/^\(/);
  });

  it('shows a request with the message sent with it (the preview)', async () => {
    await server.user('carol', 'Carol Chen');
    expect((await server.admin.put('/api/v1/admin/users/alice/contacts/carol')).status).toBe(200);
    const created = await aliceApi.post('/api/v1/chats', { invitees: ['carol'] });
    expect(created.status).toBe(201);
    const pendingId = created.body.chat.id as string;
    const put = await aliceApi.put(`/api/v1/chats/${pendingId}/messages/${crypto.randomUUID()}`, { text: 'Hi Carol, **quick question** about the budget' });
    expect(put.status).toBeLessThan(300);
    const carol = await open();
    await signInPanel(carol, 'carol', T);
    const preview = carol.locator(`.request[data-chat="${pendingId}"] .request-preview`);
    await preview.waitFor({ timeout: T });
    expect(await preview.textContent()).toContain('Hi Carol, **quick question** about the budget');
    await carol.context().close();
  });

  it('has no serious accessibility violation, no CSP violation, no page error; screenshots', async () => {
    // (before axe, which itself trips script-src eval)
    for (const page of [alice, bob]) expect(await page.evaluate(() => (window as any).__csp)).toEqual([]);
    expect(await seriousViolations(alice)).toEqual([]);
    expect(await seriousViolations(bob)).toEqual([]);
    for (const [name, viewport] of [
      ['docked', { width: 360, height: 900 }],
      ['wide', { width: 1366, height: 768 }],
    ] as const) {
      for (const scheme of ['light', 'dark'] as const) {
        const page = await open(viewport, scheme);
        await signInPanel(page, 'bob', T);
        await openChat(page);
        await chatOf(page).locator('.msg', { hasText: 'See you' }).waitFor({ timeout: T });
        const msg = chatOf(page).locator('.msg.theirs', { hasText: 'See you' });
        await msg.hover();
        // The shipped emoji font is there and paints 👍 in colour (a font that loads but paints
        // nothing, as an SVG-in-OpenType one does in Chromium, leaves the canvas grey or empty).
        await expect.poll(() => page.evaluate(async () => (await document.fonts.load('32px "Twemoji"', '👍')).length), { timeout: T }).toBeGreaterThan(0);
        const colouredPixels = await page.evaluate(() => {
          const canvas = document.createElement('canvas');
          canvas.width = canvas.height = 48;
          const g = canvas.getContext('2d')!;
          g.font = '32px "Twemoji"';
          g.textBaseline = 'top';
          g.fillText('👍', 4, 4);
          const d = g.getImageData(0, 0, 48, 48).data;
          let n = 0;
          for (let i = 0; i < d.length; i += 4) if (d[i + 3]! > 0 && Math.abs(d[i]! - d[i + 2]!) > 60) n++;
          return n;
        });
        expect(colouredPixels).toBeGreaterThan(20);
        await page.evaluate(() => document.fonts.ready);
        await page.screenshot({ path: join(SHOTS, `conversation-${name}-${scheme}.png`) });
        expect(await seriousViolations(page)).toEqual([]);
        await page.context().close();
      }
    }
    expect(pageErrors).toEqual([]);
  });

  it('finds messages (matches marked) and opens the chat at one, loading older pages until it is there', async () => {
    const put = (text: string) => aliceApi.put(`/api/v1/chats/${chatId}/messages/${crypto.randomUUID()}`, { text });
    expect((await put('The quarterly <b>budget</b> numbers are in')).status).toBeLessThan(300);
    for (let i = 1; i <= 40; i++) expect((await put(`Filler ${i}`)).status).toBeLessThan(300);
    await bob.locator('.jump-open').click();
    await bob.locator('input[name=jump]').fill('quarterly');
    const hit = bob.locator('.jump-hit', { hasText: 'quarterly' });
    await hit.waitFor({ timeout: T });
    expect(await hit.locator('mark').first().textContent()).toBe('quarterly');
    expect(await hit.locator('.hit-chat').textContent()).toBe('Alice Adams');
    expect(await hit.locator('.hit-text').textContent()).toBe('The quarterly <b>budget</b> numbers are in');
    expect(await hit.locator('b').count()).toBe(0);
    await bob.screenshot({ path: join(SHOTS, 'conversation-search.png') });
    expect(await seriousViolations(bob)).toEqual([]);
    await hit.click();
    const found = chatOf(bob).locator('.msg.found', { hasText: 'The quarterly <b>budget</b> numbers are in' });
    await found.waitFor({ timeout: T });
    await expect.poll(() => found.evaluate((el) => {
      const box = el.getBoundingClientRect();
      const list = el.closest('.messages')!.getBoundingClientRect();
      return box.top >= list.top && box.bottom <= list.bottom;
    }), { timeout: T }).toBe(true);
    await bob.screenshot({ path: join(SHOTS, 'conversation-search-found.png') });
  });
});
