/**
 * What the tray icon shows (issue 17), as a pure function of my presence, the unread count and
 * do-not-disturb: the disc's colour, the unread dot, the do-not-disturb bar (a white bar across a
 * red disc, the usual sign), the tooltip, and when the look changes by itself (DND running out).
 * main.ts draws it (icon.ts) and re-arms a timer at `changesAt`.
 */
import type { PresenceState } from '../preload/bridge.js';
import type { text } from './text.js';

export interface TrayInput {
  presence: PresenceState;
  unread: number;
  /** Do not disturb until then (ISO), as the panel reports it; null: off. */
  dndUntil: string | null;
  now: number;
}

export interface TrayLook {
  /** The disc's colour: the presence, red while do-not-disturb runs. */
  disc: PresenceState;
  /** The white bar of do-not-disturb across the disc. */
  dnd: boolean;
  /** The unread dot. */
  badge: boolean;
  /** When the look changes by itself (do-not-disturb runs out), ms since the epoch. */
  changesAt: number | undefined;
}

export function trayLook({ presence, unread, dndUntil, now }: TrayInput): TrayLook {
  const until = dndUntil === null ? NaN : Date.parse(dndUntil);
  // Appearing offline stays what it says: do-not-disturb is about notifications, not visibility.
  const dnd = until > now && presence !== 'offline';
  return { disc: dnd ? 'busy' : presence, dnd, badge: unread > 0, changesAt: until > now ? until : undefined };
}

/** "Portico: Busy, do not disturb until 15:00, 3 unread". */
export function trayTooltip(input: TrayInput, t: ReturnType<typeof text>, formatTime: (iso: string) => string): string {
  const look = trayLook(input);
  const parts = [t.presence[input.presence]];
  if (look.dnd && input.dndUntil) parts.push(t.dndUntil(formatTime(input.dndUntil)));
  if (input.unread > 0) parts.push(t.unread(input.unread));
  return `Portico: ${parts.join(', ')}`;
}
