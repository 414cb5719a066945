/**
 * End to end: the panel at /app in Debian's Chromium (headless, through playwright-core) against
 * a real server. Two users in two browser contexts sign in, see each other online, chat (request,
 * accept, messages both ways, in the panel and in a chat window of its own), change status; a
 * provider's ticker item, image and chart appear; media buttons switch what the media area shows;
 * link clicks are routed to "open externally" and never navigate the panel; a ja-JP browser gets
 * the Japanese UI. Screenshots go to tests/e2e/screenshots/ (look at them).
 */
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZipFile } from 'yazl';
import { PASSWORD, startTestServer, type TestServer } from '../helpers/server.js';
import { CHROMIUM, CHROMIUM_FLAGS } from '../helpers/chromium.js';
import { ensureRendererBuilt, signInPanel } from '../helpers/panel-page.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const SHOTS = join(ROOT, 'tests/e2e/screenshots');
const PANEL = { width: 340, height: 900 };
const T = 20_000; // per expectation: generous, CI runs the whole suite on 2 cores

/** Builds the renderer when no build is there (npm test builds it first through "pretest"). */

/** A small PNG (a blue-green gradient with a light band), made here so the test ships no binary. */
function png(width: number, height: number): Buffer {
  const table = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf: Buffer) => {
    let c = 0xffffffff;
    for (const b of buf) c = table[(c ^ b) & 0xff]! ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const sum = Buffer.alloc(4);
    sum.writeUInt32BE(crc(body));
    return Buffer.concat([len, body, sum]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const rows: number[] = [];
  for (let y = 0; y < height; y++) {
    rows.push(0);
    for (let x = 0; x < width; x++) {
      const band = Math.abs(y - height / 2) < height / 10;
      rows.push(band ? 240 : 30 + Math.round((x / width) * 60), band ? 240 : 90 + Math.round((y / height) * 100), band ? 230 : 160);
    }
  }
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.from(rows))), chunk('IEND', Buffer.alloc(0))]);
}

/** A one-page game: a zip with index.html and a script that writes into the page. */
function gameZip(): Promise<Buffer> {
  const zip = new ZipFile();
  zip.addBuffer(Buffer.from('<!doctype html><title>Tap</title><h1>Tap game</h1><p id="out">not started</p><script src="game.js"></script>'), 'index.html');
  zip.addBuffer(Buffer.from('document.getElementById("out").textContent = "running";'), 'game.js');
  zip.end();
  const chunks: Buffer[] = [];
  return new Promise((resolve, reject) => {
    zip.outputStream.on('data', (c: Buffer) => chunks.push(c));
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    zip.outputStream.on('error', reject);
  });
}

/** A screenshot with animations settled (the ticker stands at its start). */
const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, name), animations: 'disabled' });

/** Records what the page hands to window.open, and every CSP violation, instead of opening anything. */
const INIT = `
  window.__opened = [];
  window.open = function (url, target, features) { window.__opened.push({ url: String(url), target: target, features: features }); return null; };
  window.__csp = [];
  document.addEventListener('securitypolicyviolation', function (e) { window.__csp.push(e.violatedDirective + ' ' + e.blockedURI); });
`;

