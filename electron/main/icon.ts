/**
 * The tray icon, drawn in code (no image files to ship or lose): a disc in the presence colour,
 * a small blue dot at the top right while there are unread messages, and a white bar across the
 * disc while do-not-disturb runs (tray-look.ts decides which). Raw BGRA pixels for
 * nativeImage.createFromBitmap.
 */
import type { PresenceState } from '../preload/bridge.js';

export const PRESENCE_COLOURS: Record<PresenceState, [number, number, number]> = {
  available: [0x2e, 0xa0, 0x43],
  away: [0xf0, 0xa0, 0x20],
  busy: [0xd3, 0x2f, 0x2f],
  offline: [0x9e, 0x9e, 0x9e],
};
const BADGE: [number, number, number] = [0x1e, 0x88, 0xe5];

/** Coverage of a disc at pixel (x, y), anti-aliased over a one-pixel rim. */
function coverage(x: number, y: number, cx: number, cy: number, r: number): number {
  const d = Math.hypot(x + 0.5 - cx, y + 0.5 - cy);
  return Math.min(1, Math.max(0, r - d + 0.5));
}

export function trayBitmap(state: PresenceState, unread: number, size = 32, dnd = false): Buffer {
  const pixels = Buffer.alloc(size * size * 4);
  const main = { cx: size / 2, cy: size / 2, r: size * 0.4 };
  const dot = { cx: size * 0.78, cy: size * 0.22, r: size * 0.2 };
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let [r, g, b] = PRESENCE_COLOURS[state];
      let alpha = coverage(x, y, main.cx, main.cy, main.r);
      // Do not disturb: a white bar across the middle of the disc (inside it only).
      if (dnd && alpha > 0 && Math.abs(y + 0.5 - main.cy) <= size * 0.08 && Math.abs(x + 0.5 - main.cx) <= main.r * 0.6) [r, g, b] = [0xff, 0xff, 0xff];
      if (unread > 0) {
        const rim = coverage(x, y, dot.cx, dot.cy, dot.r + size * 0.06);
        const inner = coverage(x, y, dot.cx, dot.cy, dot.r);
        if (rim > 0) {
          // A transparent ring cut around the dot keeps it readable on the disc.
          alpha *= 1 - rim + inner;
          [r, g, b] = inner > 0 ? BADGE : [r, g, b];
          alpha = Math.max(alpha, inner);
        }
      }
      const i = (y * size + x) * 4;
      // Premultiplied BGRA.
      pixels[i] = Math.round(b * alpha);
      pixels[i + 1] = Math.round(g * alpha);
      pixels[i + 2] = Math.round(r * alpha);
      pixels[i + 3] = Math.round(255 * alpha);
    }
  }
  return pixels;
}
