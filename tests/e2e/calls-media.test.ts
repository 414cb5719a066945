/**
 * End to end: call media in Debian's Chromium (fake camera and microphone), two users against a
 * real server:
 *   - screen sharing on the direct path: the partner's page shows the shared screen large and its
 *     pixels are the shared content (getDisplayMedia answers a canvas painted in two known
 *     colours, left and right: the check sees both, in place), the presenter's camera small and
 *     still moving; stopping restores the layout;
 *   - the same on the HTTP relay (a second recorded stream, `stream=screen`), with ICE blocked
 *     in the pages at first; then ICE is let through and the call upgrades to direct without
 *     dropping (the path badge changes, frames go on arriving, the screen too);
 *   - a call connected over TURN (coturn on loopback, policy 'turn') with direct paths blocked in
 *     the pages; then they are let through and the call upgrades to direct without dropping (an
 *     ICE restart on the same connection: the badge changes, frames go on arriving);
 *   - an audio-only call from the chat header: no video track is asked for or sent, the call
 *     window shows avatars, both hear each other.
 * Screenshots of the call window with a shared screen (360×900 and laptop size, light and dark)
 * go to tests/e2e/screenshots/.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seriousViolations } from '../helpers/axe.js';
import { activeChat } from '../helpers/chat.js';
import { CALL_FLAGS, colourAt, connectedOn, framesAdvance, framesOf, loudness, openChat, pathsShown, recordPaths, signIn, T } from '../helpers/call-pages.js';
import { CHROMIUM } from '../helpers/chromium.js';
import { startCoturn } from '../helpers/coturn.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const SHOTS = join(ROOT, 'tests/e2e/screenshots');
const PANEL = { width: 360, height: 900 };
const LAPTOP = { width: 1280, height: 800 };
/** The shared screen: the left half one colour, the right half another. */
const LEFT: [number, number, number] = [220, 30, 190];
const RIGHT: [number, number, number] = [30, 190, 60];

/**
 * Test instrumentation only: the page's peer connections (for getStats), a switch that blocks
 * ICE in new ones (relay-only policy with no TURN server: no candidate at all), and a shared
 * "screen" that is a canvas painted in two known colours (a small square moves at the bottom so
 * the encoder has frames to send).
 */
const INIT = `
  (() => {
    const Original = window.RTCPeerConnection;
    if (Original) {
      window.__pcs = [];
      window.__blockIce = false;
      // TURN only, also when the page asks for all candidates later (the upgrade from TURN): direct is blocked.
      window.__blockDirect = false;
      window.__allowDirectAsked = 0;
      window.RTCPeerConnection = class extends Original {
        constructor(config) {
          super(window.__blockIce ? { ...config, iceServers: [], iceTransportPolicy: 'relay' } : config);
          window.__pcs.push(this);
        }
        setConfiguration(config) {
          if (config.iceTransportPolicy === 'all') window.__allowDirectAsked++;
          return super.setConfiguration(window.__blockDirect ? { ...config, iceTransportPolicy: 'relay' } : config);
        }
      };
    }
    window.__displayAsked = 0;
    if (navigator.mediaDevices) navigator.mediaDevices.getDisplayMedia = async () => {
      window.__displayAsked++;
      const canvas = document.createElement('canvas');
      canvas.width = 960;
      canvas.height = 540;
      const g = canvas.getContext('2d');
      let x = 0;
      const paint = () => {
        g.fillStyle = 'rgb(${LEFT.join(',')})';
        g.fillRect(0, 0, 480, 540);
        g.fillStyle = 'rgb(${RIGHT.join(',')})';
        g.fillRect(480, 0, 480, 540);
        g.fillStyle = '#ffffff';
        g.fillRect(x, 500, 30, 30);
        x = (x + 20) % 930;
      };
      paint();
      const timer = setInterval(paint, 66);
      const stream = canvas.captureStream(15);
      stream.getVideoTracks()[0].addEventListener('ended', () => clearInterval(timer));
      return stream;
    };
  })();
`;

/**
 * A stand-in for the desktop shell's preload bridge (electron/preload/preload.ts) and for what
 * main does with it (display-media.ts): the page registers its source picker with
 * onDisplaySourceRequest; getDisplayMedia then offers the sources to it and shares what it picks
 * (the canvas above), and nothing (NotAllowedError, as Chromium answers an empty callback) when it
 * picks none or an id it was not offered.
 */