describe('the panel in Chromium', { timeout: 60_000 }, () => {
  let server: TestServer;
  let browser: Browser;
  let providerKey: string;
  const contexts: BrowserContext[] = [];
  let alice: Page;
  let bob: Page;
  let chatId: string;
  const pageErrors: string[] = [];

  const provider = async (path: string, body: URLSearchParams | FormData) => {
    const res = await fetch(server.url + path, { method: 'POST', headers: { authorization: `Bearer ${providerKey}` }, body });
    expect(res.status, `${path}: ${await res.clone().text()}`).toBe(201);
  };

  async function open(locale = 'en-US', viewport = PANEL): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ locale, viewport, baseURL: server.url, colorScheme: 'light' });
    contexts.push(context);
    await context.addInitScript(INIT);
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(`${locale}: ${error.message}`));
    return { context, page };
  }

  const signIn = (page: Page, username: string) => signInPanel(page, username, T);

  beforeAll(async () => {
    await ensureRendererBuilt();
    mkdirSync(SHOTS, { recursive: true });
    server = await startTestServer();
    await server.user('alice', 'Alice Adams');
    await server.user('bob', 'Bob Brown');
    await server.user('carol', 'Carol Chen');
    for (const [user, contact] of [
      ['alice', 'bob'],
      ['alice', 'carol'],
      ['bob', 'alice'],
    ]) {
      expect((await server.admin.put(`/api/v1/admin/users/${user}/contacts/${contact}`)).status).toBe(200);
    }
    const created = await server.admin.post('/api/v1/admin/providers', { name: 'e2e', channels: ['news', 'lobby', 'stocks', 'company'] });
    expect(created.status).toBe(201);
    providerKey = created.body.key;
    expect(
      (
        await server.admin.put('/api/v1/admin/links', {
          html: '<h4>Everyday</h4><ul><li><a href="https://intranet.example.com/canteen">Canteen menu</a></li><li><a href="https://helpdesk.example.com/">IT helpdesk</a></li></ul>',
        })
      ).status,
    ).toBe(200);
    const form = new FormData();
    form.set('channel', 'lobby');
    form.set('title', 'Summer party');
    form.set('file', new Blob([new Uint8Array(png(320, 180))], { type: 'image/png' }), 'party.png');
    await provider('/cgi/media', form);
    const game = new FormData();
    game.set('channel', 'lobby');
    game.set('title', 'Tap game');
    game.set('file', new Blob([new Uint8Array(await gameZip())], { type: 'application/zip' }), 'tap.zip');
    await provider('/cgi/media', game);
    const now = Math.floor(Date.now() / 1000);
    await provider('/cgi/chart', new URLSearchParams({ channel: 'stocks', series: 'ACME', unit: 'EUR', points: Array.from({ length: 12 }, (_, i) => `${now - (12 - i) * 60}:${120 + Math.sin(i) * 4}`).join(',') }));
    await provider('/cgi/notice', new URLSearchParams({ channel: 'company', text: 'Fire drill at 10:00 on Thursday', priority: '5' }));
    await provider('/cgi/ticker', new URLSearchParams({ channel: 'news', text: 'Canteen opens early today' }));

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: CHROMIUM_FLAGS,
    });
    alice = (await open()).page;
    bob = (await open()).page;
  }, 60_000);

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => {});
    await browser?.close();
    await server?.destroy();
  });

  it('serves the page with its CSP', async () => {
    const res = await fetch(`${server.url}/app`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await res.text()).toMatch(/<script type="module" src="\/app\/assets\/main-[A-Z0-9]+\.js">/);
  });

  it('signs both users in; each sees the other online', async () => {
    await Promise.all([signIn(alice, 'alice'), signIn(bob, 'bob')]);
    await expect.poll(() => alice.locator('.panel-header .conn').getAttribute('data-state'), { timeout: T }).toBe('online');
    await alice.locator('li.contact[data-username=bob].presence-available').waitFor({ timeout: T });
    await bob.locator('li.contact[data-username=alice].presence-available').waitFor({ timeout: T });
    expect(await alice.locator('li.contact[data-username=bob] .contact-name').textContent()).toBe('Bob Brown');
    // carol never signed in
    await alice.locator('li.contact[data-username=carol].presence-offline').waitFor({ timeout: T });
  });

  it('shows the provider content: ticker, notice, links', async () => {
    await alice.locator('.ticker .ticker-group:not([aria-hidden]) .ticker-item', { hasText: 'Canteen opens early today' }).waitFor({ timeout: T });
    await alice.locator('.notices .notice-text', { hasText: 'Fire drill at 10:00' }).waitFor({ timeout: T });
    await alice.locator('.links-body a', { hasText: 'Canteen menu' }).waitFor({ timeout: T });
  });

  it('sends a chat request; the other accepts; messages go both ways', async () => {
    await alice.locator('li.contact[data-username=bob] .contact-main').click();
    const request = bob.locator('.request[role=alertdialog]');
    await request.waitFor({ timeout: T });
    expect(await request.textContent()).toContain('Alice Adams wants to chat');
    chatId = (await request.getAttribute('data-chat'))!;
    await shot(bob, 'panel-chat-request.png');
    await request.locator('button.primary').click();

    // Both sides get the chat window (in a browser: over the panel).
    await bob.locator(`.chat-overlay .chat[data-chat="${chatId}"]`).waitFor({ timeout: T });
    await alice.locator(`.chat-overlay .chat[data-chat="${chatId}"]`).waitFor({ timeout: T });

    const aliceBox = alice.locator('.chat-overlay textarea');
    await expect.poll(() => aliceBox.isEnabled(), { timeout: T }).toBe(true);
    await aliceBox.fill('Hello Bob!');
    await aliceBox.press('Shift+Enter');
    await aliceBox.pressSequentially('Two lines.');
    await aliceBox.press('Enter');
    await expect.poll(() => aliceBox.inputValue()).toBe('');
    await bob.locator('.chat-overlay .msg.theirs .msg-text', { hasText: 'Hello Bob!' }).waitFor({ timeout: T });
    expect(await bob.locator('.chat-overlay .msg.theirs .msg-text').first().textContent()).toBe('Hello Bob!\nTwo lines.');
    await alice.locator('.chat-overlay .msg.mine[data-state=sent]', { hasText: 'Hello Bob!' }).waitFor({ timeout: T });

    const bobBox = bob.locator('.chat-overlay textarea');
    await bobBox.fill('Hi Alice, how are you?');
    await bobBox.press('Enter');
    await alice.locator('.chat-overlay .msg.theirs .msg-text', { hasText: 'Hi Alice, how are you?' }).waitFor({ timeout: T });
    for (let i = 1; i <= 3; i++) {
      await aliceBox.fill(`Message ${i} from Alice`);
      await aliceBox.press('Enter');
    }
    await bob.locator('.chat-overlay .msg.theirs', { hasText: 'Message 3 from Alice' }).waitFor({ timeout: T });
    await alice.locator('.chat-overlay .msg.mine[data-state=sent]', { hasText: 'Message 3 from Alice' }).waitFor({ timeout: T });
    await shot(alice, 'chat-in-panel.png');
    // Back to the panel (Escape in the message box, as the back button does).
    await aliceBox.press('Escape');
    await alice.locator('.chat-overlay').waitFor({ state: 'detached', timeout: T });
    await alice.locator(`.conv[data-chat="${chatId}"]`).waitFor({ timeout: T });
  });

  it('runs a chat in a window of its own through the panel (the Electron route /app/#/chat/<id>)', async () => {
    const windowPage = await alice.context().newPage();
    windowPage.on('pageerror', (error) => pageErrors.push(`chat window: ${error.message}`));
    await windowPage.setViewportSize({ width: 420, height: 640 });
    await windowPage.goto(`/app/#/chat/${chatId}`);
    await windowPage.locator('.chat-window .msg.theirs', { hasText: 'Hi Alice, how are you?' }).waitFor({ timeout: T });
    await windowPage.locator('.chat-window .msg.mine', { hasText: 'Hello Bob!' }).waitFor({ timeout: T });
    const box = windowPage.locator('.chat-window textarea');
    await box.fill('Sent from the chat window');
    await box.press('Enter');
    await windowPage.locator('.chat-window .msg.mine[data-state=sent]', { hasText: 'Sent from the chat window' }).waitFor({ timeout: T });
    await bob.locator('.chat-overlay .msg.theirs', { hasText: 'Sent from the chat window' }).waitFor({ timeout: T });
    await bobReply();
    await windowPage.locator('.chat-window .msg.theirs', { hasText: 'Great, see you at lunch' }).waitFor({ timeout: T });
    expect(await windowPage.title()).toContain('Bob Brown');
    await shot(windowPage, 'chat-window.png');
    await windowPage.close();

    async function bobReply() {
      const bobBox = bob.locator('.chat-overlay textarea');
      await bobBox.fill('Great, see you at lunch');
      await bobBox.press('Enter');
    }
  });

  it('shows a status change to the other side: away, then back', async () => {
    await bob.locator('.chat-overlay button.back').click();
    await bob.locator('select[name=status]').selectOption('away');
    await alice.locator('li.contact[data-username=bob].presence-away').waitFor({ timeout: T });
    await bob.locator('select[name=status]').selectOption('busy');
    await alice.locator('li.contact[data-username=bob].presence-busy').waitFor({ timeout: T });
    await bob.locator('select[name=status]').selectOption('available');
    await alice.locator('li.contact[data-username=bob].presence-available').waitFor({ timeout: T });
    expect(await bob.locator('select[name=status]').inputValue()).toBe('available');
  });

  it('shows a ticker item pushed by a provider; its click opens externally', async () => {
    await provider('/cgi/ticker', new URLSearchParams({ channel: 'news', text: 'ACME shares up 4%', url: 'https://news.example.com/acme', priority: '10' }));
    const item = alice.locator('.ticker .ticker-group:not([aria-hidden]) a', { hasText: 'ACME shares up 4%' });
    await item.waitFor({ timeout: T });
    const before = alice.url();
    // The line scrolls; the pointer on it holds it still, and so does its pause button.
    const track = alice.locator('.ticker-track');
    expect(await track.evaluate((el) => getComputedStyle(el).animationPlayState)).toBe('running');
    await alice.locator('.ticker-viewport').hover();
    expect(await track.evaluate((el) => getComputedStyle(el).animationPlayState)).toBe('paused');
    await alice.locator('.ticker-pause').click();
    expect(await alice.locator('.ticker-pause').getAttribute('aria-pressed')).toBe('true');
    expect(await track.evaluate((el) => getComputedStyle(el).animationPlayState)).toBe('paused');
    // Click where the item shows now (either copy of the looping line), as a person would.
    const spot = await alice.evaluate((text) => {
      const view = document.querySelector('.ticker-viewport')!.getBoundingClientRect();
      let best: { x: number; y: number; width: number } | undefined;
      for (const a of document.querySelectorAll('.ticker a')) {
        if (a.textContent !== text) continue;
        const r = a.getBoundingClientRect();
        const left = Math.max(r.left, view.left);
        const right = Math.min(r.right, view.right);
        if (right - left > (best?.width ?? 0)) best = { x: (left + right) / 2, y: r.top + r.height / 2, width: right - left };
      }
      return best;
    }, 'ACME shares up 4%');
    expect(spot, 'the item is on screen').toBeDefined();
    await alice.mouse.click(spot!.x, spot!.y);
    await alice.locator('.ticker-pause').click();
    expect(await alice.evaluate(() => (window as any).__opened)).toContainEqual({ url: 'https://news.example.com/acme', target: '_blank', features: 'noopener,noreferrer' });
    expect(alice.url()).toBe(before);
  });

  it('routes a click in the links area to "open externally" without navigating', async () => {
    const before = alice.url();
    await alice.locator('.links-body a', { hasText: 'Canteen menu' }).click();
    expect(alice.url()).toBe(before);
    expect(await alice.evaluate(() => (window as any).__opened.map((o: { url: string }) => o.url))).toContain('https://intranet.example.com/canteen');
    // by keyboard, too
    await alice.locator('.links-body a', { hasText: 'IT helpdesk' }).focus();
    await alice.keyboard.press('Enter');
    expect(await alice.evaluate(() => (window as any).__opened.map((o: { url: string }) => o.url))).toContain('https://helpdesk.example.com/');
    expect(alice.url()).toBe(before);
  });

  it('switches the media area with its function buttons', async () => {
    const stage = alice.locator('.media .media-stage');
    await alice.locator('.media-button[data-tab=image]').click();
    const img = stage.locator('img.media-image');
    await img.waitFor({ timeout: T });
    expect(await img.getAttribute('alt')).toBe('Summer party');
    await expect.poll(() => img.evaluate((el: HTMLImageElement) => el.complete && el.naturalWidth), { timeout: T }).toBe(320);
    expect(await alice.locator('.media-button[data-tab=image]').getAttribute('aria-pressed')).toBe('true');

    await alice.locator('.media-button[data-tab=video]').click();
    await stage.locator('.media-empty', { hasText: 'No videos right now.' }).waitFor({ timeout: T });
    expect(await stage.locator('img').count()).toBe(0);

    await alice.locator('.media-button[data-tab=audio]').click();
    await stage.locator('.media-empty', { hasText: 'No music right now.' }).waitFor({ timeout: T });

    await alice.locator('.media-button[data-tab=chart]').click();
    await stage.locator('.chart[data-series=ACME] canvas').waitFor({ timeout: T });
    // a live point arrives as chart.points and is drawn at once
    await provider('/cgi/chart', new URLSearchParams({ channel: 'stocks', series: 'ACME', unit: 'EUR', points: `${Math.floor(Date.now() / 1000)}:131.5` }));
    await stage.locator('.chart-last', { hasText: '131.5' }).waitFor({ timeout: T });
    await shot(alice, 'panel-chart.png');

    await alice.locator('.media-button[data-tab=game]').click();
    const frame = stage.locator('iframe.media-game');
    await frame.waitFor({ timeout: T });
    expect(await frame.getAttribute('sandbox')).toBe('allow-scripts');
    expect(await frame.getAttribute('src')).toMatch(/^\/games\/[^/]+\/[0-9a-f]{64}\/index\.html$/);
    // the game runs its script, in a frame the panel cannot reach into (an opaque origin)
    await expect.poll(() => frame.contentFrame().locator('#out').textContent(), { timeout: T }).toBe('running');
    expect(await frame.evaluate((el: HTMLIFrameElement) => el.contentDocument === null)).toBe(true);

    await alice.locator('.media-button[data-tab=image]').click();
    await img.waitFor({ timeout: T });
    await shot(alice, 'panel.png');
    // The same panel at 150 % zoom (a 320 px window shows 213 CSS px).
    const zoomed = await open('en-US', { width: 227, height: 600 });
    await signIn(zoomed.page, 'alice');
    await zoomed.page.locator('li.contact[data-username=bob]').waitFor({ timeout: T });
    await zoomed.page.locator('.media-stage img.media-image').waitFor({ timeout: T });
    await zoomed.page.locator('.ticker-item', { hasText: 'ACME shares up 4%' }).first().waitFor({ timeout: T });
    await shot(zoomed.page, 'panel-150.png');
  });

  it('speaks Japanese in a ja-JP browser', async () => {
    const { page } = await open('ja-JP');
    await page.goto('/app/');
    await page.locator('h1', { hasText: 'Portico にサインイン' }).waitFor({ timeout: T });
    expect(await page.locator('html').getAttribute('lang')).toBe('ja');
    await shot(page, 'login-ja.png');
    await page.locator('input[name=username]').fill('carol');
    await page.locator('input[name=password]').fill(PASSWORD);
    await page.locator('form.login-form button[type=submit]').click();
    await page.locator('#contacts-title', { hasText: '連絡先' }).waitFor({ timeout: T });
    await page.locator('.media-button[data-tab=video] .media-label', { hasText: '動画' }).waitFor({ timeout: T });
    expect(await page.locator('select[name=status] option[value=away]').textContent()).toBe('離席中');

    // A group chat: Alice ticks Bob and Carol and presses Chat; Carol's prompt is in Japanese.
    await alice.locator('li.contact[data-username=carol].presence-available').waitFor({ timeout: T });
    await alice.locator('li.contact[data-username=bob] input[type=checkbox]').check();
    await alice.locator('li.contact[data-username=carol] input[type=checkbox]').check();
    await alice.locator('.contacts .area-head button.primary').click();
    const request = page.locator('.request[role=alertdialog]');
    await request.waitFor({ timeout: T });
    expect(await request.textContent()).toContain('Alice Adams さんが Bob Brown とのグループチャットに招待しています');
    await shot(page, 'panel-ja.png');
    await request.locator('button', { hasText: '承諾' }).click();
    const members = alice.locator('.chat-overlay .members .member');
    await expect.poll(() => members.allTextContents(), { timeout: T }).toEqual(['Alice Adams (in the chat)', 'Bob Brown (invited)', 'Carol Chen (in the chat)']);
    await page.locator('.chat-overlay .members', { hasText: 'メンバー' }).waitFor({ timeout: T });
    const box = page.locator('.chat-overlay textarea');
    await box.fill('こんにちは、皆さん');
    await box.press('Enter');
    await alice.locator('.chat-overlay .msg.theirs', { hasText: 'こんにちは、皆さん' }).waitFor({ timeout: T });
    await shot(alice, 'chat-group.png');
    // Bob declines; Alice sees him go in the member list.
    await bob.locator('.request[role=alertdialog] button:not(.primary)').click();
    await expect.poll(() => members.allTextContents(), { timeout: T }).toContain('Bob Brown (declined)');
  });

  it('lets its notes go by themselves', async () => {
    await alice.locator('.toast').first().waitFor({ state: 'detached', timeout: T });
  });

  it('ran without script errors or CSP violations', async () => {
    expect(pageErrors).toEqual([]);
    for (const page of [alice, bob]) expect(await page.evaluate(() => (window as any).__csp)).toEqual([]);
  });
});
