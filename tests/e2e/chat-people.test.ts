/**
 * End to end (issue 18, outside a call): Add people… in a chat's header. Alice and Bob talk; Alice
 * adds Carol choosing "only what is said from now on"; Carol gets the request, accepts, and reads
 * only what came after; Bob sees Carol in the members. Someone already in the chat is not offered
 * again; the choice of history stays the chat's. axe on the open picker; screenshots
 * (tests/e2e/screenshots/chat-add-people-*) at 360×900 and 1366×768, light and dark.
 */
import { mkdirSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seriousViolations } from '../helpers/axe.js';
import { activeChat, ok } from '../helpers/chat.js';
import { CHROMIUM, CHROMIUM_FLAGS } from '../helpers/chromium.js';
import { ensureRendererBuilt, signInPanel } from '../helpers/panel-page.js';
import { startTestServer, type Client, type TestServer } from '../helpers/server.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const SHOTS = join(ROOT, 'tests/e2e/screenshots');
const T = 20_000;

describe('Add people… in a chat, in Chromium', { timeout: 90_000 }, () => {
  let server: TestServer;
  let browser: Browser;
  let aliceApi: Client;
  let bobApi: Client;
  let chatId: string;
  let alice: Page;
  let bob: Page;
  let carol: Page;
  const contexts: BrowserContext[] = [];
  const pageErrors: string[] = [];

  async function open(viewport = { width: 360, height: 900 }) {
    const context = await browser.newContext({ viewport, baseURL: server.url, colorScheme: 'light', locale: 'en-US' });
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    return page;
  }
  const chatOf = (page: Page) => page.locator(`.chat[data-chat="${chatId}"]`);
  const openChat = async (page: Page) => {
    await page.locator(`.conv[data-chat="${chatId}"]`).click();
    await chatOf(page).locator('.composer textarea').waitFor({ timeout: T });
  };
  const say = (c: Client, text: string) => ok(c.put(`/api/v1/chats/${chatId}/messages/${randomUUID()}`, { text }), 201);

  beforeAll(async () => {
    await ensureRendererBuilt();
    mkdirSync(SHOTS, { recursive: true });
    server = await startTestServer();
    aliceApi = await server.user('alice', 'Alice Adams');
    bobApi = await server.user('bob', 'Bob Brown');
    await server.user('carol', 'Carol Clark');
    for (const [user, contact] of [
      ['alice', 'bob'],
      ['bob', 'alice'],
      ['alice', 'carol'],
      ['carol', 'alice'],
    ]) {
      expect((await server.admin.put(`/api/v1/admin/users/${user}/contacts/${contact}`)).status).toBe(200);
    }
    chatId = await activeChat(aliceApi, bobApi);
    await say(bobApi, 'Salary figures before the review');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
    alice = await open();
    bob = await open({ width: 1366, height: 768 });
    carol = await open();
    await Promise.all([signInPanel(alice, 'alice', T), signInPanel(bob, 'bob', T), signInPanel(carol, 'carol', T)]);
  }, 90_000);

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => {});
    await browser?.close();
    await server?.destroy();
  });

  it('offers my contacts not in the chat, with the choice of what they read', async () => {
    await openChat(alice);
    const button = chatOf(alice).locator('.chat-add-people');
    expect(await button.getAttribute('aria-expanded')).toBe('false');
    await button.click();
    const picker = chatOf(alice).locator('.chat-add-picker');
    await picker.waitFor({ timeout: T });
    expect(await button.getAttribute('aria-expanded')).toBe('true');
    // Bob takes part already: only Carol is offered.
    expect(await picker.locator('.people-pick-name').allTextContents()).toEqual(['Carol Clark']);
    expect(await picker.locator('.call-add-go').isDisabled()).toBe(true);
    await picker.locator('input[value=carol]').check();
    await picker.locator('.call-picker-history').waitFor({ timeout: T });
    expect(await picker.locator('input[value=all]').isChecked()).toBe(true); // the chat's setting
    expect(await seriousViolations(alice), 'the open picker').toEqual([]);
    for (const scheme of ['light', 'dark'] as const) {
      await alice.emulateMedia({ colorScheme: scheme });
      for (const size of [
        { name: 'docked', width: 360, height: 900 },
        { name: 'laptop', width: 1366, height: 768 },
      ]) {
        await alice.setViewportSize({ width: size.width, height: size.height });
        await chatOf(alice).locator('.chat-add-picker').waitFor({ timeout: T });
        // Docked again, the chat slides in over the panel: the picture once it has.
        await alice.evaluate(() => Promise.all(document.getAnimations().map((a) => a.finished)));
        await alice.screenshot({ path: join(SHOTS, `chat-add-people-${size.name}-${scheme}.png`) });
      }
    }
    await alice.emulateMedia({ colorScheme: 'light' });
    await alice.setViewportSize({ width: 360, height: 900 });
  });

  it('invites Carol with "only from now on": she accepts and reads only what came after', async () => {
    const picker = chatOf(alice).locator('.chat-add-picker');
    await picker.locator('input[value=since_added]').check();
    await picker.locator('.call-add-go').click();
    await picker.waitFor({ state: 'detached', timeout: T });
    await alice.locator('.toast', { hasText: 'Invited Carol Clark.' }).waitFor({ timeout: T });
    const chat = (await ok(aliceApi.get(`/api/v1/chats/${chatId}`))).chat;
    expect(chat.history).toBe('since_added');
    expect(chat.members.map((m: { username: string; status: string }) => `${m.username}:${m.status}`).sort()).toEqual(['alice:accepted', 'bob:accepted', 'carol:invited']);

    await say(aliceApi, 'Welcome Carol, here is the agenda');
    const request = carol.locator(`.request[data-chat="${chatId}"]`);
    await request.waitFor({ timeout: T });
    await request.locator('button.primary').click();
    await chatOf(carol).locator('.composer textarea').waitFor({ timeout: T }); // accepting opens the chat
    await chatOf(carol).locator('.msg .msg-text', { hasText: 'Welcome Carol, here is the agenda' }).waitFor({ timeout: T });
    expect(await chatOf(carol).locator('.msg .msg-text', { hasText: 'Salary figures' }).count()).toBe(0);
    // Bob, in the chat, sees Carol among the members once she takes part.
    await openChat(bob);
    await chatOf(bob).locator('.member.member-accepted', { hasText: 'Carol Clark' }).waitFor({ timeout: T });
    await chatOf(bob).locator('.msg .msg-text', { hasText: 'Salary figures' }).waitFor({ timeout: T });
  });

  it('offers nobody once all my contacts are in, and says so', async () => {
    await chatOf(alice).locator('.chat-add-people').click();
    const picker = chatOf(alice).locator('.chat-add-picker');
    await picker.waitFor({ timeout: T });
    expect(await picker.locator('.people-pick-name').count()).toBe(0);
    await picker.locator('.call-picker-hint', { hasText: 'Everyone in your contacts is in this chat already.' }).waitFor({ timeout: T });
    await picker.locator('button', { hasText: 'Cancel' }).click();
    await picker.waitFor({ state: 'detached', timeout: T });
    expect(pageErrors).toEqual([]);
  });
});