const BRIDGE = `
  (() => {
    let handler;
    window.__displayAnswers = [];
    window.portico = {
      onDisplaySourceRequest(h) {
        handler = h;
        return () => { handler = undefined; };
      },
    };
    const share = navigator.mediaDevices.getDisplayMedia;
    const png = (colour) => {
      const c = document.createElement('canvas');
      c.width = 160;
      c.height = 90;
      const g = c.getContext('2d');
      g.fillStyle = colour;
      g.fillRect(0, 0, 160, 90);
      g.fillStyle = '#ffffff';
      g.fillRect(10, 10, 60, 8);
      return c.toDataURL('image/png');
    };
    navigator.mediaDevices.getDisplayMedia = async (constraints) => {
      const sources = [
        { id: 'screen:1:0', name: 'Entire screen', kind: 'screen', thumbnail: png('#2a5bc8') },
        { id: 'screen:2:0', name: 'Screen 2', kind: 'screen', thumbnail: png('#c87828') },
        { id: 'window:7:0', name: 'Quarterly report — <b>Editor</b>', kind: 'window', thumbnail: png('#1ea05a') },
        { id: 'window:8:0', name: 'A window with an odd picture', kind: 'window', thumbnail: 'https://evil.example/x.png' },
      ];
      const id = handler ? await handler(sources) : 'screen:1:0';
      window.__displayAnswers.push(id);
      if (!id || !sources.some((s) => s.id === id)) throw new DOMException('Permission denied', 'NotAllowedError');
      return share(constraints);
    };
  })();
`;

async function ensureBuilt() {
  if (existsSync(join(ROOT, 'electron/renderer/dist/index.html'))) return;
  const { buildRenderer } = (await import(join(ROOT, 'electron/renderer/build.mjs'))) as { buildRenderer: (o: { quiet: boolean }) => Promise<unknown> };
  await buildRenderer({ quiet: true });
}

const close = (got: number[] | undefined, want: number[], tolerance = 50) => !!got && got.every((v, i) => Math.abs(v - want[i]!) <= tolerance);

interface Pair {
  server: TestServer;
  chatId: string;
  alice: Page;
  bob: Page;
}

