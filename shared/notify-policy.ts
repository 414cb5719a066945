/**
 * Whether a chat message notifies (issue 17), decided the same way by the panel and the Electron
 * main process from what the server keeps (so every device agrees): my presence, my
 * do-not-disturb, whether I muted the chat, whether the message mentions me, and my setting for
 * mentions while busy. Plain functions, no I/O.
 *
 *   show   a notification with its sound
 *   silent no pop-up and no sound; counted (unread badge, the notification list)
 *   none   nothing beyond the message in its chat
 *
 * In order: my own message, or the chat in front of me: none. A muted chat (the mute not yet run
 * out): none, but for a mention. Busy (presence busy, or do-not-disturb not yet run out): a
 * mention shows if mentions may come through (notifyMentionsWhenBusy), anything else is silent.
 * Otherwise: show (a mention in a muted chat too).
 */
import type { PresenceState } from './schemas.js';

export type NotifyDecision = 'show' | 'silent' | 'none';

export interface NotifyInput {
  /** My presence (effective, as /me says). */
  presence: PresenceState;
  /** From /me: do not disturb until then (ISO), or null. */
  dndUntil: string | null;
  /** From /me. */
  notifyMentionsWhenBusy: boolean;
  /** From the chat list: whether I muted the chat, until when (absent: until unmuted). */
  chat?: { muted?: boolean; mutedUntil?: string };
  mentionsMe: boolean;
  /** The message is mine (sent from another device). */
  fromMe?: boolean;
  /** The chat is open and in front of me. */
  chatInView?: boolean;
  now?: number;
}

const runsUntil = (iso: string | null | undefined, now: number) => iso !== null && iso !== undefined && Date.parse(iso) > now;

/** Busy for notifications: presence busy, or do-not-disturb that has not run out. */
export function isBusy(input: Pick<NotifyInput, 'presence' | 'dndUntil' | 'now'>): boolean {
  return input.presence === 'busy' || runsUntil(input.dndUntil, input.now ?? Date.now());
}

/** Whether I muted the chat and the mute has not run out. */
export function isMuted(chat: NotifyInput['chat'], now = Date.now()): boolean {
  return chat?.muted === true && (chat.mutedUntil === undefined || runsUntil(chat.mutedUntil, now));
}

export function notifyDecision(input: NotifyInput): NotifyDecision {
  const now = input.now ?? Date.now();
  if (input.fromMe || input.chatInView) return 'none';
  if (isMuted(input.chat, now) && !input.mentionsMe) return 'none';
  if (isBusy({ ...input, now })) return input.mentionsMe && input.notifyMentionsWhenBusy ? 'show' : 'silent';
  return 'show';
}

/** Whether a message's text mentions `username` as `@username` (any case, not inside a longer name or an address). */
export function mentions(text: string, username: string): boolean {
  const escaped = username.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[^\\w.@-])@${escaped}(?![\\w-]|\\.[\\w])`, 'i').test(text);
}
