/**
 * The message lifecycle of a chat (issue 16): edits, deletions, reactions, read marks, typing,
 * mentions. Requests and the rules both sides apply; the events are in schemas.ts with the others.
 */
import { z } from 'zod';
import { LIMITS } from './limits.js';
import { ChatId, Message } from './schemas.js';

/** PATCH /chats/:id/messages/:clientId: the new text (its files stay as sent). */
export const EditMessageRequest = z.strictObject({
  text: z
    .string()
    .max(LIMITS.messageChars)
    .refine((t) => t.trim().length > 0, 'must not be empty'),
});

/** A message by the server's id (reactions). */
export const ChatMessageParams = z.strictObject({
  id: ChatId,
  messageId: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER),
});

// One emoji: a keycap, a flag (two regional indicators), or a pictograph with its variation
// selector, skin tone or tags (subdivision flags), joined to others by ZWJ (families, ...).
const PICTO = '\\p{Extended_Pictographic}(?:\\ufe0f|\\p{Emoji_Modifier}|[\\u{E0020}-\\u{E007F}])*';
const ONE_EMOJI = `(?:[0-9#*]\\ufe0f?\\u20e3|\\p{Regional_Indicator}{2}|${PICTO}(?:\\u200d${PICTO})*)`;
const EMOJI_ONLY = new RegExp(`^${ONE_EMOJI}+$`, 'u');

/** A short string of emoji (one, or a few such as a flag or a family), not arbitrary text. */
export function isEmoji(text: string): boolean {
  return text.length > 0 && text.length <= LIMITS.reactionChars && EMOJI_ONLY.test(text);
}

export const Emoji = z
  .string()
  .min(1)
  .max(LIMITS.reactionChars)
  .refine(isEmoji, 'an emoji (a short string of emoji, not text)')
  .describe('an emoji, e.g. 👍 or 🇯🇵');
export const ReactionRequest = z.strictObject({ emoji: Emoji });
export const ReactionQuery = z.strictObject({ emoji: Emoji });

/** PUT /chats/:id/read: everything up to this message (of this chat) is read. */
export const ReadRequest = z.strictObject({ upTo: z.number().int().positive().max(Number.MAX_SAFE_INTEGER) });
/** The mark after the request (it never moves back) and what is still unread. */
export const ReadResponse = z.strictObject({ chatId: z.string(), upTo: z.number().int(), unread: z.number().int() });

export const DeleteMessageResponse = z.strictObject({ message: Message });

const MENTION = /(?<![\p{L}\p{N}._@-])@([a-z0-9][a-z0-9._-]*)/giu;

/**
 * The members named as `@username` in a text, case-insensitively, spelled as the members are,
 * each once, in order of first mention. A name followed by punctuation ("@bob.") still counts.
 */
export function mentionsIn(text: string, members: readonly string[]): string[] {
  if (!text.includes('@')) return [];
  const byLower = new Map(members.map((m) => [m.toLowerCase(), m]));
  const found: string[] = [];
  for (const match of text.matchAll(MENTION)) {
    let name = match[1]!.toLowerCase();
    while (name && !byLower.has(name) && /[._-]$/.test(name)) name = name.slice(0, -1);
    const member = byLower.get(name);
    if (member && !found.includes(member)) found.push(member);
  }
  return found;
}
