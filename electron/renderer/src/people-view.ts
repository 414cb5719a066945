/**
 * How people look in the panel (issue 17), as plain functions the views and tests share: initials
 * and a stable colour for a user without a picture, a status message only while it runs, and the
 * presets of an expiry ("30 min", "1 h", "today", "tomorrow 08:00").
 */
import type { UserStatus } from './api/index.js';

/** Up to two letters: the first of the first and last words ("Alice Adams" → "AA"), else of the name. */
export function initials(displayName: string, username = ''): string {
  const words = (displayName.trim() || username).split(/\s+/).filter(Boolean);
  if (words.length === 0) return '?';
  const first = [...words[0]!][0] ?? '';
  const last = words.length > 1 ? ([...words[words.length - 1]!][0] ?? '') : '';
  return (first + last).toUpperCase();
}

/**
 * A colour per user from the username (the same on every device), dark enough for white letters
 * (contrast ≥ 4.5:1: lightness 36 % at saturation 55 % keeps every hue there).
 */
export function avatarHue(username: string): number {
  let h = 0;
  for (const ch of username.toLowerCase()) h = (Math.imul(h, 31) + ch.codePointAt(0)!) >>> 0;
  return h % 360;
}

/** The status while it runs; undefined once `until` has passed (the server drops it too, later). */
export function visibleStatus(status: UserStatus | null | undefined, now = Date.now()): UserStatus | undefined {
  if (!status) return undefined;
  if (status.until !== undefined && Date.parse(status.until) <= now) return undefined;
  return status;
}

/** When the first of these statuses runs out (to re-render then), or undefined. */
export function nextExpiry(statuses: Array<UserStatus | null | undefined>, now = Date.now()): number | undefined {
  let next: number | undefined;
  for (const s of statuses) {
    const at = s?.until !== undefined ? Date.parse(s.until) : NaN;
    if (at > now && (next === undefined || at < next)) next = at;
  }
  return next;
}

export type ExpiryPreset = 'none' | '30m' | '1h' | 'today' | 'custom';

/**
 * The end of a preset from `now`: 30 min, 1 h, the end of today (23:59), or a custom time of day
 * ("15:00": today, or tomorrow when that time has passed). undefined: no expiry (or a bad time).
 */
export function presetUntil(preset: ExpiryPreset, now: Date, custom = ''): Date | undefined {
  switch (preset) {
    case '30m':
      return new Date(now.getTime() + 30 * 60_000);
    case '1h':
      return new Date(now.getTime() + 60 * 60_000);
    case 'today':
      return new Date(now.getFullYear(), now.getMonth(), now.getDate(), 23, 59, 0, 0);
    case 'custom': {
      const m = /^(\d{1,2}):(\d{2})$/.exec(custom);
      if (!m || Number(m[1]) > 23 || Number(m[2]) > 59) return undefined;
      const at = new Date(now.getFullYear(), now.getMonth(), now.getDate(), Number(m[1]), Number(m[2]), 0, 0);
      if (at.getTime() <= now.getTime()) at.setDate(at.getDate() + 1);
      return at;
    }
    default:
      return undefined;
  }
}

/** Do not disturb until tomorrow 08:00 (local time). */
export function tomorrowMorning(now: Date): Date {
  return new Date(now.getFullYear(), now.getMonth(), now.getDate() + 1, 8, 0, 0, 0);
}
