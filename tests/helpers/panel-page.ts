/** What the panel's browser tests share: the renderer built once, and signing in through the page's own form. */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { PASSWORD } from './server.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');

/** Builds the renderer when no build is there (npm test builds it first through "pretest"). */
export async function ensureRendererBuilt(): Promise<void> {
  if (existsSync(join(ROOT, 'electron/renderer/dist/index.html'))) return;
  const { buildRenderer } = (await import(join(ROOT, 'electron/renderer/build.mjs'))) as { buildRenderer: (o: { quiet: boolean }) => Promise<unknown> };
  await buildRenderer({ quiet: true });
}

/** Signs in at /app/ with the test password; resolves when the panel shows. */
export async function signInPanel(page: Page, username: string, timeout: number): Promise<void> {
  await page.goto('/app/');
  await page.locator('input[name=username]').fill(username);
  await page.locator('input[name=password]').fill(PASSWORD);
  await page.locator('form.login-form button[type=submit]').click();
  await page.locator('.panel').waitFor({ timeout });
}
