/** A person's picture, or their initials on a colour of their own; and their status message while it runs. */
import { useEffect, useState } from 'preact/hooks';
import type { UserStatus } from '../api/index.js';
import { formatTime, t } from '../i18n.js';
import { avatarHue, initials, visibleStatus } from '../people-view.js';

/** Where picture paths are loaded from (the client's server; set by the panel). */
let resolve: (path: string) => string = (path) => path;
export function setAvatarResolver(fn: (path: string) => string) {
  resolve = fn;
}

/** The sizes styles.css has (px at 100 %; rem there, so zoom scales them). */
export type AvatarSize = 24 | 28 | 32 | 64;

export function Avatar({ username, displayName, avatarUrl, size = 32 }: { username: string; displayName: string; avatarUrl?: string | undefined; size?: AvatarSize }) {
  if (avatarUrl) return <img class={`avatar avatar-${size}`} src={resolve(avatarUrl)} alt="" width={size} height={size} data-avatar="picture" />;
  // The colour comes from a class per hue bucket (no inline styles: CSP); the letters are drawn by
  // CSS from data-initials, decoration only (the name is always written next to it).
  return (
    <span
      class={`avatar avatar-initials hue-${Math.floor(avatarHue(username) / 30)} avatar-${size}`}
      aria-hidden="true"
      data-avatar="initials"
      data-initials={initials(displayName, username)}
    />
  );
}

/** "📅 In a meeting · until 15:00"; nothing once expired. */
export function StatusText({ status, class: extra = '' }: { status: UserStatus | null | undefined; class?: string }) {
  const s = visibleStatus(status);
  if (!s) return null;
  const until = s.until ? formatTime(s.until) : '';
  const text = [s.text, until && t('statusUntil', { time: until })].filter(Boolean).join(' ');
  return (
    <span class={`user-status ${extra}`} title={[s.emoji, text].filter(Boolean).join(' ')}>
      {s.emoji && <span class="user-status-emoji">{s.emoji}</span>}
      {text && <span class="user-status-text">{text}</span>}
    </span>
  );
}

/** Renders again when the first of these times comes (a status, do-not-disturb or mute running out). */
export function useRerenderAt(at: number | undefined) {
  const [, setTick] = useState(0);
  useEffect(() => {
    if (at === undefined) return;
    // Capped so a far time does not overflow setTimeout; it re-arms on the next render.
    const timer = setTimeout(() => setTick((n) => n + 1), Math.min(Math.max(at - Date.now(), 0) + 50, 2 ** 30));
    return () => clearTimeout(timer);
  }, [at]);
}
