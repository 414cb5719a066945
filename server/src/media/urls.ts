/**
 * Media and games are loaded by <img>, <video>, <audio> and sandboxed iframes, which cannot send
 * the user's bearer token; they get signed, expiring capability paths instead:
 *   /media/<token>/<sha256>              token = grant(`media:<sha256>`, expiry)
 *   /games/<token>/<sha256>/index.html   token = grant(`game:<sha256>`, expiry)
 * The expiry is at least 24 h away, rounded up to the next full hour: the same URL is handed out
 * for an hour, so browser caches (max-age one day) actually hit.
 */
import type { ServerSecret } from '../secrets.js';
import type { MediaKind } from '../store/portal.js';

const HOUR = 3_600_000;
export const URL_LIFETIME_MS = 24 * HOUR;

export const urlExpiry = (now: number) => Math.ceil((now + URL_LIFETIME_MS) / HOUR) * HOUR;

export const mediaSubject = (sha256: string) => `media:${sha256}`;
export const gameSubject = (sha256: string) => `game:${sha256}`;

/** A fresh URL for an item: a game's entry page, or the file itself. */
export function mediaUrl(secret: ServerSecret, item: { kind: MediaKind; sha256: string }, now = Date.now()): string {
  const expiry = urlExpiry(now);
  return item.kind === 'game'
    ? `/games/${secret.grant(gameSubject(item.sha256), expiry)}/${item.sha256}/index.html`
    : `/media/${secret.grant(mediaSubject(item.sha256), expiry)}/${item.sha256}`;
}
