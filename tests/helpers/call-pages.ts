/**
 * Helpers for browser tests of calls (Debian's Chromium, fake camera and microphone): launch
 * flags, sign-in, opening a chat, waiting for a call to connect on a path, and measuring what a
 * page receives (decoded frames, sound, the colours of a picture).
 */
import type { Page } from 'playwright-core';
import { PASSWORD } from './server.js';
import { CHROMIUM_FLAGS } from './chromium.js';

export const T = 30_000; // per expectation: generous, CI runs the whole suite on 2 cores
export const CALL_FLAGS = [
  ...CHROMIUM_FLAGS,
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  // The panel's user clicks Call or Accept before media plays; a test has no real gesture.
  '--autoplay-policy=no-user-gesture-required',
];

export async function signIn(page: Page, username: string) {
  await page.goto('/app/');
  await page.locator('input[name=username]').fill(username);
  await page.locator('input[name=password]').fill(PASSWORD);
  await page.locator('form.login-form button[type=submit]').click();
  await page.locator('.panel').waitFor({ timeout: T });
}

/** Opens a chat over the panel (it may be open already). */
export async function openChat(page: Page, chatId: string) {
  const back = page.locator('.chat .back');
  if ((await back.count()) && !(await page.locator(`.chat[data-chat="${chatId}"]`).count())) await back.click();
  if (!(await page.locator(`.chat[data-chat="${chatId}"]`).count())) await page.locator(`.conv[data-chat="${chatId}"]`).click({ timeout: T });
  await page.locator(`.chat[data-chat="${chatId}"]`).waitFor({ timeout: T });
}

/** Both pages show the call connected on `path` (within `timeout` ms per page). */
export async function connectedOn(pages: Page[], path: string, timeout = T) {
  for (const page of pages) {
    const call = page.locator('.call');
    await page.locator(`.call[data-phase=connected][data-path="${path}"]`).waitFor({ timeout }).catch(async (error: Error) => {
      throw new Error(`${error.message}\nthe call shows phase ${await call.getAttribute('data-phase')}, path ${await call.getAttribute('data-path')}`);
    });
  }
}

/**
 * Decoded frames of a video element over `seconds` (added up per sample: the HTTP relay's player
 * may rebuild its MediaSource, which starts the element's count anew) and its widest picture.
 */
export async function framesOf(page: Page, selector: string, seconds = 2.5) {
  return page.evaluate(
    async ({ selector, seconds }) => {
      const el = document.querySelector<HTMLVideoElement>(selector)!;
      const frames = () => el.getVideoPlaybackQuality().totalVideoFrames;
      for (let i = 0; i < 150 && (frames() < 3 || el.paused); i++) await new Promise((r) => setTimeout(r, 100));
      let decoded = 0;
      let last = frames();
      let width = el.videoWidth;
      for (let i = 0; i < seconds * 10; i++) {
        await new Promise((r) => setTimeout(r, 100));
        const now = frames();
        decoded += now >= last ? now - last : now;
        last = now;
        width = Math.max(width, el.videoWidth);
      }
      return { decoded, width };
    },
    { selector, seconds },
  );
}

/**
 * Waits until a video element has decoded more than `frames` new frames (added up per sample, as
 * framesOf), for at most `timeoutMs`: how many it decoded, in how many ms, and its widest picture.
 * For players whose pace varies (the HTTP relay's comes in chunks of a second or more on a busy
 * machine): a fixed window would measure the chunking, not whether the picture moves.
 */
export async function framesAdvance(page: Page, selector: string, frames: number, timeoutMs = 15_000) {
  return page.evaluate(
    async ({ selector, frames, timeoutMs }) => {
      const el = document.querySelector<HTMLVideoElement>(selector)!;
      const count = () => el.getVideoPlaybackQuality().totalVideoFrames;
      const start = performance.now();
      let decoded = 0;
      let last = count();
      let width = el.videoWidth;
      while (decoded <= frames && performance.now() - start < timeoutMs) {
        await new Promise((r) => setTimeout(r, 100));
        const now = count();
        decoded += now >= last ? now - last : now;
        last = now;
        width = Math.max(width, el.videoWidth);
      }
      return { decoded, ms: Math.round(performance.now() - start), width };
    },
    { selector, frames, timeoutMs },
  );
}

/** The loudest RMS of a media element's sound over `seconds` (Chromium's fake microphone beeps about once a second). */
export async function loudness(page: Page, selector: string, seconds = 2.5) {
  return page.evaluate(
    async ({ selector, seconds }) => {
      const el = document.querySelector<HTMLVideoElement>(selector)!;
      const stream = el.srcObject instanceof MediaStream ? el.srcObject : (el as HTMLVideoElement & { captureStream(): MediaStream }).captureStream();
      const audio = new AudioContext();
      await audio.resume();
      const analyser = audio.createAnalyser();
      analyser.fftSize = 2048;
      audio.createMediaStreamSource(stream).connect(analyser);
      const data = new Float32Array(analyser.fftSize);
      let peak = 0;
      for (let i = 0; i < seconds * 20; i++) {
        await new Promise((r) => setTimeout(r, 50));
        analyser.getFloatTimeDomainData(data);
        let sum = 0;
        for (const v of data) sum += v * v;
        peak = Math.max(peak, Math.sqrt(sum / data.length));
      }
      await audio.close();
      return peak;
    },
    { selector, seconds },
  );
}

/** The mean colour of a region (fractions of the picture) of a video element's current frame. */
export function colourAt(page: Page, selector: string, region: { x: number; y: number; w: number; h: number }) {
  return page.evaluate(
    ({ selector, region }) => {
      const el = document.querySelector<HTMLVideoElement>(selector);
      if (!el || !el.videoWidth) return undefined;
      const canvas = document.createElement('canvas');
      canvas.width = 64;
      canvas.height = 64;
      const g = canvas.getContext('2d')!;
      const [sw, sh] = [el.videoWidth, el.videoHeight];
      g.drawImage(el, region.x * sw, region.y * sh, region.w * sw, region.h * sh, 0, 0, 64, 64);
      const { data } = g.getImageData(0, 0, 64, 64);
      const sum = [0, 0, 0];
      for (let i = 0; i < data.length; i += 4) for (let c = 0; c < 3; c++) sum[c]! += data[i + c]!;
      return sum.map((v) => Math.round(v / (data.length / 4))) as [number, number, number];
    },
    { selector, region },
  );
}

/** Records every path the call view shows on this page (a MutationObserver sees each change); `pathsShown` answers them. */
export const recordPaths = (page: Page) =>
  page.evaluate(() => {
    const seen: string[] = [];
    (window as unknown as { __paths: string[] }).__paths = seen;
    const note = (value: string | null) => {
      if (value && seen.at(-1) !== value) seen.push(value);
    };
    new MutationObserver((records) => {
      for (const r of records) {
        if (r.type === 'attributes' && (r.target as Element).classList.contains('call')) note(r.oldValue);
        note(document.querySelector('.call')?.getAttribute('data-path') ?? null);
      }
    }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-path'], attributeOldValue: true });
  });
export const pathsShown = (page: Page) => page.evaluate(() => (window as unknown as { __paths: string[] }).__paths.filter((p, i, all) => p !== all[i - 1]));
