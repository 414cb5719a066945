/**
 * End to end, the call's state (issue 18; docs/calls.md) in Debian's Chromium with fake camera and
 * microphone against a real server:
 *   - late join: carol declines a call of three, then joins it from the chat's "Call in progress —
 *     Join" bar, and sees and is seen by both others (decoded frames counted);
 *   - hold: the frames each side receives stop advancing while the call is on hold (nothing is
 *     sent either way) and advance again on resume; the other side shows "On hold";
 *   - transfer: alice hands her call with bob to carol with a reason; carol's ring shows who and
 *     why, she accepts, bob now sees carol's video and alice is out of the call.
 * Screenshots (360×900 docked and 1366×768, light and dark) go to tests/e2e/screenshots/.
 */
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seriousViolations } from '../helpers/axe.js';
import { ensureRendererBuilt, signInPanel } from '../helpers/panel-page.js';
import { startTestServer, type Client, type TestServer } from '../helpers/server.js';
import { CHROMIUM, CHROMIUM_FLAGS } from '../helpers/chromium.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const SHOTS = join(ROOT, 'tests/e2e/screenshots');
const DOCKED = { width: 360, height: 900 };
const LAPTOP = { width: 1366, height: 768 };
const T = 30_000;
const FLAGS = [...CHROMIUM_FLAGS, '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', '--autoplay-policy=no-user-gesture-required'];
const NAMES = { alice: 'Alice Adams', bob: 'Bob Brown', carol: 'Carol Chen' } as const;
type Who = keyof typeof NAMES;