describe('call media in Chromium: screen sharing, audio calls, the path upgrade', { timeout: 240_000 }, () => {
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];
  const servers: TestServer[] = [];
  const pageErrors: string[] = [];

  async function open(server: TestServer, init?: string): Promise<Page> {
    const context = await browser!.newContext({ locale: 'en-US', viewport: PANEL, baseURL: server.url, colorScheme: 'light' });
    contexts.push(context);
    await context.addInitScript(INIT);
    if (init) await context.addInitScript(init);
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    return page;
  }

  /** Alice and bob with an active chat, each signed in on a page; `init`: a script for alice's page after INIT. */
  async function pair(overrides: Parameters<typeof startTestServer>[0] = {}, init?: string): Promise<Pair> {
    for (const context of contexts.splice(0)) await context.close().catch(() => {});
    // The server default presence grace (20 s), not a short one: on a busy machine a page's main thread
    // can stall for seconds (closing a peer connection took ~4 s), and a member whose poll lapses
    // past the grace is hung up by the server's sweep; no test here needs a quick hang-up.
    const server = await startTestServer({ presenceGraceMs: 20_000, ...overrides });
    servers.push(server);
    const api = { alice: await server.user('alice', 'Alice Adams'), bob: await server.user('bob', 'Bob Brown') };
    for (const [user, contact] of [['alice', 'bob'], ['bob', 'alice']]) expect((await server.admin.put(`/api/v1/admin/users/${user}/contacts/${contact}`)).status).toBe(200);
    const chatId = await activeChat(api.alice, api.bob);
    const [alice, bob] = [await open(server, init), await open(server)];
    await Promise.all([signIn(alice, 'alice'), signIn(bob, 'bob')]);
    await alice.locator('li.contact[data-username=bob].presence-available').waitFor({ timeout: T });
    return { server, chatId, alice, bob };
  }

  /** The shared screen as `page` shows it: both halves in their colours, and its frames advancing. */
  async function expectScreen(page: Page, label: string, minFrames = 5) {
    const screen = '.call[data-layout=screen] .call-screen[data-peer=alice]';
    await page.locator(screen).waitFor({ timeout: T });
    let seen: unknown;
    await expect
      .poll(
        async () => {
          const left = await colourAt(page, screen, { x: 0.1, y: 0.2, w: 0.3, h: 0.5 });
          const right = await colourAt(page, screen, { x: 0.6, y: 0.2, w: 0.3, h: 0.5 });
          seen = { left, right };
          return close(left, LEFT) && close(right, RIGHT);
        },
        { timeout: T, interval: 250 },
      )
      .toBe(true)
      .catch((error: Error) => {
        throw new Error(`${label}: the shared colours are not what the partner sees: ${JSON.stringify(seen)}\n${error.message}`);
      });
    // Frames advance: polled (the relay's player goes on in chunks of a second or more on a busy machine).
    const frames = await framesAdvance(page, screen, minFrames, 15_000);
    console.info(`${label}: colours ${JSON.stringify(seen)}, ${frames.decoded} screen frames in ${frames.ms} ms, ${frames.width} px wide`);
    expect(frames.decoded, `${label}: screen frames advance (within 15 s)`).toBeGreaterThan(minFrames);
  }

  const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, name), animations: 'disabled' });

  /** The four looks of a page: 360×900 and laptop size, light and dark. */
  async function shots(page: Page, name: string) {
    for (const [size, viewport] of [['panel', PANEL], ['laptop', LAPTOP]] as const) {
      await page.setViewportSize(viewport);
      // Docked, the call takes the column's media area; at laptop size the main pane (large).
      await page.locator(size === 'panel' ? '.panel-column .media .call' : '.chat-pane .call-pane .call').waitFor({ timeout: 5000 });
      for (const scheme of ['light', 'dark'] as const) {
        await page.emulateMedia({ colorScheme: scheme });
        await page.waitForTimeout(300); // layout and a fresh frame
        await shot(page, `${name}-${size}-${scheme}.png`);
      }
    }
    await page.setViewportSize(PANEL);
    await page.emulateMedia({ colorScheme: 'light' });
  }

  beforeAll(async () => {
    await ensureBuilt();
    mkdirSync(SHOTS, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CALL_FLAGS });
  }, 60_000);

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => {});
    await browser?.close();
    for (const server of servers) await server.destroy();
  });

  it('shares a screen on the direct path: the partner sees it large, the presenter small; stopping restores the layout', async () => {
    const p = await pair();
    await openChat(p.alice, p.chatId);
    await p.alice.locator('.chat .call-start').click({ timeout: T });
    await p.bob.locator('.incoming-call .call-accept').click({ timeout: T });
    await connectedOn([p.alice, p.bob], 'direct');
    expect(await p.bob.locator('.call').getAttribute('data-layout')).toBe('grid');

    await p.alice.locator('.call-share').click();
    await p.alice.locator('.call[data-sharing=true] .call-sharing-banner').waitFor({ timeout: T });
    expect(await p.alice.evaluate(() => (window as unknown as { __displayAsked: number }).__displayAsked)).toBe(1);
    await expectScreen(p.bob, 'direct, bob sees alice’s screen');
    // The presenter's camera goes on, small, next to the screen.
    const camera = await framesOf(p.bob, '.call-remote[data-peer=alice]');
    expect(camera.decoded, 'the presenter’s camera still moves').toBeGreaterThan(5);
    expect(await colourAt(p.bob, '.call-remote[data-peer=alice]', { x: 0.1, y: 0.2, w: 0.3, h: 0.5 })).not.toSatisfy((c: number[]) => close(c, LEFT));
    await shots(p.bob, 'call-screen-viewer');
    await shot(p.alice, 'call-screen-presenter-panel-light.png');

    await p.alice.locator('.call-share').click();
    await p.bob.locator('.call[data-layout=grid]').waitFor({ timeout: T });
    expect(await p.bob.locator('.call-screen').count()).toBe(0);
    expect(await p.alice.locator('.call-sharing-banner').count()).toBe(0);
    expect(await p.alice.locator('.call-share').getAttribute('aria-pressed')).toBe('false');
    // Shared again: the same connection carries it again (replaceTrack, no new negotiation).
    await p.alice.locator('.call-share').click();
    await expectScreen(p.bob, 'direct, shared a second time');
    await p.alice.locator('.call-hangup').click();
    await p.bob.locator('.call').waitFor({ state: 'detached', timeout: T });
    expect(pageErrors).toEqual([]);
  });

  it('carries a shared screen on the HTTP relay, then upgrades to direct when ICE gets through, without dropping', async () => {
    // Policy 'http': media start on the relay at once; ICE is blocked in both pages for now.
    const p = await pair({ callPath: 'http' });
    for (const page of [p.alice, p.bob]) await page.evaluate(() => ((window as unknown as { __blockIce: boolean }).__blockIce = true));
    const screenUploads: string[] = [];
    p.alice.on('request', (r) => {
      if (r.method() === 'PUT' && r.url().includes('/relay/') && r.url().includes('stream=screen')) screenUploads.push(r.url());
    });
    await recordPaths(p.alice);
    await recordPaths(p.bob);
    await openChat(p.alice, p.chatId);
    await p.alice.locator('.chat .call-start').click({ timeout: T });
    await p.bob.locator('.incoming-call .call-accept').click({ timeout: T });
    await connectedOn([p.alice, p.bob], 'http-relay');
    const relayFrames = await framesAdvance(p.bob, '.call-remote[data-peer=alice]', 3, 15_000);
    expect(relayFrames.decoded, 'camera frames over the relay (within 15 s)').toBeGreaterThan(3);

    await p.alice.locator('.call-share').click();
    await expectScreen(p.bob, 'http relay, bob sees alice’s screen');
    // Its own relay stream, chunk after chunk (2.5 s each: the picture may show before the second).
    await expect.poll(() => screenUploads.length, { message: 'the screen went up as its own relay stream', timeout: T }).toBeGreaterThan(1);
    await shot(p.bob, 'call-screen-relay.png');

    // ICE gets through now: a next background attempt connects and takes over. Alice (the
    // offerer) retries with backoff (session.ts: 1.5 s, doubling per failed attempt, each attempt
    // up to 2 × 6 s): how long that takes depends on how many failed while ICE was blocked, which
    // on a busy machine varies. The wait covers the attempt under way, the next one and, as on a
    // loaded machine ICE may miss its 6 s, the one after.
    const failed = await p.alice.evaluate(() => (window as unknown as { __pcs: unknown[] }).__pcs.length);
    const backoff = (n: number) => Math.min(1500 * 2 ** n, 120_000);
    for (const page of [p.alice, p.bob]) await page.evaluate(() => ((window as unknown as { __blockIce: boolean }).__blockIce = false));
    await connectedOn([p.alice, p.bob], 'direct', 12_000 + backoff(failed) + 12_000 + backoff(failed + 1) + T);
    expect(await pathsShown(p.alice)).toEqual(['http-relay', 'direct']);
    expect(await pathsShown(p.bob)).toEqual(['http-relay', 'direct']);
    expect(await p.bob.locator('.call-path').textContent()).toBe('Connection: Direct');
    // The call never dropped (same call on both pages), media go on over the new path, the screen too.
    expect(await p.bob.locator('.call').count()).toBe(1);
    const after = await framesOf(p.bob, '.call-remote[data-peer=alice]');
    expect(after.decoded, 'camera frames after the upgrade').toBeGreaterThan(10);
    expect(await p.bob.evaluate(() => document.querySelector<HTMLVideoElement>('.call-remote')!.srcObject instanceof MediaStream)).toBe(true);
    await expectScreen(p.bob, 'after the upgrade, bob sees alice’s screen');
    // The relay upload stopped: no more screen chunks go up.
    const uploaded = screenUploads.length;
    await p.alice.waitForTimeout(2500);
    expect(screenUploads.length - uploaded, 'screen uploads after the upgrade').toBeLessThanOrEqual(1);
    await p.alice.locator('.call-hangup').click();
    await p.bob.locator('.call').waitFor({ state: 'detached', timeout: T });
    expect(pageErrors).toEqual([]);
  });

  it('upgrades a call connected over TURN to direct when a direct path gets through, without dropping', async () => {
    const secret = 'e2e-turn-upgrade-0123456789';
    const coturn = await startCoturn({ secret });
    try {
      // Policy 'turn': relay-only ICE first; the pages keep direct paths blocked for now.
      const p = await pair({ callPath: 'turn', turnUrls: coturn.urls.filter((u) => u.includes('transport=udp')), turnSecret: secret });
      for (const page of [p.alice, p.bob]) await page.evaluate(() => ((window as unknown as { __blockDirect: boolean }).__blockDirect = true));
      await recordPaths(p.alice);
      await recordPaths(p.bob);
      await openChat(p.alice, p.chatId);
      await p.alice.locator('.chat .call-start').click({ timeout: T });
      await p.bob.locator('.incoming-call .call-accept').click({ timeout: T });
      await connectedOn([p.alice, p.bob], 'turn');
      const overTurn = await framesAdvance(p.bob, '.call-remote[data-peer=alice]', 3, 15_000);
      expect(overTurn.decoded, 'camera frames over TURN (within 15 s)').toBeGreaterThan(3);
      // The background attempts (ICE restarts asking for all candidates) run and fail while blocked.
      await expect.poll(() => p.alice.evaluate(() => (window as unknown as { __allowDirectAsked: number }).__allowDirectAsked), { timeout: T }).toBeGreaterThan(0);
      expect(await p.alice.locator('.call').getAttribute('data-path')).toBe('turn');

      // Direct gets through: a next attempt selects a direct pair. Alice (the offerer) retries with
      // the upgrade's backoff (1.5 s with policy 'turn', doubling per failed attempt of up to 2 × 6 s).
      const failed = await p.alice.evaluate(() => (window as unknown as { __allowDirectAsked: number }).__allowDirectAsked);
      const backoff = (n: number) => Math.min(1500 * 2 ** n, 120_000);
      for (const page of [p.alice, p.bob]) await page.evaluate(() => ((window as unknown as { __blockDirect: boolean }).__blockDirect = false));
      await connectedOn([p.alice, p.bob], 'direct', 12_000 + backoff(failed) + 12_000 + backoff(failed + 1) + T);
      expect(await pathsShown(p.alice)).toEqual(['turn', 'direct']);
      expect(await pathsShown(p.bob)).toEqual(['turn', 'direct']);
      expect(await p.bob.locator('.call-path').textContent()).toBe('Connection: Direct');
      // The same connection (no new one was made for the upgrade), its selected pair now direct; media go on.
      const pcs = await p.alice.evaluate(async () => {
        const all = (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs;
        const stats = await all.at(-1)!.getStats();
        let pairId: string | undefined;
        stats.forEach((s) => {
          if (s.type === 'transport' && s.selectedCandidatePairId) pairId = s.selectedCandidatePairId;
        });
        const pair = stats.get(pairId!);
        return { count: all.length, local: stats.get(pair.localCandidateId).candidateType as string, remote: stats.get(pair.remoteCandidateId).candidateType as string };
      });
      expect(pcs.count).toBe(1);
      expect([pcs.local, pcs.remote]).not.toContain('relay');
      expect(await p.bob.locator('.call').count()).toBe(1);
      const after = await framesOf(p.bob, '.call-remote[data-peer=alice]');
      expect(after.decoded, 'camera frames after the upgrade').toBeGreaterThan(10);
      await shots(p.bob, 'call-turn-upgraded');
      await p.alice.locator('.call-hangup').click();
      await p.bob.locator('.call').waitFor({ state: 'detached', timeout: T });
      expect(pageErrors).toEqual([]);
    } finally {
      await coturn.stop();
    }
  });

  it('in the desktop shell: a source picker offers screens and windows; the keyboard picks one, Escape cancels (nothing shared, no error)', async () => {
    const p = await pair({}, BRIDGE);
    await openChat(p.alice, p.chatId);
    await p.alice.locator('.chat .call-start').click({ timeout: T });
    await p.bob.locator('.incoming-call .call-accept').click({ timeout: T });
    await connectedOn([p.alice, p.bob], 'direct');

    await p.alice.locator('.call-share').click();
    const dialog = p.alice.locator('dialog.screen-picker[open]');
    await dialog.waitFor({ timeout: T });
    expect(await dialog.locator('legend').allTextContents()).toEqual(['Screens', 'Windows']);
    expect(await dialog.locator('.screen-source').evaluateAll((els) => els.map((e) => e.getAttribute('data-source')))).toEqual(['screen:1:0', 'screen:2:0', 'window:7:0', 'window:8:0']);
    // Names are text; a thumbnail that is not a PNG data: URL is not shown.
    expect(await dialog.locator('[data-source="window:7:0"] .screen-source-name').textContent()).toBe('Quarterly report — <b>Editor</b>');
    expect(await dialog.locator('[data-source="window:7:0"] b').count()).toBe(0);
    expect(await dialog.locator('[data-source="window:8:0"] img').count()).toBe(0);
    expect(await dialog.locator('img').evaluateAll((els) => els.every((e) => (e as HTMLImageElement).src.startsWith('data:image/png;base64,')))).toBe(true);
    // The keyboard starts on the first source.
    expect(await p.alice.evaluate(() => (document.activeElement as HTMLInputElement | null)?.value)).toBe('screen:1:0');
    expect(await seriousViolations(p.alice), 'screen picker').toEqual([]);
    // The four looks, the dialog opened afresh at each size (a modal dialog kept open across a
    // viewport change was captured half painted), each closed with Escape.
    await p.alice.keyboard.press('Escape');
    for (const [size, viewport] of [['panel', PANEL], ['laptop', LAPTOP]] as const) {
      await p.alice.setViewportSize(viewport);
      for (const scheme of ['light', 'dark'] as const) {
        await p.alice.emulateMedia({ colorScheme: scheme });
        await dialog.waitFor({ state: 'detached', timeout: T });
        await p.alice.locator('.call-share').click();
        await dialog.waitFor({ timeout: T });
        await p.alice.waitForTimeout(300);
        await shot(p.alice, `call-screen-picker-${size}-${scheme}.png`);
        await p.alice.keyboard.press('Escape');
      }
    }
    await dialog.waitFor({ state: 'detached', timeout: T });
    await p.alice.setViewportSize(PANEL);
    await p.alice.emulateMedia({ colorScheme: 'light' });
    await p.alice.evaluate(() => ((window as unknown as { __displayAnswers: unknown[] }).__displayAnswers = []));
    await p.alice.locator('.call-share').click();
    await dialog.waitFor({ timeout: T });

    // Arrows move through the sources (screens, then windows), Enter shares the one chosen.
    await p.alice.keyboard.press('ArrowDown');
    await p.alice.keyboard.press('ArrowDown');
    await p.alice.keyboard.press('Enter');
    await dialog.waitFor({ state: 'detached', timeout: T });
    expect(await p.alice.evaluate(() => (window as unknown as { __displayAnswers: unknown[] }).__displayAnswers)).toEqual(['window:7:0']);
    await expectScreen(p.bob, 'picked in the dialog, bob sees alice’s screen');
    await p.alice.locator('.call[data-sharing=true] .call-share').click();
    await p.alice.locator('.call[data-sharing=false]').waitFor({ timeout: T });

    // Escape: nothing is shared and no error is shown.
    await p.alice.locator('.call-share').click();
    await dialog.waitFor({ timeout: T });
    await p.alice.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached', timeout: T });
    expect(await p.alice.evaluate(() => (window as unknown as { __displayAnswers: unknown[] }).__displayAnswers)).toEqual(['window:7:0', null]);
    await p.alice.waitForTimeout(500);
    expect(await p.alice.locator('.call').getAttribute('data-sharing')).toBe('false');
    expect(await p.alice.locator('.toast-error, [role=alert]').count()).toBe(0);
    // Cancel does the same.
    await p.alice.locator('.call-share').click();
    await dialog.locator('.screen-picker-cancel').click();
    await dialog.waitFor({ state: 'detached', timeout: T });
    expect(await p.alice.evaluate(() => (window as unknown as { __displayAnswers: unknown[] }).__displayAnswers)).toEqual(['window:7:0', null, null]);
    expect(await p.alice.locator('.toast-error, [role=alert]').count()).toBe(0);
    await p.alice.locator('.call-hangup').click();
    await p.bob.locator('.call').waitFor({ state: 'detached', timeout: T });
    expect(pageErrors).toEqual([]);
  });

  it('holds a call on the HTTP relay: neither side uploads while on hold; resume brings the pictures back', async () => {
    const p = await pair({ callPath: 'http' });
    for (const page of [p.alice, p.bob]) await page.evaluate(() => ((window as unknown as { __blockIce: boolean }).__blockIce = true));
    const uploads = { alice: 0, bob: 0 };
    for (const who of ['alice', 'bob'] as const) {
      p[who].on('request', (r) => {
        if (r.method() === 'PUT' && r.url().includes('/relay/')) uploads[who]++;
      });
    }
    await openChat(p.alice, p.chatId);
    await p.alice.locator('.chat .call-start').click({ timeout: T });
    await p.bob.locator('.incoming-call .call-accept').click({ timeout: T });
    await connectedOn([p.alice, p.bob], 'http-relay');
    expect((await framesAdvance(p.bob, '.call-remote[data-peer=alice]', 3, 15_000)).decoded, 'relay frames before the hold').toBeGreaterThan(3);

    await p.alice.locator('.call-hold').click({ timeout: T });
    await p.bob.locator('.call[data-held=true]').waitFor({ timeout: T });
    await p.alice.waitForTimeout(1500); // a chunk already on its way may still land
    const held = { ...uploads };
    await p.alice.waitForTimeout(4000);
    expect(uploads.alice - held.alice, 'alice uploads nothing while on hold').toBe(0);
    expect(uploads.bob - held.bob, 'bob uploads nothing while on hold').toBe(0);

    await p.alice.locator('.call-hold').click({ timeout: T });
    await p.bob.locator('.call:not([data-held])').waitFor({ timeout: T });
    await expect.poll(() => uploads.alice - held.alice, { message: 'alice uploads again after resume', timeout: 15_000 }).toBeGreaterThan(1);
    await expect.poll(() => uploads.bob - held.bob, { message: 'bob uploads again after resume', timeout: 15_000 }).toBeGreaterThan(1);
    expect((await framesAdvance(p.bob, '.call-remote[data-peer=alice]', 3, 15_000)).decoded, 'relay frames after resume').toBeGreaterThan(3);
    await p.alice.locator('.call-hangup').click();
    await p.bob.locator('.call').waitFor({ state: 'detached', timeout: T });
    expect(pageErrors).toEqual([]);
  });

  it('places an audio-only call from the chat header: no video track, avatars, both hear each other; a screen can still be shared', async () => {
    const p = await pair();
    await openChat(p.alice, p.chatId);
    await p.alice.locator('.chat .call-audio').click({ timeout: T });
    await p.bob.locator('.incoming-call', { hasText: 'Incoming audio call' }).waitFor({ timeout: T });
    await p.bob.locator('.incoming-call .call-accept').click({ timeout: T });
    await connectedOn([p.alice, p.bob], 'direct');
    for (const page of [p.alice, p.bob]) {
      expect(await page.locator('.call').getAttribute('data-video')).toBe('false');
      await page.locator('.call-tile .call-avatar').waitFor({ timeout: T });
      expect(await page.locator('.call-self').count()).toBe(0);
      expect(await page.locator('.call-camera').count()).toBe(0);
      // Nothing sends video: every sender of the connection has no track or an audio one.
      const sent = await page.evaluate(() => {
        const pc = ((window as unknown as { __pcs: RTCPeerConnection[] }).__pcs ?? []).filter((x) => x.connectionState === 'connected').at(-1)!;
        return pc.getSenders().map((s) => s.track?.kind ?? null);
      });
      expect(sent.filter((k) => k === 'video')).toEqual([]);
      expect(sent).toContain('audio');
      const got = await page.evaluate(() => {
        const stream = document.querySelector<HTMLVideoElement>('.call-remote')!.srcObject as MediaStream;
        return { audio: stream.getAudioTracks().length, video: stream.getVideoTracks().length };
      });
      expect(got).toEqual({ audio: 1, video: 0 });
    }
    const [bobHears, aliceHears] = await Promise.all([loudness(p.bob, '.call-remote'), loudness(p.alice, '.call-remote')]);
    console.info(`audio call: bob hears ${bobHears.toFixed(3)}, alice hears ${aliceHears.toFixed(3)}`);
    expect(bobHears).toBeGreaterThan(0.005);
    expect(aliceHears).toBeGreaterThan(0.005);
    await shots(p.bob, 'call-audio');

    await p.alice.locator('.call-share').click();
    await expectScreen(p.bob, 'audio call, bob sees alice’s screen');
    await shot(p.bob, 'call-audio-screen.png');
    await p.bob.locator('.call-hangup').click();
    await p.alice.locator('.call').waitFor({ state: 'detached', timeout: T });
    expect(pageErrors).toEqual([]);
  });
});
