/**
 * End to end: meetings with guests (issue 19) in Debian's Chromium with fake camera and
 * microphone. A host signed in to the panel and two guests with no account, each in its own
 * browser context: the host creates a meeting, guest 1 opens the join link, checks its devices
 * and knocks, the host sees the knock card and allows; guest 2 knocks mid-meeting and is allowed;
 * a guest's chat message reaches the host; a call in the meeting chat joins all three; the host
 * uploads a 3-page PDF, turns to page 2, both guests show page 2 and the host's pointer; a third
 * guest is turned away; End meeting → the guests see that it ended. axe-core on the guest page;
 * screenshots (tests/e2e/screenshots/meeting-*) at 360×900 and 1366×768, light and dark.
 */
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seriousViolations } from '../helpers/axe.js';
import { CHROMIUM, CHROMIUM_FLAGS } from '../helpers/chromium.js';
import { ensureRendererBuilt, signInPanel } from '../helpers/panel-page.js';
import { tinyPdf } from '../helpers/pdf.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const SHOTS = join(ROOT, 'tests/e2e/screenshots');
const T = 30_000;
const FLAGS = [...CHROMIUM_FLAGS, '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', '--autoplay-policy=no-user-gesture-required'];
const SIZES = [
  { name: 'narrow', width: 360, height: 900 },
  { name: 'wide', width: 1366, height: 768 },
] as const;

