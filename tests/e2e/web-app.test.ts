/**
 * The panel as an installable web app: the manifest passes Chromium's own installability check
 * (DevTools protocol, Page.getInstallabilityErrors: none), the service worker keeps the shell so a
 * reload without the server still shows the panel's page (never an API answer from a cache), and
 * a real `chromium --app=<url>` window on a virtual display (Xvfb) opens docked-column sized;
 * its screen is captured to tests/e2e/screenshots/web-app-window.png (look at it).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, CHROMIUM_FLAGS } from '../helpers/chromium.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const SHOTS = join(ROOT, 'tests/e2e/screenshots');
const T = 20_000;
const HAVE_XVFB = spawnSync('sh', ['-c', 'command -v Xvfb']).status === 0;

describe('installable web app', () => {
  let server: TestServer;
  let browser: Browser;
  const scratch: string[] = [];

  beforeAll(async () => {
    const { buildRenderer } = (await import(join(ROOT, 'electron/renderer/build.mjs'))) as { buildRenderer: (o: { quiet: boolean }) => Promise<unknown> };
    if (!existsSync(join(ROOT, 'electron/renderer/dist/sw.js'))) await buildRenderer({ quiet: true });
    mkdirSync(SHOTS, { recursive: true });
    server = await startTestServer();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.destroy();
    for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
  });

  it('serves a manifest Chromium finds installable', async () => {
    const res = await fetch(`${server.url}/app/manifest.webmanifest`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/manifest\+json/);
    const manifest = await res.json();
    expect(manifest).toMatchObject({ name: 'Portico', start_url: '/app/', scope: '/app/', display: 'standalone' });
    for (const icon of manifest.icons) expect((await fetch(server.url + icon.src)).headers.get('content-type')).toBe('image/png');

    // A profile of its own: Chromium never offers installation from an incognito-like context.
    const profile = mkdtempSync(join(tmpdir(), 'portico-install-profile-'));
    scratch.push(profile);
    const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto(`${server.url}/app/`);
    await page.evaluate(() => navigator.serviceWorker.ready);
    const cdp = await page.context().newCDPSession(page);
    const { installabilityErrors } = (await cdp.send('Page.getInstallabilityErrors')) as { installabilityErrors: Array<{ errorId: string }> };
    expect(installabilityErrors).toEqual([]);
    const { url, errors } = (await cdp.send('Page.getAppManifest')) as { url: string; errors: unknown[] };
    expect(url).toBe(`${server.url}/app/manifest.webmanifest`);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('the service worker keeps the shell for a start without the server, and never answers the API', async () => {
    const context = await browser.newContext({ baseURL: server.url });
    const page = await context.newPage();
    await page.goto('/app/');
    await page.locator('input[name=username]').waitFor({ timeout: T });
    await page.evaluate(() => navigator.serviceWorker.ready);
    await page.reload(); // now controlled by the worker
    expect(await page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);

    const port = server.port;
    await server.close();
    try {
      await page.reload();
      await page.locator('input[name=username]').waitFor({ timeout: T });
      // The API is not the worker's: without the server it fails as it would without a worker.
      const api = await page.evaluate(() => fetch('/api/v1/me').then((r) => r.status, () => 'network error'));
      expect(api).toBe('network error');
    } finally {
      server = await startTestServer({ port }, server.dataDir);
    }
    await context.close();
  });

  it.runIf(HAVE_XVFB)('a real `chromium --app` window opens docked-column sized', async () => {
    const display = `:${90 + (process.pid % 9)}`;
    const xvfb: ChildProcess = spawn('Xvfb', [display, '-screen', '0', '1280x960x24', '-nolisten', 'tcp'], { stdio: 'ignore' });
    const profile = mkdtempSync(join(tmpdir(), 'portico-app-profile-'));
    scratch.push(profile);
    try {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const app = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: false,
        args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', `--app=${server.url}/app/`],
        env: { ...process.env, DISPLAY: display },
        viewport: null,
      });
      try {
        await expect.poll(() => app.pages().find((p) => p.url().startsWith(`${server.url}/app/`)) !== undefined, { timeout: T }).toBe(true);
        const page = app.pages().find((p) => p.url().startsWith(`${server.url}/app/`))!;
        await page.locator('input[name=username]').waitFor({ timeout: T });
        await expect.poll(() => page.evaluate(() => window.outerWidth), { timeout: T }).toBeLessThan(420);
        expect(await page.evaluate(() => window.outerHeight)).toBeGreaterThan(700);
        const shot = join(SHOTS, 'web-app-window.png');
        const grab = spawnSync('ffmpeg', ['-y', '-loglevel', 'error', '-f', 'x11grab', '-video_size', '1280x960', '-i', display, '-frames:v', '1', shot], { timeout: 20_000 });
        expect(grab.status, grab.stderr?.toString()).toBe(0);
      } finally {
        await app.close();
      }
    } finally {
      xvfb.kill();
    }
  });
});
