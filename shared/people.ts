/**
 * People, me, do-not-disturb (issue 17): the user's picture, status message, do-not-disturb and
 * per-chat mutes. The views that carry them (Me, Contact, the public user) are in schemas.ts; this
 * file holds what they are built from, so schemas.ts can import it without a cycle.
 */
import { z } from 'zod';
import { LIMITS } from './limits.js';
import { PEOPLE_LIMITS } from './people-limits.js';

export { PEOPLE_LIMITS } from './people-limits.js';

/** The media types accepted for a picture, as read from its bytes. */
export const AVATAR_TYPES = ['image/png', 'image/jpeg', 'image/webp', 'image/gif'] as const;

/** Where a stored picture is served: the name is a keyed hash of its bytes (see server/src/me/avatars.ts). */
export const avatarPath = (key: string) => `/avatars/${key}.webp`;

const IsoTime = z.iso.datetime({ offset: true }).describe('ISO 8601 time');
const Ahead = IsoTime.refine((t) => Date.parse(t) <= Date.now() + PEOPLE_LIMITS.aheadDays * 86_400_000, `at most ${PEOPLE_LIMITS.aheadDays} days ahead`);

/** A status message as shown next to presence ("📅 In a meeting until 15:00"); absent once `until` has passed. */
export const UserStatus = z.strictObject({
  emoji: z.string().optional(),
  text: z.string(),
  until: IsoTime.optional(),
});
export type UserStatus = z.infer<typeof UserStatus>;

export const UserStatusInput = z
  .strictObject({
    emoji: z.string().trim().min(1).max(PEOPLE_LIMITS.statusEmojiChars).optional(),
    text: z.string().trim().max(PEOPLE_LIMITS.statusTextChars).default(''),
    until: Ahead.refine((t) => Date.parse(t) > Date.now(), 'must be in the future').optional(),
  })
  .refine((s) => s.text !== '' || s.emoji !== undefined, 'give a text, an emoji, or both');

export const PatchMeRequest = z
  .strictObject({
    displayName: z.string().trim().min(1).max(LIMITS.displayNameChars).optional(),
    /** null clears it. */
    status: UserStatusInput.nullable().optional(),
    /** Do not disturb until then (a time past means off); null: off. */
    dndUntil: Ahead.nullable().optional(),
    /** While busy or in do-not-disturb, mentions of me still notify. */
    notifyMentionsWhenBusy: z.boolean().optional(),
  })
  .refine((b) => Object.keys(b).length > 0, 'give at least one of displayName, status, dndUntil, notifyMentionsWhenBusy');

export const ChangePasswordRequest = z.strictObject({
  oldPassword: z.string().min(1).max(LIMITS.passwordMaxChars),
  newPassword: z.string().min(LIMITS.passwordMinChars).max(LIMITS.passwordMaxChars),
});

/** Mute a chat for me: `until` a time, or until unmuted when absent. */
export const MuteRequest = z
  .strictObject({ muted: z.boolean(), until: Ahead.refine((t) => Date.parse(t) > Date.now(), 'must be in the future').optional() })
  .refine((b) => b.muted || b.until === undefined, { message: 'until only goes with muted: true', path: ['until'] });

export const ChatMute = z.strictObject({
  chatId: z.string(),
  muted: z.boolean(),
  /** Absent: until unmuted (or not muted). */
  mutedUntil: IsoTime.optional(),
});
export type ChatMute = z.infer<typeof ChatMute>;
export const ChatMuteResponse = z.strictObject({ mute: ChatMute });