describe('meetings with guests in Chromium', { timeout: 120_000 }, () => {
  let server: TestServer;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const pageErrors: string[] = [];
  /** Each page's console warnings and errors, told when a call test fails (why a partner is missing). */
  const consoleOf = new Map<Page, string[]>();
  let host: Page;
  let guest1: Page;
  let guest2: Page;
  let number = '';

  async function open(viewport = { width: 1366, height: 768 }) {
    const context = await browser.newContext({ locale: 'en-US', viewport, baseURL: server.url, colorScheme: 'light' });
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    const said: string[] = [];
    consoleOf.set(page, said);
    page.on('console', (m) => {
      if (m.type() === 'warning' || m.type() === 'error') said.push(`${new Date().toISOString().slice(11, 23)} ${m.type()}: ${m.text()}`);
    });
    return page;
  }

  /** Screenshots of a guest page in both sizes and both color schemes (then back to wide, light). */
  async function shots(page: Page, name: string) {
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      for (const size of SIZES) {
        await page.setViewportSize({ width: size.width, height: size.height });
        await page.screenshot({ path: join(SHOTS, `meeting-${name}-${size.name}-${scheme}.png`), fullPage: true });
      }
    }
    await page.emulateMedia({ colorScheme: 'light' });
    await page.setViewportSize({ width: 1366, height: 768 });
  }

  async function axe(page: Page, what: string) {
    expect(await seriousViolations(page), what).toEqual([]);
  }

  /** A guest opens the join link, enters its name, passes the device check and knocks. */
  async function knock(page: Page, name: string) {
    await page.goto(`/join/${number}`);
    expect(page.url()).toMatch(new RegExp(`/app/#/join/${number}$`));
    await page.locator('#guest-name').fill(name);
    await page.locator('.guest-form button[type=submit]').click();
    await page.locator('.guest-preview:not([hidden])').waitFor({ timeout: T }); // the fake camera shows
    await page.locator('.guest-knock').click();
    await page.locator('.guest-waiting').waitFor({ timeout: T });
  }

  async function allow(name: string) {
    const card = host.locator('.meeting-knock', { hasText: `Incoming: ${name} (` });
    await card.waitFor({ timeout: T });
    await card.locator('.knock-allow').click();
    await card.waitFor({ state: 'detached', timeout: T });
  }

  beforeAll(async () => {
    await ensureRendererBuilt();
    mkdirSync(SHOTS, { recursive: true });
    // The host's panel polls; the test servers' 300 ms presence grace would let the call sweeper
    // hang up a host whose next poll comes late on a loaded machine (as the other call tests do, a
    // grace of a real deployment's order).
    server = await startTestServer({ knocksPerMinute: 1000, presenceGraceMs: 20_000 });
    await server.user('hanna', 'Hanna Host');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
    host = await open({ width: 1366, height: 900 });
    await signInPanel(host, 'hanna', T);
    guest1 = await open();
    guest2 = await open();
  }, 90_000);

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => {});
    await browser?.close();
    await server?.destroy();
  });

  it('serves the guest page at /join/<number> and refuses other paths', async () => {
    const res = await fetch(`${server.url}/join/12345678901`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/app/#/join/12345678901');
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect((await fetch(`${server.url}/join/12345`, { redirect: 'manual' })).status).toBe(404);
    expect((await fetch(`${server.url}/join/<script>`, { redirect: 'manual' })).status).toBe(404);
  });

  it('the host creates a meeting and sees its number and link', async () => {
    await host.locator('.meeting-new').click();
    await host.locator('#meeting-title').fill('Quarterly review');
    await host.locator('.meeting-create-go').click();
    const value = host.locator('.meeting-card .meeting-number-value');
    await value.waitFor({ timeout: T });
    const shown = (await value.textContent()) ?? '';
    expect(shown).toMatch(/^\d{3}-\d{4}-\d{4}$/);
    number = shown.replace(/-/g, '');
    expect(await host.locator('.meeting-link').textContent()).toBe(`${server.url}/join/${number}`);
  });

  it('guest 1 joins through the form, the check and the knock; the host allows', async () => {
    await guest1.goto(`/join/${number}`);
    await guest1.locator('.guest-form').waitFor({ timeout: T });
    expect(await guest1.locator('#guest-number').inputValue()).toBe(`${number.slice(0, 3)}-${number.slice(3, 7)}-${number.slice(7)}`);
    await axe(guest1, 'join form');
    await shots(guest1, 'join');
    await knock(guest1, 'Gina Guest');
    expect(await guest1.locator('.guest-waiting').textContent()).toContain('Waiting for the host to let you in');
    await axe(guest1, 'waiting');
    await shots(guest1, 'waiting');
    // The token is in sessionStorage only.
    const storage = await guest1.evaluate(() => ({ local: Object.keys(localStorage), session: Object.keys(sessionStorage) }));
    expect(storage.local.filter((k) => k.includes('guest'))).toEqual([]);
    expect(storage.session).toContain('portico.guest.session');

    const card = host.locator('.meeting-knock', { hasText: 'Incoming: Gina Guest (' });
    await card.waitFor({ timeout: T });
    await card.screenshot({ path: join(SHOTS, 'meeting-host-knock-card.png') });
    await host.screenshot({ path: join(SHOTS, 'meeting-host-knock-panel.png') });
    await allow('Gina Guest');
    await guest1.locator('.meeting-room').waitFor({ timeout: T });
    expect(await guest1.locator('#guest-title').textContent()).toBe('Quarterly review');
    await guest1.locator('.meeting-people li', { hasText: 'Hanna Host' }).waitFor({ timeout: T });
  });

  it('guest 2 knocks mid-meeting and is allowed; everyone sees who is there', async () => {
    await knock(guest2, 'Otto Other');
    await allow('Otto Other');
    await guest2.locator('.meeting-room').waitFor({ timeout: T });
    await guest2.locator('.meeting-people li', { hasText: 'Gina Guest' }).waitFor({ timeout: T });
    await guest1.locator('.meeting-people li', { hasText: 'Otto Other' }).waitFor({ timeout: T });
    await host.locator('.meeting-pane .meeting-people li', { hasText: 'Otto Other' }).waitFor({ timeout: T });
  });

  it("a guest's chat message reaches the host and the other guest", async () => {
    await guest1.locator('#meeting-composer-input').fill('Hello from Gina');
    await guest1.locator('.meeting-composer button[type=submit]').click();
    for (const page of [host, guest2]) {
      await page.locator('.meeting-message', { hasText: 'Hello from Gina' }).waitFor({ timeout: T });
    }
    expect(await host.locator('.meeting-message', { hasText: 'Hello from Gina' }).locator('.meeting-message-from').textContent()).toBe('Gina Guest (guest)');
  });

  it('a call in the meeting chat joins the host and both guests', async () => {
    await host.locator('.meeting-call-start').click();
    for (const page of [guest1, guest2]) {
      await page.locator('.meeting-call-join').click({ timeout: T });
    }
    // Each of the three sees the two others connected.
    const connected = (page: Page) => page.evaluate(() => [...document.querySelectorAll('.call-remote')].map((v) => `${(v as HTMLElement).dataset.peer}:${(v as HTMLElement).dataset.connected}`).join(' '));
    for (const page of [host, guest1, guest2]) {
      await page
        .waitForFunction(() => document.querySelectorAll('.call-remote[data-connected=true]').length === 2, undefined, { timeout: T })
        .catch(async (error: Error) => {
          const told = (p: Page) => (consoleOf.get(p) ?? []).slice(-15).join('\n  ');
          const toasts = (p: Page) => p.evaluate(() => [...document.querySelectorAll('.toast, [role=alert]')].map((e) => e.textContent).join(' | '));
          throw new Error(
            `${error.message}; host: ${await connected(host)}; guest 1: ${await connected(guest1)}; guest 2: ${await connected(guest2)}` +
              `\nhost says: ${await toasts(host)}\n  ${told(host)}\nguest 1 says: ${await toasts(guest1)}\n  ${told(guest1)}\nguest 2 says: ${await toasts(guest2)}\n  ${told(guest2)}`,
          );
        });
    }
  });

  it('the host presents a 3-page PDF: both guests follow to page 2 and see the pointer', async () => {
    await host.locator('.presentation-upload input[type=file]').setInputFiles({ name: 'deck.pdf', mimeType: 'application/pdf', buffer: tinyPdf(3) });
    await host.locator('.presentation-stage[data-page="1"]').waitFor({ timeout: T });
    expect(await host.locator('.presentation-where').textContent()).toBe('Page 1 of 3');
    expect(await host.locator('.presentation-documents button').textContent()).toBe('Show: deck.pdf (3 pages)');
    await host.locator('.presentation-next').click();
    await host.locator('.presentation-stage[data-page="2"]').waitFor({ timeout: T });
    for (const page of [guest1, guest2]) {
      await page.locator('.presentation-stage[data-page="2"]').waitFor({ timeout: T });
      expect(await page.locator('.presentation-where').textContent()).toBe('Page 2 of 3');
      // The page image is really there (loaded, not a broken link).
      await page.waitForFunction(() => {
        const img = document.querySelector<HTMLImageElement>('.presentation-page');
        return !!img && img.complete && img.naturalWidth > 0;
      }, undefined, { timeout: T });
    }
    // The host moves the mouse over the page, for a while: the guests show the dot.
    const box = (await host.locator('.presentation-stage').boundingBox())!;
    for (let i = 0; i < 10; i++) {
      await host.mouse.move(box.x + box.width * (0.3 + i * 0.02), box.y + box.height * 0.5);
      await host.waitForTimeout(60);
    }
    for (const page of [guest1, guest2]) {
      await page.locator('.presentation-pointer').waitFor({ timeout: T });
      const left = await page.locator('.presentation-pointer').evaluate((el) => parseFloat((el as HTMLElement).style.left));
      expect(left).toBeGreaterThan(25);
      expect(left).toBeLessThan(55);
    }
    await axe(guest1, 'meeting');
    await shots(guest1, 'meeting');
    await host.screenshot({ path: join(SHOTS, 'meeting-host-meeting.png'), fullPage: true });
    // The docked panel (narrow): the meeting shows inside the Meetings section.
    await host.setViewportSize({ width: 340, height: 900 });
    await host.locator('.meetings .meeting-card .presentation-stage[data-page="2"]').waitFor({ timeout: T });
    await host.screenshot({ path: join(SHOTS, 'meeting-host-docked.png') });
    await host.setViewportSize({ width: 1366, height: 900 });
  });

  it('a reload of the guest tab stays in the meeting (sessionStorage)', async () => {
    await guest1.reload();
    await guest1.locator('.meeting-room').waitFor({ timeout: T });
    // Guest 1 was let in before guest 2: what it learned since is kept over the reload.
    await guest1.locator('.meeting-people li', { hasText: 'Otto Other' }).waitFor({ timeout: T });
    await guest1.locator('.presentation-stage[data-page="2"]').waitFor({ timeout: T });
    await guest2.reload();
    await guest2.locator('.meeting-room').waitFor({ timeout: T });
    await guest2.locator('.meeting-message', { hasText: 'Hello from Gina' }).waitFor({ timeout: T });
    await guest2.locator('#meeting-composer-input').fill('Back again');
    await guest2.locator('.meeting-composer button[type=submit]').click();
    await host.locator('.meeting-message', { hasText: 'Back again' }).waitFor({ timeout: T });
  });

  it('a number nobody uses is refused on the page', async () => {
    const page = await open({ width: 360, height: 900 });
    const unused = number === '12345678901' ? '12345678902' : '12345678901';
    await page.goto(`/join/${unused}`);
    await page.locator('#guest-name').fill('Wanda Wrong');
    await page.locator('.guest-form button[type=submit]').click();
    await page.locator('.guest-knock').click();
    await page.locator('.guest-error', { hasText: 'no meeting is open on this number' }).waitFor({ timeout: T });
    expect(await page.locator('.guest-waiting').count()).toBe(0);
  });

  it('a guest the host turns away is told so', async () => {
    const guest3 = await open({ width: 360, height: 900 });
    await knock(guest3, 'Ursula Unwanted');
    const card = host.locator('.meeting-knock', { hasText: 'Incoming: Ursula Unwanted (' });
    await card.locator('.knock-reject').click({ timeout: T });
    await guest3.locator('.guest-over-text', { hasText: 'The host did not let you in.' }).waitFor({ timeout: T });
    expect(await guest3.evaluate(() => sessionStorage.length)).toBe(0);
  });

  it('End meeting (confirmed) tells every guest that it ended', async () => {
    await host.locator('.meeting-end').click();
    await host.locator('.meeting-end-confirm').click();
    for (const page of [guest1, guest2]) {
      await page.locator('.guest-over-text', { hasText: 'The meeting has ended.' }).waitFor({ timeout: T });
    }
    await host.locator('.meeting-card').waitFor({ state: 'detached', timeout: T });
    await shots(guest1, 'ended');
    expect(pageErrors).toEqual([]);
  });
});