describe('call state in Chromium: join late, hold, transfer', { timeout: 120_000 }, () => {
  let browser: Browser | undefined;
  let server: TestServer;
  const api = {} as Record<Who, Client>;
  const contexts: BrowserContext[] = [];
  const pageErrors: string[] = [];

  async function open(who: Who, viewport = DOCKED, colorScheme: 'light' | 'dark' = 'light'): Promise<Page> {
    const context = await browser!.newContext({ locale: 'en-US', viewport, baseURL: server.url, colorScheme });
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await signInPanel(page, who, T);
    return page;
  }

  async function closePages() {
    for (const context of contexts.splice(0)) await context.close().catch(() => {});
  }

  /** A chat of these people, everyone accepted. */
  async function chatOf(creator: Who, ...others: Who[]): Promise<string> {
    await closePages(); // the previous case's pages (a failed one's too)
    const res = await api[creator].post('/api/v1/chats', { invitees: others });
    expect(res.status, JSON.stringify(res.body)).toBeLessThan(202); // 200: the 1:1 chat they already have
    if (res.status === 201) for (const o of others) expect((await api[o].post(`/api/v1/chats/${res.body.chat.id}/accept`)).status).toBe(200);
    return res.body.chat.id;
  }

  async function openChat(page: Page, chatId: string) {
    if (!(await page.locator(`.chat[data-chat="${chatId}"]`).count())) await page.locator(`.conv[data-chat="${chatId}"]`).click({ timeout: T });
    await page.locator(`.chat[data-chat="${chatId}"]`).waitFor({ timeout: T });
  }

  async function startCall(page: Page, chatId: string) {
    await openChat(page, chatId);
    await page.locator('.chat .call-start').click({ timeout: T });
  }

  /** The partner `peer` shows connected on this page. */
  const connectedTo = (page: Page, peer: Who) => page.locator(`.call-remote[data-peer="${peer}"][data-connected=true]`).waitFor({ timeout: T });

  /** Frames of `peer`'s video decoded on this page over `seconds` (the element's count, summed per sample). */
  const framesFrom = (page: Page, peer: Who, seconds = 2) =>
    page.evaluate(
      async ({ peer, seconds }) => {
        const el = document.querySelector<HTMLVideoElement>(`.call-remote[data-peer="${peer}"]`)!;
        const count = () => el.getVideoPlaybackQuality().totalVideoFrames;
        let last = count();
        let decoded = 0;
        for (let i = 0; i < seconds * 10; i++) {
          await new Promise((r) => setTimeout(r, 100));
          const now = count();
          decoded += now >= last ? now - last : now;
          last = now;
        }
        return decoded;
      },
      { peer, seconds },
    );

  /** Waits until `peer`'s frames advance on this page (more than `min` in 2 s). */
  async function expectFrames(page: Page, peer: Who, label: string, min = 10) {
    let got = 0;
    for (let i = 0; i < 8 && got <= min; i++) got = await framesFrom(page, peer);
    console.info(`${label}: ${got} frames in 2 s`);
    expect(got, label).toBeGreaterThan(min);
  }

  /** Carol came into alice and bob's call: all three are connected, she sees both and bob sees her. */
  async function carolInCall(carol: Page, alice: Page, bob: Page, label: string) {
    for (const [page, peers] of [
      [carol, ['alice', 'bob']],
      [alice, ['carol']],
      [bob, ['carol']],
    ] as const) {
      for (const peer of peers) await connectedTo(page, peer);
    }
    await expectFrames(carol, 'alice', `${label}, carol receives alice`);
    await expectFrames(carol, 'bob', `${label}, carol receives bob`);
    await expectFrames(bob, 'carol', `${label}, bob receives carol`);
  }

  /** Alice calls bob in their 1:1 chat, bob answers; carol is signed in too. */
  async function aliceCallsBob() {
    const chatId = await chatOf('bob', 'alice');
    const [alice, bob, carol] = [await open('alice'), await open('bob'), await open('carol')];
    await startCall(alice, chatId);
    await bob.locator('.incoming-call .call-accept').click({ timeout: T });
    await connectedTo(bob, 'alice');
    return { chatId, alice, bob, carol };
  }

  /** Alice's Transfer… picker, carol chosen. */
  async function transferPicker(page: Page) {
    await page.locator('.call-transfer').click();
    const picker = page.locator('.call-transfer-picker');
    await picker.locator('input[value=carol]').check();
    return picker;
  }

  const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, name), animations: 'disabled' });

  beforeAll(async () => {
    await ensureRendererBuilt();
    mkdirSync(SHOTS, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
    server = await startTestServer({ presenceGraceMs: 3000, callRingSeconds: 30 });
    for (const who of Object.keys(NAMES) as Who[]) api[who] = await server.user(who, NAMES[who]);
    // Everyone is everyone's contact: the transfer and add-people pickers offer contacts.
    for (const a of Object.keys(NAMES)) {
      for (const b of Object.keys(NAMES)) if (a !== b) expect((await server.admin.put(`/api/v1/admin/users/${a}/contacts/${b}`)).status).toBe(200);
    }
  }, 60_000);

  afterAll(async () => {
    await closePages();
    await browser?.close();
    await server?.destroy();
  });

  it('late join: carol declines a call of three, then joins it from the chat; all three see each other', async () => {
    const chatId = await chatOf('alice', 'bob', 'carol');
    const [alice, bob, carol] = [await open('alice'), await open('bob'), await open('carol')];
    await startCall(alice, chatId);
    await bob.locator('.incoming-call .call-accept').click({ timeout: T });
    await carol.locator('.incoming-call .call-decline').click({ timeout: T });
    await connectedTo(alice, 'bob');
    // Carol's panel: the conversation shows the call; its chat says "Call in progress — Join".
    await carol.locator(`.conv[data-chat="${chatId}"] .conv-call`).waitFor({ timeout: T });
    await openChat(carol, chatId);
    const bar = carol.locator('.call-live-bar');
    await bar.waitFor({ timeout: T });
    expect(await bar.textContent()).toContain('Call in progress');
    await shot(carol, 'call-join-bar.png');
    await bar.locator('.call-join').click();
    await carolInCall(carol, alice, bob, 'late join');
    await shot(carol, 'call-joined-late.png');
    // Carol and bob leave: alone, alice's call ends (a call needs two).
    for (const page of [carol, bob]) await page.locator('.call-hangup').click();
    await alice.locator('.call').waitFor({ state: 'detached', timeout: T });
  });

  it('hold pauses the frames both ways and "On hold" shows; resume brings them back', async () => {
    const chatId = await chatOf('alice', 'bob');
    const [alice, bob] = [await open('alice'), await open('bob')];
    await startCall(alice, chatId);
    await bob.locator('.incoming-call .call-accept').click({ timeout: T });
    await connectedTo(alice, 'bob');
    await connectedTo(bob, 'alice');
    await expectFrames(bob, 'alice', 'before hold, bob receives alice');
    await expectFrames(alice, 'bob', 'before hold, alice receives bob');

    await alice.locator('.call-hold').click();
    await bob.locator('.call-on-hold').waitFor({ timeout: T });
    expect(await bob.locator('.call-on-hold').textContent()).toContain('Alice Adams put the call on hold');
    await alice.locator('.call[data-held=true] .call-hold[aria-pressed=true]').waitFor({ timeout: T });
    // Frames in flight settle, then none come either way.
    await new Promise((r) => setTimeout(r, 1000));
    const [toBob, toAlice] = await Promise.all([framesFrom(bob, 'alice'), framesFrom(alice, 'bob')]);
    console.info(`on hold: bob got ${toBob}, alice got ${toAlice} frames in 2 s`);
    expect(toBob, 'on hold: bob receives no frames').toBeLessThanOrEqual(1);
    expect(toAlice, 'on hold: alice receives no frames').toBeLessThanOrEqual(1);
    await shot(bob, 'call-on-hold.png');

    await alice.locator('.call-hold').click();
    await bob.locator('.call-on-hold').waitFor({ state: 'detached', timeout: T });
    await expectFrames(bob, 'alice', 'resumed, bob receives alice');
    await expectFrames(alice, 'bob', 'resumed, alice receives bob');
    await alice.locator('.call-hangup').click();
    await bob.locator('.call').waitFor({ state: 'detached', timeout: T });
    await closePages();
  });

  it('transfer: alice hands her call with bob to carol with a reason; carol takes it, alice is out', async () => {
    const { chatId, alice, bob, carol } = await aliceCallsBob();

    const picker = await transferPicker(alice);
    await picker.locator('.call-picker-reason input').fill('billing question');
    await shot(alice, 'call-transfer-picker.png');
    await picker.locator('.call-transfer-go').click();
    await alice.locator('.call-transferring').waitFor({ timeout: T });
    await bob.locator('.call-on-hold').waitFor({ timeout: T });
    const ring = carol.locator('.incoming-call');
    await ring.waitFor({ timeout: T });
    const text = await ring.textContent();
    expect(text).toContain('Alice Adams transfers a call with Bob Brown to you');
    expect(text).toContain('billing question');
    await shot(carol, 'call-transfer-ring.png');
    await ring.locator('.call-accept').click();

    await connectedTo(bob, 'carol');
    await connectedTo(carol, 'bob');
    await alice.locator('.call').waitFor({ state: 'detached', timeout: T });
    await bob.locator('.call-on-hold').waitFor({ state: 'detached', timeout: T });
    expect(await bob.locator('.call-remote[data-peer="alice"]').count()).toBe(0);
    await expectFrames(bob, 'carol', 'transferred, bob receives carol');
    await expectFrames(carol, 'bob', 'transferred, carol receives bob');
    // Carol now takes part in the chat with bob (its history is hers).
    const chat = (await api.carol.get(`/api/v1/chats/${chatId}`)).body.chat;
    expect(chat.members.find((m: any) => m.username === 'carol').status).toBe('accepted');
    await carol.locator('.call-hangup').click();
    await bob.locator('.call').waitFor({ state: 'detached', timeout: T });
    await closePages();
  });

  it('warm transfer: alice talks to carol first while bob waits (no frames to him), then completes; bob and carol talk', async () => {
    const { chatId, alice, bob, carol } = await aliceCallsBob();
    const picker = await transferPicker(alice);
    await picker.locator('.call-picker-warm input').check();
    await picker.locator('.call-transfer-go').click();
    await carol.locator('.incoming-call .call-accept').click({ timeout: T });
    // Alice and carol talk; bob, on hold, gets nothing from either.
    await connectedTo(alice, 'carol');
    await connectedTo(carol, 'alice');
    await expectFrames(alice, 'carol', 'consulting, alice receives carol');
    await expectFrames(carol, 'alice', 'consulting, carol receives alice');
    await bob.locator('.call-on-hold').waitFor({ timeout: T });
    await alice.locator('.call-consult').waitFor({ timeout: T });
    await shot(alice, 'call-warm-transfer.png');
    await new Promise((r) => setTimeout(r, 1000));
    const toBob = await framesFrom(bob, 'alice');
    console.info(`consulting: bob got ${toBob} frames from alice in 2 s`);
    expect(toBob, 'bob on hold receives nothing from alice').toBeLessThanOrEqual(1);
    // Alice completes: bob and carol talk, alice is out.
    await alice.locator('.call-complete-transfer').click();
    await alice.locator('.call').waitFor({ state: 'detached', timeout: T });
    await connectedTo(bob, 'carol');
    await bob.locator('.call-on-hold').waitFor({ state: 'detached', timeout: T });
    await expectFrames(bob, 'carol', 'after a warm transfer, bob receives carol');
    await expectFrames(carol, 'bob', 'after a warm transfer, carol receives bob');
    await carol.locator('.call-hangup').click();
    await bob.locator('.call').waitFor({ state: 'detached', timeout: T });
  });

  it('add people: alice adds carol to her call with bob from the call view; carol accepts the chat, is rung by alice, answers and sees both', async () => {
    const { chatId, alice, bob, carol } = await aliceCallsBob();
    await connectedTo(alice, 'bob');
    const picker = alice.locator('.call-add-picker');
    await alice.locator('.call-add').click();
    // Bob takes part in the chat and is in the call: not offered; carol is a contact.
    expect(await picker.locator('input[value=bob]').count()).toBe(0);
    await picker.locator('input[value=carol]').check();
    // Carol is invited into the chat: what she reads of it is chosen here (the chat's history sharing).
    await picker.locator('.call-picker-history input[value=since_added]').check();
    for (const scheme of ['light', 'dark'] as const) {
      for (const [size, viewport] of [
        ['docked', DOCKED],
        ['laptop', { width: 1280, height: 800 }],
      ] as const) {
        await alice.setViewportSize(viewport);
        await alice.emulateMedia({ colorScheme: scheme });
        // The call moves between the column (docked) and the main pane (wide), a new mount: the
        // picker comes along open, with what was chosen in it.
        await alice.locator(size === 'docked' ? '.panel-column .media .call .call-add-picker' : '.chat-pane .call-pane .call .call-add-picker').waitFor({ timeout: T });
        expect(await picker.locator('input[value=carol]').isChecked()).toBe(true);
        expect(await picker.locator('.call-picker-history input[value=since_added]').isChecked()).toBe(true);
        await picker.locator('.call-picker-actions').scrollIntoViewIfNeeded();
        await shot(alice, `call-add-ring-${size}-${scheme}.png`);
      }
    }
    expect(await seriousViolations(alice), 'add people picker').toEqual([]);
    await alice.setViewportSize(DOCKED);
    await alice.emulateMedia({ colorScheme: 'light' });
    await alice.locator('.panel-column .media .call .call-add-picker').waitFor({ timeout: T });
    await picker.locator('.call-add-go').click();
    // Carol: the chat request, then (accepted) the ring, from alice who added her.
    const request = carol.locator(`.request[data-chat="${chatId}"]`);
    await request.waitFor({ timeout: T });
    await request.locator('.request-actions button.primary').click();
    expect((await api.carol.get(`/api/v1/chats/${chatId}`)).body.chat.history).toBe('since_added');
    const ring = carol.locator('.incoming-call');
    await ring.waitFor({ timeout: T });
    expect(await ring.textContent()).toContain('Alice Adams is calling');
    await shot(carol, 'call-rung-into-call.png');
    await ring.locator('.call-accept').click();
    await carolInCall(carol, alice, bob, 'added and rung');
    for (const page of [carol, bob]) await page.locator('.call-hangup').click();
    await alice.locator('.call').waitFor({ state: 'detached', timeout: T });
    expect(pageErrors).toEqual([]);
  });

  it('screenshots: the join bar and a call on hold, docked and laptop, light and dark', async () => {
    const chatId = await chatOf('alice', 'bob', 'carol');
    const [alice, bob] = [await open('alice'), await open('bob')];
    await startCall(alice, chatId);
    await bob.locator('.incoming-call .call-accept').click({ timeout: T });
    await connectedTo(bob, 'alice');
    // Carol was offline when it rang: she sees it from the chat's bar.
    for (const scheme of ['light', 'dark'] as const) {
      for (const [size, viewport] of [
        ['docked', DOCKED],
        ['laptop', LAPTOP],
      ] as const) {
        const carol = await open('carol', viewport, scheme);
        await openChat(carol, chatId);
        await carol.locator('.call-live-bar').waitFor({ timeout: T });
        await carol.evaluate(() => document.fonts.ready);
        await shot(carol, `call-join-bar-${size}-${scheme}.png`);
        expect(await seriousViolations(carol), `join bar ${size} ${scheme}`).toEqual([]);
        await carol.context().close();
      }
    }
    await alice.locator('.call-hold').click({ timeout: T }); // three in the chat, two in the call: a call of two
    await bob.locator('.call-on-hold').waitFor({ timeout: T });
    for (const scheme of ['light', 'dark'] as const) {
      await bob.emulateMedia({ colorScheme: scheme });
      await shot(bob, `call-on-hold-docked-${scheme}.png`);
      await alice.emulateMedia({ colorScheme: scheme });
      await shot(alice, `call-held-by-me-docked-${scheme}.png`);
      expect(await seriousViolations(bob), `on hold ${scheme}`).toEqual([]);
    }
    // The pickers, laptop size.
    await alice.setViewportSize(LAPTOP);
    await alice.locator('.call-add').click();
    await alice.locator('.call-add-picker').waitFor({ timeout: T });
    await shot(alice, 'call-add-people-laptop-dark.png');
    expect(await seriousViolations(alice), 'add people picker').toEqual([]);
    await alice.locator('.call-hangup').click();
    expect(pageErrors).toEqual([]);
  });
});
